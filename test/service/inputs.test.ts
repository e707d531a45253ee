/**
 * Inputs as a careless client or an attacker sends them: a path swapped for a symlink after it
 * was accepted, uploads over the limit (refused while the body still arrives), malformed and
 * oversized multipart, arrays where strings belong, deep JSON; and nothing of the server's paths
 * in what clients get back. URL inputs are read by byte ranges (an MP4 from a range-capable
 * server: the index and the kept frames only, pinned to the file the plan saw) or whole (a server
 * without ranges), and the plan and the result say which and what it fetched.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { plan as libraryPlan } from '../../src/plan/plan.js';
import { fileSource, mp4Index } from '../../src/probe/mp4.js';
import { sample } from '../../src/sample/sample.js';
import { fixture, readFrameNumber, tempDir } from '../helpers/fixtures.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';
import { api, startService, waitJob, type Answer, type Running } from '../helpers/service.js';

const expectError = (r: { status: number; json: any; text: string }, status: number, code: string, text: RegExp): void => {
  expect(r.status, r.text).toBe(status);
  expect(Object.keys(r.json ?? {}), r.text).toEqual(['error']);
  expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message']);
  expect(r.json.error.code).toBe(code);
  expect(r.json.error.message).toMatch(text);
};

/**
 * Sends a request body piece by piece and resolves with the answer; `hold` keeps the request open
 * after the pieces (the body never ends), so an answer proves the server did not wait for it.
 */
function send(base: string, path: string, headers: Record<string, string | number>, pieces: Buffer[], hold = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, base);
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        req.destroy();
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json, text, headers: new Headers(res.headers as Record<string, string>) });
      });
    });
    req.on('error', (e) => (hold ? undefined : reject(e)));
    for (const p of pieces) req.write(p);
    if (!hold) req.end();
  });
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('path inputs are pinned when they are submitted', () => {
  it('the same unchanged file is stored once however often it is planned; a changed one is read again', async () => {
    const root = tempDir('svc-root-');
    const data = tempDir('svc-data-');
    const clip = join(root, 'talk.mp4');
    copyFileSync(await fixture('audioFirst'), clip);
    const s = await startService({ workers: 0, allowRoots: [root], dataDir: data });
    try {
      const stored = (): string[] => readdirSync(join(data, 'inputs')).sort();
      for (let i = 0; i < 3; i++) expect((await api(s.url, 'POST', '/v1/plan', { path: 'talk.mp4', options: { every: 1 + i } })).status).toBe(200);
      expect(stored()).toEqual([`${sha256(clip)}.mp4`]);
      // Changed in place (its change time moves): read and stored again, the plan sees the new bytes.
      const more = readFileSync(clip);
      writeFileSync(clip, Buffer.concat([more, Buffer.alloc(4096)]));
      const r = await api(s.url, 'POST', '/v1/plan', { path: 'talk.mp4', options: { every: 1 } });
      expect(r.status, r.text).toBe(200);
      expect(r.json.media.sizeBytes).toBe(more.length + 4096);
      expect(stored()).toContain(`${sha256(clip)}.mp4`);
    } finally {
      await s.close();
    }
  });

  it('a directory swapped for a symlink while the job waits: the job samples the file that was accepted', async () => {
    const root = tempDir('svc-root-');
    const outside = tempDir('svc-outside-');
    const inside = await fixture('timecode'); // 20 s, 30 fps
    const other = await fixture('audioFirst'); // 4 s, 25 fps: another picture, another length
    mkdirSync(join(root, 'dir'));
    mkdirSync(join(outside, 'dir'));
    copyFileSync(inside, join(root, 'dir', 'clip.mp4'));
    copyFileSync(other, join(outside, 'dir', 'clip.mp4'));
    const data = tempDir('svc-data-');

    // Accepted and queued on a node that runs nothing.
    const a = await startService({ dataDir: data, workers: 0, allowRoots: [root] });
    const r = await api(a.url, 'POST', '/v1/jobs', { path: 'dir/clip.mp4', options: { every: 2, mode: 'exact' } });
    expect(r.status, r.text).toBe(202);
    expect(r.json.plan.frames).toBe(10);
    expect(r.json.input).toEqual({ kind: 'path', name: 'dir/clip.mp4', bytes: readFileSync(inside).length, sha256: sha256(inside) });
    await a.close();

    // The swap: the directory becomes a link to one outside the root.
    renameSync(join(root, 'dir'), join(root, 'dir-old'));
    symlinkSync(join(outside, 'dir'), join(root, 'dir'));

    const b = await startService({ dataDir: data, workers: 1, allowRoots: [root] });
    try {
      const job = await waitJob(b.url, r.json.id, 120_000);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      expect(job.result.frames).toBe(10);
      const manifest = (await api(b.url, 'GET', `/v1/jobs/${job.id}/manifest`)).json;
      for (const f of manifest.frames.frames) {
        const bytes = Buffer.from(await (await fetch(`${b.url}/v1/jobs/${job.id}/frames/${f.index}`)).arrayBuffer());
        expect(await readFrameNumber(bytes)).toBe(Math.round(f.timestampSec * 30)); // the timecode clip's frames
      }
      // A new submission through the link is refused.
      expectError(await api(b.url, 'POST', '/v1/jobs', { path: 'dir/clip.mp4' }), 403, 'FORBIDDEN_PATH', /^dir\/clip\.mp4: is outside the allowed roots$/);
    } finally {
      await b.close();
    }
  }, 180_000);
});

describe('uploads and bodies', () => {
  let s: Running;
  let clip: string;
  beforeAll(async () => {
    clip = await fixture('audioFirst');
    s = await startService({ workers: 0, maxUploadBytes: 1_000_000 });
  });
  afterAll(() => s.close());

  const multipart = (
    parts: Array<{ name: string; filename?: string; body: Buffer | string }>,
    boundary = 'XyZboundary42',
  ): { headers: Record<string, string>; body: Buffer } => {
    const chunks: Buffer[] = [];
    for (const p of parts) {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n${p.filename ? 'Content-Type: application/octet-stream\r\n' : ''}\r\n`,
        ),
      );
      chunks.push(Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body));
      chunks.push(Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat(chunks) };
  };

  it('an upload over the limit is refused while its body is still arriving (413, chunked or with a length)', async () => {
    const head = Buffer.from('--B\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n');
    // Chunked: 1.5 MB of a body that never ends.
    const chunked = await send(
      s.url,
      '/v1/jobs',
      { 'content-type': 'multipart/form-data; boundary=B', 'transfer-encoding': 'chunked' },
      [head, Buffer.alloc(1_500_000, 7)],
      true,
    );
    expectError(chunked, 413, 'TOO_LARGE', /^big\.mp4: the upload is over the 1000000-byte limit$/);
    expect(chunked.headers.get('connection')).toBe('close');
    // A declared length of 5 GB: refused before any of it is read.
    const declared = await send(s.url, '/v1/jobs', { 'content-type': 'multipart/form-data; boundary=B', 'content-length': 5_000_000_000 }, [head], true);
    expectError(declared, 413, 'TOO_LARGE', /over the 1000000-byte limit \(Content-Length 5000000000\)/);
    expect(readdirSync(join(s.svc.data.root, 'tmp'))).toEqual([]);
    expect(readdirSync(join(s.svc.data.root, 'inputs'))).toEqual([]);
  });

  it('every multipart mistake is a 400 with the error shape', async () => {
    const bytes = readFileSync(clip);
    const post = (m: { headers: Record<string, string>; body: Buffer }): Promise<Answer> =>
      send(s.url, '/v1/jobs', { ...m.headers, 'content-length': m.body.length }, [m.body]);
    expectError(
      await post(
        multipart([
          { name: 'file', filename: 'a.mp4', body: bytes },
          { name: 'file', filename: 'b.mp4', body: bytes },
        ]),
      ),
      400,
      'BAD_REQUEST',
      /^multipart: one file only/,
    );
    expectError(
      await post(multipart([{ name: 'video', filename: 'a.mp4', body: bytes }])),
      400,
      'BAD_REQUEST',
      /one file only, in the field "file" \(got "video"\)/,
    );
    expectError(
      await post(
        multipart([
          { name: 'options', body: `{"prompt":"${'x'.repeat(1_100_000)}"}` },
          { name: 'file', filename: 'a.mp4', body: bytes },
        ]),
      ),
      400,
      'BAD_REQUEST',
      /^multipart: the options field is over the 1048576-byte limit$/,
    );
    expectError(
      await post(
        multipart([
          { name: 'options', body: '{}' },
          { name: 'options', body: '{}' },
          { name: 'file', filename: 'a.mp4', body: bytes },
        ]),
      ),
      400,
      'BAD_REQUEST',
      /one options field only/,
    );
    expectError(await post(multipart([{ name: 'options', body: '{}' }])), 400, 'BAD_REQUEST', /no file/);
    expectError(
      await post(
        multipart([
          { name: 'options', body: `${'['.repeat(100)}${']'.repeat(100)}` },
          { name: 'file', filename: 'a.mp4', body: bytes },
        ]),
      ),
      400,
      'BAD_REQUEST',
      /the options field is nested deeper than 32 levels/,
    );
    // Truncated, boundary missing, garbage.
    const whole = multipart([{ name: 'file', filename: 'a.mp4', body: bytes }]);
    expectError(await post({ headers: whole.headers, body: whole.body.subarray(0, 5000) }), 400, 'BAD_REQUEST', /^multipart: /);
    expectError(await post({ headers: { 'content-type': 'multipart/form-data' }, body: whole.body }), 400, 'BAD_REQUEST', /^multipart: /);
    expectError(await post({ headers: whole.headers, body: Buffer.from('\0\x01garbage\r\n--XyZ') }), 400, 'BAD_REQUEST', /^multipart: /);
    expect(readdirSync(join(s.svc.data.root, 'tmp'))).toEqual([]);
    expect(readdirSync(join(s.svc.data.root, 'inputs'))).toEqual([]);
    expect((await api(s.url, 'GET', '/healthz')).json.ok).toBe(true);
  });

  it('JSON bodies: no coercion, a depth limit, a size limit, and the error shape for everything Fastify refuses', async () => {
    expectError(await api(s.url, 'POST', '/v1/plan', { path: ['x.mp4'] }), 400, 'BAD_REQUEST', /^body\.path must be string$/);
    expectError(await api(s.url, 'POST', '/v1/plan', { url: 5 }), 400, 'BAD_REQUEST', /^body\.url must be string$/);
    expectError(
      await api(s.url, 'POST', '/v1/plan', { path: 'x.mp4', options: { every: '5' } }),
      400,
      'INVALID_OPTION',
      /^option every: expected a number from 0\.001 to 86400, got "5"$/,
    );
    expectError(
      await api(s.url, 'POST', '/v1/plan', { path: 'x.mp4', options: { dedup: 'true' } }),
      400,
      'INVALID_OPTION',
      /^option dedup: expected true or false, got "true"$/,
    );
    const deep = await send(s.url, '/v1/plan', { 'content-type': 'application/json' }, [
      Buffer.from(`{"options":${'['.repeat(200_000)}${']'.repeat(200_000)}}`),
    ]);
    expectError(deep, 400, 'BAD_REQUEST', /^the JSON body is nested deeper than 32 levels$/);
    const huge = await send(s.url, '/v1/plan', { 'content-type': 'application/json' }, [Buffer.from(`{"path":"${'x'.repeat(2 * 1024 * 1024)}"}`)]);
    expectError(huge, 413, 'TOO_LARGE', /./);
    expectError(await send(s.url, '/v1/plan', { 'content-type': 'application/json' }, [Buffer.from('{"path":')]), 400, 'BAD_REQUEST', /not valid JSON/);
    expectError(await send(s.url, '/v1/plan', { 'content-type': 'text/plain' }, [Buffer.from('hello')]), 415, 'UNSUPPORTED_FORMAT', /./);
    // An over-long job id, and a frame index that is not a number.
    expectError(await api(s.url, 'GET', `/v1/jobs/${'a'.repeat(5000)}`), 414, 'BAD_REQUEST', /^a path parameter is over 100 characters$/);
    expectError(await api(s.url, 'GET', `/v1/jobs/${'a'.repeat(90)}`), 400, 'BAD_REQUEST', /params\.id must match pattern/);
    expectError(await api(s.url, 'GET', '/v1/jobs/abc/frames/x'), 400, 'BAD_REQUEST', /params\.n must be integer/);
    expectError(await api(s.url, 'GET', '/v1/jobs/%E0%A4%A'), 400, 'BAD_REQUEST', /./);
    expect((await api(s.url, 'GET', '/healthz')).json.ok).toBe(true);
  });
});

describe('clients see the names they gave', () => {
  it('plans, jobs, manifests, events and errors name the upload or the path, never a server path', async () => {
    const root = tempDir('svc-root-');
    copyFileSync(await fixture('audioFirst'), join(root, 'talk.mp4'));
    const s = await startService({ workers: 1, allowRoots: [root] });
    try {
      const texts: string[] = [];
      const plan = await api(s.url, 'POST', '/v1/plan', { path: 'talk.mp4', options: { every: 1 } });
      expect(plan.status, plan.text).toBe(200);
      expect(plan.json.input).toBe('talk.mp4');
      texts.push(plan.text);
      const r = await api(s.url, 'POST', '/v1/jobs', { path: 'talk.mp4', options: { every: 1 } });
      expect(r.status, r.text).toBe(202);
      texts.push(r.text);
      const events = await (await fetch(`${s.url}/v1/jobs/${r.json.id}/events`)).text();
      texts.push(events);
      const job = await waitJob(s.url, r.json.id);
      expect(job.state).toBe('succeeded');
      texts.push(JSON.stringify(job), (await api(s.url, 'GET', `/v1/jobs/${job.id}/manifest`)).text);
      const manifest = JSON.parse(texts.at(-1)!);
      expect(manifest.frames.input).toBe('talk.mp4');

      // A job whose stored input is gone by the time it runs fails naming the client's path.
      const data = tempDir('svc-data-');
      const q = await startService({ dataDir: data, workers: 0, allowRoots: [root] });
      const queued = await api(q.url, 'POST', '/v1/jobs', { path: 'talk.mp4', options: { every: 2 } });
      await q.close();
      for (const f of readdirSync(join(data, 'inputs'))) rmSync(join(data, 'inputs', f));
      const w = await startService({ dataDir: data, workers: 1, allowRoots: [root] });
      const failed = await waitJob(w.url, queued.json.id);
      await w.close();
      expect(failed.state).toBe('failed');
      expect(failed.error).toEqual({ code: 'NOT_FOUND', message: expect.stringMatching(/^talk\.mp4: the stored input is not on this worker/) });
      texts.push(JSON.stringify(failed));
      for (const t of texts) {
        expect(t).not.toContain(s.svc.data.root);
        expect(t).not.toContain(root);
        expect(t).not.toContain(data);
        expect(t).not.toMatch(/inputs\/[0-9a-f]{64}/);
      }
    } finally {
      await s.close();
    }
  }, 120_000);
});

/** The range reader's first block and its merge gap (src/source/range.ts defaults). */
const HEAD_BLOCK = 64 * 1024;
const MERGE_GAP = 16 * 1024;

/** The moov box of a local MP4 and its packet index. */
async function moovOf(file: string): Promise<{ size: number; index: Awaited<ReturnType<typeof mp4Index>> }> {
  const src = await fileSource(file);
  try {
    const index = await mp4Index(src);
    return { size: index.layout.moov.size, index };
  } finally {
    await src.close();
  }
}

/** Frames of a finished job: each one's timestamp, sha256 and the frame number drawn in it. */
async function jobFrames(base: string, id: string): Promise<Array<{ t: number; sha256: string; n: number }>> {
  const manifest = (await api(base, 'GET', `/v1/jobs/${id}/manifest`)).json;
  return Promise.all(
    manifest.frames.frames.map(async (f: { index: number; timestampSec: number; sha256: string }) => {
      const bytes = Buffer.from(await (await fetch(`${base}/v1/jobs/${id}/frames/${f.index}`)).arrayBuffer());
      return { t: f.timestampSec, sha256: f.sha256, n: await readFrameNumber(bytes) };
    }),
  );
}

/** What the library's sample() writes for the local file (timestamps, sha256, frame numbers). */
async function localFrames(file: string, options: Record<string, unknown>): Promise<Array<{ t: number; sha256: string; n: number }>> {
  const out = tempDir('svc-local-');
  const m = await sample(file, { ...options, out }).manifest();
  return Promise.all(m.frames.map(async (f) => ({ t: f.timestampSec, sha256: sha256(join(out, f.file)), n: await readFrameNumber(join(out, f.file)) })));
}

describe('URL inputs by byte ranges', () => {
  let server: RangeServer;
  let s: Running;
  const files: Record<string, string> = {};
  beforeAll(async () => {
    files['clip.mp4'] = await fixture('timecode'); // 20 s, 30 fps, keyframes every 2 s, AAC
    // 200 s of it (ten loops, stream copy): a multi-MB file whose frame numbers restart every 20 s.
    files['long.mp4'] = join(tempDir('svc-long-'), 'long.mp4');
    await runProcess({
      command: resolveBinary('ffmpeg').path,
      args: ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', '9', '-i', files['clip.mp4'], '-c', 'copy', files['long.mp4']],
      input: 'long clip',
      timeoutMs: 120_000,
    });
    files['long.webm'] = await fixture('webmLong'); // 60 s of VP9 and Opus with Cues
    server = await startRangeServer(files);
    s = await startService({ workers: 1, allowPrivateUrls: true });
  }, 180_000);
  afterAll(async () => {
    await s?.close();
    await server?.close();
  });
  beforeEach(() => server.reset());

  it('a URL job samples from ranges: the frames of the local file, a small part of the file fetched, said in the plan and the result', async () => {
    const url = server.url('long.mp4');
    const size = readFileSync(files['long.mp4']!).length;
    expect(size).toBeGreaterThan(2_000_000);
    const options = { every: 50 };

    // The plan at submit reads the first block and moov, never the file.
    const planned = await api(s.url, 'POST', '/v1/plan', { url, options });
    expect(planned.status, planned.text).toBe(200);
    const local = await libraryPlan(files['long.mp4']!, options);
    expect(planned.json.input).toBe(url);
    expect(planned.json.frames).toEqual(local.frames);
    expect(planned.json.remote).toMatchObject({ url, mode: 'ranges', sizeBytes: size, bytesFetched: server.bytesSent, requests: server.requests });
    // The first block and moov (a box header's read takes a block from where it starts).
    const moov = await moovOf(files['long.mp4']!);
    expect(planned.json.remote.bytesFetched).toBeLessThanOrEqual(HEAD_BLOCK + Math.max(moov.size, HEAD_BLOCK));
    expect(readdirSync(join(s.svc.data.root, 'inputs'))).toEqual([]);
    server.reset();

    const r = await api(s.url, 'POST', '/v1/jobs', { url, options });
    expect(r.status, r.text).toBe(202);
    expect(r.json.input).toEqual({ kind: 'url', name: url, bytes: size });
    expect(r.json.plan.remote).toMatchObject({ url, mode: 'ranges', sizeBytes: size });
    const job = await waitJob(s.url, r.json.id, 120_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    // Nothing was stored: the job read the URL.
    expect(readdirSync(join(s.svc.data.root, 'inputs'))).toEqual([]);

    // The local file's frames: the same timestamps, bytes and frame numbers (each loop restarts them,
    // and stream copy shifts each loop by its audio's priming, so the keyframes fall near 50 s, 100 s, ...).
    const frames = await jobFrames(s.url, job.id);
    expect(frames.map((f) => f.t)).toEqual(local.frames.map((f) => f.timestampSec));
    expect(frames.map((f) => f.n)).toEqual([0, 300, 0, 300, 540]);
    expect(frames).toEqual(await localFrames(files['long.mp4']!, options));

    // The result says what the run fetched; with the plan's reading, it is all the server sent.
    const read = job.result.remote;
    expect(read).toMatchObject({ url, mode: 'ranges', sizeBytes: size, retries: 0 });
    expect(read.reason).toBeUndefined();
    expect(read.bytesFetched + r.json.plan.remote.bytesFetched).toBe(server.bytesSent);
    expect(read.requests + r.json.plan.remote.requests).toBe(server.requests);
    // The first block, moov and the four keyframes kept (close ranges merged), nothing else: under a quarter of the file.
    const kept = frames.reduce((n, f) => n + moov.index.size[moov.index.times.indexOf(f.t)]!, 0);
    expect(read.bytesFetched).toBeLessThanOrEqual(HEAD_BLOCK + Math.max(moov.size, HEAD_BLOCK) + kept + frames.length * MERGE_GAP);
    expect(read.bytesFetched).toBeLessThan(size / 4);
    expect(read.fraction).toBe(Math.round((read.bytesFetched / size) * 1e6) / 1e6);
    const manifest = (await api(s.url, 'GET', `/v1/jobs/${job.id}/manifest`)).json;
    expect(manifest.frames.remote).toMatchObject({ url, mode: 'ranges', bytesFetched: read.bytesFetched, requests: read.requests });
    for (const t of [planned.text, r.text, JSON.stringify(job), JSON.stringify(manifest)]) {
      expect(t).not.toContain(s.svc.data.root);
      expect(t).not.toContain('omniprep-remote-');
    }
  }, 180_000);

  it("a WebM URL job: its keyframes from the Cues, fetched alone, the local file's frames", async () => {
    const url = server.url('long.webm');
    const size = readFileSync(files['long.webm']!).length;
    const r = await api(s.url, 'POST', '/v1/jobs', { url, options: { every: 10 } });
    expect(r.status, r.text).toBe(202);
    expect(r.json.input).toEqual({ kind: 'url', name: url, bytes: size });
    expect(r.json.plan.remote).toMatchObject({ url, mode: 'ranges', sizeBytes: size });
    const job = await waitJob(s.url, r.json.id, 120_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const frames = await jobFrames(s.url, job.id);
    expect(frames.map((f) => f.n)).toEqual([0, 300, 600, 900, 1200, 1500, 1740]);
    expect(frames).toEqual(await localFrames(files['long.webm']!, { every: 10 }));
    const read = job.result.remote;
    expect(read).toMatchObject({ url, mode: 'ranges', sizeBytes: size });
    expect(read.bytesFetched + r.json.plan.remote.bytesFetched).toBe(server.bytesSent);
    expect(read.bytesFetched).toBeLessThan(size / 3);
  }, 180_000);

  it('exact mode with audio: the frames and the audio cuts of the local file, both readings in the result', async () => {
    const url = server.url('clip.mp4');
    const options = { every: 3.3, mode: 'exact', audio: true, audioOptions: { chunkSeconds: 8 } };
    const r = await api(s.url, 'POST', '/v1/jobs', { url, options });
    expect(r.status, r.text).toBe(202);
    const job = await waitJob(s.url, r.json.id, 120_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const frames = await jobFrames(s.url, job.id);
    expect(frames.map((f) => f.n)).toEqual(frames.map((f) => Math.round(f.t * 30)));
    expect(frames).toEqual(await localFrames(files['clip.mp4']!, { every: 3.3, mode: 'exact' }));
    const manifest = (await api(s.url, 'GET', `/v1/jobs/${job.id}/manifest`)).json;
    expect(manifest.audio.map((c: { startSec: number }) => c.startSec)).toEqual([0, 8, 16]);
    const read = job.result.remote;
    expect(read).toMatchObject({ url, mode: 'ranges' });
    // Sampling and the audio cut each read the URL: the result adds both up.
    expect(read.bytesFetched + r.json.plan.remote.bytesFetched).toBe(server.bytesSent);
    expect(read.requests + r.json.plan.remote.requests).toBe(server.requests);
    expect(read.bytesFetched).toBeGreaterThan(manifest.frames.remote.bytesFetched);
  }, 180_000);

  it('a server without range support: the file is downloaded once at submit, and the plan and the result say so', async () => {
    server.noRanges = true;
    const url = server.url('clip.mp4');
    const size = readFileSync(files['clip.mp4']!).length;
    const r = await api(s.url, 'POST', '/v1/jobs', { url, options: { every: 4 } });
    expect(r.status, r.text).toBe(202);
    const whole = { url, mode: 'download', reason: 'the server does not answer byte ranges', sizeBytes: size, bytesFetched: size, requests: 1 };
    expect(r.json.plan.remote).toMatchObject(whole);
    expect(r.json.input).toEqual({ kind: 'url', name: url, bytes: size, sha256: sha256(files['clip.mp4']!) });
    const job = await waitJob(s.url, r.json.id, 120_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(server.requests).toBe(1);
    expect(job.result.remote).toMatchObject(whole);
    const frames = await jobFrames(s.url, job.id);
    expect(frames.map((f) => f.n)).toEqual([0, 120, 240, 360, 480]);
    expect(frames).toEqual(await localFrames(files['clip.mp4']!, { every: 4 }));
  }, 180_000);

  it('the cost curve reads a URL whole (it works on a local file), and names the URL', async () => {
    const url = server.url('clip.mp4');
    const r = await api(s.url, 'POST', '/v1/cost-curve?every=4,10&shots=false&chart=false', { url });
    expect(r.status, r.text).toBe(200);
    expect(r.json.input).toBe(url);
    expect(server.bytesSent).toBe(readFileSync(files['clip.mp4']!).length);
    expect(r.text).not.toContain(s.svc.data.root);
  }, 60_000);

  it('the URL is pinned at submit: a file that changed before the job ran fails it, naming the URL', async () => {
    const data = tempDir('svc-data-');
    const url = server.url('clip.mp4');
    const a = await startService({ dataDir: data, workers: 0, allowPrivateUrls: true });
    const r = await api(a.url, 'POST', '/v1/jobs', { url, options: { every: 4 } });
    await a.close();
    expect(r.status, r.text).toBe(202);
    server.changeEtag();
    const b = await startService({ dataDir: data, workers: 1, allowPrivateUrls: true });
    try {
      const job = await waitJob(b.url, r.json.id, 120_000);
      expect(job.state).toBe('failed');
      expect(job.error).toEqual({
        code: 'CORRUPT',
        message: expect.stringMatching(new RegExp(`^${url.replace(/[.]/g, '\\.')}: the file changed on the server since it was first read \\(its ETag is `)),
      });
    } finally {
      await b.close();
    }
  }, 120_000);

  it('private and loopback URLs are refused unless the server allows them', async () => {
    const closed = await startService({ workers: 0 });
    try {
      const r = await api(closed.url, 'POST', '/v1/plan', { url: server.url('clip.mp4') });
      expectError(r, 403, 'FORBIDDEN_URL', /loopback/);
      expect(server.requests).toBe(0);
    } finally {
      await closed.close();
    }
  });
});
