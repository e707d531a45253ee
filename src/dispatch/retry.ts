/**
 * When and how long to retry: 429, 5xx (Anthropic's 529 overloaded too), timeouts and dropped
 * connections are retried with exponential backoff and full jitter; what the server asks for
 * replaces the backoff, so the request waits at least that long. What a failure is, and the wait
 * each provider asks for (OpenAI `retry-after-ms` / `Retry-After`, Anthropic's
 * `anthropic-ratelimit-*-reset`, Gemini's `RetryInfo`), is each provider adapter's to say
 * (src/providers/): `classifyFailure` asks them.
 */
export { classifyFailure } from '../providers/registry.js';
export { retryAfterMs, type Failure, type FailureKind } from '../providers/failure.js';
export { anthropicRetryAfterMs } from '../providers/anthropic/client.js';
export { geminiRetryDelayMs } from '../providers/gemini/client.js';

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

/** Full jitter: a random wait between 0 and min(maxDelay, base * 2^retry). */
export function backoffMs(retry: number, o: Required<Omit<RetryOptions, 'random'>>, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}
