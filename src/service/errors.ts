/**
 * Errors over HTTP: always `{ error: { code, message } }`, never a stack trace. OmniprepError
 * codes map to statuses here (an exhaustive table: a new code does not compile until it has one);
 * the service's own refusals (a wrong token, a full queue, a path outside the roots) are
 * ServiceErrors with a code of their own.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
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

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, '; ').trim();
}

const BODY_DRAIN_MS = 10_000;

/** Resolves when the request's body has been read to its end (true), or false after `maxMs`. */
function bodyRead(raw: IncomingMessage, maxMs: number): Promise<boolean> {
  if (raw.complete || raw.destroyed) return Promise.resolve(raw.complete);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      raw.off('end', onEnd).off('close', onClose);
      resolve(ok);
    };
    const onEnd = (): void => done(true);
    const onClose = (): void => done(raw.complete);
    const timer = setTimeout(() => done(false), maxMs);
    raw.on('end', onEnd).on('close', onClose);
    raw.resume();
  });
}

/** What a request stores, in the client's words: the path or URL of a JSON body; an upload otherwise. */
function storedName(request: FastifyRequest): string {
  const body = request.body as { path?: unknown; url?: unknown } | undefined;
  const named = body && typeof body === 'object' ? (body.path ?? body.url) : undefined;
  return typeof named === 'string' ? named : 'the upload';
}

/** Installs the JSON error handler and the JSON 404 on an app. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const r = errorResponse(err, storedName(request));
    // Redis being down is logged once per outage (backend/outage.ts), not once per request.
    if (r.status >= 500 && r.body.error.code !== 'DEPENDENCY_UNAVAILABLE') {
      request.log.error({ err }, 'request failed');
      // Without --log the request log is off; an unexpected failure still leaves one line (a full disk: its message).
      const line = r.body.error.code === 'INTERNAL' ? oneLine(String((err as Error)?.stack ?? err)).slice(0, 2000) : r.body.error.message;
      if (!(app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('error'))
        process.stderr.write(`omniprep: ${request.method} ${request.url.split('?')[0]}: ${line}\n`);
    }
    // A body over a limit may still be arriving: answer now and close the connection.
    if (r.status === 413) {
      r.headers = { ...r.headers, connection: 'close' };
      return reply.code(r.status).headers(r.headers).send(r.body);
    }
    // Any other refusal while the client is still sending (a multipart part refused before its
    // end): read the rest first, at most BODY_DRAIN_MS. An answer sent mid-body is dropped with
    // the connection, and a browser reports a network error instead of the one line.
    void bodyRead(request.raw, BODY_DRAIN_MS).then((read) => {
      if (!read) r.headers = { ...r.headers, connection: 'close' };
      void reply.code(r.status).headers(r.headers).send(r.body);
    });
    return reply;
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}

/** The error object as stored on a job (no stack, no details); `name` is its input's (a full disk names it). */
export function jobError(e: unknown, name?: string): { code: string; message: string } {
  const r = errorResponse(e, name).body.error;
  if (r.code === 'INTERNAL' && e instanceof Error) return { code: 'INTERNAL', message: oneLine(e.message) };
  return r;
}
