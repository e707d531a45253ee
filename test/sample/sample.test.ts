import { describe, expect, it } from 'vitest';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { sample } from '../../src/sample/sample.js';
import { plan } from '../../src/plan/plan.js';
import { imageTokens } from '../../src/models/tokens.js';
import { fixture, readFrameNumber, sharedMedia, tempDir, vfrTime, stillImages, brokenInputs, LOW_CONTRAST_CUT, SCENE_CUTS } from '../helpers/fixtures.js';
import { processesWithMarker } from '../helpers/cli.js';
import type { Manifest, SampleOptions } from '../../src/sample/sample.js';

async function runWith(input: string, opts: Parameters<typeof sample>[1] = {}): Promise<Manifest> {
  const out = tempDir('sample-');
  return sample(input, { out, ...opts })
    .manifest()
    .then((m) => ({ ...m, dir: out }) as Manifest & { dir: string });
}

const run = runWith;

async function frameNumbers(m: Manifest): Promise<number[]> {
  const dir = (m as Manifest & { dir: string }).dir;
  return Promise.all(m.frames.map((f) => readFrameNumber(join(dir, f.file))));
}

describe('keyframe mode (the fast path)', () => {
  it('takes the keyframe nearest each target within its window, ties to the earlier one', async () => {
    const m = await run(await fixture('timecode'), { every: 5 });
    // keyframes every 2 s; targets 0, 5, 10, 15; windows [t-2.5, t+2.5): 5 -> 4 (4 and 6 tie), 15 -> 14
    expect(m.frames.map((f) => f.timestampSec)).toEqual([0, 4, 10, 14]);
    expect(m.frames.every((f) => f.keyframe)).toBe(true);
    expect(await frameNumbers(m)).toEqual([0, 120, 300, 420]);
  });

  it('where the window holds no keyframe, takes its cheapest frame to decode (10 s GOP, every 4 s)', async () => {
    const m = await run(await fixture('longgop'), { every: 4 });
    // windows [t-2, t+2): 0 -> kf 0; 4 -> none: [2, 6)'s first frame, 2; 8 -> 6; 12 -> kf 10; 16 -> 14; 20 -> kf 20; ...
    expect(m.frames.map((f) => [f.timestampSec, f.keyframe])).toEqual([
      [0, true],
      [2, false],
      [6, false],
      [10, true],
      [14, false],
      [20, true],
      [22, false],
      [26, false],
      [30, true],
      [34, false],
      [40, true],
      [42, false],
      [46, false],
      [50, true],
      [54, false],
    ]);
    expect(m.frames.map((f) => f.reason)).toEqual(m.frames.map((f) => (f.keyframe ? 'keyframe' : 'interval')));
    expect(await frameNumbers(m)).toEqual(m.frames.map((f) => Math.round(f.timestampSec * 30)));
    // a group of pictures' keyframe and its frames share one decode: one task per few groups, not per frame
    const tasks = Object.values(m.timings.decodePaths).reduce((a, n) => a + n, 0);
    expect(tasks).toBeLessThan(m.frames.length / 2);
  });
});

describe('exact mode', () => {
  it('writes the frame displayed at each target time (2 s GOPs with B-frames)', async () => {
    const m = await run(await fixture('timecode'), { mode: 'exact', every: 1.51 });
    const targets = [0, 1.51, 3.02, 4.53, 6.04, 7.55, 9.06, 10.57, 12.08, 13.59, 15.1, 16.61, 18.12, 19.63];
    expect(m.frames.map((f) => Math.round(f.timestampSec * 30))).toEqual(targets.map((t) => Math.floor(t * 30 + 1e-6)));
    expect(await frameNumbers(m)).toEqual(targets.map((t) => Math.floor(t * 30 + 1e-6)));
  });

  it('is frame-accurate with 10 s GOPs', async () => {
    const m = await run(await fixture('longgop'), { mode: 'exact', every: 7.3 });
    expect(await frameNumbers(m)).toEqual(m.frames.map((f) => Math.round(f.timestampSec * 30)));
    expect(m.frames.map((f) => f.timestampSec * 30).map(Math.round)).toEqual(
      [0, 7.3, 14.6, 21.9, 29.2, 36.5, 43.8, 51.1, 58.4].map((t) => Math.floor(t * 30 + 1e-6)),
    );
  });

  it('gives variable-frame-rate frames their real times', async () => {
    const m = await run(await fixture('vfr'), { mode: 'exact', every: 0.45 });
    const numbers = await frameNumbers(m);
    numbers.forEach((n, i) => expect(m.frames[i]!.timestampSec).toBeCloseTo(vfrTime(n), 5));
    // in the 10 fps stretch (2 s to 5 s) targets fall between frames: the earlier one is shown
    const t = m.frames.find((f) => f.timestampSec > 2.6 && f.timestampSec < 2.8)!;
    expect(t.timestampSec).toBeCloseTo(2.7, 5);
  });

  it('turns rotated video upright', async () => {
    const m = await run(await fixture('rotated'), { mode: 'exact', every: 2, model: 'gpt-4o', detail: 'high' });
    expect(m.frames.map((f) => [f.width, f.height])).toEqual([
      [180, 320],
      [180, 320],
      [180, 320],
    ]);
    expect(await frameNumbers(m)).toEqual([0, 60, 120]);
  });
});

describe('scene mode', () => {
  it('takes a frame at each cut, and fills static stretches every --max-gap', async () => {
    const m = await run(await fixture('scene'), { mode: 'scene', every: 5 });
    expect(m.frames.map((f) => f.timestampSec)).toEqual([0, ...SCENE_CUTS]);
    expect(await frameNumbers(m)).toEqual([0, ...SCENE_CUTS.map((c) => c * 30)]);
    const filled = await run(await fixture('scene'), { mode: 'scene', maxGap: 3 });
    // cuts at 4, 9, 13, 18 (24 s): gaps over 3 s get a frame 3 s after the last one
    expect(filled.frames.map((f) => f.timestampSec)).toEqual([0, 3, 4, 7, 9, 12, 13, 16, 18, 21]);
    // each frame says why it was taken
    expect(filled.frames.map((f) => f.reason)).toEqual(['first', 'gap', 'cut', 'gap', 'cut', 'gap', 'cut', 'gap', 'cut', 'gap']);
  });
  it("the default (adaptive) detector takes the frame of a low-contrast cut that ffmpeg's scene score misses", async () => {
    const input = await fixture('lowContrast');
    const m = await run(input, { mode: 'scene', every: 5 });
    expect(m.frames.map((f) => [f.timestampSec, f.reason])).toEqual([
      [0, 'first'],
      [LOW_CONTRAST_CUT, 'cut'],
    ]);
    expect(await frameNumbers(m)).toEqual([0, LOW_CONTRAST_CUT * 30]);
    const ff = await run(input, { mode: 'scene', every: 5, sceneDetector: 'ffmpeg' });
    expect(ff.frames.map((f) => f.reason)).toEqual(['first']);
  });
  it('does not sample a flashing stretch every frame (--min-gap)', async () => {
    const m = await run(await fixture('timecode'), { mode: 'scene', sceneDetector: 'ffmpeg', sceneThreshold: 0.01, minGap: 2, maxGap: 100 });
    const times = m.frames.map((f) => f.timestampSec);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(2 - 1e-6);
  });
});

describe('options', () => {
  it('--start/--end clip the window; --max-frames thins evenly keeping first and last', async () => {
    const clip = await run(await fixture('timecode'), { mode: 'exact', every: 2, start: 3, end: 11 });
    expect(clip.frames.map((f) => f.timestampSec)).toEqual([3, 5, 7, 9]);
    const thin = await run(await fixture('timecode'), { mode: 'exact', every: 1, maxFrames: 5 });
    expect(thin.frames.map((f) => f.timestampSec)).toEqual([0, 5, 10, 14, 19]);
  });

  it('--dedup drops the repeats of a static video and keeps the changes', async () => {
    const m = await run(await fixture('slides'), { mode: 'exact', every: 2, dedup: true });
    expect(m.frames.map((f) => f.timestampSec)).toEqual([0, 10, 20]);
    expect(m.dropped).toHaveLength(12);
    expect(m.dropped.every((d) => d.distance <= 6 && d.meanDiff <= 10)).toBe(true);
    expect(m.dropped.find((d) => d.timestampSec === 12)?.duplicateOf).toBe(m.frames[1]!.index);
    const files = readdirSync((m as Manifest & { dir: string }).dir).filter((f) => f.startsWith('frame-'));
    expect(files).toHaveLength(3);
  });

  it('--format webp/png and --max-side', async () => {
    const m = await run(await fixture('timecode'), { every: 10, format: 'webp', maxSide: 320 });
    expect(m.frames.every((f) => f.file.endsWith('.webp') && Math.max(f.width, f.height) <= 320)).toBe(true);
    const p = await run(await fixture('timecode'), { every: 10, format: 'png', maxSide: 200, model: 'gpt-4o' });
    expect(p.frames.map((f) => [f.width, f.height])).toEqual([
      [200, 113],
      [200, 113],
    ]);
    expect(await frameNumbers(p)).toEqual([0, 300]);
  });

  it('--grid tiles consecutive frames with their timestamps, for fewer tokens than the frames alone', async () => {
    const m = await run(await fixture('timecode'), { mode: 'exact', every: 2, grid: { cols: 2, rows: 2 } });
    // The last two frames would cost more as a half-empty grid than alone: they go alone.
    expect(m.grids!.map((g) => g.timestamps)).toEqual([
      [0, 2, 4, 6],
      [8, 10, 12, 14],
    ]);
    expect(readdirSync((m as Manifest & { dir: string }).dir).filter((n) => n.startsWith('grid-'))).toEqual(['grid-00000.jpg', 'grid-00001.jpg']);
    const frameTokens = m.frames[0]!.tokens;
    expect(m.grids![0]!.tokens).toBeLessThan(4 * frameTokens);
    expect(m.grids![0]!.tokens).toBeGreaterThan(2 * frameTokens);
    expect(m.totals.imageTokens).toBe(2 * m.grids![0]!.tokens + 2 * frameTokens);
    expect(m.plan.imageTokens).toBe(m.totals.imageTokens);
    expect(m.warnings).toEqual([
      `--grid 2x2: the last 2 frame(s) are sent alone (${2 * frameTokens} tokens), not in a grid that would cost ${m.grids![0]!.tokens}`,
    ]);
    const g = m.grids![0]!;
    expect(imageTokens('gpt-5.5', g.width, g.height).tokens).toBe(g.tokens);
  });
});

describe('the plan is the contract', () => {
  const cases: Array<[string, () => Promise<string>, Record<string, unknown>]> = [
    ['timecode keyframe', () => fixture('timecode'), {}],
    ['timecode exact 3s gpt-4o low', () => fixture('timecode'), { mode: 'exact', every: 3, model: 'gpt-4o', detail: 'low' }],
    ['longgop keyframe 4s', () => fixture('longgop'), { every: 4 }],
    ['vfr exact', () => fixture('vfr'), { mode: 'exact', every: 0.7, model: 'claude-sonnet-4.6' }],
    ['rotated keyframe', () => fixture('rotated'), { every: 1, model: 'gemini-2.5-flash' }],
    ['scene', () => fixture('scene'), { mode: 'scene' }],
    ['audio first', () => fixture('audioFirst'), { every: 1, model: 'gpt-5-mini', detail: 'high' }],
    ...['friday.mp4', 'flower.mp4', 'stream-of-water.mp4', 'echo-hereweare.webm']
      .filter((n) => sharedMedia(n))
      .map((n): [string, () => Promise<string>, Record<string, unknown>] => [n, async () => sharedMedia(n)!, { every: 2 }]),
    ...(sharedMedia('echo-hereweare.webm')
      ? [
          ['echo exact', async () => sharedMedia('echo-hereweare.webm')!, { mode: 'exact', every: 3.3 }] as [
            string,
            () => Promise<string>,
            Record<string, unknown>,
          ],
        ]
      : []),
  ];
  for (const [name, input, opts] of cases) {
    it(`plan and sample agree on frames, sizes and tokens: ${name}`, async () => {
      const path = await input();
      const p = await plan(path, opts);
      const m = await run(path, opts);
      expect(m.frames.map((f) => f.timestampSec)).toEqual(p.frames.map((f) => f.timestampSec));
      expect(m.frames.map((f) => f.keyframe)).toEqual(p.frames.map((f) => f.keyframe));
      expect(m.frames.every((f) => f.width === p.width && f.height === p.height && f.tokens === p.tokensPerFrame)).toBe(true);
      expect(m.totals.imageTokens).toBe(p.imageTokens);
      expect(p.tokensPerFrame).toBe(imageTokens(p.model, p.width, p.height, p.detail).tokens);
      expect(m.warnings.filter((w) => w.includes('decoded at other times'))).toEqual([]);
    });
  }
});

describe('stills, audio-only and broken inputs', () => {
  it('a still image is one frame, upright, at the model size', async () => {
    const { jpegRotated } = await stillImages();
    const m = await run(jpegRotated, { model: 'gpt-4o', detail: 'high' });
    expect(m.frames).toHaveLength(1);
    expect([m.frames[0]!.width, m.frames[0]!.height]).toEqual([240, 320]);
    // A still needs no ffmpeg: one that cannot be found fails nothing.
    const noFfmpeg = await run(jpegRotated, { model: 'gpt-4o', detail: 'high', ffmpegPath: '/nonexistent/ffmpeg' });
    expect(noFfmpeg.frames).toHaveLength(1);
  });
  it('an audio-only file has no video to sample', async () => {
    await expect(run(await fixture('audioOnly'))).rejects.toMatchObject({ code: 'NO_VIDEO_STREAM' });
  });
  it('broken inputs fail with their foundation errors and leave the output directory as it was', async () => {
    const files = await brokenInputs();
    for (const name of ['empty', 'random', 'truncated', 'hls']) {
      const out = join(tempDir('broken-'), 'out');
      await expect(sample(files[name]!, { out }).manifest()).rejects.toMatchObject({ input: files[name] });
      expect(existsSync(out)).toBe(false);
    }
  });
  it('cancellation stops the children and removes what was written', async () => {
    const out = join(tempDir('cancel-'), 'out');
    const ac = new AbortController();
    const runIt = sample(await fixture('longgop'), { out, mode: 'exact', every: 0.5, signal: ac.signal });
    let seen = 0;
    const err = await (async () => {
      try {
        for await (const _ of runIt) {
          if (++seen === 3) ac.abort();
        }
      } catch (e) {
        return e;
      }
    })();
    expect(err).toMatchObject({ code: 'ABORTED' });
    expect(existsSync(out)).toBe(false);
    expect(processesWithMarker(`OMNIPREP_TEST_MARKER=${process.env.OMNIPREP_TEST_MARKER ?? 'none'}`)).toEqual([]);
  });
});

describe('keyframe mode without decoding the keyframes it does not keep (H.264)', () => {
  it('rotated, VFR and long-GOP fixtures come out as the frames they claim, upright', async () => {
    const rot = await run(await fixture('rotated'), { every: 2, model: 'gpt-4o', detail: 'high' });
    expect(rot.frames.map((f) => [f.width, f.height])).toEqual([
      [180, 320],
      [180, 320],
      [180, 320],
    ]);
    expect(await frameNumbers(rot)).toEqual([0, 60, 120]);
    const vfr = await run(await fixture('vfr'), { every: 2 });
    const n = await frameNumbers(vfr);
    n.forEach((k, i) => expect(vfr.frames[i]!.timestampSec).toBeCloseTo(vfrTime(k), 5));
  });

  it('cuts an Annex B stream into access units whose payload sizes are the container packet sizes', async () => {
    const { AccessUnits } = await import('../../src/extract/annexb.js');
    const { packetIndex } = await import('../../src/probe/keyframes.js');
    const { probe } = await import('../../src/probe/probe.js');
    const { runProcess } = await import('../../src/ffmpeg/runner.js');
    const { resolveBinary } = await import('../../src/ffmpeg/binaries.js');
    const path = await fixture('timecode');
    const info = await probe(path);
    const idx = await packetIndex(info);
    const keySizes = idx.size.filter((_, i) => idx.keyframe[i]);
    const out = await runProcess({
      command: resolveBinary('ffmpeg').path,
      args: [
        '-nostdin',
        '-hide_banner',
        '-loglevel',
        'error',
        '-discard',
        'nokey',
        '-i',
        path,
        '-map',
        '0:v:0',
        '-c',
        'copy',
        '-bsf:v',
        'h264_mp4toannexb,h264_metadata=aud=insert',
        '-f',
        'h264',
        'pipe:1',
      ],
      input: path,
    });
    const split = new AccessUnits();
    // in uneven chunks, as a pipe delivers them
    const units = [];
    for (let i = 0; i < out.stdout.length; i += 7777) units.push(...split.push(out.stdout.subarray(i, i + 7777)));
    units.push(...split.flush());
    const idrSizes = units.filter((u) => u.idr).map((u) => u.payloadBytes);
    expect(idrSizes).toEqual(keySizes);
    expect(units.filter((u) => u.idr).every((u) => u.hasParameterSets)).toBe(true);
    const bare = units.find((u) => !u.hasParameterSets)!;
    expect(split.withParameterSets(bare).length).toBeGreaterThan(bare.bytes.length);
  });

  it('cuts an HEVC Annex B stream into access units that match the container packet sizes', async () => {
    const { AccessUnits, HEVC } = await import('../../src/extract/annexb.js');
    const { packetIndex } = await import('../../src/probe/keyframes.js');
    const { probe } = await import('../../src/probe/probe.js');
    const { runProcess } = await import('../../src/ffmpeg/runner.js');
    const { resolveBinary } = await import('../../src/ffmpeg/binaries.js');
    for (const name of ['hevcLonggop', 'hevc'] as const) {
      const path = await fixture(name);
      const idx = await packetIndex(await probe(path));
      const order = Array.from(idx.size.keys()).sort((a, b) => idx.pos[a]! - idx.pos[b]!);
      const out = await runProcess({
        command: resolveBinary('ffmpeg').path,
        args: ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', path, '-map', '0:v:0', '-c', 'copy', '-bsf:v', HEVC.bsf, '-f', 'hevc', 'pipe:1'],
        input: path,
      });
      const split = new AccessUnits(HEVC);
      const units = [];
      for (let i = 0; i < out.stdout.length; i += 7777) units.push(...split.push(out.stdout.subarray(i, i + 7777)));
      units.push(...split.flush());
      expect(units).toHaveLength(order.length);
      // every unit matches its packet in file order; keyframes carry VPS/SPS/PPS and the codec record's SEI
      units.forEach((u, i) => expect(u.payloadChoices, `${name} unit ${i}`).toContain(idx.size[order[i]!]));
      expect(units.map((u) => u.hasParameterSets)).toEqual(order.map((i) => idx.keyframe[i]));
      // closed groups of pictures: every keyframe an IDR; open ones: only the first
      const idr = units.map((u, i) => (u.idr ? i : -1)).filter((i) => i >= 0);
      const keys = order.map((p, i) => (idx.keyframe[p] ? i : -1)).filter((i) => i >= 0);
      expect(idr).toEqual(name === 'hevc' ? [0] : keys);
    }
  });
});

describe('the decode paths', () => {
  // The strategies are the ffmpeg decoder's (node-av decodes in its own processes).
  const run = (input: string, opts: SampleOptions = {}): Promise<Manifest> => runWith(input, { decoder: 'ffmpeg', ...opts });
  it('H.264 fixtures take the stream paths (keyframes alone; spans in one decoder), and they give the right frames', async () => {
    const k = await run(await fixture('longgop'), { every: 10 });
    expect(k.timings.decodePaths).toEqual({ 'keyframe-stream': k.timings.decodePaths['keyframe-stream'] });
    // frames early in their 10 s groups of pictures: the spans keyframe..frame are short
    const e = await run(await fixture('longgop'), { mode: 'exact', every: 10.5 });
    expect(Object.keys(e.timings.decodePaths)).toEqual(['span-stream']);
    expect(await frameNumbers(e)).toEqual(e.frames.map((f) => Math.round(f.timestampSec * 30)));
  });
  it('keyframe mode on long groups of pictures: keyframes that alternate with exact frames share one task, and the frames come out in order', async () => {
    // 10 s GOPs, every 6 s: 10 and 40 are keyframes alone in their groups; 3, 21, 33, 51 are exact
    // frames decoded from 0, 20, 30, 50 (each then decoded with its span). The keyframes share a
    // task across the exact frames; exact spans cross a keyframe only when the cost rule says so
    // (here never: 0-3 | 20-33 | 50-51; a single group of pictures is a range decode).
    const path = await fixture('longgop');
    const m = await run(path, { every: 6 });
    expect(m.frames.map((f) => f.timestampSec)).toEqual((await plan(path, { every: 6 })).frames.map((f) => f.timestampSec));
    expect(m.frames.map((f) => [f.index, f.timestampSec, f.keyframe])).toEqual([
      [0, 0, true],
      [1, 3, false],
      [2, 10, true],
      [3, 20, true],
      [4, 21, false],
      [5, 30, true],
      [6, 33, false],
      [7, 40, true],
      [8, 50, true],
      [9, 51, false],
    ]);
    expect(m.timings.decodePaths).toEqual({ 'keyframe-stream': 1, range: 2, 'span-stream': 1 });
    expect(await frameNumbers(m)).toEqual(m.frames.map((f) => Math.round(f.timestampSec * 30)));
  }, 120_000);
  // HEVC: the same paths through hevc_mp4toannexb, in MP4 (hvc1) and Matroska; plan = sample and
  // every image is the frame it claims. The Matroska demuxer ignores `-discard nokey` and copies
  // every packet: keyframe mode there runs without the packet cap and takes only IDR units as the
  // run's keyframes.
  it.each(['hevcLonggop', 'hevcLonggopMkv'] as const)(
    'HEVC with IDR keyframes (%s) takes the stream paths too, and they give the right frames',
    async (name) => {
      const path = await fixture(name);
      const kp = await plan(path, { every: 10 });
      const k = await run(path, { every: 10 });
      expect(k.frames.map((f) => f.timestampSec)).toEqual(kp.frames.map((f) => f.timestampSec));
      expect(Object.keys(k.timings.decodePaths)).toEqual(['keyframe-stream']);
      expect(await frameNumbers(k)).toEqual([0, 300, 600, 900, 1200, 1500]);
      const ep = await plan(path, { mode: 'exact', every: 10.5 });
      const e = await run(path, { mode: 'exact', every: 10.5 });
      expect(e.frames.map((f) => f.timestampSec)).toEqual(ep.frames.map((f) => f.timestampSec));
      expect(Object.keys(e.timings.decodePaths)).toEqual(['span-stream']);
      expect(await frameNumbers(e)).toEqual([0, 10.5, 21, 31.5, 42, 52.5].map((t) => Math.floor(t * 30 + 1e-6)));
    },
    120_000,
  );
  // x265's default open groups of pictures: keyframes after the first are CRA, whose spans decode
  // to other frame counts (RASL pictures) and which cannot be decoded alone: the range decode.
  it('HEVC with CRA keyframes falls back to the range decode, with the right frames', async () => {
    const path = await fixture('hevc');
    const e = await run(path, { mode: 'exact', every: 2.1 });
    expect(e.timings.decodePaths['span-stream']).toBeUndefined();
    expect(await frameNumbers(e)).toEqual([0, 63, 126]);
    const k = await run(path, { every: 2 });
    expect(k.frames.every((f) => f.keyframe)).toBe(true);
    expect(await frameNumbers(k)).toEqual([0, 60, 120]);
  });
  it('dense exact sampling is one sequential pass per task, not a seek per frame', async () => {
    const m = await run(await fixture('longgop'), { mode: 'exact', every: 0.5 });
    expect(m.frames).toHaveLength(120);
    expect(Object.keys(m.timings.decodePaths)).toEqual(['one-pass']);
    // two tasks per core at most, never one per frame or per group of pictures
    expect(m.timings.decodePaths['one-pass']).toBeLessThanOrEqual(2 * availableParallelism());
    expect(await frameNumbers(m)).toEqual(m.frames.map((f) => Math.round(f.timestampSec * 30)));
  });
  it.skipIf(!sharedMedia('echo-hereweare.webm'))('VP8 in WebM decodes whole ranges', async () => {
    const m = await run(sharedMedia('echo-hereweare.webm')!, { mode: 'exact', every: 10 });
    expect(Object.keys(m.timings.decodePaths)).toEqual(['range']);
  });
});

describe('a stream path whose decoder is killed', () => {
  it('ends with the timeout error, never hangs, and leaves nothing', async () => {
    const out = join(tempDir('timeout-'), 'out');
    for (const mode of ['exact', 'keyframe'] as const) {
      const started = Date.now();
      const err = await sample(await fixture('longgop'), { out, mode, every: 0.5, limits: { processTimeoutMs: 150 }, decoder: 'ffmpeg' })
        .manifest()
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(existsSync(out)).toBe(false);
    }
  });
});
