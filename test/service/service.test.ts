/**
 * The service in this process (embedded store): load, correctness, bad inputs, cancellation, a
 * worker thread that dies, the model call, retention, the OpenAPI description.
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Piscina } from 'piscina';
import { acquirePool, releasePool, type FramePool } from '../../src/extract/pool.js';
import { brokenInputs, CACHE, fixture, readFrameNumber, tempDir } from '../helpers/fixtures.js';
import { startOpenAITestServer } from '../helpers/openai/server.js';
import { api, decoders, pngClaiming, startService, upload, waitFor, waitJob, type Running } from '../helpers/service.js';

// These tests watch the ffmpeg processes a job starts (to cancel it, to kill its worker mid-decode,
// or to drop Redis while it decodes), so jobs here decode with the ffmpeg binary; node-av's decoder
// children are tested in test/extract/av-pool.test.ts.
process.env.OMNIPREP_DECODER = 'ffmpeg';

/** Checks every frame of a finished job: the image is the frame the manifest names (fps of the fixture). */
async function checkFrames(base: string, job: any, fps: number, type = 'image/jpeg'): Promise<void> {
  const m = await api(base, 'GET', `/v1/jobs/${job.id}/manifest`);
  expect(m.status).toBe(200);
  expect(m.json.frames.frames).toHaveLength(job.plan.frames);
  for (const f of m.json.frames.frames) {
    const res = await fetch(`${base}/v1/jobs/${job.id}/frames/${f.index}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('etag')).toBe(`"${f.sha256}"`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(f.bytes);
    expect(await readFrameNumber(bytes)).toBe(Math.round(f.timestampSec * fps));
  }
}

describe('load: 50 jobs at once', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startService({ workers: 2, allowRoots: [CACHE] });
  });
  afterAll(() => s.close());

  it('all finish, each exactly once, with the frames the plan promised', async () => {
    const clip = await fixture('audioFirst'); // 4 s, 25 fps, a keyframe every second
    const runs = new Map<string, number>();
    s.svc.bus.subscribeAll((id, e) => {
      if (e.type === 'state' && e.state === 'running') runs.set(id, (runs.get(id) ?? 0) + 1);
    });
    const submitted = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? upload(s.url, clip, { every: 1 }) : api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 1 } }))),
    );
    for (const r of submitted) {
      expect(r.status, r.text).toBe(202);
      expect(r.json.state).toBe('queued');
      expect(r.json.plan).toMatchObject({ frames: 4, mode: 'keyframe' });
    }
    const ids = submitted.map((r) => r.json.id as string);
    expect(new Set(ids).size).toBe(50);
    // Generous: on a loaded machine 50 jobs take minutes; what is asserted comes from the records.
    const jobs = await Promise.all(ids.map((id) => waitJob(s.url, id, 400_000)));
    for (const j of jobs) {
      expect(j.state, JSON.stringify(j.error)).toBe('succeeded');
      expect(j.attempts).toBe(1);
      expect(runs.get(j.id)).toBe(1);
      expect(j.result.frames).toBe(4);
      expect(j.estimate.actual.frames).toBe(j.estimate.estimated.frames);
      expect(j.estimate.actual.imageTokens).toBe(j.estimate.estimated.imageTokens);
    }
    expect(runs.size).toBe(50);
    // Every frame of a sample of the jobs is the right picture (all 50 would only repeat it).
    for (const j of jobs.filter((_, i) => i % 5 === 0)) await checkFrames(s.url, j, 25);
    // The 25 identical uploads are kept once, by content.
    expect(readdirSync(join(s.svc.data.root, 'inputs'))).toHaveLength(1);
    const metrics = (await api(s.url, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^omniprep_jobs\{state="succeeded"\} 50$/m);
    expect(metrics).toMatch(/^omniprep_jobs_submitted_total 50$/m);
    expect(metrics).toMatch(/^omniprep_frames_total 200$/m);
    expect(metrics).toMatch(/^omniprep_queue_depth 0$/m);
  }, 480_000);
});

describe('bad requests get a 4xx with a clear message, and the service keeps serving', () => {
  let s: Running;
  let root: string;
  beforeAll(async () => {
    root = tempDir('svc-root-');
    s = await startService({ workers: 1, allowRoots: [root], maxUploadBytes: 1_000_000 });
  });
  afterAll(() => s.close());

  const expectError = (r: { status: number; json: any; text: string }, status: number, code: string, text: RegExp): void => {
    expect(r.status, r.text).toBe(status);
    expect(Object.keys(r.json)).toEqual(['error']);
    expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message']);
    expect(r.json.error.code).toBe(code);
    expect(r.json.error.message).toMatch(text);
    expect(r.text).not.toMatch(/\n\s+at /); // no stack trace
  };

  it('refuses broken media, playlists, huge claimed dimensions, empty and oversized uploads', async () => {
    const b = await brokenInputs();
    expectError(await upload(s.url, b.truncated!), 422, 'CORRUPT', /^truncated\.mp4: .*truncated/);
    expectError(await upload(s.url, b.random!), 415, 'UNSUPPORTED_FORMAT', /^random\.mp4: is not a media file/);
    expectError(await upload(s.url, b.hls!), 415, 'UNSUPPORTED_FORMAT', /^playlist\.mp4: is an HLS playlist/);
    expectError(await upload(s.url, b.concat!), 415, 'UNSUPPORTED_FORMAT', /concat script/);
    expectError(
      await upload(s.url, await pngClaiming(100_000, 100_000), {}, { name: 'bomb.png' }),
      413,
      'TOO_LARGE',
      /^bomb\.png: image is (larger than \d+ pixels|100000x100000)/,
    );
    expectError(await upload(s.url, Buffer.alloc(0), {}, { name: 'empty.mp4' }), 422, 'EMPTY', /empty/);
    expectError(await upload(s.url, Buffer.alloc(2_000_000, 1), {}, { name: 'big.mp4' }), 413, 'TOO_LARGE', /over the 1000000-byte limit/);
    // Nothing refused stays on disk.
    expect(readdirSync(join(s.svc.data.root, 'inputs'))).toEqual([]);
    expect(readdirSync(join(s.svc.data.root, 'tmp'))).toEqual([]);
  });

  it('confines paths to the allowed roots (no .., no symlink out) and fetches no private URL', async () => {
    const clip = await fixture('audioFirst');
    mkdirSync(join(root, 'sub'), { recursive: true });
    symlinkSync('/etc/hostname', join(root, 'sub', 'escape.mp4'));
    symlinkSync(clip, join(root, 'clip.mp4')); // a link out of the roots is refused, wherever it points
    const post = (body: unknown): ReturnType<typeof api> => api(s.url, 'POST', '/v1/jobs', body);
    expectError(await post({ path: '/etc/passwd' }), 403, 'FORBIDDEN_PATH', /^\/etc\/passwd: is outside the allowed roots/);
    expectError(await post({ path: '../../../../etc/passwd' }), 403, 'FORBIDDEN_PATH', /outside the allowed roots/);
    expectError(await post({ path: 'sub/escape.mp4' }), 403, 'FORBIDDEN_PATH', /^sub\/escape\.mp4: is outside/);
    expectError(await post({ path: 'clip.mp4' }), 403, 'FORBIDDEN_PATH', /outside/);
    expectError(await post({ path: 'missing.mp4' }), 404, 'NOT_FOUND', /^missing\.mp4: no such file/);
    writeFileSync(join(root, 'notes.mp4'), 'not a video\n');
    expectError(await post({ path: 'notes.mp4' }), 415, 'UNSUPPORTED_FORMAT', /^notes\.mp4: is a text file/);
    for (const url of [
      'http://127.0.0.1:1/x.mp4',
      `${s.url}/healthz`,
      'http://[::1]/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3/x',
      'http://0.0.0.0/x',
      'http://localhost/x',
    ]) {
      expectError(await post({ url }), 403, 'FORBIDDEN_URL', /(loopback|link-local|private|unspecified)/);
    }
    expectError(await post({ url: 'file:///etc/passwd' }), 403, 'FORBIDDEN_URL', /scheme file is refused/);
    expectError(await post({ url: 'gopher://example.com/' }), 403, 'FORBIDDEN_URL', /scheme gopher/);
  });

  it('refuses bad options and unknown things', async () => {
    const clip = await fixture('audioFirst');
    writeFileSync(join(root, 'ok.mp4'), '');
    const { copyFileSync } = await import('node:fs');
    copyFileSync(clip, join(root, 'ok.mp4'));
    expectError(
      await api(s.url, 'POST', '/v1/jobs', { path: 'ok.mp4', options: { every: 0 } }),
      400,
      'INVALID_OPTION',
      /^option every: expected a number from 0\.001 to 86400, got 0$/,
    );
    expectError(
      await api(s.url, 'POST', '/v1/jobs', { path: 'ok.mp4', options: { evry: 1 } }),
      400,
      'INVALID_OPTION',
      /^option evry: not an option \(did you mean every\?\)$/,
    );
    expectError(await api(s.url, 'POST', '/v1/jobs', { path: 'ok.mp4', url: 'http://x/' }), 400, 'BAD_REQUEST', /exactly one of path, url or upload/);
    expectError(await api(s.url, 'POST', '/v1/jobs', { path: 'ok.mp4', options: { model: 'gpt-nope' } }), 400, 'UNKNOWN_MODEL', /gpt-nope/);
    expectError(await api(s.url, 'POST', '/v1/jobs', { path: 'ok.mp4', options: { call: true } }), 400, 'INVALID_OPTION', /needs a prompt/);
    expectError(await upload(s.url, clip, '{"every":'), 400, 'BAD_REQUEST', /options field is not valid JSON/);
    expectError(await upload(s.url, clip, { mode: 'fast' }), 400, 'INVALID_OPTION', /^option mode: expected one of keyframe, exact, scene, got "fast"$/);
    const bad = await fetch(`${s.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"path":' });
    expectError({ status: bad.status, text: await bad.clone().text(), json: await bad.json() }, 400, 'BAD_REQUEST', /JSON/);
    expectError(await api(s.url, 'GET', '/v1/jobs/nope'), 404, 'JOB_NOT_FOUND', /^job nope: no such job/);
    expectError(await api(s.url, 'GET', '/v1/nothing'), 404, 'ROUTE_NOT_FOUND', /GET \/v1\/nothing/);

    // Still serving: health, and a good job with the same root.
    expect((await api(s.url, 'GET', '/healthz')).json.ok).toBe(true);
    const r = await api(s.url, 'POST', '/v1/jobs', { path: 'ok.mp4', options: { every: 2 } });
    expect(r.status).toBe(202);
    const job = await waitJob(s.url, r.json.id);
    expect(job.state).toBe('succeeded');
    expect(job.input).toMatchObject({ kind: 'path', name: 'ok.mp4' });
    // Frames and the manifest of an unfinished or unknown frame say why.
    expectError(await api(s.url, 'GET', `/v1/jobs/${job.id}/frames/99`), 404, 'JOB_NOT_FOUND', /has no frame 99 \(frames: 0, 1\)/);
  });

  it('a bearer token guards everything but /healthz', async () => {
    const t = await startService({ workers: 1, token: 's3cret', allowRoots: [CACHE] });
    try {
      const clip = await fixture('audioFirst');
      const none = await api(t.url, 'POST', '/v1/plan', { path: clip });
      expectError(none, 401, 'UNAUTHORIZED', /bearer token is required/);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expectError(await api(t.url, 'POST', '/v1/plan', { path: clip }, { authorization: 'Bearer wrong' }), 401, 'UNAUTHORIZED', /token is wrong/);
      expectError(await api(t.url, 'GET', '/metrics', undefined, { authorization: 'Basic czNjcmV0' }), 401, 'UNAUTHORIZED', /required/);
      expectError(await upload(t.url, clip, {}, { headers: { authorization: 'Bearer nope' } }), 401, 'UNAUTHORIZED', /wrong/);
      expect((await api(t.url, 'GET', '/healthz')).status).toBe(200);
      const ok = await api(t.url, 'POST', '/v1/plan', { path: clip }, { authorization: 'Bearer s3cret' });
      expect(ok.status).toBe(200);
      expect(ok.json.frames).toHaveLength(1); // every 5 s over 4 s
    } finally {
      await t.close();
    }
  });
});

describe('queue, plan, events, cancel', () => {
  it('a full queue answers 429 with Retry-After', async () => {
    const s = await startService({ workers: 0, queueLimit: 2, allowRoots: [CACHE] });
    try {
      const clip = await fixture('audioFirst');
      for (let i = 0; i < 2; i++) expect((await api(s.url, 'POST', '/v1/jobs', { path: clip })).status).toBe(202);
      const full = await api(s.url, 'POST', '/v1/jobs', { path: clip });
      expect(full.status).toBe(429);
      expect(full.json.error.code).toBe('QUEUE_FULL');
      expect(full.json.error.message).toMatch(/the queue is full \(2 of 2 jobs waiting\)/);
      expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Cancelling a queued job makes room.
      const first = (await api(s.url, 'GET', '/metrics')).text;
      expect(first).toMatch(/^omniprep_queue_depth 2$/m);
    } finally {
      await s.close();
    }
  });

  it('POST /v1/plan answers with the full plan and keeps nothing; SSE streams progress to the end', async () => {
    const s = await startService({ workers: 1, allowRoots: [CACHE] });
    try {
      const clip = await fixture('timecode'); // 20 s, 30 fps
      const p = await upload(s.url, clip, { every: 2, mode: 'exact' }, { path: '/v1/plan' });
      expect(p.status, p.text).toBe(200);
      expect(p.json.frames).toHaveLength(10);
      expect(p.json.input).toBe(clip.split('/').pop());
      expect(readdirSync(join(s.svc.data.root, 'inputs'))).toEqual([]);

      const r = await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 2, mode: 'exact' } });
      expect(r.status).toBe(202);
      expect(r.headers.get('location')).toBe(`/v1/jobs/${r.json.id}`);
      expect(r.json.plan).toMatchObject({ frames: 10, imageTokens: p.json.imageTokens, costUsd: p.json.costUsd });
      const res = await fetch(`${s.url}/v1/jobs/${r.json.id}/events`);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const text = await res.text(); // the server ends the stream when the job ends
      const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => ({ event: m[1], data: JSON.parse(m[2]!) }));
      expect(events[0]!.event).toBe('state');
      expect(events.at(-1)!.event).toBe('end');
      expect(events.at(-1)!.data.state).toBe('succeeded');
      const done = events.filter((e) => e.event === 'progress').map((e) => e.data.framesDone as number);
      expect(done.at(-1)).toBe(10);
      expect(done).toEqual([...done].sort((a, b) => a - b));
      await checkFrames(s.url, events.at(-1)!.data, 30);
    } finally {
      await s.close();
    }
  });

  it('cancel stops a running job: its ffmpeg children are gone; DELETE then removes it', async () => {
    const s = await startService({ workers: 1, allowRoots: [CACHE] });
    try {
      const clip = await fixture('longgop'); // 60 s, 10 s GOPs; 600 exact frames: still decoding when DELETE arrives, on a busy machine too
      const r = await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 0.1, mode: 'exact' } });
      expect(r.status).toBe(202);
      const id = r.json.id as string;
      await waitFor('decoding to start', async () => (await api(s.url, 'GET', `/v1/jobs/${id}`)).json.state === 'running' && decoders().length > 0, 20_000, 10);
      const cancel = await api(s.url, 'POST', `/v1/jobs/${id}/cancel`);
      expect(cancel.status).toBe(200);
      expect(cancel.json.state).toBe('cancelled');
      // The runner has let go of the job when cancel answers; its process groups die within the kill grace.
      await waitFor('ffmpeg children to exit', () => decoders().length === 0, 5000);
      expect(existsSync(join(s.svc.data.root, 'outputs', id))).toBe(false);
      expect((await api(s.url, 'GET', `/v1/jobs/${id}`)).json.state).toBe('cancelled');
      expect((await api(s.url, 'POST', `/v1/jobs/${id}/cancel`)).json.state).toBe('cancelled'); // idempotent
      expect((await api(s.url, 'GET', `/v1/jobs/${id}/frames/0`)).status).toBe(409);
      expect((await api(s.url, 'GET', '/metrics')).text).toMatch(/^omniprep_jobs_finished_total\{state="cancelled"\} 1$/m);
      // DELETE removes the record: then there is no such job.
      expect((await api(s.url, 'DELETE', `/v1/jobs/${id}`)).json.state).toBe('cancelled');
      expect((await api(s.url, 'GET', `/v1/jobs/${id}`)).status).toBe(404);
      expect(existsSync(join(s.svc.data.root, 'plans', `${id}.json`))).toBe(false);
    } finally {
      await s.close();
    }
  });
});

describe('faults and the model call', () => {
  it('a worker thread that dies mid-job: the task is retried, the job succeeds, the pool stays healthy', async () => {
    const s = await startService({ workers: 1, allowRoots: [CACHE] });
    try {
      const clip = await fixture('longgop');
      // 600 raw frames of 640x360 for sharp (WebP): 414 MB through the pipes, a job for the pool
      // (JPEGs, or fewer frames, run on the calling thread: src/extract/pool.ts runsHere).
      const r = await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 0.1, mode: 'exact', format: 'webp' } });
      const id = r.json.id as string;
      // The shared pool the job uses; kill its threads while one of them has an ffmpeg child.
      const pool = (await waitFor(
        'the job to hold the pool',
        async () => ((await api(s.url, 'GET', `/v1/jobs/${id}`)).json.state === 'running' ? acquirePool() : undefined),
        20_000,
        5,
      )) as FramePool;
      try {
        const internals = pool as unknown as { piscina: Piscina; pids: Set<number> };
        await waitFor('a decode task to run', () => internals.pids.size > 0, 20_000, 2);
        const threads = [...internals.piscina.threads];
        expect(threads.length).toBeGreaterThan(0);
        await Promise.all(threads.map((t) => t.terminate()));
      } finally {
        await releasePool();
      }
      const job = await waitJob(s.url, id, 60_000);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      expect(job.result.frames).toBe(600);
      await checkFrames(s.url, job, 30, 'image/webp');
      await waitFor('no ffmpeg left running', () => decoders().length === 0, 5000);
      // The pool still works (400 frames: 276 MB of raw frames, the pool's again).
      const again = await waitJob(
        s.url,
        (await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 0.1, end: 40, mode: 'exact', format: 'webp' } })).json.id,
      );
      expect(again.result.frames).toBe(400);
      expect(again.state).toBe('succeeded');
      await checkFrames(s.url, again, 30, 'image/webp');
    } finally {
      await s.close();
    }
  });

  it('a job over its time limit fails with TIMEOUT and leaves no process behind', async () => {
    const s = await startService({ workers: 1, allowRoots: [CACHE], jobTimeoutSec: 0.4 });
    try {
      const r = await api(s.url, 'POST', '/v1/jobs', { path: await fixture('longgop'), options: { every: 0.25, mode: 'exact' } });
      const job = await waitJob(s.url, r.json.id, 20_000);
      expect(job.state).toBe('failed');
      expect(job.error).toEqual({ code: 'TIMEOUT', message: `job ${job.id}: took longer than 0.4 s (--job-timeout) and was stopped` });
      expect(job.attempts).toBe(1); // a timeout is not tried again
      await waitFor('no ffmpeg left running', () => decoders().length === 0, 5000);
      expect(existsSync(join(s.svc.data.root, 'outputs', job.id))).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('a job that outlives its time limit fails even when its work ends without looking again (1 ms: never succeeds)', async () => {
    const s = await startService({ workers: 1, allowRoots: [CACHE], jobTimeoutSec: 0.001 });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await api(s.url, 'POST', '/v1/jobs', { path: await fixture('audioFirst'), options: { every: 5 } });
        const job = await waitJob(s.url, r.json.id, 60_000);
        expect([job.state, job.error?.code]).toEqual(['failed', 'TIMEOUT']);
      }
    } finally {
      await s.close();
    }
  }, 120_000);

  it("call: true sends the requests with the server's key; estimate against actual, spent in /metrics", async () => {
    const model = await startOpenAITestServer();
    const s = await startService({ workers: 1, allowRoots: [CACHE], baseURL: model.baseURL, apiKey: 'test' });
    try {
      const clip = await fixture('audioFirst');
      const r = await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 1, prompt: 'What is shown?', call: true } });
      expect(r.status, r.text).toBe(202);
      const job = await waitJob(s.url, r.json.id);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      expect(job.result.dispatch.totals).toMatchObject({ requests: 1, ok: 1, failed: 0 });
      expect(job.result.dispatch.answers[0].status).toBe('ok');
      expect(model.stats.total).toBe(1);
      const { estimated, actual } = job.estimate;
      expect(actual.frames).toBe(estimated.frames);
      expect(actual.inputTokens).toBe(estimated.inputTokens); // the test server bills what it received
      expect(actual.costUsd).toBeGreaterThan(0);
      const metrics = (await api(s.url, 'GET', '/metrics')).text;
      expect(Number(/^omniprep_tokens_spent_total (\S+)$/m.exec(metrics)![1])).toBeGreaterThan(actual.inputTokens);
      expect(Number(/^omniprep_dollars_spent_total (\S+)$/m.exec(metrics)![1])).toBeCloseTo(actual.costUsd, 8);
    } finally {
      await s.close();
      await model.close();
    }
  });

  it('retention deletes finished jobs, their outputs and their uploads', async () => {
    const s = await startService({ workers: 1, retentionHours: 0.0001 }); // 0.36 s
    try {
      const r = await upload(s.url, await fixture('audioFirst'), { every: 2 });
      const job = await waitJob(s.url, r.json.id);
      expect(job.state).toBe('succeeded');
      expect(readdirSync(join(s.svc.data.root, 'inputs'))).toHaveLength(1);
      expect(existsSync(join(s.svc.data.root, 'outputs', job.id, 'frames'))).toBe(true);
      await new Promise((res) => setTimeout(res, 500));
      expect(await s.svc.sweep()).toEqual({ jobs: 1, inputs: 1, uploads: 0 });
      expect((await api(s.url, 'GET', `/v1/jobs/${job.id}`)).status).toBe(404);
      expect(existsSync(join(s.svc.data.root, 'outputs', job.id))).toBe(false);
      expect(readdirSync(join(s.svc.data.root, 'inputs'))).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('/docs/json is the OpenAPI description generated from the route schemas', async () => {
    const s = await startService({ workers: 0 });
    try {
      const doc = (await api(s.url, 'GET', '/docs/json')).json;
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths).sort()).toEqual(
        [
          '/healthz',
          '/metrics',
          '/v1/jobs',
          '/v1/jobs/{id}',
          '/v1/jobs/{id}/events',
          '/v1/jobs/{id}/frames/{n}',
          '/v1/jobs/{id}/manifest',
          '/v1/plan',
          '/v1/cost-curve',
          '/v1/models',
          '/v1/jobs/{id}/requests',
          '/v1/jobs/{id}/batch',
          '/v1/jobs/{id}/audio/{n}',
          '/v1/uploads',
          '/v1/evals',
          '/v1/evals/{id}',
          '/v1/evals/{id}/events',
          '/v1/evals/{id}/cancel',
          '/v1/evals/{id}/results',
          '/v1/evals/{id}/results.csv',
          '/v1/evals/{id}/chart',
          '/v1/uploads/{id}',
          '/v1/uploads/{id}/complete',
          '/v1/jobs/{id}/cancel',
          '/v1/jobs/{id}/grids/{n}',
        ].sort(),
      );
      expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['JobOptions', 'Job', 'Error', 'PlanSummary', 'Eval', 'EvalEstimate']));
      const post = doc.paths['/v1/jobs'].post;
      expect(Object.keys(post.requestBody.content).sort()).toEqual(['application/json', 'multipart/form-data']);
      expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['202', '400', '403', '413', '415', '422', '429']));
      expect(doc.components.schemas.JobOptions.properties.every.minimum).toBe(0.001);
      expect(doc.paths['/v1/jobs/{id}'].delete).toBeDefined();
    } finally {
      await s.close();
    }
  });
});
