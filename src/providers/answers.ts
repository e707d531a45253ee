/**
 * Answers of each provider reduced to text and usage (the shape dispatch, batches and records use).
 */
import type { Message } from '@anthropic-ai/sdk/resources/messages';
import type { GenerateContentResponse } from '@google/genai';
import { messagesAnswerText } from './anthropic.js';
import { geminiAnswerText } from './gemini.js';

/** Token usage as every API reports it. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cachedTokens: number;
  /** Audio input tokens, when the server says (Chat Completions, Gemini). */
  audioTokens: number;
  reasoningTokens: number;
}

export interface ProviderAnswer {
  text: string;
  usage: Usage | undefined;
  responseId: string;
}

/**
 * A Message's text and usage. Anthropic reports cache reads and writes apart from `input_tokens`;
 * all three are input the request was billed for (at different prices: cache pricing is not modelled).
 */
export function messagesAnswer(m: Message): ProviderAnswer {
  const u = m.usage;
  const cached = (u?.cache_read_input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0);
  return {
    text: messagesAnswerText(m),
    usage: u && {
      inputTokens: u.input_tokens + cached,
      outputTokens: u.output_tokens,
      totalTokens: u.input_tokens + cached + u.output_tokens,
      cachedTokens: u.cache_read_input_tokens ?? 0,
      audioTokens: 0,
      reasoningTokens: u.output_tokens_details?.thinking_tokens ?? 0,
    },
    responseId: m.id,
  };
}

/**
 * A generateContent response's text and usage. Gemini bills thinking as output
 * (`thoughtsTokenCount` beside `candidatesTokenCount`); audio input appears in
 * `promptTokensDetails` under the AUDIO modality.
 */
export function geminiAnswer(r: Pick<GenerateContentResponse, 'candidates' | 'usageMetadata' | 'responseId'>): ProviderAnswer {
  const u = r.usageMetadata;
  const thoughts = u?.thoughtsTokenCount ?? 0;
  const input = u?.promptTokenCount ?? 0;
  const output = (u?.candidatesTokenCount ?? 0) + thoughts;
  return {
    text: geminiAnswerText(r),
    usage: u && {
      inputTokens: input,
      outputTokens: output,
      totalTokens: u.totalTokenCount ?? input + output,
      cachedTokens: u.cachedContentTokenCount ?? 0,
      audioTokens: (u.promptTokensDetails ?? []).filter((d) => d.modality === 'AUDIO').reduce((s, d) => s + (d.tokenCount ?? 0), 0),
      reasoningTokens: thoughts,
    },
    responseId: r.responseId ?? '',
  };
}
