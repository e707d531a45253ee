/**
 * Redis going away under a running deployment: a private redis-server (no persistence) on a free
 * port, an API node and a worker process from the built CLI. While it is down, /healthz answers
 * 503 naming it and job reads answer 503 (no hang); each process logs one line when it goes and one
 * when it is back. When it comes back empty, the worker that was running a job says so once, naming
 * the job, and removes its outputs. Skips, saying so, when redis-server is not installed (.ci/run
 * installs it).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/service/store/redis.js';
import { CACHE, fixture, tempDir } from '../helpers/fixtures.js';
import { queuedJob } from '../helpers/records.js';
import { type CliNode, redisAvailable, sleep, spawnNode, waitFor, waitJob } from '../helpers/service.js';

// These tests watch the ffmpeg processes a job starts (to cancel it, to kill its worker mid-decode,
// or to drop Redis while it decodes), so jobs here decode with the ffmpeg binary; node-av's decoder
// children are tested in test/extract/av-pool.test.ts.
process.env.OMNIPREP_DECODER = 'ffmpeg';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis) console.warn('outage.test.ts: SKIPPED: redis-server is not installed (.ci/run installs it)');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A redis-server child that keeps nothing (no RDB, no AOF): a restart comes back empty. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor('redis-server to answer', () => redisAvailable(`redis://127.0.0.1:${port}`), 20_000, 50);
  return child;
}

const alive = (child: ChildProcess | undefined): child is ChildProcess => Boolean(child && child.exitCode === null && child.signalCode === null);

async function kill(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!alive(child)) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await gone;
}

const esc = (s: string): string => s.replace(/[.]/g, '\\.');

interface Reply {
  status: number;
  json: any;
}

/** GET with a 5-s client timeout: a request that hangs fails the test instead of passing late. */
async function get(base: string, path: string): Promise<Reply> {
  const res = await fetch(base + path, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

describe.skipIf(!hasRedis)('Redis down and back', () => {
  const data = tempDir('svc-outage-');
  const prefix = `omniprep-outage-${process.pid}`;
  let port: number;
  let url: string;
  let redis: ChildProcess | undefined;
  let api: CliNode;
  let worker: CliNode;
  /** The lines a process printed after `from` characters of its output that mention Redis or a stack frame. */
  const redisLines = (node: CliNode, from: number): string[] =>
    node
      .output()
      .slice(from)
      .split('\n')
      .filter((l) => /redis|ECONNREFUSED|^\s+at /i.test(l));

  beforeAll(async () => {
    port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = await startRedis(port);
    const env = { OMNIPREP_REDIS_PREFIX: prefix };
    api = await spawnNode(['serve', '--port', '0', '--redis', url, '--data', data, '--workers', '0', '--allow-root', CACHE], env);
    worker = await spawnNode(['worker', '--redis', url, '--data', data, '--workers', '1'], env);
  });

  /** Redis up again (a test that failed midway may have left it down), and the API node connected to it. */
  const ensureRedis = async (): Promise<void> => {
    if (!alive(redis)) redis = await startRedis(port);
    await waitFor('/healthz to answer 200', async () => (await get(api.url!, '/healthz')).status === 200);
  };

  afterAll(async () => {
    await ensureRedis().catch(() => {}); // so the nodes close cleanly
    await Promise.all([kill(api?.child, 'SIGTERM'), kill(worker?.child, 'SIGTERM')]);
    await kill(redis);
    rmSync(data, { recursive: true, force: true });
  });

  it('503 naming Redis while it is down, one log line each way per process, healthy again once it is back', async () => {
    const submitted = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: await fixture('audioFirst'), options: { every: 2 } }),
    });
    const id = ((await submitted.json()) as { id: string }).id;
    expect((await waitJob(api.url!, id, 60_000)).state).toBe('succeeded');
    const [apiFrom, workerFrom] = [api.output().length, worker.output().length];

    await kill(redis);
    // The first error says why: a refused reconnect, or a reset of a connection that was reading.
    const down = new RegExp(
      `^omniprep: redis ${esc(url)} is down \\((connect ECONNREFUSED 127\\.0\\.0\\.1:${port}|read ECONNRESET)\\); requests that need it answer 503 and jobs wait until it is back$`,
    );
    await waitFor("the API node's line", () => redisLines(api, apiFrom).length > 0, 10_000);
    // Some seconds of reconnecting: every connection of both processes retries many times meanwhile.
    await sleep(3000);
    const cause = `connect ECONNREFUSED 127.0.0.1:${port}`; // what the retries meet
    const health = await get(api.url!, '/healthz');
    expect(health.status).toBe(503);
    expect(health.json).toMatchObject({ ok: false, redis: `down: ${cause}`, store: 'redis' });
    const unavailable = { code: 'DEPENDENCY_UNAVAILABLE', message: `the job store (Redis at ${url}) is unavailable: ${cause}; try again shortly` };
    for (const path of [`/v1/jobs/${id}`, '/v1/jobs', `/v1/jobs/${id}/manifest`, '/metrics']) {
      const r = await get(api.url!, path);
      expect([path, r.status]).toEqual([path, 503]);
      expect(r.json.error).toEqual(unavailable);
    }

    redis = await startRedis(port); // empty: it kept nothing
    await waitFor('/healthz to answer 200', async () => (await get(api.url!, '/healthz')).status === 200);
    expect((await get(api.url!, '/healthz')).json).toMatchObject({ ok: true, redis: 'up' });
    expect((await get(api.url!, `/v1/jobs/${id}`)).status).toBe(404); // its record went with Redis's memory
    for (const [node, from] of [
      [api, apiFrom],
      [worker, workerFrom],
    ] as const) {
      await waitFor('the back line', () => /is back after [\d.]+ s/.test(node.output().slice(from)), 10_000);
      const lines = redisLines(node, from);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(down);
      expect(lines[1]).toMatch(new RegExp(`^omniprep: redis ${esc(url)} is back after [\\d.]+ s$`));
    }
  }, 120_000);

  it('back empty while the worker runs a job: one line naming the job, its outputs removed', async () => {
    await ensureRedis();
    const submitted = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: await fixture('longgop'), options: { every: 0.1, mode: 'exact' } }), // 600 frames: still decoding when Redis goes
    });
    const id = ((await submitted.json()) as { id: string }).id;
    const outputs = join(data, 'outputs', id);
    await waitFor('frames on disk', async () => (await get(api.url!, `/v1/jobs/${id}`)).json.progress.framesDone > 0 && existsSync(outputs), 60_000, 20);
    const from = worker.output().length;
    await kill(redis);
    redis = await startRedis(port);
    const line = `omniprep: job ${id}: its record is gone from the store (deleted, or Redis restarted without persistence); the job was dropped and its outputs removed`;
    await waitFor("the worker's line about the job", () => worker.output().includes(line), 90_000);
    expect(existsSync(outputs)).toBe(false);
    const mentions = worker
      .output()
      .slice(from)
      .split('\n')
      .filter((l) => l.includes(id));
    expect(mentions).toEqual([line]);
  }, 150_000);
});

describe.skipIf(!hasRedis)('the Redis store: input references', () => {
  let port: number;
  let redis: ChildProcess;
  let client: Redis;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    client = new Redis(`redis://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    client?.disconnect();
    await kill(redis);
  });

  it('a job lets go of its input once; expiry does not count it again', async () => {
    const store = new RedisStore(client, 'refs');
    const file = 'inputs/aa.mp4';
    for (const id of ['a', 'b', 'c']) await store.create(queuedJob(id, file));
    await store.releaseInput('a');
    await store.releaseInput('a'); // idempotent
    expect(await client.hget('refs:inputrefs', file)).toBe('2');
    await store.releaseInput('missing'); // no such job: nothing changes, nothing is created
    expect(await client.exists('refs:job:missing')).toBe(0);
    // a and b finish and expire: a was released already, b is released by the expiry.
    for (const id of ['a', 'b']) {
      await store.claim(id, 'w');
      await store.finish(id, { state: 'failed', error: { code: 'X', message: 'x' } });
    }
    expect((await store.expire(Date.now() + 1000)).map((j) => j.id).sort()).toEqual(['a', 'b']);
    expect(await client.hget('refs:inputrefs', file)).toBe('1');
    expect(await store.inputInUse(file)).toBe(true);
    await store.releaseInput('c');
    expect(await store.inputInUse(file)).toBe(false);
    expect(await client.hexists('refs:inputrefs', file)).toBe(0);
  });
});
