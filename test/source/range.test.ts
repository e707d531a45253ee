/**
 * The range reader (src/source/range.ts) against the range server in test/helpers/range-server.ts
 * on 127.0.0.1 (let through with `allowAddress`, the downloader's own test hook): exact bytes,
 * the block cache, retries after dropped connections and 503s, a file that changes mid-job, a
 * server without range support, redirects, and the downloader's guards on every request.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OmniprepError } from '../../src/errors.js';
import { RemoteFile, type RangeReaderOptions } from '../../src/source/range.js';
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
