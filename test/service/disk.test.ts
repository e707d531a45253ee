/**
 * A full data disk: the service's --data is a 2 MB tmpfs. Uploads, path copies and URL copies that
 * do not fit answer 507 with one line naming the input, leave nothing in tmp/ or inputs/, and the
 * next input that fits is taken; a job whose frames fill the disk fails with that line, its
 * outputs and its input removed. Needs root to mount (CI runs as root); skips, saying so, otherwise.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { fixture, tempDir } from '../helpers/fixtures.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';
import { api, startService, upload, waitFor, waitJob, type Answer, type Running } from '../helpers/service.js';

const mnt = tempDir('svc-tmpfs-');
const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]).status === 0;
if (!mounted) console.warn('disk.test.ts: SKIPPED: mounting a 2 MB tmpfs needs root (CI runs as root)');

describe.skipIf(!mounted)('a full data disk', () => {
  const media = tempDir('svc-media-');
  const big = join(media, 'big.wav'); // 20 s of 48 kHz stereo PCM: 3.84 MB, twice the disk
  const data = join(mnt, 'data');
  let s: Running;
  let server: RangeServer;
  /** Files (not directories: this node's own work directory stays) under a directory of --data. */
  const left = (dir: string): string[] =>
    readdirSync(join(data, dir), { recursive: true, withFileTypes: true })
      .filter((e) => !e.isDirectory())
      .map((e) => e.name);

  beforeAll(async () => {
    await runProcess({
      command: resolveBinary('ffmpeg').path,
      args: [
        '-nostdin',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000:duration=20',
        '-ac',
        '2',
        '-c:a',
        'pcm_s16le',
        big,
      ],
      input: 'big.wav',
      timeoutMs: 60_000,
    });
    copyFileSync(await fixture('fadePan'), join(media, 'pan.mp4'));
    copyFileSync(await fixture('audioFirst'), join(media, 'small.mp4'));
    server = await startRangeServer({ 'big.wav': big });
    s = await startService({ dataDir: data, workers: 1, allowRoots: [media], allowPrivateUrls: true });
  });

  afterAll(async () => {
    await s?.close();
    await server?.close();
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
    rmSync(media, { recursive: true, force: true });
  });

  const expect507 = (r: Answer, name: string): void => {
    expect(r.status, r.text).toBe(507);
    expect(r.json).toEqual({ error: { code: 'INSUFFICIENT_STORAGE', message: `the server's data disk is full (ENOSPC) while storing ${name}` } });
    expect(left('tmp')).toEqual([]);
    expect(left('inputs')).toEqual([]);
    expect(left('outputs')).toEqual([]);
  };

  const smallJobRuns = async (): Promise<void> => {
    const r = await upload(s.url, join(media, 'small.mp4'), { every: 2 });
    expect(r.status, r.text).toBe(202);
    const job = await waitJob(s.url, r.json.id, 60_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result.frames).toBe(2);
    // Freed again, so the next case starts from the same empty disk.
    expect((await api(s.url, 'DELETE', `/v1/jobs/${job.id}`)).status).toBe(200);
    expect(left('inputs')).toEqual([]);
  };

  it('an upload twice the disk: 507, nothing left, and the next upload is taken', async () => {
    // An upload is "the upload": its file name stays inside intake.ts, which does not hand it to DataDir.receive.
    expect507(await upload(s.url, big, { every: 1 }), 'big.wav');
    await smallJobRuns();
  });

  it('a path copy and a URL read whole: the same line, naming the path and the URL', async () => {
    expect507(await api(s.url, 'POST', '/v1/jobs', { path: big, options: { every: 1 } }), big);
    const url = server.url('big.wav');
    expect507(await api(s.url, 'POST', '/v1/jobs', { url, options: { every: 1 } }), url);
    await smallJobRuns();
  });

  it('a job whose frames fill the disk fails with the line, once, and frees its outputs and input', async () => {
    // 300 PNG frames at full size: several MB. Uploaded (a path input's copy stays pinned for replanning).
    const r = await upload(s.url, join(media, 'pan.mp4'), { every: 0.05, format: 'png', detail: 'original' });
    expect(r.status, r.text).toBe(202);
    const job = await waitJob(s.url, r.json.id, 120_000);
    expect(job.state).toBe('failed');
    expect(job.attempts).toBe(1); // a full disk is not tried again
    expect(job.error).toEqual({ code: 'INSUFFICIENT_STORAGE', message: `the server's data disk is full (ENOSPC) while storing the outputs of job ${job.id}` });
    expect(left('outputs')).toEqual([]);
    await waitFor('its input to go (just after the failure is recorded)', () => left('inputs').length === 0, 10_000);
    await smallJobRuns();
  });
});
