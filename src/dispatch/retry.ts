/**
 * When and how long to retry: 429, 5xx (Anthropic's 529 overloaded too), timeouts and dropped
 * connections are retried with exponential backoff and full jitter; what the server asks for
 * replaces the backoff, so the request waits at least that long:
 * - OpenAI: `retry-after-ms`, else `Retry-After` (seconds or an HTTP date);
 * - Anthropic: `Retry-After`, else the latest `anthropic-ratelimit-*-reset` (RFC 3339) of a limit
 *   whose `-remaining` is 0;
 * - Gemini: the error body's `google.rpc.RetryInfo` `retryDelay` ("12.5s"); the SDK's ApiError
 *   carries the body as its message and no headers.
 *
 * The SDKs' errors are told apart by the names of their classes (`sdkError`), not `instanceof`:
 * classifying a failure loads no SDK, so importing the dispatcher stays cheap (ARCHITECTURE.md,
 * "Public API": the SDKs load on the first call).
 */
import { isOmniprepError } from '../errors.js';
import { AttemptTimeoutError } from '../providers/clients.js';

export interface RetryOptions {
  /** Retries after the first attempt (default 4). */
  maxRetries?: number | undefined;
  /** First backoff ceiling in ms (default 500); doubles each retry. */
  baseDelayMs?: number | undefined;
  /** Largest backoff in ms (default 20,000). */
  maxDelayMs?: number | undefined;
  /** A Retry-After longer than this (ms, default 120,000) ends the request instead of waiting. */
  maxRetryAfterMs?: number | undefined;
  /** Random numbers in [0, 1) for the jitter (injectable in tests). */
  random?: (() => number) | undefined;
}

export const RETRY_DEFAULTS = { maxRetries: 4, baseDelayMs: 500, maxDelayMs: 20_000, maxRetryAfterMs: 120_000 };

export type FailureKind = 'rate-limit' | 'server' | 'timeout' | 'connection' | 'client' | 'aborted' | 'other';

export interface Failure {
  kind: FailureKind;
  retryable: boolean;
  status?: number;
  /** What the server asked for, in ms. */
  retryAfterMs?: number;
  message: string;
  /** Whether the request may have reached the model (and may be billed). */
  maybeBilled: boolean;
}

type HeaderBag = Headers | Record<string, string | null | undefined> | undefined;

function header(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | null | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : (bag[key] ?? undefined);
}

/** The wait a response asks for, in ms: `retry-after-ms`, else `Retry-After` as seconds or an HTTP date. */
export function retryAfterMs(headers: HeaderBag, nowMs = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '' && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const ra = header(headers, 'retry-after')?.trim();
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return Number(ra) * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
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

/** Gemini's wait: `retryDelay` of the RetryInfo detail in an error body (`{"error": {"details": [...]}}`). */
export function geminiRetryDelayMs(body: unknown): number | undefined {
  const details = (body as { error?: { details?: Array<Record<string, unknown>> } } | undefined)?.error?.details;
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    if (String(d['@type'] ?? '').endsWith('google.rpc.RetryInfo') && typeof d.retryDelay === 'string') {
      const m = /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay.trim());
      if (m) return Math.round(Number(m[1]) * 1000);
    }
  }
  return undefined;
}

function byStatus(status: number, text: string, after: number | undefined): Failure {
  const base = { status, message: text, maybeBilled: false, ...(after === undefined ? {} : { retryAfterMs: after }) };
  if (status === 429) return { kind: 'rate-limit', retryable: true, ...base };
  if (status >= 500) return { kind: 'server', retryable: true, ...base };
  if (status === 408 || status === 409) return { kind: 'server', retryable: true, ...base };
  return { kind: 'client', retryable: false, ...base };
}

/** A Gemini SDK ApiError: `status`, and the error body as JSON in `message`. */
function geminiFailure(e: Error & { status: number }): Failure {
  let body: unknown;
  try {
    body = JSON.parse(e.message);
  } catch {
    body = undefined;
  }
  const err = (body as { error?: { message?: string; status?: string } } | undefined)?.error;
  const text = (err?.message ? `${err.status ? `${err.status}: ` : ''}${err.message}` : e.message).replace(/\s*\n\s*/g, '; ');
  return byStatus(e.status, text, geminiRetryDelayMs(body));
}

/** Full jitter: a random wait between 0 and min(maxDelay, base * 2^retry). */
export function backoffMs(retry: number, o: Required<Omit<RetryOptions, 'random'>>, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/** The error classes of the two Stainless SDKs: the same class names under each SDK's own base class. */
type SdkErrorClass = 'APIError' | 'APIConnectionError' | 'APIConnectionTimeoutError' | 'APIUserAbortError';
type SdkError = Error & { status?: unknown; headers?: HeaderBag; error?: unknown };

/**
 * Which SDK (`openai`, `@anthropic-ai/sdk`) threw `e`, and whether it is (a subclass of) `cls`: the
 * prototype chain's class names, ending in the SDK's base class `OpenAIError` or `AnthropicError`.
 * Either SDK's copy counts (ESM or CommonJS, any version that keeps the names).
 */
function sdkError(e: unknown, cls: SdkErrorClass): 'openai' | 'anthropic' | undefined {
  if (!(e instanceof Error)) return undefined;
  let found = false;
  for (let p = Object.getPrototypeOf(e) as object | null; p && p !== Error.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const name = (p as { constructor?: { name?: string } }).constructor?.name;
    if (name === cls) found = true;
    else if (name === 'OpenAIError') return found ? 'openai' : undefined;
    else if (name === 'AnthropicError') return found ? 'anthropic' : undefined;
  }
  return undefined;
}

function connectionFailure(e: Error): Failure {
  return {
    kind: 'connection',
    retryable: true,
    message: `connection failed (${e.cause instanceof Error ? e.cause.message : e.message})`,
    maybeBilled: false,
  };
}

/** What kind of failure an SDK error (OpenAI, Anthropic or Gemini) is, and whether to try again. */
export function classifyFailure(e: unknown): Failure {
  if (sdkError(e, 'APIUserAbortError') || (isOmniprepError(e) && e.code === 'ABORTED')) {
    return { kind: 'aborted', retryable: false, message: 'cancelled', maybeBilled: true };
  }
  if (sdkError(e, 'APIConnectionTimeoutError') || e instanceof AttemptTimeoutError) {
    return { kind: 'timeout', retryable: true, message: 'timed out', maybeBilled: true };
  }
  if (sdkError(e, 'APIConnectionError')) return connectionFailure(e as Error);
  const apiError = sdkError(e, 'APIError');
  const status = (e as SdkError | undefined)?.status;
  if (apiError === 'anthropic' && typeof status === 'number') {
    // The message is `<status> {"type":"error","error":{"type":"rate_limit_error","message":...}}`: keep the type and message.
    const a = e as SdkError;
    const err = (a.error as { error?: { type?: string; message?: string } } | undefined)?.error;
    const text = (err?.message ? `${err.type ? `${err.type}: ` : ''}${err.message}` : a.message).replace(/\s*\n\s*/g, '; ');
    return byStatus(status, text, anthropicRetryAfterMs(a.headers));
  }
  if (e instanceof Error && e.name === 'ApiError' && typeof (e as { status?: unknown }).status === 'number')
    return geminiFailure(e as Error & { status: number });
  // fetch (the Gemini SDK) fails with a TypeError whose cause says why.
  if (e instanceof TypeError && e.message === 'fetch failed') return connectionFailure(e);
  if (apiError === 'openai' && typeof status === 'number') {
    const o = e as SdkError;
    return byStatus(status, o.message.replace(/\s*\n\s*/g, '; '), retryAfterMs(o.headers));
  }
  return { kind: 'other', retryable: false, message: e instanceof Error ? e.message : String(e), maybeBilled: false };
}
