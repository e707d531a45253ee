/**
 * The `openai` SDK, set up for omniprep: any OpenAI-compatible server (`baseURL`), the SDK's own
 * retries off (the dispatcher retries, so it can honour Retry-After and count each retry), and
 * answers reduced to their text and usage.
 */
import type OpenAI from 'openai';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { Response as ResponsesResponse } from 'openai/resources/responses/responses';
import { OmniprepError } from '../errors.js';
import type { Api } from '../request/options.js';
import type { ChatBody, RequestBody, ResponsesBody } from '../request/render.js';

export interface ClientOptions {
  /** Default: OPENAI_API_KEY. */
  apiKey?: string | undefined;
  /** Any OpenAI-compatible server, e.g. `http://127.0.0.1:8000/v1`. Default: OPENAI_BASE_URL, else OpenAI. */
  baseURL?: string | undefined;
  organization?: string | undefined;
  project?: string | undefined;
  /** Per attempt, in ms (default 120,000). */
  timeoutMs?: number | undefined;
  /** A client made elsewhere (its own retries should be off). */
  client?: OpenAI | undefined;
}

export const CLIENT_DEFAULTS = { timeoutMs: 120_000 };

/** The SDK is loaded on first use: commands and imports that never call a model do not pay for it. */
export async function createClient(o: ClientOptions = {}): Promise<OpenAI> {
  if (o.client) return o.client;
  const apiKey = o.apiKey ?? process.env.OPENAI_API_KEY;
  if (!apiKey) {
    throw new OmniprepError('INVALID_OPTION', 'option apiKey: no API key (set OPENAI_API_KEY, or pass --api-key on the command line, apiKey in code)', { details: { option: 'apiKey' } });
  }
  const { default: OpenAISdk } = await import('openai');
  return new OpenAISdk({
    apiKey,
    ...(o.baseURL ? { baseURL: o.baseURL } : {}),
    ...(o.organization ? { organization: o.organization } : {}),
    ...(o.project ? { project: o.project } : {}),
    timeout: o.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
    maxRetries: 0,
  });
}

/** Token usage as both APIs report it. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cachedTokens: number;
  /** Audio input tokens, when the server says (Chat Completions). */
  audioTokens: number;
  reasoningTokens: number;
}

export interface ModelAnswer {
  text: string;
  usage: Usage | undefined;
  /** The server's id of the answer. */
  responseId: string;
  raw: ChatCompletion | ResponsesResponse;
}

function chatAnswer(r: ChatCompletion): ModelAnswer {
  const u = r.usage;
  return {
    text: r.choices?.[0]?.message?.content ?? '',
    usage: u && {
      inputTokens: u.prompt_tokens,
      outputTokens: u.completion_tokens,
      totalTokens: u.total_tokens,
      cachedTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
      audioTokens: u.prompt_tokens_details?.audio_tokens ?? 0,
      reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
    },
    responseId: r.id,
    raw: r,
  };
}

function responsesAnswer(r: ResponsesResponse): ModelAnswer {
  const text = (r.output ?? [])
    .flatMap((item) => (item.type === 'message' ? (item.content ?? []) : []))
    .flatMap((c) => (c.type === 'output_text' ? [c.text] : []))
    .join('');
  const u = r.usage;
  return {
    text,
    usage: u && {
      inputTokens: u.input_tokens,
      outputTokens: u.output_tokens,
      totalTokens: u.total_tokens,
      cachedTokens: u.input_tokens_details?.cached_tokens ?? 0,
      audioTokens: 0,
      reasoningTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
    },
    responseId: r.id,
    raw: r,
  };
}

/** Text and usage of a Chat Completions or Responses answer body (also a Batch API output line's body). */
export function answerOf(api: Api, body: unknown): ModelAnswer {
  return api === 'chat' ? chatAnswer(body as ChatCompletion) : responsesAnswer(body as ResponsesResponse);
}

/** One call, no retries. Rejects with the SDK's error (the dispatcher classifies it). */
export async function callModel(
  client: OpenAI,
  request: { api: Api; body: RequestBody },
  o: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined } = {},
): Promise<ModelAnswer> {
  const options = { ...(o.signal ? { signal: o.signal } : {}), ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}), maxRetries: 0 };
  if (request.api === 'chat') return chatAnswer(await client.chat.completions.create(request.body as ChatBody, options));
  return responsesAnswer(await client.responses.create(request.body as ResponsesBody, options));
}
