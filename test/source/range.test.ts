/**
 * The range reader (src/source/range.ts) against the range server in test/helpers/range-server.ts
 * on 127.0.0.1 (let through with `allowAddress`, the downloader's own test hook): exact bytes,
 * the block cache, retries after dropped connections and 503s, a file that changes mid-job, a
 * server without range support, redirects, and the downloader's guards on every request; and the
 * caps per input (requests, total time, whole downloads) against servers that misbehave: short
 * 206 answers, a drip after the first block, an endless 200 body.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OmniprepError } from '../../src/errors.js';
import { RANGE_DEFAULTS, RemoteFile, type RangeReaderOptions } from '../../src/source/range.js';
import { tempDir } from '../helpers/fixtures.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';

let server: RangeServer;
let data: Buffer;
const SIZE = 1_000_003;

beforeAll(async () => {
  const dir = tempDir('range-');
  data = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
  const file = join(dir, 'blob.bin');
  writeFileSync(file, data);
  server = await startRangeServer({ 'blob.bin': file });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const loopback = (o: Partial<RangeReaderOptions> = {}): RangeReaderOptions => ({
  dir: tempDir('range-file-'),
  allowAddress: (a) => a === '127.0.0.1',
  backoffMs: 5,
  ...o,
});
const failure = (p: Promise<unknown>): Promise<OmniprepError> =>
  p.then(
    () => {
      throw new Error('resolved');
    },
    (e: OmniprepError) => e,
  );

describe('range reader', () => {
  it('reads exact bytes with Range requests, and the block cache answers repeats without a request', async () => {
    const f = await RemoteFile.open(server.url('blob.bin'), loopback({ blockBytes: 4096 }));
    expect(f.mode).toBe('ranges');
    expect(f.size).toBe(SIZE);
    expect(f.etag).toMatch(/^"/);
    expect(server.log[0]!.range).toBe('bytes=0-4095');
    const a = await f.read(500_000, 10_000);
    expect(a.equals(data.subarray(500_000, 510_000))).toBe(true);
    const requests = server.requests;
    // Inside blocks already fetched: no request.
    const b = await f.read(501_000, 100);
    expect(b.equals(data.subarray(501_000, 501_100))).toBe(true);
    expect(server.requests).toBe(requests);
    // Ranges: only what is missing, close ones merged, far ones apart.
    await f.fetch([
      { offset: 700_000, length: 1000 },
      { offset: 702_000, length: 1000 },
      { offset: 900_000, length: 50 },
    ]);
    expect(
      server.log
        .slice(requests)
        .map((e) => e.range)
        .sort(),
    ).toEqual(['bytes=700000-702999', 'bytes=900000-900049']);
    expect(f.stats.requests).toBe(server.requests);
    expect(f.stats.bytesFetched).toBe(server.bytesSent);
    const local = readFileSync(f.path);
    expect(local.length).toBe(SIZE);
    expect(local.subarray(700_000, 703_000).equals(data.subarray(700_000, 703_000))).toBe(true);
    // Never fetched: zeros in the sparse copy.
    expect(local.subarray(800_000, 800_100).every((x) => x === 0)).toBe(true);
    await f.close();
    expect(existsSync(f.path)).toBe(false);
  });

  it('retries a dropped connection, asking only for the rest', async () => {
    const f = await RemoteFile.open(server.url('blob.bin'), loopback());
    const before = server.requests;
    server.dropNext(1, 30_000);
    await f.fetch([{ offset: 100_000, length: 200_000 }]);
    expect(f.stats.retries).toBe(1);
    const ranges = server.log.slice(before).map((e) => e.range);
    expect(ranges[0]).toBe('bytes=100000-299999');
    // The retry starts where the broken transfer stopped.
    expect(ranges[1]).toBe(`bytes=${100_000 + server.log[before]!.bytes}-299999`);
    expect(readFileSync(f.path).subarray(100_000, 300_000).equals(data.subarray(100_000, 300_000))).toBe(true);
    await f.close();
  });

  it('retries 503s, and gives up with one clear line after its retries', async () => {
    const f = await RemoteFile.open(server.url('blob.bin'), loopback({ retries: 2 }));
    server.failNext(2, 503);
    await f.fetch([{ offset: 400_000, length: 10 }]);
    expect(f.stats.retries).toBe(2);
    expect(readFileSync(f.path).subarray(400_000, 400_010).equals(data.subarray(400_000, 400_010))).toBe(true);
    server.failNext(10, 503);
    const e = await failure(f.fetch([{ offset: 200_000, length: 10 }]));
    expect(e.code).toBe('REQUEST_FAILED');
    expect(e.message).toMatch(/blob\.bin: the server answered HTTP 503 \(after 3 attempts\)/);
    await f.close();
  });

  it('refuses a file that changes on the server mid-job (its ETag changes)', async () => {
    const f = await RemoteFile.open(server.url('blob.bin'), loopback());
    server.changeEtag();
    const e = await failure(f.fetch([{ offset: 300_000, length: 100 }]));
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/the file changed on the server while it was being read \(its ETag went from ".*-1" to ".*-2"\)/);
    await f.close();
  });

  it('refuses a file whose validators differ from an earlier reading (planned on one node, sampled on another)', async () => {
    const f = await RemoteFile.open(server.url('blob.bin'), loopback());
    const seen = { etag: f.etag, lastModified: f.lastModified, size: f.size };
    await f.close();
    const again = await RemoteFile.open(server.url('blob.bin'), loopback({ expect: seen }));
    expect(again.size).toBe(SIZE);
    await again.close();
    server.changeEtag();
    const e = await failure(RemoteFile.open(server.url('blob.bin'), loopback({ expect: seen })));
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toBe(
      `${server.url('blob.bin')}: the file changed on the server since it was first read (its ETag is ${e.message.match(/ETag is ("[^"]+")/)![1]}, was ${seen.etag})`,
    );
    expect(e.message).not.toContain(`ETag is ${seen.etag}`);
  });

  it('falls back to the whole file when the server ignores Range', async () => {
    server.noRanges = true;
    const f = await RemoteFile.open(server.url('blob.bin'), loopback());
    expect(f.mode).toBe('download');
    expect(f.size).toBe(SIZE);
    expect(f.stats.bytesFetched).toBe(SIZE);
    expect(readFileSync(f.path).equals(data)).toBe(true);
    // Everything is local: no more requests.
    await f.fetch([{ offset: 5, length: 5 }]);
    expect(server.requests).toBe(1);
    await f.close();
  });

  it('follows redirects (each one counted) and keeps reading where it landed', async () => {
    const f = await RemoteFile.open(server.url('redirect/blob.bin'), loopback());
    expect(f.finalUrl).toBe(server.url('blob.bin'));
    expect(f.stats.requests).toBe(2);
    await f.fetch([{ offset: 600_000, length: 10 }]);
    expect(server.log.map((e) => e.path)).toEqual(['/redirect/blob.bin', '/blob.bin', '/blob.bin']);
    await f.close();
  });

  it("keeps the downloader's guards on every request: addresses, redirect targets, size, status", async () => {
    const dir = tempDir('range-guard-');
    // Loopback without permission: refused before any request.
    const e1 = await failure(RemoteFile.open(server.url('blob.bin'), { dir }));
    expect(e1.code).toBe('FORBIDDEN_URL');
    expect(e1.message).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(server.requests).toBe(0);
    // A redirect to the metadata address is checked like the first URL.
    const e2 = await failure(RemoteFile.open(server.url(`goto/${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`), loopback()));
    expect(e2.code).toBe('FORBIDDEN_URL');
    expect(e2.message).toMatch(/link-local/);
    // Size limit, from the first answer's Content-Range.
    const e3 = await failure(RemoteFile.open(server.url('blob.bin'), loopback({ maxBytes: 500_000 })));
    expect(e3.code).toBe('TOO_LARGE');
    expect(e3.message).toMatch(/is 1000003 bytes, over the 500000-byte limit/);
    const e4 = await failure(RemoteFile.open(server.url('missing.bin'), loopback()));
    expect(e4.code).toBe('NOT_FOUND');
    const e5 = await failure(RemoteFile.open('file:///etc/passwd', { dir }));
    expect(e5.code).toBe('FORBIDDEN_URL');
    // Nothing left behind by the failures.
    expect(readdirSync(dir)).toEqual([]);
  });
});

/** `n` ranges of 1,000 bytes, 24,000 bytes apart (further than the 16-KiB merge gap: one GET each), past the first block. */
const spread = (n: number): Array<{ offset: number; length: number }> => Array.from({ length: n }, (_, i) => ({ offset: 100_000 + i * 24_000, length: 1000 }));

describe('concurrency', () => {
  it('fetches many ranges with several GETs in flight, at most `concurrency`, and the bytes one at a time gives', async () => {
    const copies: Buffer[] = [];
    for (const concurrency of [1, 3, 8]) {
      server.reset();
      const f = await RemoteFile.open(server.url('blob.bin'), loopback({ concurrency }));
      server.hold(concurrency);
      await f.fetch(spread(30));
      // The first block, then one GET per range: concurrency changes neither the count nor the bytes.
      expect(server.requests).toBe(31);
      expect(f.stats).toMatchObject({ requests: 31, bytesFetched: server.bytesSent, retries: 0 });
      expect(server.bytesSent).toBe(65_536 + 30 * 1000);
      expect(
        server.log
          .slice(1)
          .map((r) => r.range)
          .sort(),
      ).toEqual(
        spread(30)
          .map((r) => `bytes=${r.offset}-${r.offset + 999}`)
          .sort(),
      );
      if (concurrency === 1) expect(server.maxInFlight).toBe(1);
      else {
        expect(server.maxInFlight).toBeGreaterThan(1);
        expect(server.maxInFlight).toBeLessThanOrEqual(concurrency);
      }
      for (const r of spread(30))
        expect(
          readFileSync(f.path)
            .subarray(r.offset, r.offset + r.length)
            .equals(data.subarray(r.offset, r.offset + r.length)),
        ).toBe(true);
      copies.push(readFileSync(f.path));
      await f.close();
    }
    expect(copies[1]!.equals(copies[0]!)).toBe(true);
    expect(copies[2]!.equals(copies[0]!)).toBe(true);
  }, 120_000);

  it('the default is 8 in flight', async () => {
    expect(RANGE_DEFAULTS.concurrency).toBe(8);
    const f = await RemoteFile.open(server.url('blob.bin'), loopback());
    server.hold(8);
    await f.fetch(spread(16));
    expect(server.maxInFlight).toBe(8);
    await f.close();
  }, 60_000);

  it('refuses a concurrency that is not an integer from 1 to 64 before any request (NaN fetched nothing, silently)', async () => {
    for (const concurrency of [0, 1.5, 65, Number.NaN]) {
      const e = await failure(RemoteFile.open(server.url('blob.bin'), loopback({ concurrency })));
      expect(e.code).toBe('INVALID_OPTION');
      expect(e.message).toBe(`${server.url('blob.bin')}: option concurrency: expected an integer from 1 to 64, got ${concurrency}`);
    }
    expect(server.requests).toBe(0);
  });
});

describe('caps per input', () => {
  it('continues a short 206 (a server that answers at most 4 KB) from where it stopped, one request per answer', async () => {
    server.maxAnswerBytes = 4096;
    const f = await RemoteFile.open(server.url('blob.bin'), loopback());
    expect(server.log[0]).toMatchObject({ range: 'bytes=0-65535', status: 206, bytes: 4096 });
    const before = server.requests;
    await f.fetch([{ offset: 300_000, length: 40_000 }]);
    // 40,000 bytes in answers of 4,096: ten requests, each asking for the rest.
    expect(server.log.slice(before).map((e) => e.range)).toEqual(Array.from({ length: 10 }, (_, i) => `bytes=${300_000 + i * 4096}-339999`));
    expect(server.log.every((e) => e.status === 206 && e.bytes <= 4096)).toBe(true);
    expect(readFileSync(f.path).subarray(300_000, 340_000).equals(data.subarray(300_000, 340_000))).toBe(true);
    // read() of the first block's rest, which the first short answer did not bring.
    expect((await f.read(60_000, 100)).equals(data.subarray(60_000, 60_100))).toBe(true);
    expect(f.stats).toMatchObject({ requests: server.requests, bytesFetched: server.bytesSent, retries: 0 });
    await f.close();
  });

  it('refuses the request after maxRequests as LIMIT_EXCEEDED naming the URL and the cap', async () => {
    server.maxAnswerBytes = 1000;
    const f = await RemoteFile.open(server.url('blob.bin'), loopback({ maxRequests: 5 }));
    const e = await failure(f.fetch([{ offset: 500_000, length: 100_000 }]));
    expect(e.code).toBe('LIMIT_EXCEEDED');
    expect(e.message).toBe(`${server.url('blob.bin')}: reading it needs more than 5 requests, the limit per input (maxRequests)`);
    expect(server.requests).toBe(5);
    expect(f.stats.requests).toBe(5);
    await f.close();
  });

  it('refuses the request after maxRequests with GETs in flight at once: counted when sent, never one over', async () => {
    const f = await RemoteFile.open(server.url('blob.bin'), loopback({ maxRequests: 5, concurrency: 8 }));
    // Every answer waits until 8 requests are in flight: all eight workers ask before any answer comes.
    server.hold(8);
    const e = await failure(f.fetch(spread(20)));
    expect(e.code).toBe('LIMIT_EXCEEDED');
    expect(e.message).toBe(`${server.url('blob.bin')}: reading it needs more than 5 requests, the limit per input (maxRequests)`);
    // Four more were counted as they were sent; the fifth worker's was refused, and the first
    // failure stopped the others (those not yet at the server never reach it). Before, the eight
    // workers all passed the check while one request was counted: 9 requests reached the server.
    expect(f.stats.requests).toBe(5);
    expect(server.requests).toBeLessThanOrEqual(5);
    expect(server.maxInFlight).toBeLessThanOrEqual(4);
    await f.close();
  }, 60_000);

  it('a drip under concurrency: TIMEOUT at totalTimeoutMs with no more than `concurrency` requests in flight, none after', async () => {
    const f = await RemoteFile.open(server.url('blob.bin'), loopback({ totalTimeoutMs: 1500, concurrency: 8 }));
    server.drip(0, 100);
    const e = await failure(f.fetch(spread(20)));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toBe(`${server.url('blob.bin')}: reading it took longer than the 1.5-s limit per input (totalTimeoutMs)`);
    // The first block, then one request per worker: each drips past the cap, and nothing is retried.
    expect(server.requests).toBe(9);
    expect(server.maxInFlight).toBeLessThanOrEqual(8);
    expect(f.stats.retries).toBe(0);
    await f.close();
  }, 60_000);

  it('refuses a server that drips after the first block once totalTimeoutMs is spent (TIMEOUT naming the URL and the cap)', async () => {
    const f = await RemoteFile.open(server.url('blob.bin'), loopback({ totalTimeoutMs: 1500 }));
    // From the next request on: one byte per 100 ms (each request stays under its own 60-s limit).
    server.drip(0, 100);
    const e = await failure(f.fetch([{ offset: 200_000, length: 1000 }]));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toBe(`${server.url('blob.bin')}: reading it took longer than the 1.5-s limit per input (totalTimeoutMs)`);
    expect(e.details).toEqual({ totalTimeoutMs: 1500 });
    // Spent: every later fetch is refused before it asks.
    const before = server.requests;
    const again = await failure(f.fetch([{ offset: 900_000, length: 10 }]));
    expect(again.code).toBe('TIMEOUT');
    expect(server.requests).toBe(before);
    expect(f.stats.bytesFetched).toBeLessThan(65_536 + 1000);
    await f.close();
  }, 60_000);

  it('stops an endless 200 body (a server ignoring Range) at maxDownloadBytes, far below the file-size limit', async () => {
    server.endless = true;
    const limit = 1_000_000;
    const e = await failure(RemoteFile.open(server.url('blob.bin'), loopback({ maxBytes: 8 * 1024 ** 3, maxDownloadBytes: limit })));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.message).toBe(`${server.url('blob.bin')}: the body passed the 1000000-byte limit and the server ignores byte ranges (maxDownloadBytes)`);
    // At most the limit and the one chunk that passed it.
    const fetched = e.details!.bytesFetched as number;
    expect(fetched).toBeGreaterThan(limit);
    expect(fetched).toBeLessThanOrEqual(limit + 65_536);
  }, 60_000);

  it('refuses a whole download declared over the 1-GiB default before reading its body', async () => {
    // A 200 that declares 2 GiB (under the 8-GiB file limit): refused from its headers.
    server.endless = 2 * 1024 ** 3;
    expect(RANGE_DEFAULTS.maxDownloadBytes).toBe(1024 ** 3);
    const e = await failure(RemoteFile.open(server.url('blob.bin'), loopback({ maxBytes: 8 * 1024 ** 3 })));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.message).toBe(
      `${server.url('blob.bin')}: is 2147483648 bytes and the server ignores byte ranges: over the 1073741824-byte limit on whole downloads (maxDownloadBytes)`,
    );
  });

  it('refuses a 206 without a valid Content-Range after the first one (one line, not a TypeError)', async () => {
    const f = await RemoteFile.open(server.url('blob.bin'), loopback());
    server.badContentRange = true;
    const e = await failure(f.fetch([{ offset: 400_000, length: 10 }]));
    expect(e.code).toBe('REQUEST_FAILED');
    expect(e.message).toBe(`${server.url('blob.bin')}: a byte range came without a valid Content-Range ("bytes 400000-400009")`);
    await f.close();
  });
});
