/**
 * The web page of `omniprep serve`: GET / and its assets under /web/ (plain ES modules and CSS,
 * no build step, nothing from another host). The page talks to the service's API only, with the
 * bearer token the user types (kept in sessionStorage, sent in the Authorization header, never in
 * a URL), so the page itself needs no token: it holds no data until the API answers.
 *
 * Every page response carries a strict Content-Security-Policy: scripts, styles and connections
 * to this origin only; images and audio from this origin or blob: URLs (frames are fetched with the
 * token and shown through blob URLs, since <img src> cannot carry a header).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where the page's files are (copied next to the compiled module by scripts/postbuild.mjs). */
export const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

const PAGE_ROUTES = new Set(['/', '/web/*']);

/** GET / and the assets: served without a token (they hold no data; the API asks for it). */
export function isPageRequest(request: FastifyRequest): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && PAGE_ROUTES.has(request.routeOptions.url ?? '');
}

export async function webPage(app: FastifyInstance): Promise<void> {
  // Hooks of this plugin apply to its own routes only (Fastify encapsulation).
  app.addHook('onSend', async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    reply.headers(PAGE_HEADERS);
    return payload;
  });
  // Loaded when the app is built (not when the CLI starts: `omniprep worker` and refusals need none of it).
  const { default: fastifyStatic } = await import('@fastify/static');
  await app.register(fastifyStatic, {
    root: STATIC_DIR,
    prefix: '/web/',
    index: false,
    list: false,
    dotfiles: 'deny',
    cacheControl: true,
    maxAge: 0,
    etag: true,
    decorateReply: false,
  });
  let html: string | undefined;
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    html ??= await readFile(`${STATIC_DIR}index.html`, 'utf8');
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  });
}
