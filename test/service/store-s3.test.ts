/**
 * The service with its objects in S3 (`--store`), against the tests' real S3 server
 * (scripts/s3-server.sh): start-up checks, uploads streamed to the store, presigned uploads,
 * `s3://` inputs, frames and manifests redirected to presigned GETs or proxied, and DELETE
 * removing the job's objects. Skips with one line when no S3 server answers.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from '../../src/service/service.js';
import { CLI } from '../helpers/cli.js';
import { fixture, readFrameNumber, tempDir } from '../helpers/fixtures.js';
import { api, startService, upload, waitFor, waitJob, type Running } from '../helpers/service.js';
import { listKeys, S3_ENV, s3Available, tempBucket } from '../helpers/s3.js';

const hasS3 = await s3Available();
if (!hasS3) console.warn(`store-s3.test.ts: SKIPPED: no S3 server on ${S3_ENV.AWS_ENDPOINT_URL_S3} (start it with scripts/s3-server.sh, as .ci/run does)`);

/** Runs fn with the environment changed, then puts it back. */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

/** What creating a service says: 'started', or the error's code and message. */
async function startError(cfg: Record<string, unknown>): Promise<string> {
  const dataDir = tempDir('svc-s3-bad-');
  try {
    const svc = await createService({ dataDir, port: 0, ...cfg });
    await svc.close();
    return 'started';
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasS3)('the service with --store s3://', () => {
  let bucket: Awaited<ReturnType<typeof tempBucket>>;
  let node: Running;
  let proxy: Running;
  beforeAll(async () => {
    Object.assign(process.env, S3_ENV);
    bucket = await tempBucket();
    node = await startService({ store: `s3://${bucket.name}/svc` });
    proxy = await startService({ store: `s3://${bucket.name}/svc`, proxyStore: true });
  }, 120_000);
  afterAll(async () => {
    await node?.close();
    await proxy?.close();
    await bucket?.drop();
  });

  it('fails at start-up with one line on a wrong secret, a missing bucket or an unreachable endpoint', async () => {
    const store = `s3://${bucket.name}/svc`;
    expect(await withEnv({ AWS_SECRET_ACCESS_KEY: 'wrong-secret' }, () => startError({ store }))).toBe(
      `INVALID_OPTION: option store: ${store}: the store refused the credentials (403; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
    );
    expect(await startError({ store: 's3://omniprep-no-such-bucket/x' })).toBe(
      `NOT_FOUND: option store: s3://omniprep-no-such-bucket/x: the bucket omniprep-no-such-bucket does not exist at ${S3_ENV.AWS_ENDPOINT_URL_S3}`,
    );
    expect(await startError({ store, s3Endpoint: 'http://127.0.0.1:1' })).toMatch(
      new RegExp(`^REQUEST_FAILED: option store: ${store}: cannot reach http://127.0.0.1:1 \\(ECONNREFUSED[^\\n]*\\)$`),
    );
    expect(await startError({ store: 'http://bucket/x' })).toBe('INVALID_OPTION: option store: expected s3://BUCKET/PREFIX, got "http://bucket/x"');
    // The command line: exit 1 and one line on stderr.
    const cliData = tempDir('svc-s3-cli-');
    const cli = spawnSync(process.execPath, [CLI, 'serve', '--port', '0', '--store', 's3://omniprep-no-such-bucket/x', '--data', cliData], {
      env: { ...process.env, ...S3_ENV },
      encoding: 'utf8',
      timeout: 60_000,
    });
    rmSync(cliData, { recursive: true, force: true });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toBe(
      `omniprep: option store: s3://omniprep-no-such-bucket/x: the bucket omniprep-no-such-bucket does not exist at ${S3_ENV.AWS_ENDPOINT_URL_S3}\n`,
    );
  }, 120_000);

  it('an upload streamed to the store: frames by redirect and by proxy equal the plan, DELETE removes every object', async () => {
    const clip = await fixture('audioFirst');
    const r = await upload(node.url, clip, { every: 1, prompt: 'What happens?' });
    expect(r.status, r.text).toBe(202);
    const id = r.json.id as string;
    const job = await waitJob(node.url, id, 60_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result.frames).toBe(4);
    const keys = await listKeys(bucket.client, bucket.name, `svc/jobs/${id}/`);
    expect(keys.filter((k) => /\/frames\/[^/]+\.jpg$/.test(k)).length).toBe(4);
    expect(keys).toContain(`svc/jobs/${id}/manifest.json`);
    const uploads = await listKeys(bucket.client, bucket.name, 'svc/uploads/');
    expect(uploads.length).toBe(1);
    // A 302 to a presigned GET of the store, and the same bytes through the proxying node.
    const redirect = await fetch(`${node.url}/v1/jobs/${id}/frames/2`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toMatch(
      new RegExp(`^${S3_ENV.AWS_ENDPOINT_URL_S3}/${bucket.name}/svc/jobs/${id}/frames/[^?]+\\?.*X-Amz-Signature=`),
    );
    const viaStore = Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer());
    const manifest = (await api(node.url, 'GET', `/v1/jobs/${id}/manifest`)).json;
    expect(manifest.frames.frames.map((f: { index: number }) => f.index)).toEqual([0, 1, 2, 3]);
    expect(createHash('sha256').update(viaStore).digest('hex')).toBe(manifest.frames.frames[2].sha256);
    expect(await readFrameNumber(viaStore)).toBe(50);
    // A node with --proxy-store sends the bytes itself (its own job: embedded nodes share no job state).
    const proxied = await upload(proxy.url, clip, { every: 1 });
    const proxiedJob = await waitJob(proxy.url, proxied.json.id, 60_000);
    const viaProxy = await fetch(`${proxy.url}/v1/jobs/${proxied.json.id}/frames/2`, { redirect: 'manual' });
    expect(viaProxy.status).toBe(200);
    expect(viaProxy.headers.get('content-type')).toBe('image/jpeg');
    const proxiedBytes = Buffer.from(await viaProxy.arrayBuffer());
    const proxiedManifest = (await api(proxy.url, 'GET', `/v1/jobs/${proxied.json.id}/manifest`)).json;
    expect(proxiedManifest.id).toBe(proxiedJob.id);
    expect(createHash('sha256').update(proxiedBytes).digest('hex')).toBe(proxiedManifest.frames.frames[2].sha256);
    expect(await readFrameNumber(proxiedBytes)).toBe(50);
    await api(proxy.url, 'DELETE', `/v1/jobs/${proxied.json.id}`);
    // Request bodies are built from a copy of the job's objects: the frame's bytes inline.
    const requests = await api(node.url, 'GET', `/v1/jobs/${id}/requests`);
    expect(requests.status, requests.text).toBe(200);
    expect(requests.text).toContain(viaStore.toString('base64'));
    expect((await api(node.url, 'DELETE', `/v1/jobs/${id}`)).status).toBe(200);
    expect(await listKeys(bucket.client, bucket.name, `svc/jobs/${id}/`)).toEqual([]);
    expect(await listKeys(bucket.client, bucket.name, 'svc/uploads/')).toEqual([]);
  }, 120_000);

  it('a presigned upload, then { upload: id }; s3:// inputs in the bucket, refused outside it', async () => {
    const clip = await fixture('audioFirst');
    const slot = await api(node.url, 'POST', '/v1/uploads', { name: 'clip.mp4' });
    expect(slot.status, slot.text).toBe(201);
    expect(slot.json.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(slot.json).toMatchObject({ method: 'PUT', expiresInSec: 3600 });
    expect((await fetch(slot.json.url, { method: 'PUT', body: await readFile(clip) })).status).toBe(200);
    const planned = await api(node.url, 'POST', '/v1/plan', { upload: slot.json.id, options: { every: 1 } });
    expect(planned.status, planned.text).toBe(200);
    expect(planned.text).not.toMatch(/X-Amz-Signature/);
    const submitted = await api(node.url, 'POST', '/v1/jobs', { upload: slot.json.id, options: { every: 1 } });
    expect(submitted.status, submitted.text).toBe(202);
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'inputs/clip.mp4', Body: await readFile(clip) }));
    const fromUrl = await api(node.url, 'POST', '/v1/jobs', { url: `s3://${bucket.name}/inputs/clip.mp4`, options: { every: 1 } });
    expect(fromUrl.status, fromUrl.text).toBe(202);
    for (const id of [submitted.json.id, fromUrl.json.id]) {
      const job = await waitJob(node.url, id, 60_000);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      expect(job.result.frames).toBe(4);
      expect(job.result.remote.mode).toBe('ranges');
      expect(JSON.stringify(job)).not.toMatch(/X-Amz-Signature/);
    }
    const outside = await api(node.url, 'POST', '/v1/jobs', { url: 's3://another-bucket/clip.mp4', options: { every: 1 } });
    expect(outside.status).toBe(403);
    expect(outside.json.error.message).toBe(`s3://another-bucket/clip.mp4: this service reads s3:// inputs only in its own bucket (${bucket.name})`);
    const missing = await api(node.url, 'POST', '/v1/jobs', { upload: '00000000-0000-4000-8000-000000000000', options: { every: 1 } });
    expect(missing.status).toBe(404);
    const bad = await api(node.url, 'POST', '/v1/jobs', { upload: '../x', options: {} });
    expect(bad.status).toBe(400);
    // The client's object stays; the job's outputs go.
    await api(node.url, 'DELETE', `/v1/jobs/${fromUrl.json.id}`);
    expect(await listKeys(bucket.client, bucket.name, `svc/jobs/${fromUrl.json.id}/`)).toEqual([]);
    expect(await listKeys(bucket.client, bucket.name, 'inputs/')).toEqual(['inputs/clip.mp4']);
  }, 180_000);

  it("a store that refuses writes during a job: tried again, then failed with the store's error, nothing left and no manifest", async () => {
    // A proxy in front of the S3 server that answers 503 to every write under jobs/ (reads pass).
    let refused = 0;
    const target = new URL(S3_ENV.AWS_ENDPOINT_URL_S3);
    const proxyServer = createServer((req, res) => {
      if ((req.method === 'PUT' || req.method === 'POST') && req.url?.includes('/jobs/')) {
        refused++;
        req.resume();
        res.writeHead(503, { 'content-type': 'application/xml' }).end('<Error><Code>ServiceUnavailable</Code></Error>');
        return;
      }
      const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxyServer.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(proxyServer.address() as { port: number }).port}`;
    const flaky = await startService({ store: `s3://${bucket.name}/flaky`, s3Endpoint: endpoint });
    try {
      const r = await upload(flaky.url, await fixture('audioFirst'), { every: 1 });
      expect(r.status, r.text).toBe(202);
      const job = await waitJob(flaky.url, r.json.id, 120_000);
      expect(job.state).toBe('failed');
      expect(job.attempts).toBe(2);
      expect(job.error.code).toBe('REQUEST_FAILED');
      expect(job.error.message).toMatch(new RegExp(`^object store s3://${bucket.name}/flaky/jobs/${r.json.id}/\\S+: put failed \\(503 `));
      // Three tries of the SDK per write, at least one write per attempt.
      expect(refused).toBeGreaterThanOrEqual(6);
      expect(await listKeys(bucket.client, bucket.name, `flaky/jobs/${r.json.id}/`)).toEqual([]);
      // A failed job lets go of its own upload (just after it is recorded failed).
      await waitFor("the failed job's upload to go", async () => (await listKeys(bucket.client, bucket.name, 'flaky/uploads/')).length === 0, 30_000, 100);
      expect((await api(flaky.url, 'GET', `/v1/jobs/${r.json.id}/manifest`)).status).toBe(409);
    } finally {
      await flaky.close();
      await new Promise((r) => proxyServer.close(r));
    }
  }, 180_000);

  it('the upload limit holds in the store: a multipart upload is refused while it streams, a presigned one at submit; nothing is kept', async () => {
    const small = await startService({ store: `s3://${bucket.name}/small`, maxUploadBytes: 10_000 });
    try {
      const clip = await fixture('audioFirst');
      const size = (await readFile(clip)).length;
      expect(size).toBeGreaterThan(10_000);
      const r = await upload(small.url, clip, { every: 1 }, { name: 'clip.mp4' });
      expect(r.status).toBe(413);
      expect(r.json.error.message).toBe('clip.mp4: the upload is over the 10000-byte limit');
      const slot = await api(small.url, 'POST', '/v1/uploads', { name: 'clip.mp4' });
      expect((await fetch(slot.json.url, { method: 'PUT', body: await readFile(clip) })).status).toBe(200);
      const submitted = await api(small.url, 'POST', '/v1/jobs', { upload: slot.json.id, options: { every: 1 } });
      expect(submitted.status).toBe(413);
      expect(submitted.json.error.message).toBe(`clip.mp4: ${size} bytes, over the 10000-byte limit`);
      // The refused presigned upload went (record and object), and the refused multipart upload left nothing.
      expect((await api(small.url, 'GET', `/v1/uploads/${slot.json.id}`)).status).toBe(404);
      expect(await listKeys(bucket.client, bucket.name, 'small/')).toEqual([]);
    } finally {
      await small.close();
    }
  }, 120_000);
});
