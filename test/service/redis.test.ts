/**
 * Scale-out on Redis (BullMQ): API nodes in this process, `omniprep worker` processes from the
 * built CLI sharing one --data directory. Skips, saying so, when no Redis answers on 127.0.0.1:6379
 * (.ci/run installs and starts one).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE, fixture, readFrameNumber, tempDir } from '../helpers/fixtures.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { api, decoders, redisAvailable, spawnNode, startService, upload, waitFor, waitJob, type CliNode, type Running } from '../helpers/service.js';

// These tests watch the ffmpeg processes a job starts (to cancel it, to kill its worker mid-decode,
// or to drop Redis while it decodes), so jobs here decode with the ffmpeg binary; node-av's decoder
// children are tested in test/extract/av-pool.test.ts.
process.env.OMNIPREP_DECODER = 'ffmpeg';

/** The Redis the test uses (OMNIPREP_TEST_REDIS overrides the default, for a machine where 6379 is taken). */
const REDIS = process.env.OMNIPREP_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const hasRedis = await redisAvailable(REDIS);
if (!hasRedis) console.warn(`redis.test.ts: SKIPPED: no Redis on ${REDIS} (install redis-server and start it, as .ci/run does)`);

describe.skipIf(!hasRedis)('scale-out with Redis and BullMQ', () => {
  const prefix = `omniprep-test-${process.pid}-${Date.now()}`;
  const data = tempDir('svc-shared-');
  const env: Record<string, string> = { OMNIPREP_REDIS_PREFIX: prefix, OMNIPREP_LOCK_MS: '2000', OMNIPREP_STALLED_MS: '1000' };
  const workers: CliNode[] = [];
  let a: Running;
  let b: Running;
  /** The model of the eval's calls, which the worker processes make. */
  let model: OpenAITestServer;

  const workerPid = (name: string | null): number => Number(String(name).split(':').pop());

  beforeAll(async () => {
    // Two API nodes (no workers of their own) and two worker processes, one Redis, one shared --data.
    const cfg = { redisUrl: REDIS, redisPrefix: prefix, workers: 0, dataDir: data, allowRoots: [CACHE] };
    [a, b] = await Promise.all([startService(cfg), startService(cfg)]);
    model = await startOpenAITestServer();
    Object.assign(env, { OPENAI_BASE_URL: model.baseURL, OPENAI_API_KEY: 'test' });
    for (let i = 0; i < 2; i++) workers.push(await spawnNode(['worker', '--redis', REDIS, '--data', data, '--workers', '1'], env));
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await a?.close();
    await b?.close();
    await model?.close();
    const r = new Redis(REDIS);
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();
  });

  it('two workers share the queue; any API node serves any job, its events and its frames', async () => {
    const clip = await fixture('audioFirst');
    const first = await Promise.all(
      Array.from({ length: 7 }, (_, i) => (i % 2 ? upload(a.url, clip, { every: 1 }) : api(b.url, 'POST', '/v1/jobs', { path: clip, options: { every: 1 } }))),
    );
    // Events for a job submitted on A, streamed by B while a worker process runs it: the last job,
    // queued behind seven others, so the stream is open before it starts (a short job that ended
    // before its stream opened shows no progress events).
    const last = await upload(a.url, clip, { every: 1 });
    const stream = fetch(`${b.url}/v1/jobs/${last.json.id}/events`).then((r) => r.text());
    const submitted = [...first, last];
    for (const r of submitted) expect(r.status, r.text).toBe(202);
    const jobs = await Promise.all(submitted.map((r, i) => waitJob(i % 2 ? b.url : a.url, r.json.id, 30_000)));
    for (const j of jobs) {
      expect(j.state, JSON.stringify(j.error)).toBe('succeeded');
      expect(j.attempts).toBe(1);
      expect(j.result.frames).toBe(4);
    }
    const pids = new Set(jobs.map((j) => workerPid(j.worker)));
    expect([...pids].sort()).toEqual(workers.map((w) => w.child.pid).sort());
    const events = await stream;
    expect(events).toMatch(/event: progress\ndata: \{"stage":"sampling","framesDone":4,"framesTotal":4/);
    expect(events).toMatch(/event: end\ndata: \{"id":"[^"]+","state":"succeeded"/);
    for (const node of [a, b]) {
      const bytes = Buffer.from(await (await fetch(`${node.url}/v1/jobs/${jobs[0]!.id}/frames/2`)).arrayBuffer());
      expect(await readFrameNumber(bytes)).toBe(50);
    }
    expect((await api(a.url, 'GET', '/metrics')).text).toMatch(/^omniprep_jobs\{state="succeeded"\} 8$/m);
    expect((await api(b.url, 'GET', '/healthz')).json).toMatchObject({ ok: true, store: 'redis', queue: 'bullmq' });
  });

  it('an eval submitted on one API node runs on a worker process; the other node streams it and serves its results', async () => {
    const clip = await fixture('audioFirst');
    // The model holds its answers until B's stream is open: no progress event can come before it.
    let open!: () => void;
    const opened = new Promise<void>((done) => (open = done));
    model.control.reply = async () => {
      await opened;
      return 'Answer: A';
    };
    const r = await api(a.url, 'POST', '/v1/evals', { videos: [{ path: clip }], needles: 2, grid: { every: [1, 2], mode: ['exact'] } });
    expect(r.status, r.text).toBe(202);
    const res0 = await fetch(`${b.url}/v1/evals/${r.json.id}/events`);
    open();
    const text = await res0.text();
    expect(text.match(/event: progress\ndata: \{[^\n]*"answer"/g)).toHaveLength(4);
    expect(text).toMatch(/event: done\n/);
    expect(model.stats.total).toBe(4);
    const view = (await api(b.url, 'GET', `/v1/evals/${r.json.id}`)).json;
    expect(view.state).toBe('succeeded');
    const res = (await api(b.url, 'GET', `/v1/evals/${r.json.id}/results`)).json;
    expect(res.plans.map((p: { every: number; answered: number }) => [p.every, p.answered])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect((await api(a.url, 'DELETE', `/v1/evals/${r.json.id}`)).json).toEqual({ id: r.json.id, deleted: true });
    expect((await api(b.url, 'GET', `/v1/evals/${r.json.id}`)).status).toBe(404);
  });

  it('DELETE on an API node stops the job on the worker that runs it', async () => {
    const clip = await fixture('longgop');
    // 600 frames: long enough that the decode is still running when DELETE arrives, on a busy machine too.
    const r = await api(a.url, 'POST', '/v1/jobs', { path: clip, options: { every: 0.1, mode: 'exact' } });
    const id = r.json.id as string;
    // Running, with frames written and an ffmpeg child alive on its worker (checked together, so a
    // decode that ended between two looks cannot pass for one that runs).
    const running = await waitFor(
      'the job to run with frames and an ffmpeg child',
      async () => {
        const j = (await api(b.url, 'GET', `/v1/jobs/${id}`)).json;
        return j.state === 'running' && j.progress.framesDone > 0 && decoders(workerPid(j.worker)).length > 0 ? j : undefined;
      },
      30_000,
      20,
    );
    const pid = workerPid(running.worker);
    const del = await api(b.url, 'DELETE', `/v1/jobs/${id}`);
    expect(del.json.state).toBe('cancelled');
    await waitFor("the worker's ffmpeg children to stop", () => decoders(pid).length === 0, 10_000);
    // Deleted: no node has the job any more, nor Redis its keys.
    expect((await api(a.url, 'GET', `/v1/jobs/${id}`)).status).toBe(404);
    const redis = new Redis(REDIS);
    try {
      expect(await redis.exists(`${prefix}:job:${id}`)).toBe(0);
      expect(await redis.zscore(`${prefix}:created`, id)).toBeNull();
    } finally {
      redis.disconnect();
    }
  });

  it('an upload sent to one API node is planned and run by id through the other; DELETE frees it on either', async () => {
    const clip = await fixture('audioFirst');
    const form = new FormData();
    form.append('file', new Blob([readFileSync(clip)]), 'clip.mp4');
    const up = (await (await fetch(`${a.url}/v1/uploads`, { method: 'POST', body: form })).json()) as { id: string };
    expect(up).toMatchObject({ size: statSync(clip).size, deduplicated: false });
    const again = new FormData();
    again.append('file', new Blob([readFileSync(clip)]), 'again.mp4');
    expect(await (await fetch(`${b.url}/v1/uploads`, { method: 'POST', body: again })).json()).toMatchObject({ id: up.id, deduplicated: true });
    const planned = await api(b.url, 'POST', '/v1/plan', { upload: up.id, options: { every: 1 } });
    expect([planned.status, planned.json.frames?.length]).toEqual([200, 4]);
    const job = await api(b.url, 'POST', '/v1/jobs', { upload: up.id, options: { every: 2 } });
    expect(job.status, job.text).toBe(202);
    const done = await waitJob(a.url, job.json.id, 60_000);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    expect((await api(a.url, 'DELETE', `/v1/uploads/${up.id}`)).status).toBe(409); // the job holds it
    expect((await api(a.url, 'DELETE', `/v1/jobs/${job.json.id}`)).status).toBe(200);
    expect((await api(b.url, 'GET', `/v1/uploads/${up.id}`)).status).toBe(404);
    expect(readdirSync(join(data, 'uploads'))).toEqual([]);
  }, 120_000);

  it('kill -9 of a worker mid-job: the other one takes the stalled job over and completes it', async () => {
    const clip = await fixture('longgop');
    const r = await api(a.url, 'POST', '/v1/jobs', { path: clip, options: { every: 0.5, mode: 'exact' } });
    const id = r.json.id as string;
    // Killed while its decoder runs, so the job cannot have finished on the victim.
    const running = await waitFor(
      'the job to run with an ffmpeg child',
      async () => {
        const j = (await api(a.url, 'GET', `/v1/jobs/${id}`)).json;
        return j.state === 'running' && decoders(workerPid(j.worker)).length > 0 ? j : undefined;
      },
      30_000,
      20,
    );
    const victim = workers.find((w) => w.child.pid === workerPid(running.worker))!;
    const survivor = workers.find((w) => w !== victim)!;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const job = await waitJob(b.url, id, 45_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.attempts).toBe(2);
    expect(workerPid(job.worker)).toBe(survivor.child.pid);
    expect(job.result.frames).toBe(120);
    const manifest = (await api(a.url, 'GET', `/v1/jobs/${id}/manifest`)).json;
    expect(manifest.frames.frames).toHaveLength(120);
    for (const f of manifest.frames.frames.filter((_: unknown, k: number) => k % 13 === 0)) {
      const bytes = Buffer.from(await (await fetch(`${a.url}/v1/jobs/${id}/frames/${f.index}`)).arrayBuffer());
      expect(await readFrameNumber(bytes)).toBe(Math.round(f.timestampSec * 30));
    }
  });
});
