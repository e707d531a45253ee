/**
 * The app's JSON error handler and JSON 404: each error answered as errors.ts maps it, in one line,
 * after the body still arriving is read (at most BODY_DRAIN_MS).
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorResponse, oneLine } from './errors.js';

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
