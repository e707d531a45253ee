/**
 * Inputs as a careless client or an attacker sends them: a path swapped for a symlink after it
 * was accepted, uploads over the limit (refused while the body still arrives), malformed and
 * oversized multipart, arrays where strings belong, deep JSON; and nothing of the server's paths
 * in what clients get back.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, readFrameNumber, tempDir } from '../helpers/fixtures.js';
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
    expectError(await api(s.url, 'POST', '/v1/plan', { path: 'x.mp4', options: { every: '5' } }), 400, 'BAD_REQUEST', /^body\.options\.every must be number$/);
    expectError(
      await api(s.url, 'POST', '/v1/plan', { path: 'x.mp4', options: { dedup: 'true' } }),
      400,
      'BAD_REQUEST',
      /^body\.options\.dedup must be boolean$/,
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
