/**
 * A service job is planned once: the plan made at submit and the facts it was made from are kept
 * with the job (DATA/plans/JOB.json), and the worker executes them without probing or planning
 * again. A stored input that changed between submit and run fails the job in one line. A URL read
 * by byte ranges is planned once too: its worker opens it again, checks it is the same file (size,
 * ETag, Last-Modified), and executes the stored plan on the packets it fetches.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { plan } from '../../src/plan/plan.js';
import { loggingFfprobe } from '../helpers/ffprobe-log.js';
import { ownedTempDirs } from '../helpers/temp.js';
import { fixture } from '../helpers/fixtures.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';
import { api, startService, upload, waitJob } from '../helpers/service.js';

const dir = ownedTempDirs();

/** Theora video (6 s, a keyframe every second) with a Vorbis tone, in Ogg. */
let ogv: string;
beforeAll(async () => {
  ogv = join(dir('planned-media-'), 'talk.ogv');
  await runProcess({
    command: resolveBinary('ffmpeg').path,
    args: [
      '-v',
      'error',
      '-i',
      await fixture('theora'),
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=6',
      '-c:v',
      'copy',
      '-c:a',
      'libvorbis',
      '-shortest',
      ogv,
    ],
    input: ogv,
    timeoutMs: 60_000,
  });
}, 120_000);

const OPTIONS = { every: 2, audio: true, mode: 'exact' as const };

/** Submits the Ogg file to a service that only queues (workers 0); returns the job id and the stored file. */
async function queueOne(data: string): Promise<{ id: string; stored: string }> {
  const first = await startService({ dataDir: data, workers: 0 });
  try {
    const r = await upload(first.url, ogv, OPTIONS);
    expect(r.status, r.text).toBe(202);
    expect(existsSync(join(data, 'plans', `${r.json.id}.json`))).toBe(true);
    const [name] = readdirSync(join(data, 'inputs'));
    return { id: r.json.id, stored: join(data, 'inputs', name!) };
  } finally {
    await first.close();
  }
}

describe('a service job is planned once', () => {
  it('runs ffprobe once from submit to done, and its frames are those of the plan', async () => {
    const expected = await plan(ogv, OPTIONS);
    expect(expected.frames.map((f) => f.timestampSec)).toEqual([0, 2, 4]);
    const ffprobe = loggingFfprobe(dir('planned-ffprobe-'));
    const before = process.env.OMNIPREP_FFPROBE;
    // Set before the service starts: its planning threads inherit it.
    process.env.OMNIPREP_FFPROBE = ffprobe.path;
    const data = dir('svc-data-');
    const s = await startService({ dataDir: data, workers: 1 });
    try {
      const r = await upload(s.url, ogv, OPTIONS);
      expect(r.status, r.text).toBe(202);
      const job = await waitJob(s.url, r.json.id, 120_000);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      expect(ffprobe.calls()).toHaveLength(1);
      const kept = JSON.parse(readFileSync(join(data, 'plans', `${job.id}.json`), 'utf8'));
      const manifest = await api(s.url, 'GET', `/v1/jobs/${job.id}/manifest`);
      const times = manifest.json.frames.frames.map((f: { timestampSec: number }) => f.timestampSec);
      expect(times).toEqual(kept.plan.frames.map((f: { timestampSec: number }) => f.timestampSec));
      expect(times).toEqual([0, 2, 4]);
      expect(kept.facts.info.container).toBe('ogg');
      expect(kept.facts.index.times).toHaveLength(180);
      expect(manifest.json.audio.length).toBe(job.plan.audioChunks);
      expect(manifest.json.audio.length).toBeGreaterThan(0);
      // The plan goes with the job's outputs.
      expect((await api(s.url, 'DELETE', `/v1/jobs/${job.id}`)).status).toBe(200);
      expect(readdirSync(join(data, 'plans'))).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.OMNIPREP_FFPROBE;
      else process.env.OMNIPREP_FFPROBE = before;
      await s.close();
    }
  }, 180_000);

  it('a stored input that changed after submit fails the job: CORRUPT, naming the input; an orphan plan is swept', async () => {
    // Another size: refused at once.
    const longer = dir('svc-data-');
    const a = await queueOne(longer);
    const size = statSync(a.stored).size;
    writeFileSync(a.stored, Buffer.concat([readFileSync(a.stored), Buffer.alloc(100)]));
    // The same size, other bytes (and another modification time): the stored SHA-256 tells.
    const same = dir('svc-data-');
    const b = await queueOne(same);
    const bytes = readFileSync(b.stored);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(b.stored, bytes);
    const cases = [
      { data: longer, id: a.id, message: `talk.ogv: changed since it was planned (${size + 100} bytes, planned with ${size}); plan it again` },
      { data: same, id: b.id, message: 'talk.ogv: changed since it was planned (its SHA-256 is not the one planned); plan it again' },
    ];
    // A plan whose job was never created (its submission died between the two) is swept at start.
    const orphan = join(longer, 'plans', `${randomUUID()}.json`);
    writeFileSync(orphan, '{}');
    for (const c of cases) {
      const s = await startService({ dataDir: c.data, workers: 1 });
      try {
        const job = await waitJob(s.url, c.id, 120_000);
        expect(job.state).toBe('failed');
        expect(job.attempts).toBe(1);
        expect(job.error).toMatchObject({ code: 'CORRUPT', message: c.message });
        expect(readdirSync(join(c.data, 'plans'))).toEqual([`${c.id}.json`]); // kept with the job until it is deleted
      } finally {
        await s.close();
      }
    }
  }, 240_000);
});

/** Runs `body` with OMNIPREP_FFPROBE logging every call (set before a service starts: its threads inherit it). */
async function countingFfprobe<T>(body: (calls: () => string[]) => Promise<T>): Promise<T> {
  const ffprobe = loggingFfprobe(dir('planned-ffprobe-'));
  const before = process.env.OMNIPREP_FFPROBE;
  process.env.OMNIPREP_FFPROBE = ffprobe.path;
  try {
    return await body(ffprobe.calls);
  } finally {
    if (before === undefined) delete process.env.OMNIPREP_FFPROBE;
    else process.env.OMNIPREP_FFPROBE = before;
  }
}

describe('a URL job read by byte ranges is planned once', () => {
  let server: RangeServer;
  const URL_OPTIONS = { every: 5, audio: true, mode: 'exact' as const };
  beforeAll(async () => {
    server = await startRangeServer({ 'clip.mp4': await fixture('timecode') }); // 20 s, 30 fps, AAC
  }, 120_000);
  afterAll(() => server?.close());

  it('runs no ffprobe from submit to done (frames and audio): the moov gives the facts; the worker executes the stored plan', async () => {
    const url = server.url('clip.mp4');
    await countingFfprobe(async (calls) => {
      const data = dir('svc-data-');
      const s = await startService({ dataDir: data, workers: 1, allowPrivateUrls: true });
      try {
        const r = await api(s.url, 'POST', '/v1/jobs', { url, options: URL_OPTIONS });
        expect(r.status, r.text).toBe(202);
        expect(r.json.plan.remote).toMatchObject({ url, mode: 'ranges' });
        const kept = JSON.parse(readFileSync(join(data, 'plans', `${r.json.id}.json`), 'utf8'));
        expect(kept.facts.info).toMatchObject({ input: url, path: url, container: 'mp4' });
        expect(kept.facts.index.times).toHaveLength(600);
        const job = await waitJob(s.url, r.json.id, 120_000);
        expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
        // The submit's probe reads the first block and moov in JS (src/probe/mp4-probe.ts), no
        // ffprobe; the worker probes nothing (frames nor audio).
        expect(calls()).toEqual([]);
        const manifest = await api(s.url, 'GET', `/v1/jobs/${job.id}/manifest`);
        const times = manifest.json.frames.frames.map((f: { timestampSec: number }) => f.timestampSec);
        expect(times).toEqual(kept.plan.frames.map((f: { timestampSec: number }) => f.timestampSec));
        expect(times).toEqual([0, 5, 10, 15]);
        expect(manifest.json.frames.remote).toMatchObject({ url, mode: 'ranges' });
        expect(manifest.json.audio.length).toBe(job.plan.audioChunks);
        expect(manifest.json.audio.length).toBeGreaterThan(0);
        expect(readdirSync(join(data, 'inputs'))).toEqual([]); // nothing stored: the job read the URL
      } finally {
        await s.close();
      }
    });
  }, 180_000);

  it('a URL whose file changed on the server after submit fails the job in one line, without probing it again', async () => {
    const url = server.url('clip.mp4');
    const data = dir('svc-data-');
    await countingFfprobe(async (calls) => {
      const a = await startService({ dataDir: data, workers: 0, allowPrivateUrls: true });
      const r = await api(a.url, 'POST', '/v1/jobs', { url, options: URL_OPTIONS }).finally(() => a.close());
      expect(r.status, r.text).toBe(202);
      expect(existsSync(join(data, 'plans', `${r.json.id}.json`))).toBe(true);
      const etag = r.json.plan.remote.etag;
      expect(etag).toMatch(/^".+"$/);
      server.changeEtag();
      const b = await startService({ dataDir: data, workers: 1, allowPrivateUrls: true });
      try {
        const job = await waitJob(b.url, r.json.id, 120_000);
        expect(job.state).toBe('failed');
        expect(job.attempts).toBe(1);
        expect(job.error.code).toBe('CORRUPT');
        expect(job.error.message).toMatch(
          new RegExp(`^${url.replace(/[.]/g, '\\.')}: the file changed on the server since it was first read \\(its ETag is ".+", was ${etag}\\)$`),
        );
        expect(calls()).toEqual([]); // the submit's probe read the moov in JS; the worker probes nothing
      } finally {
        await b.close();
      }
    });
  }, 180_000);
});
