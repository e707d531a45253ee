/**
 * The README's presigned upload flow ("Scaling out"), run as written by bash against `omniprep
 * serve --store` on the tests' S3 server, with only its port swapped: ask for an upload, PUT the
 * file to the store, submit the upload's id, fetch a frame through the redirect.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, readFrameNumber, ROOT, tempDir } from '../helpers/fixtures.js';
import { S3_ENV, s3Available, tempBucket } from '../helpers/s3.js';
import { spawnNode, waitJob, type CliNode } from '../helpers/service.js';

const hasS3 = await s3Available();
if (!hasS3) console.warn(`readme-s3.test.ts: SKIPPED: no S3 server on ${S3_ENV.AWS_ENDPOINT_URL_S3} (start it with scripts/s3-server.sh, as .ci/run does)`);

const BLOCKS = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

function bash(script: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe.skipIf(!hasS3)("the README's presigned upload flow", () => {
  let bucket: Awaited<ReturnType<typeof tempBucket>>;
  let server: CliNode;
  const dir = tempDir('readme-s3-');
  beforeAll(async () => {
    bucket = await tempBucket();
    copyFileSync(await fixture('timecode'), join(dir, 'talk.mp4'));
    server = await spawnNode(['serve', '--port', '0', '--store', `s3://${bucket.name}/readme`, '--data', join(dir, 'data'), '--workers', '1'], S3_ENV);
  }, 120_000);
  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await bucket?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs as written: upload slot, PUT to the store, job by upload id, frame through the redirect', async () => {
    const found = BLOCKS.filter((b) => b.includes('-X PUT -T talk.mp4'));
    expect(found).toHaveLength(1);
    const lines = found[0]!
      .split('\n')
      .filter((l) => l.trim() && !l.trim().startsWith('#'))
      .map((l) => l.replaceAll('http://127.0.0.1:8080', server.url!));
    expect(lines).toHaveLength(4);
    const [slot, put, submit, frame] = lines as [string, string, string, string];
    for (const c of [slot, put]) {
      const r = await bash(c, dir);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(JSON.parse(readFileSync(join(dir, 'upload.json'), 'utf8')).id).toMatch(/^[0-9a-f-]{36}$/);
    const submitted = await bash(submit, dir);
    expect(submitted.code, submitted.stderr).toBe(0);
    const job = JSON.parse(submitted.stdout);
    expect(job).toMatchObject({ state: 'queued', plan: { frames: 4 } });
    expect((await waitJob(server.url!, job.id, 90_000)).state).toBe('succeeded');
    const got = await bash(frame.replace('/ID/', `/${job.id}/`), dir);
    expect(got.code, got.stderr).toBe(0);
    expect(await readFrameNumber(readFileSync(join(dir, 'frame-0.jpg')))).toBe(0);
  }, 180_000);
});
