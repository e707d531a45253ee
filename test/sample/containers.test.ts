/**
 * Every container and codec: the timecode bars encoded as VP9/WebM, AV1/Matroska, HEVC/MP4,
 * MJPEG/AVI, H.264/MPEG-TS and Theora/Ogg, sampled in every mode; each image must show the frame
 * the manifest names. Exact and keyframe mode run with each decoder (node-av, ffmpeg). Then the two real files that used to fail (when ../shared/media is there).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { sample, type Manifest } from '../../src/sample/sample.js';
import { closeAvPool } from '../../src/extract/av-pool.js';
import { plan } from '../../src/plan/plan.js';
import { probe } from '../../src/probe/probe.js';
import { CODEC_FIXTURES, fixture, readFrameNumber, sharedMedia, tempDir } from '../helpers/fixtures.js';

afterAll(() => closeAvPool());

async function run(input: string, opts: Parameters<typeof sample>[1] = {}): Promise<Manifest & { dir: string }> {
  const out = tempDir('containers-');
  const m = await sample(input, { out, ...opts }).manifest();
  return { ...m, dir: out };
}

async function frameNumbers(m: Manifest & { dir: string }): Promise<number[]> {
  return Promise.all(m.frames.map((f) => readFrameNumber(join(m.dir, f.file))));
}

/** The frame shown at t (30 fps): the last one at or before it. */
const shownAt = (t: number): number => Math.floor(t * 30 + 1e-6);

// The frame-accuracy tests run with each decoder that can be chosen: node-av's FFmpeg 8.1 in its
// child processes, and the ffmpeg binary through the strategies.
describe.each(['node-av', 'ffmpeg'] as const)('decoder %s', (decoder) => {
  describe.each(Object.entries(CODEC_FIXTURES))('%s', (name, facts) => {
    const path = (): Promise<string> => fixture(name as keyof typeof CODEC_FIXTURES);

    it('exact mode: each image is the frame shown at its target', async () => {
      const m = await run(await path(), { mode: 'exact', every: 0.7, decoder });
      const targets = Array.from({ length: Math.ceil(facts.seconds / 0.7) }, (_, i) => Math.round(i * 0.7 * 1e6) / 1e6).filter((t) => t < facts.seconds);
      expect(m.frames.map((f) => Math.round(f.timestampSec * 30))).toEqual(targets.map(shownAt));
      expect(await frameNumbers(m)).toEqual(targets.map(shownAt));
      expect(Object.keys(m.timings.decodePaths).includes('node-av')).toBe(decoder === 'node-av');
    });

    it('keyframe mode: keyframes where the window holds one, and plan = sample', async () => {
      const opts = { every: 1.3, decoder };
      const p = await plan(await path(), opts);
      const m = await run(await path(), opts);
      expect(m.frames.map((f) => f.timestampSec)).toEqual(p.frames.map((f) => f.timestampSec));
      expect(m.frames.filter((f) => f.keyframe).every((f) => Math.round(f.timestampSec * 30) % facts.gop === 0)).toBe(true);
      expect(await frameNumbers(m)).toEqual(m.frames.map((f) => Math.round(f.timestampSec * 30)));
    });
  });
});

describe.each(Object.entries(CODEC_FIXTURES))('%s', (name, facts) => {
  const path = (): Promise<string> => fixture(name as keyof typeof CODEC_FIXTURES);

  it('dense exact sampling (every 0.1 s): every image is the frame it claims', async () => {
    const m = await run(await path(), { mode: 'exact', every: 0.1 });
    expect(m.frames).toHaveLength(facts.seconds * 10);
    expect(await frameNumbers(m)).toEqual(m.frames.map((f) => Math.round(f.timestampSec * 30)));
  });

  it('scene mode runs and fills the gaps with the right frames', async () => {
    const m = await run(await path(), { mode: 'scene', maxGap: 1 });
    expect(m.frames.length).toBeGreaterThanOrEqual(facts.seconds - 1);
    expect(await frameNumbers(m)).toEqual(m.frames.map((f) => Math.round(f.timestampSec * 30)));
  });
});

describe('inputs refused or repaired up front', () => {
  it('a WebM without a duration in its header takes it from where its last packet ends', async () => {
    const path = await fixture('liveWebm');
    const info = await probe(path);
    expect(info.durationSec).toBeCloseTo(3, 3);
    const m = await run(path, { mode: 'exact', every: 1 });
    expect(await frameNumbers(m)).toEqual([0, 30, 60]);
  });

  it('an encrypted MP4 is refused by probe, plan and sample with its cause', async () => {
    const path = await fixture('cenc');
    await expect(probe(path)).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT', message: `${path}: is encrypted (CENC): protected media cannot be decoded` });
    await expect(plan(path)).rejects.toThrow('is encrypted (CENC)');
    await expect(run(path)).rejects.toThrow('is encrypted (CENC)');
  });
});

describe('real files that failed before', () => {
  it.skipIf(!sharedMedia('movie_300.ogv'))(
    'Ogg/Theora (pages share byte positions): every mode, plan = sample',
    async () => {
      const path = sharedMedia('movie_300.ogv')!;
      // the first minute (it holds the keyframe at 10.667 s keyframe mode used to fail on)
      for (const opts of [
        { mode: 'exact', every: 7, end: 60 },
        { every: 7, end: 60 },
        { mode: 'scene', every: 7, end: 60 },
      ] as const) {
        const p = await plan(path, opts);
        const m = await run(path, opts);
        expect(
          m.frames.map((f) => f.timestampSec),
          JSON.stringify(opts),
        ).toEqual(p.frames.map((f) => f.timestampSec));
        expect(m.frames.length).toBeGreaterThan(0);
        expect(m.warnings.filter((w) => w.includes('decoded at other times'))).toEqual([]);
      }
    },
    240_000,
  );

  it.skipIf(!sharedMedia('no_duration.webm'))('no_duration.webm: probe, plan and sample', async () => {
    const path = sharedMedia('no_duration.webm')!;
    const info = await probe(path);
    // the last video packet starts at 4.872 s and lasts 0.066 s
    expect(info.durationSec).toBeCloseTo(4.938, 3);
    const p = await plan(path, { mode: 'exact', every: 1 });
    const m = await run(path, { mode: 'exact', every: 1 });
    expect(m.frames.map((f) => f.timestampSec)).toEqual(p.frames.map((f) => f.timestampSec));
    expect(m.frames).toHaveLength(5);
  });
});
