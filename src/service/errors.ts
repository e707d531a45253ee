/**
 * Errors over HTTP: always `{ error: { code, message } }`, never a stack trace. OmniprepError
 * codes map to statuses here (an exhaustive table: a new code does not compile until it has one);
 * the service's own refusals (a wrong token, a full queue, a path outside the roots) are
 * ServiceErrors with a code of their own. The app's handler that sends them is error-handler.ts
 * (apart, so that this file's declarations, public through `omniprep/service`, need no Fastify).
 */
import type { FastifyError } from 'fastify';
import { isOmniprepError, type ErrorCode } from '../errors.js';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  NOT_A_FILE: 422,
  EMPTY: 422,
  UNSUPPORTED_FORMAT: 415,
  CORRUPT: 422,
  NO_VIDEO_STREAM: 422,
  NO_AUDIO_STREAM: 422,
  TOO_LARGE: 413,
  TIMEOUT: 504,
  ABORTED: 409,
  BINARY_NOT_FOUND: 500,
  MISSING_PACKAGE: 500,
  PROCESS_FAILED: 422,
  INVALID_OPTION: 400,
  UNKNOWN_MODEL: 400,
  BUDGET_EXCEEDED: 422,
  LIMIT_EXCEEDED: 422,
  REQUEST_FAILED: 502,
  INVALID_RESPONSE: 502,
  FORBIDDEN_URL: 403,
};

export type ServiceErrorCode =
  | 'UNAUTHORIZED' // no or wrong bearer token
  | 'FORBIDDEN_PATH' // a path outside the allowed roots, or path inputs disabled
  | 'JOB_NOT_FOUND'
  | 'UPLOAD_NOT_FOUND'
  | 'UPLOAD_EXPIRED' // an upload past its --upload-ttl, not yet swept
  | 'CONFLICT' // an upload a job still holds, a multipart upload not completed
  | 'NOT_READY' // the job has not finished (manifest, frames)
  | 'QUEUE_FULL'
  | 'BAD_REQUEST' // a body that does not match the schema
  | 'ROUTE_NOT_FOUND'
  | 'DEPENDENCY_UNAVAILABLE' // Redis (the job store and queue) does not answer
  | 'INSUFFICIENT_STORAGE' // the data disk is full (ENOSPC, EDQUOT)
  | 'INTERNAL';

const SERVICE_STATUS: Record<ServiceErrorCode, number> = {
  UNAUTHORIZED: 401,
  FORBIDDEN_PATH: 403,
  JOB_NOT_FOUND: 404,
  UPLOAD_NOT_FOUND: 404,
  UPLOAD_EXPIRED: 410,
  CONFLICT: 409,
  NOT_READY: 409,
  QUEUE_FULL: 429,
  BAD_REQUEST: 400,
  ROUTE_NOT_FOUND: 404,
  DEPENDENCY_UNAVAILABLE: 503,
  INSUFFICIENT_STORAGE: 507,
  INTERNAL: 500,
};

export class ServiceError extends Error {
  readonly code: ServiceErrorCode;
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  constructor(code: ServiceErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.statusCode = SERVICE_STATUS[code];
    this.headers = headers;
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

const DISK_FULL: ReadonlyArray<[code: 'ENOSPC' | 'EDQUOT', message: RegExp]> = [
  ['ENOSPC', /\bENOSPC\b|no space left on device/i],
  ['EDQUOT', /\bEDQUOT\b|disk quota exceeded/i],
];

/**
 * Whether a failure is a full disk: an fs error's code, or the text a worker thread's clone of
 * it, an ffmpeg stderr tail or a wrapping error kept (anywhere along the causes).
 */
export function diskFull(e: unknown): 'ENOSPC' | 'EDQUOT' | undefined {
  for (let c = e, depth = 0; c && typeof c === 'object' && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    const { code, message } = c as { code?: unknown; message?: unknown };
    for (const [name, re] of DISK_FULL) if (code === name || (typeof message === 'string' && re.test(message))) return name;
  }
  return undefined;
}

/** The one line a full data disk gets (507): what was being stored when it filled. */
export function storageError(code: 'ENOSPC' | 'EDQUOT', name: string): ServiceError {
  return new ServiceError('INSUFFICIENT_STORAGE', `the server's data disk is full (${code}) while storing ${name}`);
}

/**
 * The status and body for any thrown value. A full disk is a 507 naming `name` (what was being
 * stored); other unknown errors become a 500 that hides their internals.
 */
export function errorResponse(e: unknown, name = 'the input'): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const full = e instanceof ServiceError ? undefined : diskFull(e);
  if (full) return errorResponse(storageError(full, name));
  if (e instanceof ServiceError) return { status: e.statusCode, body: { error: { code: e.code, message: oneLine(e.message) } }, headers: e.headers };
  if (isOmniprepError(e)) return { status: STATUS_BY_CODE[e.code] ?? 500, body: { error: { code: e.code, message: oneLine(e.message) } }, headers: {} };
  const fe = e as Partial<FastifyError> & { statusCode?: number };
  if (fe && typeof fe === 'object' && fe.validation) {
    return { status: 400, body: { error: { code: 'BAD_REQUEST', message: oneLine(fe.message ?? 'invalid request') } }, headers: {} };
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's and @fastify/multipart's own client errors (unparseable JSON, body too large, ...).
    const code = fe.statusCode === 413 ? 'TOO_LARGE' : fe.statusCode === 415 ? 'UNSUPPORTED_FORMAT' : 'BAD_REQUEST';
    return { status: fe.statusCode, body: { error: { code, message: oneLine(fe.message ?? 'bad request') } }, headers: {} };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error (see the server log)' } }, headers: {} };
}

export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, '; ').trim();
}

/** The error object as stored on a job (no stack, no details); `name` is its input's (a full disk names it). */
export function jobError(e: unknown, name?: string): { code: string; message: string } {
  const r = errorResponse(e, name).body.error;
  if (r.code === 'INTERNAL' && e instanceof Error) return { code: 'INTERNAL', message: oneLine(e.message) };
  return r;
}
