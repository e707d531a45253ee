/**
 * GET /v1/jobs: newest first, a page at a time, the same on both stores (SQLite embedded; Redis
 * when one answers: OMNIPREP_TEST_REDIS, default 127.0.0.1:6379, as .ci/run starts it).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CACHE, fixture } from '../helpers/fixtures.js';
import { api, redisAvailable, startService, type Running } from '../helpers/service.js';

const REDIS = process.env.OMNIPREP_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const hasRedis = await redisAvailable(REDIS);
if (!hasRedis) console.warn(`list.test.ts: the Redis case SKIPPED: no Redis at ${REDIS} (install redis-server and start it, as .ci/run does)`);

/** Submits n jobs (no workers: they stay queued), returns their ids in submission order. */
async function submit(s: Running, n: number): Promise<string[]> {
  const clip = await fixture('audioFirst');
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 1 + i } });
    expect(r.status, r.text).toBe(202);
    ids.push(r.json.id);
  }
  return ids;
}

/** Every page of the list, following `next`. */
async function pages(s: Running, limit: number): Promise<Array<{ jobs: any[]; next: string | null }>> {
  const out: Array<{ jobs: any[]; next: string | null }> = [];
  let cursor: string | null = null;
  do {
    const r = await api(s.url, 'GET', `/v1/jobs?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(r.status, r.text).toBe(200);
    out.push(r.json);
    cursor = r.json.next;
  } while (cursor && out.length < 50);
  return out;
}

async function checkList(s: Running): Promise<void> {
  expect((await api(s.url, 'GET', '/v1/jobs')).json).toEqual({ jobs: [], next: null });
  const ids = await submit(s, 7);
  const all = await pages(s, 3);
  expect(all.map((p) => p.jobs.length)).toEqual([3, 3, 1]);
  expect(all.at(-1)!.next).toBeNull();
  const listed = all.flatMap((p) => p.jobs);
  // Newest first: created times never increase down the list, and every job is there once.
  const created = listed.map((j) => Date.parse(j.createdAt));
  expect(created).toEqual([...created].sort((a, b) => b - a));
  expect(new Set(listed.map((j) => j.id)).size).toBe(7);
  expect([...listed.map((j) => j.id)].sort()).toEqual([...ids].sort());
  // Jobs made in the same millisecond come in one order on every page walk (created time, then id).
  const again = (await pages(s, 2)).flatMap((p) => p.jobs.map((j) => j.id));
  expect(again).toEqual(listed.map((j) => j.id));
  // Each entry is the job as GET /v1/jobs/:id shows it.
  const one = await api(s.url, 'GET', `/v1/jobs/${ids[0]}`);
  expect(listed.find((j) => j.id === ids[0])).toEqual(one.json);
  expect(listed.find((j) => j.id === ids[6]).plan.every).toBe(7);
  // A cancelled job is still listed, with its new state.
  expect((await api(s.url, 'POST', `/v1/jobs/${ids[3]}/cancel`)).status).toBe(200);
  const after = (await pages(s, 100))[0]!.jobs;
  expect(after).toHaveLength(7);
  expect(after.find((j) => j.id === ids[3]).state).toBe('cancelled');
  // Jobs created in the same millisecond: by id, descending, and no page repeats or skips one.
  const base = (await s.svc.store.get(ids[0]!))!;
  const T = Date.parse(listed[0].createdAt) + 60_000;
  for (const id of ['tie-a', 'tie-c', 'tie-b']) await s.svc.store.create({ ...base, id, createdAt: T, updatedAt: T });
  const ties = (await pages(s, 1)).map((p) => p.jobs.map((j) => j.id));
  expect(ties.every((p) => p.length === 1)).toBe(true);
  expect(ties.flat().slice(0, 3)).toEqual(['tie-c', 'tie-b', 'tie-a']);
  expect(ties.flat().slice(3)).toEqual(after.map((j) => j.id));
  // Bad queries: one line naming the parameter.
  const bad = await api(s.url, 'GET', '/v1/jobs?limit=0');
  expect(bad.status).toBe(400);
  expect(bad.json.error.message).toMatch(/querystring\.limit must be >= 1/);
  const badCursor = await api(s.url, 'GET', '/v1/jobs?cursor=nope');
  expect(badCursor.status).toBe(400);
  expect(badCursor.json.error.message).toMatch(/querystring\.cursor/);
}

describe('GET /v1/jobs', () => {
  it('pages through the jobs newest first (SQLite)', async () => {
    const s = await startService({ workers: 0, allowRoots: [CACHE] });
    try {
      await checkList(s);
      // In the OpenAPI description, with its query parameters.
      const doc = (await api(s.url, 'GET', '/docs/json')).json;
      const op = doc.paths['/v1/jobs'].get;
      expect(op.summary).toMatch(/newest first/);
      expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['cursor', 'limit']);
      expect(doc.paths['/v1/cost-curve'].post).toBeDefined();
      expect(doc.paths['/v1/models'].get).toBeDefined();
    } finally {
      await s.close();
    }
  }, 180_000);

  it('needs the token like every other route', async () => {
    const s = await startService({ workers: 0, token: 's3cret', allowRoots: [CACHE] });
    try {
      const none = await api(s.url, 'GET', '/v1/jobs');
      expect(none.status).toBe(401);
      expect(none.json.error.code).toBe('UNAUTHORIZED');
      expect((await api(s.url, 'GET', '/v1/jobs', undefined, { authorization: 'Bearer s3cret' })).json).toEqual({ jobs: [], next: null });
    } finally {
      await s.close();
    }
  }, 180_000);

  describe.skipIf(!hasRedis)('Redis store', () => {
    const prefix = `omniprep-list-${process.pid}-${Date.now()}`;
    afterAll(async () => {
      const r = new Redis(REDIS);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length) await r.del(...keys);
      r.disconnect();
    });

    it('pages through the jobs newest first (Redis), and lists jobs stored before the index existed', async () => {
      const s = await startService({ redisUrl: REDIS, redisPrefix: prefix, workers: 0, allowRoots: [CACHE] });
      try {
        await checkList(s);
        // Jobs written before the created-time index: dropping it, the next first page rebuilds it.
        const r = new Redis(REDIS);
        await r.del(`${prefix}:created`);
        r.disconnect();
        const rebuilt = (await pages(s, 100))[0]!.jobs;
        expect(rebuilt).toHaveLength(10);
        const created = rebuilt.map((j) => Date.parse(j.createdAt));
        expect(created).toEqual([...created].sort((a, b) => b - a));
      } finally {
        await s.close();
      }
    }, 180_000);
  });
});
