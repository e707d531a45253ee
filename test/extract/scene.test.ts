// The scene detectors on real media made at test time: the cuts each one finds through plan()
// (the scan and the pure planner, as sample() runs them), frame-accurate; the low-contrast cut only
// the adaptive detector finds; no cut on a fade, a pan and a dissolve; and the scan split in time
// ranges scores every frame as one pass does.
import { describe, expect, it } from 'vitest';
import { binaryVersion, resolveBinary } from '../../src/ffmpeg/binaries.js';
import { sceneScan } from '../../src/extract/scene.js';
import { scoreScenes } from '../../src/extract/scene-task.js';
import { resolveLimits } from '../../src/limits.js';
import { SCENE_DETECTORS, type SceneDetector } from '../../src/media/formats.js';
import { plan } from '../../src/plan/plan.js';
import { probe } from '../../src/probe/probe.js';
import type { PlanOptions } from '../../src/plan/types.js';
import { fixture, LOW_CONTRAST_CUT, PATTERN_CUT, SCENE_CUTS, type FixtureName } from '../helpers/fixtures.js';

/** The cut times a detector finds (the first frame is always taken; no max-gap fills). */
async function cuts(name: FixtureName, sceneDetector: SceneDetector, o: PlanOptions = {}): Promise<number[]> {
  const p = await plan(await fixture(name), { mode: 'scene', sceneDetector, every: 5, maxGap: 1e6, ...o });
  expect(p.frames[0]!.timestampSec).toBe(0);
  expect(p.frames.every((f) => f.source === 'scene')).toBe(true);
  return p.frames.slice(1).map((f) => f.timestampSec);
}

async function scan(name: FixtureName, measure: 'ffmpeg' | 'hsv') {
  const info = await probe(await fixture(name));
  const limits = resolveLimits(undefined);
  return sceneScan(info, { measure, start: 0, end: info.durationSec, maxPixels: limits.maxPixels, timeoutMs: limits.processTimeoutMs });
}

describe('scene detectors', { timeout: 120_000 }, () => {
  it.each(SCENE_DETECTORS)('%s finds the hard cuts of the scene fixture at their frames', async (d) => {
    expect(await cuts('scene', d, { minGap: 0 })).toEqual(SCENE_CUTS);
  });

  it.each(SCENE_DETECTORS)('%s finds the cut between two moving test patterns, and nothing else', async (d) => {
    expect(await cuts('patternCut', d, { minGap: 0 })).toEqual([PATTERN_CUT]);
  });

  it('the low-contrast cut (black -> 0x202020): only the adaptive detector finds it', async () => {
    expect(await cuts('lowContrast', 'adaptive', { minGap: 0 })).toEqual([LOW_CONTRAST_CUT]);
    expect(await cuts('lowContrast', 'ffmpeg', { minGap: 0 })).toEqual([]);
    expect(await cuts('lowContrast', 'content', { minGap: 0 })).toEqual([]);
    // Why: ffmpeg scores it under 0.3; its HSV difference (~9 of 255) is under content's 27, but
    // alone among frames that differ by ~1.3 (one timecode bar flips per frame).
    const [ff, hsv] = await Promise.all([scan('lowContrast', 'ffmpeg'), scan('lowContrast', 'hsv')]);
    const at = ff.times.indexOf(LOW_CONTRAST_CUT);
    expect(at).toBe(LOW_CONTRAST_CUT * 30);
    expect(ff.scores[at]).toBeGreaterThan(0.1);
    expect(ff.scores[at]).toBeLessThan(0.3);
    expect(hsv.scores[at]).toBeGreaterThan(8);
    expect(hsv.scores[at]).toBeLessThan(27);
    expect(Math.max(...hsv.scores.filter((_, i) => i !== at))).toBeLessThan(2);
  });

  it('no cut on a fade in from black, a pan and a dissolve', async () => {
    for (const d of SCENE_DETECTORS) expect(await cuts('fadePan', d), d).toEqual([]);
    expect(await cuts('fadePan', 'ffmpeg', { minGap: 0 })).toEqual([]);
    expect(await cuts('fadePan', 'adaptive', { minGap: 0 })).toEqual([]);
    // The content detector alone, without a min gap, cuts at the first picture out of black: its
    // hue and saturation jump from 0 to those of a dark picture (hsv.unit.test.ts). The default
    // min gap (every/5) keeps it out, as PySceneDetect's minimum scene length does.
    expect(await cuts('fadePan', 'content', { minGap: 0 })).toEqual([0.033333]);
  });
});

describe('the scene scan', { timeout: 120_000 }, () => {
  it('split in time ranges over the pool, scores every frame as one pass over the whole clip does', async () => {
    const input = await fixture('scene');
    const info = await probe(input);
    const bin = resolveBinary('ffmpeg');
    const limits = resolveLimits(undefined);
    const whole = await scoreScenes(
      {
        kind: 'scene',
        measure: 'hsv',
        path: info.path,
        input,
        ffmpeg: { path: bin.path, version: await binaryVersion(bin) },
        streamIndex: info.video!.index,
        startTimeSec: info.startTimeSec,
        maxPixels: limits.maxPixels,
        timeoutMs: limits.processTimeoutMs,
        seekSec: 0,
        fromSec: 0,
        toSec: info.durationSec,
      },
      {},
    );
    const split = await scan('scene', 'hsv');
    expect(whole.times).toHaveLength(24 * 30);
    expect(split).toEqual(whole);
  });

  it('is cached per file, window and measure', async () => {
    const [a, b] = await Promise.all([scan('patternCut', 'hsv'), scan('patternCut', 'hsv')]);
    expect(a).toBe(b);
    const ff = await scan('patternCut', 'ffmpeg');
    expect(ff).not.toBe(a);
    expect(ff.measure).toBe('ffmpeg');
    expect(a.measure).toBe('hsv');
    expect(ff.times).toEqual(a.times);
  });
});
