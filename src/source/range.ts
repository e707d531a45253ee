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
 *   `mode` says `download`, and the caller reports it; at most `maxDownloadBytes` of it (1 GiB).
 * - A shorter range than asked (a server that caps its answers) is taken, and the rest asked for.
 * - Caps per input: at most `maxRequests` requests and `totalTimeoutMs` spent fetching, whatever
 *   the file or the server does (tiny elements read one by one, a server that drips).
 *
 *     const f = await RemoteFile.open('https://cdn.example.com/talk.mp4', { dir: '/tmp/x' });
 *     const head = await f.read(0, 16);
 *     await f.fetch([{ offset: 1e6, length: 4e4 }]);
 *     f.stats; // { bytesFetched, requests, retries }
 *     await f.close();
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { OmniprepError } from '../errors.js';
import { DOWNLOAD_DEFAULTS, guardedGet, type DownloadOptions } from './download.js';
import { contentRange, Intervals } from './intervals.js';

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
  /**
   * Ranged GETs in flight at once when a fetch needs several (default 8, an integer from 1 to 64).
   * The caps hold whatever it is: each request is counted before it is sent.
   */
  concurrency?: number | undefined;
  /**
   * Most HTTP requests for this input, redirect hops and retries included (default 20,000); one
   * more is refused as LIMIT_EXCEEDED. A short answer continued counts as a request.
   */
  maxRequests?: number | undefined;
  /**
   * Most time spent fetching for this input, summed over every fetch (default 15 min; time between
   * fetches, such as decoding or waiting in a queue, does not count); past it, TIMEOUT.
   * `timeoutMs` still bounds each request.
   */
  totalTimeoutMs?: number | undefined;
  /**
   * Largest body read from a server that ignores Range (it answers 200 with the whole file however
   * little the plan needs; default 1 GiB, well under the file-size limit `maxBytes`): a longer
   * declared or sent body is refused as TOO_LARGE after at most this many bytes (and one chunk).
   */
  maxDownloadBytes?: number | undefined;
  /**
   * The validators an earlier reading saw (a job planned on one node, sampled on another): a file
   * whose first answer differs is refused as changed.
   */
  expect?: { etag?: string | undefined; lastModified?: string | undefined; size?: number | undefined } | undefined;
}

/**
 * The reader's defaults. The caps fit an hour-long file with room to spare: its plan takes 3-4
 * requests (MP4 or WebM, 700 MB), and sampling it at every keyframe about one request per
 * keyframe kept (1,802 for an MP4 with a keyframe every 2 s, 1,798 for a WebM at every 4 s, where
 * each takes two), so 20,000 leaves room for an hour with a keyframe every 0.5 s kept at every one.
 * Exact frames every second fetched 684 MB of the MP4 in 183 requests: 15 minutes is that at 6
 * Mbit/s, or 20,000 requests of 360 ms at the default concurrency.
 *
 * Concurrency 8: 61 keyframes of the benchmarks' 10-minute 720p MP4, each its own GET to Ceph RGW
 * on the same loaded 2-core machine (about 50 ms per GET), came in 3.0-3.9 s one after another,
 * 0.74-0.76 s 4 at a time, 0.44-0.56 s 8 at a time, 0.25 s 16 at a time.
 */
export const RANGE_DEFAULTS = {
  blockBytes: 64 * 1024,
  retries: 3,
  backoffMs: 200,
  mergeGapBytes: 16 * 1024,
  concurrency: 8,
  maxRequests: 20_000,
  totalTimeoutMs: 15 * 60_000,
  maxDownloadBytes: 1024 ** 3,
};

/** The most ranged GETs in flight at once an input may ask for. */
export const MAX_CONCURRENCY = 64;

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

/** One answer to a ranged GET, checked: where its body goes and how long it may be. */
interface Answer {
  res: IncomingMessage;
  status: 200 | 206;
  /** Where the body starts in the file, and its length (Infinity: until it ends). */
  from: number;
  expected: number;
  /** The most body bytes taken (the size limit, or the whole-download limit for a 200). */
  limit: number;
  signal: AbortSignal;
  onAbort: () => OmniprepError;
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
  /** Time spent fetching so far (ms), and the running fetch's share of totalTimeoutMs. */
  private spentMs = 0;
  private deadline: AbortSignal | undefined;
  /** Aborted when one of the running fetch's requests failed (the others stop). */
  private halt: AbortSignal | undefined;

  private constructor(url: string, o: RangeReaderOptions) {
    const c = o.concurrency;
    if (c !== undefined && !(Number.isInteger(c) && c >= 1 && c <= MAX_CONCURRENCY))
      throw new OmniprepError('INVALID_OPTION', `${url}: option concurrency: expected an integer from 1 to ${MAX_CONCURRENCY}, got ${c}`, { input: url });
    this.url = url;
    this.finalUrl = url;
    this.o = o;
    this.path = join(o.dir, 'remote.bin');
  }

  /** Opens a URL: one request for its first block, which tells its size, validators and range support. */
  static async open(url: string, o: RangeReaderOptions): Promise<RemoteFile> {
    const f = new RemoteFile(url, o);
    try {
      await f.timed(() => f.start());
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
    return this.o.blockBytes ?? RANGE_DEFAULTS.blockBytes;
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

  /** Bytes [a, b) from the local copy (the caller fetched them). */
  private async local(a: number, b: number): Promise<Buffer> {
    const buf = Buffer.alloc(b - a);
    await this.fh!.read(buf, 0, buf.length, a);
    return buf;
  }

  /** Reads bytes (fetching what is missing, at least a block from `offset` on). Short at the end of the file. */
  async read(offset: number, length: number): Promise<Buffer> {
    const a = Math.max(0, offset);
    const b = Math.min(this.size, offset + length);
    if (b <= a) return Buffer.alloc(0);
    // A small read fetches a block from where it starts (box headers are followed by their box).
    await this.fetch([{ offset: a, length: Math.max(b - a, this.block) }], 0);
    return this.local(a, b);
  }

  /** Reads exactly these bytes, fetching only what is missing of them (no block around them). */
  async readExact(offset: number, length: number): Promise<Buffer> {
    const a = Math.max(0, offset);
    const b = Math.min(this.size, offset + length);
    if (b <= a) return Buffer.alloc(0);
    await this.fetch([{ offset: a, length: b - a }], 0);
    return this.local(a, b);
  }

  /**
   * The fetched bytes from `offset` on: at least `length` of them (when any is missing, a block
   * from `offset`, up to `end`, is fetched), and as many more as were fetched right after them,
   * up to a block. A walk over small elements (headers, Void padding) reads them from such runs:
   * one request and one file read per block, not per element.
   */
  async readBlock(offset: number, length: number, end = this.size): Promise<Buffer> {
    const a = Math.max(0, offset);
    const b = Math.min(this.size, offset + length);
    if (b <= a) return Buffer.alloc(0);
    const stop = Math.max(b, Math.min(end, this.size, a + this.block));
    if (this.have.missing(a, b).length) await this.fetch([{ offset: a, length: stop - a }], 0);
    return this.local(a, this.have.missing(a, stop)[0]?.[0] ?? stop);
  }

  /** The parts of [offset, offset + length) never fetched, as [start, end) pairs. */
  missing(offset = 0, length = this.size - offset): Array<[number, number]> {
    return this.have.missing(offset, offset + length);
  }

  /** Makes these byte ranges local (only the parts not fetched before; close ones in one request). */
  fetch(ranges: ByteRange[], mergeGap = this.o.mergeGapBytes ?? RANGE_DEFAULTS.mergeGapBytes): Promise<void> {
    const run = this.queue.then(() => this.timed(() => this.fetchNow(ranges, mergeGap)));
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Runs one fetch under the input's time cap: it may take what is left of totalTimeoutMs, and
   * what it took is spent. Fetches run one after another (the queue), so the spells add up.
   */
  private async timed<T>(fn: () => Promise<T>): Promise<T> {
    const total = this.o.totalTimeoutMs ?? RANGE_DEFAULTS.totalTimeoutMs;
    if (this.spentMs >= total) throw this.overTime(total);
    const started = performance.now();
    this.deadline = AbortSignal.timeout(Math.max(1, Math.ceil(total - this.spentMs)));
    try {
      return await fn();
    } finally {
      this.spentMs += performance.now() - started;
      this.deadline = undefined;
    }
  }

  private overTime(total: number): OmniprepError {
    return new OmniprepError('TIMEOUT', `${this.url}: reading it took longer than the ${(total / 1000).toFixed(1)}-s limit per input (totalTimeoutMs)`, {
      input: this.url,
      details: { totalTimeoutMs: total },
    });
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
    const limit = this.o.concurrency ?? RANGE_DEFAULTS.concurrency;
    let next = 0;
    // The first failure stops the other workers (their requests in flight too): when the fetch
    // fails, nothing is left fetching for it.
    const halt = new AbortController();
    this.halt = halt.signal;
    let failure: { e: unknown } | undefined;
    const worker = async (): Promise<void> => {
      try {
        while (next < gaps.length && !halt.signal.aborted) {
          const [x, y] = gaps[next++]!;
          // Until none of it is missing: a retry asks only for what a broken transfer did not
          // bring, and a short answer (a server that caps its ranges) is continued where it
          // stopped. Each answer brings at least a byte or throws; maxRequests bounds the number.
          await this.withRetries(async () => {
            for (let gap = this.have.missing(x, y)[0]; gap; gap = this.have.missing(x, y)[0]) await this.get(gap[0], gap[1] - 1, false);
          });
        }
      } catch (e) {
        failure ??= { e };
        halt.abort();
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, gaps.length) }, worker));
    this.halt = undefined;
    if (failure) throw failure.e;
  }

  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    const retries = this.o.retries ?? RANGE_DEFAULTS.retries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof Transient) || attempt >= retries || this.o.signal?.aborted || this.deadline?.aborted || this.halt?.aborted) {
          if (e instanceof Transient)
            throw new OmniprepError('REQUEST_FAILED', `${this.url}: ${e.message} (after ${attempt + 1} attempts)`, { input: this.url });
          throw e;
        }
        this.stats.retries++;
        await new Promise((r) => setTimeout(r, (this.o.backoffMs ?? RANGE_DEFAULTS.backoffMs) * 2 ** attempt));
      }
    }
  }

  /** One ranged GET of [a, b] (inclusive), written to the backing file. */
  private async get(a: number, b: number, first: boolean): Promise<{ kind: 'range' | 'whole' }> {
    const answer = await this.ask(a, b, first);
    const at = await this.receive(answer);
    if (answer.status === 200) {
      this.mode = 'download';
      this.size = at;
      await this.fh!.truncate(at);
      return { kind: 'whole' };
    }
    return { kind: 'range' };
  }

  /** Sends the request for [a, b] under the caps and checks its answer's status and headers. */
  private async ask(a: number, b: number, first: boolean): Promise<Answer> {
    const url = this.url;
    const timeoutMs = this.o.timeoutMs ?? DOWNLOAD_DEFAULTS.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const deadline = this.deadline ?? AbortSignal.timeout(this.o.totalTimeoutMs ?? RANGE_DEFAULTS.totalTimeoutMs);
    const halt = this.halt;
    const signal = AbortSignal.any([timeout, deadline, ...(halt ? [halt] : []), ...(this.o.signal ? [this.o.signal] : [])]);
    const onAbort = (): OmniprepError =>
      this.o.signal?.aborted || halt?.aborted
        ? new OmniprepError('ABORTED', `${url}: cancelled`, { input: url })
        : deadline.aborted
          ? this.overTime(this.o.totalTimeoutMs ?? RANGE_DEFAULTS.totalTimeoutMs)
          : new OmniprepError('TIMEOUT', `${url}: a byte-range request took longer than ${(timeoutMs / 1000).toFixed(1)} s`, { input: url });
    let answer;
    try {
      // Later requests go where the first one landed after redirects (checked again all the same).
      const headers = { range: `bytes=${a}-${b}` };
      answer = await guardedGet(first ? url : this.finalUrl, { ...this.o, headers, beforeRequest: () => this.countRequest() }, signal, onAbort);
    } catch (e) {
      if (e instanceof OmniprepError && e.code === 'REQUEST_FAILED' && /cannot connect/.test(e.message) && !signal.aborted) throw new Transient(e.message);
      throw e;
    }
    const { res } = answer;
    const status = this.checkStatus(res, first, answer.finalUrl);
    const range = status === 206 ? contentRange(res.headers['content-range']) : undefined;
    const total = status === 206 ? (range?.total ?? NaN) : Number(res.headers['content-length']);
    if (first) await this.pinFirst(res, status, total, answer.finalUrl);
    else this.checkSame(res, status, total);
    if (status === 206 && !range) {
      res.resume();
      throw new OmniprepError(
        'REQUEST_FAILED',
        `${url}: a byte range came without a valid Content-Range (${JSON.stringify(res.headers['content-range'] ?? '')})`,
        {
          input: url,
        },
      );
    }
    // A shorter range than asked is taken (the caller asks for the rest); another one is not.
    if (range && (range.start !== a || range.end > b)) {
      res.destroy();
      throw new OmniprepError('REQUEST_FAILED', `${url}: asked for bytes ${a}-${b}, the server sent ${range.start}-${range.end}`, { input: url });
    }
    const maxBytes = this.o.maxBytes ?? DOWNLOAD_DEFAULTS.maxBytes;
    const whole = status === 200 ? Math.min(maxBytes, this.o.maxDownloadBytes ?? RANGE_DEFAULTS.maxDownloadBytes) : maxBytes;
    const expected = range ? range.end - range.start + 1 : Number.isFinite(total) ? total : Infinity;
    return { res, status, from: range ? range.start : 0, expected, limit: whole, signal, onAbort };
  }

  /**
   * Counts a request before it is sent, or refuses it past maxRequests. Counted when sent, not when
   * answered: requests in flight at once (concurrency) cannot all pass the check and overshoot.
   */
  private countRequest(): void {
    const maxRequests = this.o.maxRequests ?? RANGE_DEFAULTS.maxRequests;
    if (this.stats.requests >= maxRequests)
      throw new OmniprepError('LIMIT_EXCEEDED', `${this.url}: reading it needs more than ${maxRequests} requests, the limit per input (maxRequests)`, {
        input: this.url,
        details: { maxRequests },
      });
    this.stats.requests++;
  }

  /** The answer's status: 200 or 206, else the error it means (transient ones retried). */
  private checkStatus(res: IncomingMessage, first: boolean, finalUrl: string): 200 | 206 {
    const url = this.url;
    const status = res.statusCode ?? 0;
    if (status === 200 || status === 206) return status;
    res.resume();
    if (RETRY_STATUS.has(status)) throw new Transient(`the server answered HTTP ${status}`);
    if (status === 404 || status === 410)
      throw new OmniprepError('NOT_FOUND', `${url}: the server answered HTTP ${status}`, { input: url, details: { status } });
    if (status === 416 && first) throw new OmniprepError('EMPTY', `${url}: is empty (0 bytes)`, { input: url });
    throw new OmniprepError('REQUEST_FAILED', `${url}: the server answered HTTP ${status}${finalUrl !== url ? ` (at ${finalUrl})` : ''}`, {
      input: url,
      details: { status },
    });
  }

  /** The first answer: its validators, size and landing URL are pinned; sizes over the limits refused. */
  private async pinFirst(res: IncomingMessage, status: 200 | 206, total: number, finalUrl: string): Promise<void> {
    const url = this.url;
    this.etag = res.headers.etag;
    this.lastModified = res.headers['last-modified'];
    this.contentType = res.headers['content-type'];
    this.finalUrl = finalUrl;
    if (status === 206 && !Number.isFinite(total)) {
      res.resume();
      throw new OmniprepError(
        'REQUEST_FAILED',
        `${url}: a byte range came without the file's size (Content-Range ${JSON.stringify(res.headers['content-range'] ?? '')})`,
        {
          input: url,
        },
      );
    }
    const maxBytes = this.o.maxBytes ?? DOWNLOAD_DEFAULTS.maxBytes;
    const maxDownload = this.o.maxDownloadBytes ?? RANGE_DEFAULTS.maxDownloadBytes;
    if (Number.isFinite(total) && total > maxBytes) {
      res.destroy();
      throw new OmniprepError('TOO_LARGE', `${url}: is ${total} bytes, over the ${maxBytes}-byte limit`, { input: url });
    }
    if (status === 200 && Number.isFinite(total) && total > maxDownload) {
      res.destroy();
      throw new OmniprepError(
        'TOO_LARGE',
        `${url}: is ${total} bytes and the server ignores byte ranges: over the ${maxDownload}-byte limit on whole downloads (maxDownloadBytes)`,
        {
          input: url,
        },
      );
    }
    if (Number.isFinite(total)) {
      this.size = total;
      await this.fh!.truncate(total);
    }
  }

  /** A later answer: the same file (validators, size), still by ranges. */
  private checkSame(res: IncomingMessage, status: 200 | 206, total: number): void {
    const url = this.url;
    const etag = res.headers.etag;
    const lastModified = res.headers['last-modified'];
    const what =
      this.etag !== undefined && etag !== this.etag
        ? `its ETag went from ${this.etag} to ${etag ?? 'none'}`
        : this.lastModified !== undefined && lastModified !== this.lastModified
          ? `its Last-Modified went from ${this.lastModified} to ${lastModified ?? 'none'}`
          : Number.isFinite(total) && total !== this.size
            ? `its size went from ${this.size} to ${total} bytes`
            : undefined;
    if (what) {
      res.destroy();
      throw new OmniprepError('CORRUPT', `${url}: the file changed on the server while it was being read (${what})`, { input: url });
    }
    if (status === 200) {
      res.destroy();
      throw new OmniprepError('REQUEST_FAILED', `${url}: the server stopped answering byte ranges`, { input: url });
    }
  }

  /** Writes an answer's body where it belongs; returns where it ended. What arrived is kept even when short. */
  private async receive(x: Answer): Promise<number> {
    const { res, from, expected, limit, signal, onAbort } = x;
    const url = this.url;
    let at = from;
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
      if (signal.aborted) onAbortBody();
      signal.addEventListener('abort', onAbortBody, { once: true });
      res.on('data', (chunk: Buffer) => {
        this.stats.bytesFetched += chunk.length;
        if (at + chunk.length - from > limit || at + chunk.length > from + expected) {
          const why = x.status === 200 && limit < expected ? ' and the server ignores byte ranges (maxDownloadBytes)' : '';
          fail(
            new OmniprepError('TOO_LARGE', `${url}: the body passed the ${Math.min(limit, expected)}-byte limit${why}`, {
              input: url,
              details: { bytesFetched: this.stats.bytesFetched },
            }),
          );
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
    return at;
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
