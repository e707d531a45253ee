/**
 * The SSRF-safe downloader: the service fetches a user's URL itself and hands ffmpeg a local file,
 * never the URL (a URL given to ffmpeg can make it read local files or internal services).
 *
 * - only http: and https:, no user:password in the URL;
 * - the host name is resolved here, every address is checked, and the connection goes to the
 *   checked address (the socket's `lookup` is pinned to it), so a second DNS answer cannot point
 *   the request elsewhere (no time-of-check/time-of-use gap); TLS still verifies the host name;
 * - loopback, private, link-local, CGNAT, multicast, unspecified, reserved and documentation
 *   ranges are refused, for IPv4 and IPv6, including IPv4 inside IPv6 (mapped, compatible,
 *   NAT64, 6to4), unless `allowPrivate` is set;
 * - at most `maxRedirects` redirects, each target checked again;
 * - at most `maxBytes` (declared or streamed) and `timeoutMs` for the whole download.
 *
 *     const r = await download('https://example.com/clip.mp4', '/data/tmp/x', { maxBytes: 1e9 });
 *     r.sha256; r.bytes; r.finalUrl;
 */
import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { OmniprepError } from '../errors.js';

export interface DownloadOptions {
  /** Allow loopback, private and link-local addresses (a trusted network). Default false. */
  allowPrivate?: boolean | undefined;
  /** Lets one refused address through (a known internal mirror; tests). Every other check still applies. */
  allowAddress?: ((address: string) => boolean) | undefined;
  /** Largest body in bytes (default 1 GiB). */
  maxBytes?: number | undefined;
  /** Wall-clock limit for the whole download, redirects included (default 60 s). */
  timeoutMs?: number | undefined;
  /** Redirects followed at most (default 5). */
  maxRedirects?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Resolves a host name to addresses (default: the system resolver). For tests. */
  resolve?: ((host: string) => Promise<Array<{ address: string; family: number }>>) | undefined;
}

export interface DownloadResult {
  /** Where the body was written. */
  path: string;
  bytes: number;
  sha256: string;
  contentType: string | undefined;
  /** The URL the body came from, after redirects. */
  finalUrl: string;
  /** The address the last request connected to. */
  address: string;
  redirects: number;
}

export const DOWNLOAD_DEFAULTS = { maxBytes: 1024 ** 3, timeoutMs: 60_000, maxRedirects: 5 };

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

type Range = [base: number, bits: number, why: string];

const V4_RANGES: Range[] = [
  [v4('0.0.0.0'), 8, 'an unspecified ("this network") address'],
  [v4('10.0.0.0'), 8, 'a private address'],
  [v4('100.64.0.0'), 10, 'a shared (CGNAT) address'],
  [v4('127.0.0.0'), 8, 'a loopback address'],
  [v4('169.254.0.0'), 16, 'a link-local address'],
  [v4('172.16.0.0'), 12, 'a private address'],
  [v4('192.0.0.0'), 24, 'an IETF protocol address'],
  [v4('192.0.2.0'), 24, 'a documentation address'],
  [v4('192.88.99.0'), 24, 'a 6to4 relay address'],
  [v4('192.168.0.0'), 16, 'a private address'],
  [v4('198.18.0.0'), 15, 'a benchmarking address'],
  [v4('198.51.100.0'), 24, 'a documentation address'],
  [v4('203.0.113.0'), 24, 'a documentation address'],
  [v4('224.0.0.0'), 4, 'a multicast address'],
  [v4('240.0.0.0'), 4, 'a reserved address'],
];

function v4(s: string): number {
  const p = s.split('.').map(Number);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

function v4Reason(n: number): string | undefined {
  if (n === 0xffffffff) return 'the broadcast address';
  for (const [base, bits, why] of V4_RANGES) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((n & mask) >>> 0 === base) return why;
  }
  return undefined;
}

/** Parses an IPv6 address (zone ids dropped, an embedded dotted quad allowed) into 8 groups. */
export function parseIPv6(s: string): number[] | undefined {
  let text = s.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    if (isIP(dotted[1]!) !== 4) return undefined;
    const n = v4(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (h: string): number[] => (h ? h.split(':').map((g) => parseInt(g, 16)) : []);
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? head.length !== 8 : fill < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  if (groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  return groups;
}

function v6Reason(g: number[]): string | undefined {
  const zero = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  const embedded = (hi: number, lo: number): string | undefined => {
    const r = v4Reason(((hi << 16) >>> 0) + lo);
    return r && `${r} (IPv4 inside IPv6)`;
  };
  if (zero(0, 8)) return 'the unspecified address';
  if (zero(0, 7) && g[7] === 1) return 'a loopback address';
  if (zero(0, 5) && g[5] === 0xffff) return embedded(g[6]!, g[7]!) ?? undefined; // ::ffff:a.b.c.d (mapped)
  if (zero(0, 6)) return embedded(g[6]!, g[7]!) ?? 'a deprecated IPv4-compatible address'; // ::a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return embedded(g[6]!, g[7]!); // NAT64
  if (g[0] === 0x2002) return embedded(g[1]!, g[2]!); // 6to4
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'a private (unique local) address';
  if ((first & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((first & 0xffc0) === 0xfec0) return 'a site-local address';
  if ((first & 0xff00) === 0xff00) return 'a multicast address';
  if (first === 0x2001 && g[1] === 0x0db8) return 'a documentation address';
  if (first === 0x0100 && zero(1, 4)) return 'a discard-only address';
  if (first === 0x2001 && g[1]! < 0x200) return 'an IETF protocol address (Teredo, ORCHID, ...)';
  return undefined;
}

/** Why an address must not be fetched, or undefined when it is a public unicast address. */
export function forbiddenAddressReason(address: string): string | undefined {
  const kind = isIP(address.replace(/%.*$/, ''));
  if (kind === 4) return v4Reason(v4(address));
  if (kind === 6) {
    const g = parseIPv6(address);
    return g ? v6Reason(g) : 'an unparseable IPv6 address';
  }
  return 'not an IP address';
}

// ---------------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------------

function refused(url: string, cause: string): OmniprepError {
  return new OmniprepError('FORBIDDEN_URL', `${url}: ${cause}`, { input: url });
}

/** Checks a URL's form and resolves its host to one address that may be fetched. */
export async function checkUrl(
  raw: string,
  o: Pick<DownloadOptions, 'allowPrivate' | 'allowAddress' | 'resolve'> = {},
): Promise<{ url: URL; address: string; family: 4 | 6 }> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(raw, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refused(raw, `the scheme ${url.protocol.replace(':', '')} is refused (only http and https are fetched)`);
  if (url.username || url.password) throw refused(raw, 'credentials in the URL are refused');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw refused(raw, 'has no host');
  let candidates: Array<{ address: string; family: number }>;
  if (isIP(host)) candidates = [{ address: host, family: isIP(host) }];
  else {
    try {
      candidates = await (o.resolve ?? ((h: string) => dnsLookup(h, { all: true, verbatim: true })))(host);
    } catch (e) {
      throw new OmniprepError('NOT_FOUND', `${raw}: the host ${host} cannot be resolved (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
        input: raw,
      });
    }
    if (!candidates.length) throw new OmniprepError('NOT_FOUND', `${raw}: the host ${host} has no address`, { input: raw });
  }
  if (o.allowPrivate) {
    const c = candidates[0]!;
    return { url, address: c.address, family: c.family === 6 ? 6 : 4 };
  }
  // Every address must be public: a name that also resolves inside is refused outright.
  for (const c of candidates) {
    const why = forbiddenAddressReason(c.address);
    if (why && !o.allowAddress?.(c.address))
      throw refused(raw, `${host === c.address ? host : `${host} resolves to ${c.address}, which`} is ${why}; private addresses are refused`);
  }
  const c = candidates[0]!;
  return { url, address: c.address, family: c.family === 6 ? 6 : 4 };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface GuardedResponse {
  res: http.IncomingMessage;
  /** The URL that answered, after redirects. */
  finalUrl: string;
  /** The address the last request connected to. */
  address: string;
  redirects: number;
}

/**
 * One GET under the downloader's guards: the URL and every redirect target checked (scheme, no
 * credentials, public addresses unless allowed), the connection pinned to the checked address, at
 * most `maxRedirects` redirects. Answers the first response that is not a redirect, whatever its
 * status; the caller reads or discards its body. Used by download() and by the range reader
 * (src/source/range.ts), so every request either makes passes the same checks.
 */
export async function guardedGet(
  url: string,
  options: Pick<DownloadOptions, 'allowPrivate' | 'allowAddress' | 'resolve' | 'maxRedirects'> & {
    headers?: Record<string, string> | undefined;
    /** Called right before each request is sent (each redirect hop too); what it throws stops the GET unsent. */
    beforeRequest?: (() => void) | undefined;
  },
  signal: AbortSignal,
  onAbort: () => OmniprepError,
): Promise<GuardedResponse> {
  const maxRedirects = options.maxRedirects ?? DOWNLOAD_DEFAULTS.maxRedirects;
  let current = url;
  for (let redirects = 0; ; redirects++) {
    if (signal.aborted) throw onAbort();
    const target = await checkUrl(current, options);
    if (signal.aborted) throw onAbort();
    options.beforeRequest?.();
    const res = await request(target, signal, url, onAbort, options.headers);
    const status = res.statusCode ?? 0;
    if (REDIRECTS.has(status)) {
      res.resume();
      const location = res.headers.location;
      if (!location) throw new OmniprepError('REQUEST_FAILED', `${url}: a ${status} redirect without a Location`, { input: url });
      if (redirects >= maxRedirects) throw refused(url, `more than ${maxRedirects} redirects`);
      current = new URL(location, target.url).toString();
      continue;
    }
    return { res, finalUrl: current, address: target.address, redirects };
  }
}

/** Downloads `url` to `dest` (created or replaced). Throws OmniprepError; `dest` is removed on failure. */
export async function download(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const maxBytes = options.maxBytes ?? DOWNLOAD_DEFAULTS.maxBytes;
  const timeoutMs = options.timeoutMs ?? DOWNLOAD_DEFAULTS.timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const onAbort = (): OmniprepError => abortReason(url, timeout, timeoutMs);
  try {
    const { res, finalUrl: current, address, redirects } = await guardedGet(url, options, signal, onAbort);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      res.resume();
      const code = status === 404 || status === 410 ? 'NOT_FOUND' : 'REQUEST_FAILED';
      throw new OmniprepError(code, `${url}: the server answered HTTP ${status}${current !== url ? ` (at ${current})` : ''}`, {
        input: url,
        details: { status },
      });
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.destroy();
      throw new OmniprepError('TOO_LARGE', `${url}: is ${declared} bytes, over the ${maxBytes}-byte limit`, { input: url });
    }
    const hash = createHash('sha256');
    let bytes = 0;
    await new Promise<void>((resolveBody, rejectBody) => {
      const out = createWriteStream(dest);
      const fail = (e: unknown): void => {
        res.destroy();
        out.destroy();
        rejectBody(e);
      };
      const onAbortBody = (): void => fail(onAbort());
      signal.addEventListener('abort', onAbortBody, { once: true });
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          fail(new OmniprepError('TOO_LARGE', `${url}: the body passed the ${maxBytes}-byte limit`, { input: url }));
          return;
        }
        hash.update(chunk);
        if (!out.write(chunk)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
      });
      res.on('error', (e) => fail(new OmniprepError('REQUEST_FAILED', `${url}: the download broke off (${e.message})`, { input: url })));
      res.on('end', () => {
        if (res.complete === false) {
          fail(new OmniprepError('REQUEST_FAILED', `${url}: the download broke off`, { input: url }));
          return;
        }
        out.end(() => {
          signal.removeEventListener('abort', onAbortBody);
          resolveBody();
        });
      });
      out.on('error', (e) => fail(new OmniprepError('REQUEST_FAILED', `${url}: cannot write the download (${e.message})`, { input: url })));
    });
    const contentType = res.headers['content-type'];
    return { path: dest, bytes, sha256: hash.digest('hex'), contentType, finalUrl: current, address, redirects };
  } catch (e) {
    await rm(dest, { force: true });
    if (e instanceof OmniprepError) throw e;
    if (signal.aborted) throw onAbort();
    throw new OmniprepError('REQUEST_FAILED', `${url}: ${(e as Error).message}`, { input: url, cause: e });
  }
}

function abortReason(url: string, timeout: AbortSignal, timeoutMs: number): OmniprepError {
  return timeout.aborted
    ? new OmniprepError('TIMEOUT', `${url}: the download took longer than ${(timeoutMs / 1000).toFixed(1)} s`, { input: url })
    : new OmniprepError('ABORTED', `${url}: cancelled`, { input: url });
}

/** One GET to the checked address: the socket's lookup returns that address and nothing else. */
function request(
  target: { url: URL; address: string; family: 4 | 6 },
  signal: AbortSignal,
  input: string,
  onAbort: () => OmniprepError,
  headers?: Record<string, string>,
): Promise<http.IncomingMessage> {
  const pinned: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all)
      (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
  const mod = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolveRes, rejectRes) => {
    const req = mod.request(target.url, {
      method: 'GET',
      lookup: pinned,
      signal,
      headers: { 'user-agent': 'omniprep', accept: '*/*', 'accept-encoding': 'identity', ...headers },
      ...(target.url.protocol === 'https:' ? { servername: isIP(target.url.hostname) ? undefined : target.url.hostname } : {}),
    });
    req.on('response', resolveRes);
    req.on('error', (e) => {
      if (signal.aborted) rejectRes(onAbort());
      else
        rejectRes(
          new OmniprepError('REQUEST_FAILED', `${input}: cannot connect to ${target.url.host} (${(e as NodeJS.ErrnoException).code ?? e.message})`, {
            input,
            cause: e,
          }),
        );
    });
    req.end();
  });
}
