/**
 * What a failed call was, in omniprep's words, and the pieces the adapters classify their SDKs'
 * errors with: the wait a response asks for (`retry-after-ms`, `Retry-After`), HTTP status to kind,
 * and the Stainless SDKs' error classes told apart by class name (not `instanceof`: classifying a
 * failure loads no SDK, so importing the dispatcher stays cheap).
 */

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

/** Thrown when an attempt runs past its timeout (classified as a timeout, maybe billed). */
export class AttemptTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

export type HeaderBag = Headers | Record<string, string | null | undefined> | undefined;

export function header(headers: HeaderBag, name: string): string | undefined {
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

/** A failure by HTTP status: 429 and 5xx (408, 409 too) are retried, other statuses are not. */
export function byStatus(status: number, text: string, after: number | undefined): Failure {
  const base = { status, message: text, maybeBilled: false, ...(after === undefined ? {} : { retryAfterMs: after }) };
  if (status === 429) return { kind: 'rate-limit', retryable: true, ...base };
  if (status >= 500) return { kind: 'server', retryable: true, ...base };
  if (status === 408 || status === 409) return { kind: 'server', retryable: true, ...base };
  return { kind: 'client', retryable: false, ...base };
}

export function connectionFailure(e: Error): Failure {
  return {
    kind: 'connection',
    retryable: true,
    message: `connection failed (${e.cause instanceof Error ? e.cause.message : e.message})`,
    maybeBilled: false,
  };
}

/** The error classes of the Stainless SDKs: the same class names under each SDK's own base class. */
export type SdkErrorClass = 'APIError' | 'APIConnectionError' | 'APIConnectionTimeoutError' | 'APIUserAbortError';
export type SdkError = Error & { status?: unknown; headers?: HeaderBag; error?: unknown };

/**
 * The base class (of `bases`) of the SDK that threw `e`, when `e` is (a subclass of) `cls`: the
 * prototype chain's class names, ending in the SDK's base class (`OpenAIError`, `AnthropicError`).
 * Either SDK's copy counts (ESM or CommonJS, any version that keeps the names).
 */
export function sdkErrorBase(e: unknown, cls: SdkErrorClass, bases: readonly string[]): string | undefined {
  if (!(e instanceof Error)) return undefined;
  let found = false;
  for (let p = Object.getPrototypeOf(e) as object | null; p && p !== Error.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const name = (p as { constructor?: { name?: string } }).constructor?.name;
    if (name === cls) found = true;
    else if (name !== undefined && bases.includes(name)) return found ? name : undefined;
  }
  return undefined;
}

/** A message on one line (servers put newlines in theirs). */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ');
}
