/**
 * JSON bodies: size-limited by Fastify (bodyLimit), depth-limited here before parsing, so a body
 * of a million `[` costs one linear scan and a 400, not a parser's recursion.
 */
import type { FastifyInstance } from 'fastify';
import { ServiceError } from './errors.js';

/** Deepest nesting a request's JSON may have (the job options need 3). */
export const MAX_JSON_DEPTH = 32;

/** Throws a 400 when `text` nests arrays and objects deeper than MAX_JSON_DEPTH (strings are skipped). */
export function checkJsonDepth(text: string, what: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_JSON_DEPTH) throw new ServiceError('BAD_REQUEST', `${what} is nested deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 93 || c === 125) depth--;
  }
}

/** Parses JSON bodies: depth first, then JSON.parse; both failures are 400s with the error shape. */
export function installJsonParser(app: FastifyInstance): void {
  // JSON and multipart only: any other body is a 415.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    try {
      if (!text.trim()) {
        done(null, undefined);
        return;
      }
      checkJsonDepth(text, 'the JSON body');
      done(
        null,
        JSON.parse(text, (key, value) => (key === '__proto__' || key === 'constructor' ? undefined : value)),
      );
    } catch (e) {
      if (e instanceof ServiceError) done(e, undefined);
      else done(new ServiceError('BAD_REQUEST', `the body is not valid JSON (${(e as Error).message})`), undefined);
    }
  });
}
