/**
 * The `openai` SDK, set up for omniprep: any OpenAI-compatible server (`baseURL`), the SDK's own
 * retries off (the dispatcher retries, so it can honour Retry-After and count each retry), and
 * answers reduced to their text and usage.
 */
import type OpenAI from 'openai';
import { byStatus, oneLine, retryAfterMs, sdkErrorBase, type Failure, type SdkError } from '../failure.js';
import { missingKey } from '../common.js';
import type { Api, CallOptions, ClientOptions, ModelAnswer } from '../types.js';
import { openaiModule } from './sdk.js';
import type { ChatAnswerBody, ChatBody, OpenAIClient, ResponsesAnswerBody, ResponsesBody } from './shapes.js';

export const CLIENT_DEFAULTS = { timeoutMs: 120_000 };

/** Where the OpenAI client finds its key and server when none is given (the SDK reads OPENAI_BASE_URL itself). */
export const OPENAI_ENV = { baseURL: 'OPENAI_BASE_URL', apiKey: ['OPENAI_API_KEY'], hosted: true } as const;

/** An OpenAI client from the options (`env`: where the key and server come from otherwise). */
export async function createOpenAIClient(
  o: ClientOptions,
  env: { apiKey: string; baseURL?: string; defaultKey?: string } = { apiKey: 'OPENAI_API_KEY' },
): Promise<OpenAIClient> {
  if (o.client) return o.client;
  const apiKey = o.apiKey ?? process.env[env.apiKey] ?? env.defaultKey;
  if (!apiKey) throw missingKey(env.apiKey);
  const baseURL = o.baseURL ?? (env.baseURL ? process.env[env.baseURL] : undefined);
  const { default: Sdk } = await openaiModule();
  return new Sdk({
    apiKey,
    ...(baseURL ? { baseURL } : {}),
    ...(o.organization ? { organization: o.organization } : {}),
    ...(o.project ? { project: o.project } : {}),
    timeout: o.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
    maxRetries: 0,
  });
}

/**
 * An OpenAI client from the options; the SDK loads only when a client is made here. It is the SDK's
 * `OpenAI` instance, typed opaquely so that omniprep's declarations need no SDK (cast it to use it).
 */
export function createClient(o: ClientOptions = {}): Promise<OpenAIClient> {
  return createOpenAIClient(o);
}

export function chatAnswer(r: ChatAnswerBody): ModelAnswer {
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

export function responsesAnswer(r: ResponsesAnswerBody): ModelAnswer {
  const text = (r.output ?? [])
    .flatMap((item) => (item.type === 'message' ? (item.content ?? []) : []))
    .flatMap((c) => (c.type === 'output_text' ? [c.text ?? ''] : []))
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

/** The OpenAI APIs' calls and answers, by API. */
export const OPENAI_CALLS = {
  chat: {
    call: async (c: OpenAIClient, body: unknown, options: object) => chatAnswer(await (c as OpenAI).chat.completions.create(body as ChatBody, options)),
    answer: (body: unknown) => chatAnswer(body as ChatAnswerBody),
  },
  responses: {
    call: async (c: OpenAIClient, body: unknown, options: object) => responsesAnswer(await (c as OpenAI).responses.create(body as ResponsesBody, options)),
    answer: (body: unknown) => responsesAnswer(body as ResponsesAnswerBody),
  },
} as const;

/** One call, no retries. */
export function callOpenAI(client: unknown, api: Api, body: unknown, o: CallOptions): Promise<ModelAnswer> {
  const options = { ...(o.signal ? { signal: o.signal } : {}), ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}), maxRetries: 0 };
  return OPENAI_CALLS[api as keyof typeof OPENAI_CALLS].call(client as OpenAIClient, body, options);
}

/** An HTTP error of the `openai` SDK, by status, with the wait the server asks for. */
export function classifyOpenAI(e: unknown): Failure | undefined {
  const status = (e as SdkError | undefined)?.status;
  if (sdkErrorBase(e, 'APIError', ['OpenAIError']) === undefined || typeof status !== 'number') return undefined;
  const o = e as SdkError;
  return byStatus(status, oneLine(o.message), retryAfterMs(o.headers));
}
