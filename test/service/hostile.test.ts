/**
 * One hostile request must not take the service down (issue: "a 4 KB MP4 takes 16 GB"). Uploads
 * are planned on threads of their own (src/service/planner.ts): a file whose sample table lies is
 * refused as CORRUPT naming the upload and the box, /healthz keeps answering meanwhile, the
 * server does not grow; a submission whose client went away stops reading its URL and leaves its
 * place in the queue.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE } from '../helpers/fixtures.js';
import { lyingStsz, tinyMp4 as makeTiny } from '../helpers/lies.js';
import { api, startService, upload, type Running } from '../helpers/service.js';

const DIR = join(CACHE, 'hostile');
let tiny: Promise<string> | undefined;
/** A 3-s, 64x64 H.264 MP4 of about 4 KB, made once. */
const tinyMp4 = (): Promise<string> => {
  mkdirSync(DIR, { recursive: true });
  tiny ??= makeTiny(DIR);
  return tiny;
};
/** The tiny MP4 with its stsz (and the tables that follow it) declaring `count` samples of 1 byte. */
async function lyingMp4(count: number): Promise<string> {
  const out = join(DIR, `liar-${count}.mp4`);
  writeFileSync(out, lyingStsz(readFileSync(await tinyMp4()), count));
  return out;
}

/** Calls /healthz every 50 ms until `until` settles; every answer's status. */
async function healthWhile(base: string, until: Promise<unknown>): Promise<number[]> {
  const statuses: number[] = [];
  let done = false;
  void until.finally(() => {
    done = true;
  });
  while (!done) {
    // A hang fails the call (10 s: far above any answer on a busy machine, far below a stalled loop's).
    const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
    statuses.push(r.status);
    await r.arrayBuffer();
    await new Promise((r) => setTimeout(r, 50));
  }
  return statuses;
}

describe('hostile uploads are planned off the event loop', () => {
  let s: Running;
  beforeAll(async () => {
    await tinyMp4();
    s = await startService({ workers: 0 });
  }, 120_000);
  afterAll(() => s.close());

  it('the tiny MP4 itself plans (the rewritten ones differ from it only in their stsz)', async () => {
    const r = await upload(s.url, await tinyMp4(), { every: 0.5, mode: 'exact' }, { path: '/v1/plan' });
    expect(r.status, r.text).toBe(200);
    expect(r.json.frames.length).toBe(6);
  }, 120_000);

  for (const [label, count] of [
    ['2^31', 2 ** 31],
    ['33.5M', 33_554_432],
    ['2^32-1', 2 ** 32 - 1],
  ] as const) {
    it(`a 4-KB MP4 whose stsz declares ${label} samples: 422 CORRUPT naming the upload and the box, on /v1/plan and /v1/jobs; /healthz answers meanwhile`, async () => {
      const file = await lyingMp4(count);
      const before = process.memoryUsage().rss;
      for (const path of ['/v1/plan', '/v1/jobs']) {
        const answer = upload(s.url, file, { every: 1 }, { path, name: 'liar.mp4' });
        const health = await healthWhile(s.url, answer);
        const r = await answer;
        expect(r.status, r.text).toBe(422);
        expect(r.json.error.code).toBe('CORRUPT');
        expect(r.json.error.message).toMatch(/^liar\.mp4: /);
        expect(r.json.error.message).toContain('stsz');
        expect(health.every((st) => st === 200)).toBe(true);
      }
      // Nothing was queued; the server did not keep what the file declared (2^31 samples are 16 GB of tables).
      expect((await api(s.url, 'GET', '/metrics')).text).toMatch(/^omniprep_queue_depth 0$/m);
      expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
    }, 120_000);
  }
});

describe('a submission whose client goes away', () => {
  let s: Running;
  let drip: Server;
  let base: string;
  const seen: Array<{ closed: Promise<void> }> = [];
  beforeAll(async () => {
    // A server that answers the first byte of a range and then nothing more (a stalled transfer).
    drip = createServer((req, res) => {
      const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
      seen.push({ closed });
      res.writeHead(206, { 'content-range': 'bytes 0-65535/10000000', 'content-length': '65536', 'content-type': 'video/mp4' });
      res.write(Buffer.from([0]));
      req.resume();
    });
    await new Promise<void>((r) => drip.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(drip.address() as AddressInfo).port}`;
    // One place in the queue, and a download time limit far longer than the test: only the client's leaving can end the submission.
    s = await startService({ workers: 0, queueLimit: 1, allowPrivateUrls: true, downloadTimeoutMs: 600_000 });
  }, 60_000);
  afterAll(async () => {
    await s.close();
    drip.closeAllConnections();
    await new Promise((r) => drip.close(r));
  });

  it('stops reading its URL and frees its place: the next upload is accepted, not 429', async () => {
    const ac = new AbortController();
    const abandoned = fetch(`${s.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${base}/stall.mp4`, options: { every: 5 } }),
      signal: ac.signal,
    }).catch((e: Error) => e);
    while (!seen.length) await new Promise((r) => setTimeout(r, 20));
    // While it waits, it holds the one place.
    const full = await upload(s.url, await tinyMp4(), { every: 1 });
    expect(full.status, full.text).toBe(429);
    ac.abort();
    expect(await abandoned).toBeInstanceOf(Error);
    // The service closed its range request when its client left.
    await seen[0]!.closed;
    let next = await upload(s.url, await tinyMp4(), { every: 1 });
    for (let i = 0; i < 50 && next.status === 429; i++) {
      await new Promise((r) => setTimeout(r, 100));
      next = await upload(s.url, await tinyMp4(), { every: 1 });
    }
    expect(next.status, next.text).toBe(202);
    expect(seen.length).toBe(1);
  }, 120_000);
});

describe('the plan time limit', () => {
  it('a plan over the limit is stopped and refused as TIMEOUT naming the upload; the server answers on', async () => {
    const s = await startService({ workers: 0, planTimeoutMs: 1 });
    try {
      const r = await upload(s.url, await tinyMp4(), { every: 1 }, { path: '/v1/plan', name: 'slow.mp4' });
      expect(r.status, r.text).toBe(504);
      expect(r.json.error).toMatchObject({ code: 'TIMEOUT', message: 'slow.mp4: planning took longer than 0.001 s' });
      expect((await api(s.url, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await s.close();
    }
  }, 120_000);
});
