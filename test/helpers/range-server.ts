/**
 * A byte-range HTTP server on 127.0.0.1 for the remote-input tests: serves files under given
 * names, answers `Range: bytes=a-b` with 206 (ETag and Last-Modified on every answer), and records
 * every request and every body byte it sent. Misbehaviour on demand:
 *
 * - `noRanges`: ignores Range and sends the whole file with 200 (a server without range support);
 * - `dropNext(n, after)`: the next n body answers stop after `after` bytes and drop the connection;
 * - `failNext(n, status)`: the next n requests answer `status` (503: a transient failure);
 * - `changeEtag()`: from now on the file has another ETag (it "changed" on the server);
 * - `maxAnswerBytes`: a 206 answer is at most this long (a valid, shorter Content-Range than asked);
 * - `badContentRange`: 206 answers carry a Content-Range without the total (`bytes a-b`);
 * - `drip(afterRequests, msPerByte)`: once that many requests were answered, bodies go out one
 *   byte per `msPerByte` ms (a server that drips after the first block);
 * - `endless`: ignores Range and answers 200 with a body that never ends (no Content-Length; a
 *   number is sent as its Content-Length, a lie);
 * - `hold(n)`: each request waits to be answered until n requests are in flight (or 500 ms
 *   passed), so that a client's concurrent requests all show in `maxInFlight`;
 * - `/redirect/NAME` answers 302 to `/NAME`; `/goto/URL` answers 302 to the (encoded) URL.
 */
import { open, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RangeRequestLog {
  path: string;
  range: string | undefined;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  /** Requests in flight when this one arrived, itself included (from its arrival to its answer's close). */
  inFlight: number;
}

export interface RangeServer {
  base: string;
  port: number;
  url(name: string): string;
  log: RangeRequestLog[];
  /** Body bytes sent, over every request. */
  readonly bytesSent: number;
  /** Requests answered (redirects included). */
  readonly requests: number;
  /** The most requests in flight at once since the last reset (the largest `inFlight` in the log). */
  readonly maxInFlight: number;
  noRanges: boolean;
  maxAnswerBytes: number;
  endless: boolean | number;
  badContentRange: boolean;
  drip(afterRequests: number, msPerByte: number): void;
  hold(inFlight: number): void;
  dropNext(n: number, afterBytes: number): void;
  failNext(n: number, status: number): void;
  changeEtag(): void;
  /** The file "changes" (a new ETag) once this many more requests have been answered. */
  changeEtagAfter(requests: number): void;
  reset(): void;
  close(): Promise<void>;
}

/** Until the client took what was written, or went away (then the handler stops, and closes its file). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((r) => {
    if (res.destroyed) return r();
    const done = (): void => {
      res.off('drain', done).off('close', done);
      r();
    };
    res.once('drain', done).once('close', done);
  });
}

/** A 200 answer without Content-Length whose body never ends: 64 KiB chunks until the client goes. */
async function endless(res: ServerResponse, entry: RangeRequestLog, declared: boolean | number): Promise<void> {
  entry.status = 200;
  res.writeHead(200, { 'content-type': 'video/mp4', ...(typeof declared === 'number' ? { 'content-length': declared } : {}) });
  const chunk = Buffer.alloc(64 * 1024, 0x47);
  while (!res.destroyed) {
    entry.bytes += chunk.length;
    if (!res.write(chunk)) await drained(res);
  }
}

export async function startRangeServer(files: Record<string, string>): Promise<RangeServer> {
  const log: RangeRequestLog[] = [];
  let generation = 1;
  let drops = { n: 0, after: 0 };
  let fails = { n: 0, status: 503 };
  const state = {
    noRanges: false,
    changeAt: Infinity,
    maxAnswerBytes: Infinity,
    endless: false as boolean | number,
    badContentRange: false,
    dripAfter: Infinity,
    msPerByte: 0,
  };

  let active = 0;
  let holdAt = 0;
  const arrivals = new Set<() => void>();
  /** Until `holdAt` requests are in flight, or 500 ms passed. */
  const held = (): Promise<void> =>
    new Promise<void>((r) => {
      const check = (): void => {
        if (active < holdAt) return;
        arrivals.delete(check);
        clearTimeout(timer);
        r();
      };
      const timer = setTimeout(() => {
        arrivals.delete(check);
        r();
      }, 500);
      arrivals.add(check);
      check();
    });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    active++;
    let done = false;
    const gone = (): void => {
      if (!done) active--;
      done = true;
    };
    res.once('finish', gone).once('close', gone);
    const entry: RangeRequestLog = { path, range: req.headers.range, status: 0, bytes: 0, inFlight: active };
    log.push(entry);
    for (const arrived of [...arrivals]) arrived();
    if (holdAt > 1) await held();
    if (log.length > state.changeAt) {
      generation++;
      state.changeAt = Infinity;
    }
    const answer = (status: number, headers: Record<string, string | number> = {}): void => {
      entry.status = status;
      res.writeHead(status, headers);
    };
    if (fails.n > 0) {
      fails.n--;
      answer(fails.status);
      res.end();
      return;
    }
    if (path.startsWith('/goto/')) {
      answer(302, { location: path.slice('/goto/'.length) });
      res.end();
      return;
    }
    if (path.startsWith('/redirect/')) {
      answer(302, { location: `/${path.slice('/redirect/'.length)}` });
      res.end();
      return;
    }
    const file = files[path.slice(1)];
    if (!file) {
      answer(404);
      res.end();
      return;
    }
    if (state.endless !== false) return endless(res, entry, state.endless);
    const st = await stat(file);
    const size = st.size;
    const common = {
      etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}-${generation}"`,
      'last-modified': new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString(),
      'content-type': 'video/mp4',
      ...(state.noRanges ? {} : { 'accept-ranges': 'bytes' }),
    };
    let start = 0;
    let end = size - 1;
    let status = 200;
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (m && !state.noRanges) {
      if (m[1] === '') {
        start = Math.max(0, size - Number(m[2]));
      } else {
        start = Number(m[1]);
        end = m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
      }
      end = Math.min(end, start + state.maxAnswerBytes - 1);
      if (start >= size || start > end) {
        answer(416, { ...common, 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
    }
    const length = end - start + 1;
    answer(status, {
      ...common,
      'content-length': length,
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end}${state.badContentRange ? '' : `/${size}`}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const drop = drops.n > 0 ? (drops.n--, drops.after) : Infinity;
    const drip = log.length > state.dripAfter ? state.msPerByte : 0;
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      let at = start;
      while (at <= end) {
        const want = Math.min(drip ? 1 : buf.length, end - at + 1, drop - entry.bytes);
        if (want <= 0) {
          // Drop the connection mid-body.
          res.socket?.destroy();
          return;
        }
        const { bytesRead } = await fh.read(buf, 0, want, at);
        if (!bytesRead) break;
        entry.bytes += bytesRead;
        at += bytesRead;
        if (!res.write(Buffer.from(buf.subarray(0, bytesRead)))) await drained(res);
        if (res.destroyed) return;
        if (drip) await new Promise((r) => setTimeout(r, drip));
      }
      res.end();
    } finally {
      await fh.close();
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    port,
    url: (name) => `${base}/${name}`,
    log,
    get bytesSent() {
      return log.reduce((n, e) => n + e.bytes, 0);
    },
    get requests() {
      return log.length;
    },
    get maxInFlight() {
      return log.reduce((n, e) => Math.max(n, e.inFlight), 0);
    },
    get noRanges() {
      return state.noRanges;
    },
    set noRanges(v: boolean) {
      state.noRanges = v;
    },
    get maxAnswerBytes() {
      return state.maxAnswerBytes;
    },
    set maxAnswerBytes(v: number) {
      state.maxAnswerBytes = v;
    },
    get endless() {
      return state.endless;
    },
    set endless(v: boolean | number) {
      state.endless = v;
    },
    get badContentRange() {
      return state.badContentRange;
    },
    set badContentRange(v: boolean) {
      state.badContentRange = v;
    },
    drip(afterRequests, msPerByte) {
      state.dripAfter = log.length + afterRequests;
      state.msPerByte = msPerByte;
    },
    hold(inFlight) {
      holdAt = inFlight;
    },
    dropNext(n, after) {
      drops = { n, after };
    },
    failNext(n, status) {
      fails = { n, status };
    },
    changeEtag() {
      generation++;
    },
    changeEtagAfter(requests) {
      state.changeAt = log.length + requests;
    },
    reset() {
      log.length = 0;
      holdAt = 0;
      drops = { n: 0, after: 0 };
      fails = { n: 0, status: 503 };
      Object.assign(state, {
        noRanges: false,
        changeAt: Infinity,
        maxAnswerBytes: Infinity,
        endless: false,
        badContentRange: false,
        dripAfter: Infinity,
        msPerByte: 0,
      });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
