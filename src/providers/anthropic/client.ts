/**
 * The Anthropic SDK (`@anthropic-ai/sdk`, `maxRetries: 0`: the dispatcher retries), key from
 * ANTHROPIC_API_KEY, server from ANTHROPIC_BASE_URL; a Message's text and usage; its errors
 * classified with the wait the server asks for (Retry-After, else the reset of an exhausted
 * `anthropic-ratelimit-*` limit).
 */
import { loadOptional } from '../../util/optional.js';
import type Anthropic from '@anthropic-ai/sdk';
import { envKey, missingKey } from '../common.js';
import { byStatus, header, oneLine, retryAfterMs, sdkErrorBase, type Failure, type HeaderBag, type SdkError } from '../failure.js';
import type { CallOptions, ClientOptions, ModelAnswer } from '../types.js';
import type { AnthropicClient, MessagesAnswerBody, MessagesBody } from './shapes.js';

/** Where the Anthropic client finds its key and server when none is given. */
export const ANTHROPIC_ENV = { baseURL: 'ANTHROPIC_BASE_URL', apiKey: ['ANTHROPIC_API_KEY'], hosted: true } as const;

let anthropicSdk: Promise<typeof import('@anthropic-ai/sdk')> | undefined;

/** The Anthropic SDK loads only when an Anthropic client is made. */
export async function createAnthropicClient(o: ClientOptions & { timeoutMs: number }): Promise<AnthropicClient> {
  if (o.anthropicClient) return o.anthropicClient;
  const apiKey = o.apiKey ?? envKey(ANTHROPIC_ENV);
  if (!apiKey) throw missingKey(ANTHROPIC_ENV.apiKey[0]);
  const baseURL = o.baseURL ?? process.env[ANTHROPIC_ENV.baseURL];
  anthropicSdk ??= loadOptional('the Anthropic provider', () => import('@anthropic-ai/sdk'));
  const { default: Sdk } = await anthropicSdk;
  return new Sdk({ apiKey, ...(baseURL ? { baseURL } : {}), timeout: o.timeoutMs, maxRetries: 0 });
}

/**
 * A Message's text and usage. Anthropic reports cache reads and writes apart from `input_tokens`;
 * all three are input the request was billed for (at different prices: cache pricing is not modelled).
 */
export function messagesAnswer(m: MessagesAnswerBody): ModelAnswer {
  const u = m.usage;
  const cached = (u?.cache_read_input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0);
  return {
    text: (m.content ?? []).flatMap((b) => (b.type === 'text' ? [b.text ?? ''] : [])).join(''),
    usage: u && {
      inputTokens: u.input_tokens + cached,
      outputTokens: u.output_tokens,
      totalTokens: u.input_tokens + cached + u.output_tokens,
      cachedTokens: u.cache_read_input_tokens ?? 0,
      audioTokens: 0,
      reasoningTokens: u.output_tokens_details?.thinking_tokens ?? 0,
    },
    responseId: m.id,
    raw: m,
  };
}

export async function callAnthropic(client: unknown, body: unknown, o: CallOptions = {}): Promise<ModelAnswer> {
  const options = { ...(o.signal ? { signal: o.signal } : {}), ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}), maxRetries: 0 };
  return messagesAnswer(await (client as Anthropic).messages.create(body as MessagesBody, options));
}

/** Anthropic's wait: Retry-After, else the reset time of an exhausted `anthropic-ratelimit-*` limit. */
export function anthropicRetryAfterMs(headers: HeaderBag, nowMs = Date.now()): number | undefined {
  const plain = retryAfterMs(headers, nowMs);
  if (plain !== undefined) return plain;
  if (!headers) return undefined;
  const names: string[] =
    typeof (headers as Headers).forEach === 'function'
      ? [...(headers as Headers).keys()]
      : Object.keys(headers as Record<string, unknown>).map((k) => k.toLowerCase());
  let wait: number | undefined;
  for (const name of names) {
    const m = /^anthropic-ratelimit-(.+)-remaining$/.exec(name);
    if (!m || header(headers, name)?.trim() !== '0') continue;
    const reset = Date.parse(header(headers, `anthropic-ratelimit-${m[1]}-reset`) ?? '');
    if (!Number.isNaN(reset)) wait = Math.max(wait ?? 0, reset - nowMs, 0);
  }
  return wait;
}

/** An HTTP error of the Anthropic SDK: its message is `<status> {"type":"error","error":{...}}`, so keep the type and message. */
export function classifyAnthropic(e: unknown): Failure | undefined {
  const status = (e as SdkError | undefined)?.status;
  if (sdkErrorBase(e, 'APIError', ['AnthropicError']) === undefined || typeof status !== 'number') return undefined;
  const a = e as SdkError;
  const err = (a.error as { error?: { type?: string; message?: string } } | undefined)?.error;
  const text = oneLine(err?.message ? `${err.type ? `${err.type}: ` : ''}${err.message}` : a.message);
  return byStatus(status, text, anthropicRetryAfterMs(a.headers));
}
