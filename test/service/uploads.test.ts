/**
 * Uploads sent once (POST /v1/uploads) in the embedded mode: stored by SHA-256 and deduplicated,
 * planned and re-planned by id from the facts the first plan learned (no probe again, even after
 * a restart), submitted by id; grids served; DELETE deleting a job's data and the upload it alone
 * holds, cancel keeping them; expiry by an injected clock; and bad input.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggingFfprobe } from '../helpers/ffprobe-log.js';
import { fixture, tempDir } from '../helpers/fixtures.js';
import { plan } from '../../src/plan/plan.js';
import { listKeys, S3_ENV, s3Available, tempBucket } from '../helpers/s3.js';
import { api, startService, waitJob, type Running } from '../helpers/service.js';

const times = (p: { frames: Array<{ timestampSec: number }> }): number[] => p.frames.map((f) => f.timestampSec);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** POST /v1/uploads with the file (the one field). */
async function send(url: string, file: string | Buffer, name = 'clip.mp4'): Promise<{ status: number; json: any; text: string }> {
  const form = new FormData();
  form.append('file', new Blob([typeof file === 'string' ? readFileSync(file) : file]), name);
  const res = await fetch(`${url}/v1/uploads`, { method: 'POST', body: form });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
}

/** The files under DATA/uploads (bytes and kept facts). */
const uploadsOf = (data: string): string[] => (existsSync(join(data, 'uploads')) ? readdirSync(join(data, 'uploads')).sort() : []);

describe('uploads sent once (embedded)', () => {
  const data = tempDir('svc-uploads-');
  let s: Running;
  let clip: string;
  let bytes: Buffer;
  const calls: { ffprobe?: () => string[] } = {};
  let before: string | undefined;
  let expected: Awaited<ReturnType<typeof plan>>;
  beforeAll(async () => {
    clip = await fixture('timecode'); // 20 s, 2 s GOPs, with audio
    bytes = readFileSync(clip);
    expected = await plan(clip, { every: 5, detail: 'low' }); // the library's, before ffprobe is counted
    const ffprobe = loggingFfprobe(tempDir('svc-uploads-ffprobe-'));
    calls.ffprobe = ffprobe.calls;
    before = process.env.OMNIPREP_FFPROBE;
    process.env.OMNIPREP_FFPROBE = ffprobe.path; // the planning threads inherit it
    s = await startService({ dataDir: data, workers: 1 });
  }, 120_000);
  afterAll(async () => {
    if (before === undefined) delete process.env.OMNIPREP_FFPROBE;
    else process.env.OMNIPREP_FFPROBE = before;
    await s?.close();
    rmSync(data, { recursive: true, force: true });
  });

  it('stores the bytes once by SHA-256; plans and re-plans by id without probing again (after a restart too); jobs by id', async () => {
    const first = await send(s.url, clip);
    expect(first.status, first.text).toBe(201);
    expect(first.json).toMatchObject({ sha256: sha(bytes), size: bytes.length, name: 'clip.mp4', state: 'ready', deduplicated: false });
    expect(Date.parse(first.json.expiresAt) - Date.parse(first.json.createdAt)).toBe(86_400_000);
    const id = first.json.id as string;
    const again = await send(s.url, clip, 'other-name.mp4');
    expect(again.status).toBe(201);
    expect(again.json).toMatchObject({ id, sha256: sha(bytes), deduplicated: true, name: 'clip.mp4' });
    expect(uploadsOf(data)).toEqual([`${id}.mp4`]);
    expect(readdirSync(join(data, 'tmp')).filter((n) => !n.startsWith('node-'))).toEqual([]);
    expect((await api(s.url, 'GET', `/v1/uploads/${id}`)).json).toMatchObject({ id, size: bytes.length, state: 'ready' });

    const p1 = await api(s.url, 'POST', '/v1/plan', { upload: id, options: { every: 2 } });
    expect(p1.status, p1.text).toBe(200);
    expect(times(p1.json)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(p1.json.input).toBe('clip.mp4');
    // An MP4's facts come from its moov in JS (no ffprobe); what the first plan learned is kept.
    expect(calls.ffprobe!()).toHaveLength(0);
    expect(uploadsOf(data)).toEqual([`${id}.mp4`, `${id}.mp4.facts.json`]);
    // The re-plans below read nothing of the file: it is moved away until the job needs it.
    const stored = join(data, 'uploads', `${id}.mp4`);
    renameSync(stored, `${stored}.away`);
    const p2 = await api(s.url, 'POST', '/v1/plan', { upload: id, options: { every: 5, detail: 'low' } });
    expect(p2.status, p2.text).toBe(200);
    // Keyframe mode on 2 s GOPs, as the library plans it.
    expect(times(p2.json)).toEqual([0, 4, 10, 14]);
    expect(p2.json.inputTokens).toBe(expected.inputTokens);
    expect(p2.text).not.toContain(data);
    // Another node process (its planning threads and caches new): the kept facts answer.
    await s.close();
    s = await startService({ dataDir: data, workers: 1 });
    const p3 = await api(s.url, 'POST', '/v1/plan', { upload: id, options: { every: 4 } });
    expect(p3.status, p3.text).toBe(200);
    expect(times(p3.json)).toEqual([0, 4, 8, 12, 16]);
    renameSync(`${stored}.away`, stored);
    const job = await api(s.url, 'POST', '/v1/jobs', { upload: id, options: { every: 4 } });
    expect(job.status, job.text).toBe(202);
    expect(job.json.input).toEqual({ kind: 'upload', name: 'clip.mp4', bytes: bytes.length, sha256: sha(bytes), upload: id });
    const done = await waitJob(s.url, job.json.id, 120_000);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.result.frames).toBe(5);
    // No ffprobe from the upload to the job's end: the plans after the first, the submit and the worker read the facts.
    expect(calls.ffprobe!(), calls.ffprobe!().join('\n')).toHaveLength(0);
    expect((await api(s.url, 'DELETE', `/v1/jobs/${job.json.id}`)).status).toBe(200);
  }, 240_000);

  it('serves grids; DELETE removes a job, its files and the upload it alone holds; cancel keeps them', async () => {
    const id = (await send(s.url, clip)).json.id as string;
    const a = await api(s.url, 'POST', '/v1/jobs', { upload: id, options: { every: 2, grid: { cols: 2, rows: 2 } } });
    const b = await api(s.url, 'POST', '/v1/jobs', { upload: id, options: { every: 5 } });
    expect([a.status, b.status], a.text + b.text).toEqual([202, 202]);
    const ja = await waitJob(s.url, a.json.id, 120_000);
    expect(ja.state, JSON.stringify(ja.error)).toBe('succeeded');
    expect(await waitJob(s.url, b.json.id, 120_000)).toMatchObject({ state: 'succeeded' });
    const manifest = (await api(s.url, 'GET', `/v1/jobs/${ja.id}/manifest`)).json;
    const grids = manifest.frames.grids as Array<{ index: number; url: string; sha256: string; frames: number[] }>;
    expect(grids.map((g) => [g.index, g.url, g.frames])).toEqual([
      [0, `/v1/jobs/${ja.id}/grids/0`, [0, 1, 2, 3]],
      [1, `/v1/jobs/${ja.id}/grids/1`, [4, 5, 6, 7]],
    ]);
    const grid = await fetch(`${s.url}${grids[1]!.url}`);
    expect(grid.status).toBe(200);
    expect(grid.headers.get('content-type')).toBe('image/jpeg');
    expect(sha(Buffer.from(await grid.arrayBuffer()))).toBe(grids[1]!.sha256);
    const missing = await api(s.url, 'GET', `/v1/jobs/${ja.id}/grids/2`);
    expect([missing.status, missing.json.error.message]).toEqual([404, `job ${ja.id}: has no grid 2 (grids: 0, 1)`]);
    expect((await api(s.url, 'GET', `/v1/jobs/${b.json.id}/grids/0`)).json.error.message).toBe(`job ${b.json.id}: has no grid 0 (grids: none)`);

    // Cancel is its own action: a finished job keeps its state and its files.
    const cancelled = await api(s.url, 'POST', `/v1/jobs/${ja.id}/cancel`);
    expect([cancelled.status, cancelled.json.state]).toEqual([200, 'succeeded']);
    expect(existsSync(join(data, 'outputs', ja.id, 'frames'))).toBe(true);
    // An upload a job holds cannot be deleted.
    expect((await api(s.url, 'DELETE', `/v1/uploads/${id}`)).status).toBe(409);
    // Deleting one job: its record, outputs and plan go; the upload the other job holds stays.
    expect((await api(s.url, 'DELETE', `/v1/jobs/${ja.id}`)).status).toBe(200);
    expect((await api(s.url, 'GET', `/v1/jobs/${ja.id}`)).status).toBe(404);
    expect((await api(s.url, 'DELETE', `/v1/jobs/${ja.id}`)).status).toBe(404);
    expect(existsSync(join(data, 'outputs', ja.id))).toBe(false);
    expect(existsSync(join(data, 'plans', `${ja.id}.json`))).toBe(false);
    expect(uploadsOf(data)).toContain(`${id}.mp4`);
    // The last job that holds it: the upload goes with it (record, bytes, facts).
    expect((await api(s.url, 'DELETE', `/v1/jobs/${b.json.id}`)).status).toBe(200);
    expect((await api(s.url, 'GET', `/v1/uploads/${id}`)).status).toBe(404);
    expect(uploadsOf(data)).toEqual([]);
    expect(readdirSync(join(data, 'outputs'))).toEqual([]);
  }, 240_000);

  it('refuses an unknown id, a bad id, an empty file and one over the size limit (nothing left on disk)', async () => {
    const unknown = await api(s.url, 'POST', '/v1/plan', { upload: '00000000-0000-4000-8000-000000000000', options: {} });
    expect([unknown.status, unknown.json.error]).toEqual([
      404,
      { code: 'UPLOAD_NOT_FOUND', message: 'upload 00000000-0000-4000-8000-000000000000: no such upload (it may have expired)' },
    ]);
    const bad = await api(s.url, 'POST', '/v1/jobs', { upload: '../x', options: {} });
    expect([bad.status, bad.json.error.message]).toEqual([400, 'upload "../x": not an upload id (POST /v1/uploads gives one)']);
    expect((await api(s.url, 'GET', '/v1/uploads/nope')).status).toBe(400);
    const empty = await send(s.url, Buffer.alloc(0), 'empty.mp4');
    expect([empty.status, empty.json.error]).toEqual([422, { code: 'EMPTY', message: 'empty.mp4: is empty (0 bytes)' }]);
    const presigned = await api(s.url, 'POST', '/v1/uploads', { name: 'x.mp4' });
    expect(presigned.status).toBe(400);
    expect(presigned.json.error.message).toMatch(/^presigned uploads need an object store/);
    const small = await startService({ maxUploadBytes: 100_000, workers: 0 });
    try {
      // Within what the declared length may be (multipart slack): refused as it streams.
      const big = await send(small.url, Buffer.alloc(150_000, 7), 'big.mp4');
      expect([big.status, big.json.error]).toEqual([413, { code: 'TOO_LARGE', message: 'big.mp4: the upload is over the 100000-byte limit' }]);
      const root = small.svc.data.root;
      expect(uploadsOf(root)).toEqual([]);
      expect(readdirSync(join(root, 'tmp')).filter((n) => !n.startsWith('node-'))).toEqual([]);
    } finally {
      await small.close();
    }
  }, 120_000);
});

describe('upload expiry', () => {
  it('an expired upload is refused (410), then swept with its bytes; one a job holds stays', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const s = await startService({ workers: 1, uploadTtlSec: 60 }, { now: () => now });
    try {
      const clip = await fixture('audioFirst');
      const free = (await send(s.url, clip)).json;
      const held = (await send(s.url, readFileSync(await fixture('timecode')), 'held.mp4')).json;
      expect(free.expiresAt).toBe('2030-01-01T00:01:00.000Z');
      const job = await api(s.url, 'POST', '/v1/jobs', { upload: held.id, options: { every: 5 } });
      expect(job.status, job.text).toBe(202);
      expect((await waitJob(s.url, job.json.id, 120_000)).state).toBe('succeeded');
      // A use moves the expiry on.
      now += 30_000;
      expect((await api(s.url, 'POST', '/v1/plan', { upload: free.id, options: { every: 1 } })).status).toBe(200);
      expect((await api(s.url, 'GET', `/v1/uploads/${free.id}`)).json.expiresAt).toBe('2030-01-01T00:01:30.000Z');
      now += 61_000;
      const expired = await api(s.url, 'POST', '/v1/plan', { upload: free.id, options: { every: 1 } });
      expect([expired.status, expired.json.error]).toEqual([
        410,
        { code: 'UPLOAD_EXPIRED', message: `upload ${free.id}: expired at 2030-01-01T00:01:30.000Z (upload the file again)` },
      ]);
      expect((await s.svc.sweep()).uploads).toBe(1);
      expect((await api(s.url, 'GET', `/v1/uploads/${free.id}`)).status).toBe(404);
      expect(uploadsOf(s.svc.data.root).filter((n) => n.startsWith(free.id))).toEqual([]);
      // Held by its job: past its expiry, still there.
      expect((await api(s.url, 'GET', `/v1/uploads/${held.id}`)).status).toBe(410);
      expect(uploadsOf(s.svc.data.root)).toContain(`${held.id}.mp4`);
      // Its job deleted, it goes with it.
      expect((await api(s.url, 'DELETE', `/v1/jobs/${job.json.id}`)).status).toBe(200);
      expect(uploadsOf(s.svc.data.root)).toEqual([]);
      expect((await s.svc.sweep()).uploads).toBe(0);
    } finally {
      await s.close();
    }
  }, 180_000);
});

const hasS3 = await s3Available();
if (!hasS3)
  console.warn(`uploads.test.ts: S3 part SKIPPED: no S3 server on ${S3_ENV.AWS_ENDPOINT_URL_S3} (start it with scripts/s3-server.sh, as .ci/run does)`);

describe.skipIf(!hasS3)('uploads sent once with --store s3://', () => {
  let bucket: Awaited<ReturnType<typeof tempBucket>>;
  let node: Running;
  beforeAll(async () => {
    Object.assign(process.env, S3_ENV);
    bucket = await tempBucket();
    node = await startService({ store: `s3://${bucket.name}/svc`, workers: 1, maxUploadBytes: 20 * 1024 ** 2 });
  }, 120_000);
  afterAll(async () => {
    await node?.close();
    await bucket?.drop();
  });
  const keys = (prefix: string): Promise<string[]> => listKeys(bucket.client, bucket.name, prefix);

  it('streams an upload into the store once; plans from its kept facts; a grid by redirect; DELETE leaves no object', async () => {
    const clip = await fixture('timecode');
    const up = await send(node.url, clip);
    expect(up.status, up.text).toBe(201);
    const id = up.json.id as string;
    expect((await send(node.url, clip, 'again.mp4')).json).toMatchObject({ id, deduplicated: true });
    expect(await keys('svc/uploads/')).toEqual([`svc/uploads/${id}.mp4`]);
    const p1 = await api(node.url, 'POST', '/v1/plan', { upload: id, options: { every: 2 } });
    expect(p1.status, p1.text).toBe(200);
    expect(p1.json.remote.mode).toBe('ranges');
    expect(await keys('svc/uploads/')).toEqual([`svc/uploads/${id}.mp4`, `svc/uploads/${id}.mp4.facts.json`]);
    // From the kept facts: nothing is read, so the plan says no reading.
    const p2 = await api(node.url, 'POST', '/v1/plan', { upload: id, options: { every: 4 } });
    expect([p2.status, times(p2.json), p2.json.remote]).toEqual([200, [0, 4, 8, 12, 16], undefined]);
    const job = await api(node.url, 'POST', '/v1/jobs', { upload: id, options: { every: 2, grid: { cols: 2, rows: 2 } } });
    const done = await waitJob(node.url, job.json.id, 120_000);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    const grid = await fetch(`${node.url}/v1/jobs/${done.id}/grids/1`, { redirect: 'manual' });
    expect(grid.status).toBe(302);
    const manifest = (await api(node.url, 'GET', `/v1/jobs/${done.id}/manifest`)).json;
    expect(sha(Buffer.from(await (await fetch(grid.headers.get('location')!)).arrayBuffer()))).toBe(manifest.frames.grids[1].sha256);
    expect((await api(node.url, 'DELETE', `/v1/jobs/${done.id}`)).status).toBe(200);
    expect(await keys('svc/')).toEqual([]);
  }, 180_000);

  it('a presigned multipart upload in 5 MiB parts: wrong ETags refused, then completed; over the limit refused', async () => {
    const bytes = Buffer.alloc(11 * 1024 ** 2 + 12345);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32BE(i, i);
    // A presigned PUT: pending until its bytes are in the store, then ready with their size.
    const put = await api(node.url, 'POST', '/v1/uploads', { name: 'small.bin' });
    expect(put.json).toMatchObject({ method: 'PUT', expiresInSec: 3600 });
    expect((await api(node.url, 'GET', `/v1/uploads/${put.json.id}`)).json).toMatchObject({ state: 'pending', size: 0, sha256: null });
    expect((await fetch(put.json.url, { method: 'PUT', body: bytes.subarray(0, 1000) })).status).toBe(200);
    expect((await api(node.url, 'GET', `/v1/uploads/${put.json.id}`)).json).toMatchObject({ state: 'ready', size: 1000 });
    expect((await api(node.url, 'DELETE', `/v1/uploads/${put.json.id}`)).status).toBe(200);
    const slot = await api(node.url, 'POST', '/v1/uploads', { name: 'big.bin', size: bytes.length, multipart: true });
    expect(slot.status, slot.text).toBe(201);
    expect(slot.json).toMatchObject({ method: 'multipart', partSize: 5 * 1024 ** 2, complete: `/v1/uploads/${slot.json.id}/complete` });
    expect(slot.json.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 2, 3]);
    const etags: string[] = [];
    for (const [i, part] of (slot.json.parts as Array<{ url: string }>).entries()) {
      const r = await fetch(part.url, { method: 'PUT', body: bytes.subarray(i * 5 * 1024 ** 2, (i + 1) * 5 * 1024 ** 2) });
      expect(r.status).toBe(200);
      etags.push(r.headers.get('etag')!);
    }
    // Not yet complete: not usable.
    expect((await api(node.url, 'POST', '/v1/plan', { upload: slot.json.id, options: {} })).status).toBe(409);
    const wrong = await api(node.url, 'POST', slot.json.complete, {
      parts: etags.map((_, i) => ({ partNumber: i + 1, etag: '"0123456789abcdef0123456789abcdef"' })),
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.message).toMatch(
      new RegExp(`^upload ${slot.json.id}: the store refused the parts \\(400 InvalidPart\\); send every part's number with the ETag its PUT answered$`),
    );
    const done = await api(node.url, 'POST', slot.json.complete, { parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })) });
    expect(done.status, done.text).toBe(200);
    expect(done.json).toMatchObject({ id: slot.json.id, size: bytes.length, state: 'ready', sha256: null });
    const [key] = await keys('svc/uploads/');
    const stored = await fetch(await node.svc.objects.presignGet(key!, 60));
    expect(sha(Buffer.from(await stored.arrayBuffer()))).toBe(sha(bytes));
    expect((await api(node.url, 'DELETE', `/v1/uploads/${slot.json.id}`)).status).toBe(200);
    expect(await keys('svc/')).toEqual([]);
    const over = await api(node.url, 'POST', '/v1/uploads', { name: 'huge.mp4', size: 21 * 1024 ** 2 });
    expect([over.status, over.json.error.message]).toEqual([413, `huge.mp4: ${21 * 1024 ** 2} bytes, over the ${20 * 1024 ** 2}-byte limit`]);
    const noSize = await api(node.url, 'POST', '/v1/uploads', { name: 'x.mp4', multipart: true });
    expect([noSize.status, noSize.json.error.message]).toEqual([400, `x.mp4: a multipart upload needs the file's size (give "size" in bytes)`]);
  }, 120_000);
});
