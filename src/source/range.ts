/**
 * Remote files read by byte ranges: an http(s) URL (a presigned S3/GCS/Azure URL, a CDN) opened
 * without downloading it. Every request goes through the downloader's guards (guardedGet in
 * src/source/download.ts: scheme, credentials, public addresses unless allowed, pinned
 * connection, redirects checked hop by hop), each request has the downloader's time limit, and the
 * file's size is held to its size limit.
 *
 * The bytes fetched land in a sparse local file of the remote's size (the block cache: what was
 * fetched is kept, and recorded as intervals; nothing else takes disk space), so ffmpeg and
 * ffprobe read a local path as they always do and never see the URL. Bytes never fetched read as
 * zeros: callers fetch every byte a decoder will use (src/source/remote.ts).
 *
 * - The first answer's ETag and Last-Modified are pinned: a later answer with another one (or
 *   another total size) means the file changed mid-job, and is an error, never a mix of two files.
 * - Transient failures (connection refused or dropped, a short body, 5xx, 429) are retried with
 *   backoff, `retries` times per range.
 * - A server that ignores Range (answers 200 with the whole body) is read to the end instead:
 *   `mode` says `download`, and the caller reports it.
 *
 *     const f = await RemoteFile.open('https://cdn.example.com/talk.mp4', { dir: '/tmp/x' });
 *     const head = await f.read(0, 16);
 *     await f.fetch([{ offset: 1e6, length: 4e4 }]);
 *     f.stats; // { bytesFetched, requests, retries }
 *     await f.close();
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { OmniprepError } from '../errors.js';
import { DOWNLOAD_DEFAULTS, guardedGet, type DownloadOptions } from './download.js';

export interface RangeReaderOptions extends DownloadOptions {
  /** Directory for the sparse backing file (required: the caller owns its lifetime). */
  dir: string;
  /** The least a read() fetches from its offset on (default 64 KiB). */
  blockBytes?: number | undefined;
  /** Retries per range after a transient failure (default 3). */
  retries?: number | undefined;
  /** First backoff in ms, doubled per retry (default 200). */
  backoffMs?: number | undefined;
  /** Ranges closer than this are fetched in one request (default 16 KiB). */
  mergeGapBytes?: number | undefined;
  /** Requests in flight at once (default 4). */
  concurrency?: number | undefined;
  /**
   * The validators an earlier reading saw (a job planned on one node, sampled on another): a file
   * whose first answer differs is refused as changed.
   */
  expect?: { etag?: string | undefined; lastModified?: string | undefined; size?: number | undefined } | undefined;
}

export interface FetchStats {
  /** Body bytes received, over every request (retries and the fallback download included). */
  bytesFetched: number;
  /** HTTP requests made (each redirect hop counts). */
  requests: number;
  retries: number;
}

export interface ByteRange {
  offset: number;
  length: number;
}

/** A transient failure: retried. */
class Transient extends Error {}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Sorted, disjoint [start, end) intervals. */
class Intervals {
  private list: Array<[number, number]> = [];
  add(a: number, b: number): void {
    if (b <= a) return;
    const out: Array<[number, number]> = [];
    let placed = false;
    for (const [x, y] of this.list) {
      if (y < a) out.push([x, y]);
      else if (x > b) {
        if (!placed) out.push([a, b]);
        placed = true;
        out.push([x, y]);
      } else {
        a = Math.min(a, x);
        b = Math.max(b, y);
      }
    }
    if (!placed) out.push([a, b]);
    this.list = out.sort((p, q) => p[0] - q[0]);
  }
  /** The parts of [a, b) not covered. */
  missing(a: number, b: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let at = a;
    for (const [x, y] of this.list) {
      if (y <= at) continue;
      if (x >= b) break;
      if (x > at) out.push([at, x]);
      at = Math.max(at, y);
      if (at >= b) break;
    }
    if (at < b) out.push([at, b]);
    return out;
  }
  get covered(): number {
    return this.list.reduce((n, [x, y]) => n + y - x, 0);
  }
}

function contentRange(v: string | undefined): { start: number; end: number; total: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? NaN : Number(m[3]) };
}

export class RemoteFile {
  readonly url: string;
  /** The sparse local copy ffmpeg reads. */
  readonly path: string;
  size = 0;
  /** `ranges`: read by byte ranges; `download`: the server ignores Range, so the whole file was read. */
  mode: 'ranges' | 'download' = 'ranges';
  /** The validators pinned by the first answer. */
  etag: string | undefined;
  lastModified: string | undefined;
  contentType: string | undefined;
  finalUrl: string;
  readonly stats: FetchStats = { bytesFetched: 0, requests: 0, retries: 0 };
  private readonly o: RangeReaderOptions;
  private readonly have = new Intervals();
  private fh: FileHandle | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(url: string, o: RangeReaderOptions) {
    this.url = url;
    this.finalUrl = url;
    this.o = o;
    this.path = join(o.dir, 'remote.bin');
  }

  /** Opens a URL: one request for its first block, which tells its size, validators and range support. */
  static async open(url: string, o: RangeReaderOptions): Promise<RemoteFile> {
    const f = new RemoteFile(url, o);
    try {
      await f.start();
      return f;
    } catch (e) {
      await f.close();
      throw e;
    }
  }

  get cachedBytes(): number {
    return this.have.covered;
  }

  private get block(): number {
    return this.o.blockBytes ?? 64 * 1024;
  }

  private async start(): Promise<void> {
    this.fh = await open(this.path, 'w+');
    const first = await this.withRetries(() => this.get(0, this.block - 1, true));
    if (first.kind === 'whole') this.mode = 'download';
    const x = this.o.expect;
    if (x) {
      const what =
        x.etag !== undefined && x.etag !== this.etag
          ? `its ETag is ${this.etag ?? 'none'}, was ${x.etag}`
          : x.lastModified !== undefined && x.lastModified !== this.lastModified
            ? `its Last-Modified is ${this.lastModified ?? 'none'}, was ${x.lastModified}`
            : x.size !== undefined && x.size !== this.size
              ? `it is ${this.size} bytes, was ${x.size}`
              : undefined;
      if (what) throw new OmniprepError('CORRUPT', `${this.url}: the file changed on the server since it was first read (${what})`, { input: this.url });
    }
  }

  /** Reads bytes (fetching what is missing, at least a block from `offset` on). Short at the end of the file. */
  async read(offset: number, length: number): Promise<Buffer> {
    const a = Math.max(0, offset);
    const b = Math.min(this.size, offset + length);
    if (b <= a) return Buffer.alloc(0);
    // A small read fetches a block from where it starts (box headers are followed by their box).
    await this.fetch([{ offset: a, length: Math.max(b - a, this.block) }], 0);
    const buf = Buffer.alloc(b - a);
    await this.fh!.read(buf, 0, buf.length, a);
    return buf;
  }

  /** Reads exactly these bytes, fetching only what is missing of them (no block around them). */
  async readExact(offset: number, length: number): Promise<Buffer> {
    const a = Math.max(0, offset);
    const b = Math.min(this.size, offset + length);
    if (b <= a) return Buffer.alloc(0);
    await this.fetch([{ offset: a, length: b - a }], 0);
    const buf = Buffer.alloc(b - a);
    await this.fh!.read(buf, 0, buf.length, a);
    return buf;
  }

  /** The parts of [offset, offset + length) never fetched, as [start, end) pairs. */
  missing(offset = 0, length = this.size - offset): Array<[number, number]> {
    return this.have.missing(offset, offset + length);
  }

  /** Makes these byte ranges local (only the parts not fetched before; close ones in one request). */
  fetch(ranges: ByteRange[], mergeGap = this.o.mergeGapBytes ?? 16 * 1024): Promise<void> {
    const run = this.queue.then(() => this.fetchNow(ranges, mergeGap));
    this.queue = run.catch(() => {});
    return run;
  }

  private async fetchNow(ranges: ByteRange[], mergeGap: number): Promise<void> {
    if (this.mode === 'download') return;
    const wanted = ranges
      .map((r) => [Math.max(0, r.offset), Math.min(this.size, r.offset + r.length)] as [number, number])
      .filter(([a, b]) => b > a)
      .sort((p, q) => p[0] - q[0]);
    const gaps: Array<[number, number]> = [];
    for (const [a, b] of wanted) {
      for (const [x, y] of this.have.missing(a, b)) {
        const last = gaps[gaps.length - 1];
        if (last && x - last[1] <= mergeGap) last[1] = Math.max(last[1], y);
        else gaps.push([x, y]);
      }
    }
    const limit = Math.max(1, this.o.concurrency ?? 4);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < gaps.length) {
        const [x, y] = gaps[next++]!;
        // A retry asks only for what a broken transfer did not bring.
        await this.withRetries(async () => {
          for (const [p, q] of this.have.missing(x, y)) await this.get(p, q - 1, false);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, gaps.length) }, worker));
  }

  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    const retries = this.o.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof Transient) || attempt >= retries || this.o.signal?.aborted) {
          if (e instanceof Transient)
            throw new OmniprepError('REQUEST_FAILED', `${this.url}: ${e.message} (after ${attempt + 1} attempts)`, { input: this.url });
          throw e;
        }
        this.stats.retries++;
        await new Promise((r) => setTimeout(r, (this.o.backoffMs ?? 200) * 2 ** attempt));
      }
    }
  }

  /** One ranged GET of [a, b] (inclusive), written to the backing file. */
  private async get(a: number, b: number, first: boolean): Promise<{ kind: 'range' | 'whole' }> {
    const url = this.url;
    const timeoutMs = this.o.timeoutMs ?? DOWNLOAD_DEFAULTS.timeoutMs;
    const maxBytes = this.o.maxBytes ?? DOWNLOAD_DEFAULTS.maxBytes;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = this.o.signal ? AbortSignal.any([this.o.signal, timeout]) : timeout;
    const onAbort = (): OmniprepError =>
      timeout.aborted
        ? new OmniprepError('TIMEOUT', `${url}: a byte-range request took longer than ${(timeoutMs / 1000).toFixed(1)} s`, { input: url })
        : new OmniprepError('ABORTED', `${url}: cancelled`, { input: url });
    let answer;
    try {
      // Later requests go where the first one landed after redirects (checked again all the same).
      answer = await guardedGet(first ? url : this.finalUrl, { ...this.o, headers: { range: `bytes=${a}-${b}` } }, signal, onAbort);
    } catch (e) {
      if (e instanceof OmniprepError && e.code === 'REQUEST_FAILED' && /cannot connect/.test(e.message) && !signal.aborted) throw new Transient(e.message);
      throw e;
    }
    const { res } = answer;
    this.stats.requests += answer.redirects + 1;
    const status = res.statusCode ?? 0;
    if (RETRY_STATUS.has(status)) {
      res.resume();
      throw new Transient(`the server answered HTTP ${status}`);
    }
    if (status === 404 || status === 410) {
      res.resume();
      throw new OmniprepError('NOT_FOUND', `${url}: the server answered HTTP ${status}`, { input: url, details: { status } });
    }
    if (status === 416 && first) {
      res.resume();
      throw new OmniprepError('EMPTY', `${url}: is empty (0 bytes)`, { input: url });
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw new OmniprepError('REQUEST_FAILED', `${url}: the server answered HTTP ${status}${answer.finalUrl !== url ? ` (at ${answer.finalUrl})` : ''}`, {
        input: url,
        details: { status },
      });
    }
    const etag = res.headers.etag;
    const lastModified = res.headers['last-modified'];
    const range = status === 206 ? contentRange(res.headers['content-range']) : undefined;
    const total = status === 206 ? (range?.total ?? NaN) : Number(res.headers['content-length']);
    if (first) {
      this.etag = etag;
      this.lastModified = lastModified;
      this.contentType = res.headers['content-type'];
      this.finalUrl = answer.finalUrl;
      if (status === 206 && (!range || !Number.isFinite(range.total))) {
        res.resume();
        throw new OmniprepError(
          'REQUEST_FAILED',
          `${url}: a byte range came without the file's size (Content-Range ${JSON.stringify(res.headers['content-range'] ?? '')})`,
          { input: url },
        );
      }
      if (Number.isFinite(total) && total > maxBytes) {
        res.destroy();
        throw new OmniprepError('TOO_LARGE', `${url}: is ${total} bytes, over the ${maxBytes}-byte limit`, { input: url });
      }
      if (Number.isFinite(total)) {
        this.size = total;
        await this.fh!.truncate(total);
      }
    } else {
      const changed =
        (this.etag !== undefined && etag !== this.etag) ||
        (this.lastModified !== undefined && lastModified !== this.lastModified) ||
        (Number.isFinite(total) && total !== this.size);
      if (changed) {
        res.destroy();
        const what =
          this.etag !== undefined && etag !== this.etag
            ? `its ETag went from ${this.etag} to ${etag ?? 'none'}`
            : this.lastModified !== undefined && lastModified !== this.lastModified
              ? `its Last-Modified went from ${this.lastModified} to ${lastModified ?? 'none'}`
              : `its size went from ${this.size} to ${total} bytes`;
        throw new OmniprepError('CORRUPT', `${url}: the file changed on the server while it was being read (${what})`, { input: url });
      }
      if (status === 200) {
        res.destroy();
        throw new OmniprepError('REQUEST_FAILED', `${url}: the server stopped answering byte ranges`, { input: url });
      }
    }
    if (status === 206 && range && (range.start !== a || range.end > b)) {
      res.destroy();
      throw new OmniprepError('REQUEST_FAILED', `${url}: asked for bytes ${a}-${b}, the server sent ${range.start}-${range.end}`, { input: url });
    }
    // The body, written where it belongs.
    let at = status === 206 ? range!.start : 0;
    const from = at;
    const expected = status === 206 ? range!.end - range!.start + 1 : Number.isFinite(total) ? total : Infinity;
    await new Promise<void>((resolveBody, rejectBody) => {
      let writing: Promise<unknown> = Promise.resolve();
      let failed = false;
      const fail = (e: unknown): void => {
        if (failed) return;
        failed = true;
        res.destroy();
        rejectBody(e);
      };
      const onAbortBody = (): void => fail(onAbort());
      signal.addEventListener('abort', onAbortBody, { once: true });
      res.on('data', (chunk: Buffer) => {
        this.stats.bytesFetched += chunk.length;
        if (at + chunk.length - from > maxBytes || at + chunk.length > from + expected) {
          fail(new OmniprepError('TOO_LARGE', `${url}: the body passed the ${Math.min(maxBytes, expected)}-byte limit`, { input: url }));
          return;
        }
        const pos = at;
        at += chunk.length;
        res.pause();
        writing = writing
          .then(() => this.fh!.write(chunk, 0, chunk.length, pos))
          .then(
            () => res.resume(),
            (e: Error) => fail(new OmniprepError('REQUEST_FAILED', `${url}: cannot write the local copy (${e.message})`, { input: url })),
          );
      });
      res.on('error', (e) => fail(new Transient(`the transfer broke off (${e.message})`)));
      res.on('aborted', () => fail(new Transient('the transfer broke off')));
      res.on('end', () => {
        void writing.then(() => {
          signal.removeEventListener('abort', onAbortBody);
          if (failed) return;
          // Keep what arrived even when short: a retry asks only for the rest.
          this.have.add(from, at);
          if (res.complete === false || (Number.isFinite(expected) && at - from < expected))
            fail(new Transient(`the transfer broke off after ${at - from} of ${expected} bytes`));
          else resolveBody();
        });
      });
    }).catch((e: unknown) => {
      if (e instanceof Transient && at > from) this.have.add(from, at);
      throw e;
    });
    if (status === 200) {
      this.mode = 'download';
      this.size = at;
      await this.fh!.truncate(at);
      return { kind: 'whole' };
    }
    return { kind: 'range' };
  }

  /** Whether [offset, offset + length) was fetched: all of it, none, or part. */
  coverage(offset: number, length: number): 'all' | 'none' | 'part' {
    const gaps = this.have.missing(offset, offset + length);
    if (!gaps.length) return 'all';
    return gaps.length === 1 && gaps[0]![0] === offset && gaps[0]![1] === offset + length ? 'none' : 'part';
  }

  /**
   * Writes bytes of our own where nothing was fetched (filler a demuxer passes over). They are not
   * recorded as fetched: a later fetch of the range replaces them with the real bytes.
   */
  writeUnfetched(offset: number, bytes: Buffer): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.coverage(offset, bytes.length) !== 'none') return;
      await this.fh!.write(bytes, 0, bytes.length, offset);
    });
    this.queue = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    await this.queue.catch(() => {});
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
    await rm(this.path, { force: true });
  }
}
