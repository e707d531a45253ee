/**
 * When and how long to retry: 429, 5xx, timeouts and dropped connections are retried with
 * exponential backoff and full jitter; a server's `retry-after-ms` or `Retry-After` (seconds or
 * an HTTP date) replaces the backoff, so the request waits at least that long.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { isOmniprepError } from '../errors.js';

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

/** Full jitter: a random wait between 0 and min(maxDelay, base * 2^retry). */
export function backoffMs(retry: number, o: Required<Omit<RetryOptions, 'random'>>, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/** What kind of failure an SDK error is, and whether to try again. */
export function classifyFailure(e: unknown): Failure {
  if (e instanceof APIUserAbortError || (isOmniprepError(e) && e.code === 'ABORTED')) {
    return { kind: 'aborted', retryable: false, message: 'cancelled', maybeBilled: true };
  }
  if (e instanceof APIConnectionTimeoutError) return { kind: 'timeout', retryable: true, message: 'timed out', maybeBilled: true };
  if (e instanceof APIConnectionError) {
    return { kind: 'connection', retryable: true, message: `connection failed (${e.cause instanceof Error ? e.cause.message : e.message})`, maybeBilled: false };
  }
  if (e instanceof APIError && typeof e.status === 'number') {
    const status = e.status;
    const after = retryAfterMs(e.headers);
    const text = e.message.replace(/\s*\n\s*/g, '; ');
    const base = { status, message: text, maybeBilled: false, ...(after === undefined ? {} : { retryAfterMs: after }) };
    if (status === 429) return { kind: 'rate-limit', retryable: true, ...base };
    if (status >= 500) return { kind: 'server', retryable: true, ...base };
    if (status === 408 || status === 409) return { kind: 'server', retryable: true, ...base };
    return { kind: 'client', retryable: false, ...base };
  }
  return { kind: 'other', retryable: false, message: e instanceof Error ? e.message : String(e), maybeBilled: false };
}
