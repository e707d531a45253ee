// src/plan/frames.ts: the frame-selection rules written in its header comment, checked on
// hand-made timelines (every expected value below is worked out from those rules).
import { describe, expect, it } from 'vitest';
import { dedupeTimes, exactFrameAt, exactMode, keyframeMode, numberFrames, sceneMode, targetTimes, thin, type Timeline } from '../../src/plan/frames.js';
import type { PlannedFrame } from '../../src/plan/types.js';

/** Frames every `step` s from 0 to before `until`; a keyframe every `gop` frames. */
function timeline(until: number, step: number, gop: number): Required<Pick<Timeline, 'frames' | 'keyframeFlags' | 'keyframes'>> {
  const frames: number[] = [];
  const keyframeFlags: boolean[] = [];
  for (let i = 0; i * step < until - 1e-9; i++) {
    frames.push(Math.round(i * step * 1e6) / 1e6);
    keyframeFlags.push(i % gop === 0);
  }
  return { frames, keyframeFlags, keyframes: frames.filter((_, i) => keyframeFlags[i]) };
}

const pick = (fs: PlannedFrame[]) => fs.map((f) => [f.timestampSec, f.targetSec, f.source, f.keyframe]);

describe('targetTimes: t = start, start + every, ... while t < end', () => {
  it('excludes the end', () => {
    expect(targetTimes({ start: 0, end: 1, every: 0.25 })).toEqual([0, 0.25, 0.5, 0.75]);
    expect(targetTimes({ start: 0, end: 1.01, every: 0.25 })).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });
  it('starts at start', () => expect(targetTimes({ start: 1, end: 2.05, every: 0.5 })).toEqual([1, 1.5, 2]));
  it('has no floating-point drift (0.1 steps are exact to the microsecond)', () => {
    const ts = targetTimes({ start: 0, end: 1, every: 0.1 });
    expect(ts).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  });
  it('an empty window gives no times', () => {
    expect(targetTimes({ start: 5, end: 5, every: 1 })).toEqual([]);
    expect(targetTimes({ start: 6, end: 5, every: 1 })).toEqual([]);
  });
  it('an interval longer than the window gives the start alone', () => expect(targetTimes({ start: 2, end: 3, every: 10 })).toEqual([2]));
});

// 0, 0.5, ..., 7.5 s; keyframes at 0, 2, 4, 6
const tl = timeline(8, 0.5, 4);

describe('keyframeMode: nearest keyframe in [t - tol, t + tol), ties to the earlier, else the exact frame', () => {
  it('the timeline helper is what the tests assume', () => {
    expect(tl.frames).toHaveLength(16);
    expect(tl.keyframes).toEqual([0, 2, 4, 6]);
  });
  it('a tie (2 and 4 both 1 s from t = 3) goes to the earlier keyframe', () => {
    expect(pick(keyframeMode(tl, { start: 0, end: 8, every: 3 }, 1.5))).toEqual([
      [0, 0, 'keyframe', true],
      [2, 3, 'keyframe', true],
      [6, 6, 'keyframe', true],
    ]);
  });
  it('picks the nearer keyframe when there is no tie', () => {
    // t = 2.6: [1.1, 4.1) holds 2 (0.6 away) and 4 (1.4 away); t = 5.2: 6 (0.8) beats 4 (1.2);
    // t = 7.8: [6.3, 8) holds no keyframe -> the window's cheapest frame to decode, its first: 6.5
    expect(pick(keyframeMode(tl, { start: 0, end: 8, every: 2.6 }, 1.5))).toEqual([
      [0, 0, 'keyframe', true],
      [2, 2.6, 'keyframe', true],
      [6, 5.2, 'keyframe', true],
      [6.5, 7.8, 'exact', false],
    ]);
    // t = 3.4: 4 is 0.6 away, 2 is 1.4 away; t = 6.8: 6
    expect(keyframeMode(tl, { start: 0, end: 8, every: 3.4 }, 1.5).map((x) => x.timestampSec)).toEqual([0, 4, 6]);
  });
  it('the window is half-open: t + tol itself is out', () => {
    // t = 3, tol 1: [2, 4) holds 2 but not 4
    expect(keyframeMode(tl, { start: 0, end: 8, every: 3 }, 1).map((x) => x.timestampSec)).toEqual([0, 2, 6]);
    // t = 5, tol 1: [4, 6) holds 4 (t - tol is in) but not 6, although both are 1 s away
    expect(keyframeMode(tl, { start: 0, end: 8, every: 5 }, 1).map((x) => x.timestampSec)).toEqual([0, 4]);
  });
  it('falls back to the exact frame when the window holds no keyframe', () => {
    expect(pick(keyframeMode(tl, { start: 0, end: 8, every: 3 }, 0.4))).toEqual([
      [0, 0, 'keyframe', true],
      [3, 3, 'exact', false],
      [6, 6, 'keyframe', true],
    ]);
    // t = 1.2: the exact frame is the one displayed at 1.2 (1.0), not a later one
    expect(pick(keyframeMode(tl, { start: 0, end: 1.3, every: 1.2 }, 0.5))).toEqual([
      [0, 0, 'keyframe', true],
      [1, 1.2, 'exact', false],
    ]);
  });
  it('never takes a keyframe before start or at/after end', () => {
    // start 2.5: keyframe 2 is within tolerance of t = 2.5 but before the window
    expect(pick(keyframeMode(tl, { start: 2.5, end: 8, every: 3 }, 1))).toEqual([
      [2.5, 2.5, 'exact', false],
      [6, 5.5, 'keyframe', true],
    ]);
    // end 5.9: keyframe 6 is past the end, so t = 5.5 takes the cheapest frame of [4.5, 5.9): 4.5
    expect(pick(keyframeMode(tl, { start: 2.5, end: 5.9, every: 3 }, 1))).toEqual([
      [2.5, 2.5, 'exact', false],
      [4.5, 5.5, 'exact', false],
    ]);
  });
  it('with keyframes only and no frame index, a target without a keyframe needs the index', () => {
    expect(pick(keyframeMode({ keyframes: [0, 2] }, { start: 0, end: 4, every: 2 }, 1))).toEqual([
      [0, 0, 'keyframe', true],
      [2, 2, 'keyframe', true],
    ]);
    expect(() => keyframeMode({ keyframes: [0] }, { start: 0, end: 4, every: 2 }, 0.5)).toThrow(/frame index is needed/);
  });
  it('every frame gets pos -1 and index 0 until the planner numbers and places them', () => {
    for (const f of keyframeMode(tl, { start: 0, end: 8, every: 1 }, 0.5)) expect([f.index, f.pos]).toEqual([0, -1]);
  });
});

describe('exactMode / exactFrameAt: the last frame <= t, the first frame when t precedes it', () => {
  // frames at 0.1, 0.6, 1.1, 1.6; 1.1 is a keyframe
  const late: Timeline = { frames: [0.1, 0.6, 1.1, 1.6], keyframeFlags: [false, false, true, false] };
  it('takes the frame displayed at t', () => {
    expect(pick(exactMode(late, { start: 0, end: 2, every: 0.5 }))).toEqual([
      [0.1, 0, 'exact', false],
      [0.1, 0.5, 'exact', false],
      [0.6, 1, 'exact', false],
      [1.1, 1.5, 'exact', true],
    ]);
  });
  it('a frame exactly at t is that frame', () => expect(exactFrameAt(late, 0.6, { start: 0, end: 2 })).toEqual({ time: 0.6, keyframe: false }));
  it('a frame displayed at start but shown before it is replaced by the first frame in the window', () => {
    expect(pick(exactMode(late, { start: 0.3, end: 2, every: 0.5 })).map((f) => f[0])).toEqual([0.6, 0.6, 1.1, 1.6]);
  });
  it('nothing when the window holds no frame', () => {
    expect(exactMode({ frames: [5, 6] }, { start: 0, end: 2, every: 0.5 })).toEqual([]);
    expect(exactFrameAt({ frames: [] }, 1, { start: 0, end: 2 })).toBeUndefined();
    // the first frame after t is at the end of the window: out
    expect(exactFrameAt({ frames: [2] }, 0, { start: 0, end: 2 })).toBeUndefined();
  });
  it('missing keyframe flags mean "not a keyframe"', () =>
    expect(exactFrameAt({ frames: [0, 1] }, 0, { start: 0, end: 2 })).toEqual({ time: 0, keyframe: false }));
  it('needs the frame index', () =>
    expect(() => exactMode({ keyframes: [0] }, { start: 0, end: 1, every: 1 })).toThrow(/frame index is needed for exact frames/));
});

describe('sceneMode: first frame, cuts >= threshold at least minGap apart, maxGap fills', () => {
  // frames at 0..9 s
  const frames = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const keyframeFlags = frames.map((t) => t % 3 === 0);
  const sceneScores = [0, 0.1, 0.5, 0.6, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9];
  const scene: Timeline = { frames, keyframeFlags, sceneScores };
  it('keeps cuts and fills gaps longer than maxGap with exact frames at last + maxGap', () => {
    expect(pick(sceneMode(scene, { start: 0, end: 10, every: 1 }, { threshold: 0.4, minGap: 0.5, maxGap: 3 }))).toEqual([
      [0, 0, 'scene', true],
      [2, 2, 'scene', false],
      [3, 3, 'scene', true],
      [6, 6, 'fill', true], // 3 -> 9 is 6 s > 3: a fill at 6; 6 -> 9 is exactly maxGap, no more
      [9, 9, 'scene', true],
    ]);
  });
  it('minGap drops a cut too close to the last kept frame', () => {
    // 3 is 1 s after 2 (< 1.5); the gap 2 -> 9 gets fills at 5 and 8; the cut at 9 is then 1 s after the fill at 8
    expect(pick(sceneMode(scene, { start: 0, end: 10, every: 1 }, { threshold: 0.4, minGap: 1.5, maxGap: 3 }))).toEqual([
      [0, 0, 'scene', true],
      [2, 2, 'scene', false],
      [5, 5, 'fill', false],
      [8, 8, 'fill', false],
    ]);
  });
  it('a score equal to the threshold reaches it; below does not', () => {
    const kept = (threshold: number) => sceneMode(scene, { start: 0, end: 10, every: 1 }, { threshold, minGap: 0, maxGap: 100 }).map((f) => f.timestampSec);
    expect(kept(0.6)).toEqual([0, 3, 9]);
    expect(kept(0.61)).toEqual([0, 9]);
    expect(kept(0.95)).toEqual([0]);
  });
  it('fills to the end of the window when there are no cuts', () => {
    const flat: Timeline = { frames, sceneScores: frames.map(() => 0) };
    expect(pick(sceneMode(flat, { start: 0, end: 10, every: 1 }, { threshold: 0.4, minGap: 0, maxGap: 3 }))).toEqual([
      [0, 0, 'scene', false],
      [3, 3, 'fill', false],
      [6, 6, 'fill', false],
      [9, 9, 'fill', false],
    ]);
  });
  it('a fill takes the frame displayed at last + maxGap, and the next fill counts from that frame', () => {
    const flat: Timeline = { frames, sceneScores: frames.map(() => 0) };
    const got = sceneMode(flat, { start: 0, end: 10, every: 1 }, { threshold: 0.4, minGap: 0, maxGap: 2.5 });
    expect(got.map((f) => [f.timestampSec, f.targetSec])).toEqual([
      [0, 0],
      [2, 2.5],
      [4, 4.5],
      [6, 6.5],
      [8, 8.5],
    ]);
  });
  it('with fills, no two kept frames are more than maxGap apart (frames every 1 s, no cuts)', () => {
    const flat: Timeline = { frames, sceneScores: frames.map(() => 0) };
    for (const maxGap of [1, 1.5, 2, 2.5, 3, 4.2]) {
      const t = sceneMode(flat, { start: 0, end: 10, every: 1 }, { threshold: 0.4, minGap: 0, maxGap }).map((x) => x.timestampSec);
      for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!, `maxGap ${maxGap}`).toBeLessThanOrEqual(maxGap);
      expect(10 - t[t.length - 1]!, `maxGap ${maxGap}: the tail`).toBeLessThanOrEqual(maxGap);
    }
  });
  // Frames sparser than maxGap (a 1 fps clip with --max-gap 0.5, or a screen recording that holds a
  // still picture longer than maxGap): when no frame falls between the last kept one and
  // last + maxGap, the next frame that exists is the fill (this once stopped filling altogether).
  it('frames sparser than maxGap still get fills (1 fps, maxGap 0.5 -> every frame)', () => {
    const flat: Timeline = { frames, sceneScores: frames.map(() => 0) };
    expect(sceneMode(flat, { start: 0, end: 10, every: 1 }, { threshold: 0.4, minGap: 0, maxGap: 0.5 }).map((x) => x.timestampSec)).toEqual(frames);
  });
  it('a still stretch longer than maxGap is filled from the frames that exist (frames at 0, 5, 10, 15; maxGap 2)', () => {
    const sparse: Timeline = { frames: [0, 5, 10, 15], sceneScores: [0, 0, 0, 0] };
    expect(sceneMode(sparse, { start: 0, end: 20, every: 5 }, { threshold: 0.4, minGap: 0, maxGap: 2 }).map((x) => x.timestampSec)).toEqual([0, 5, 10, 15]);
  });
  it('starts at the first frame at or after start and stays before end', () => {
    const got = sceneMode(scene, { start: 2.5, end: 9, every: 1 }, { threshold: 0.4, minGap: 0, maxGap: 100 });
    expect(pick(got)).toEqual([[3, 3, 'scene', true]]); // the cut at 9 is at the end: out
  });
  it('an empty window gives nothing; the frame index is required', () => {
    expect(sceneMode(scene, { start: 10, end: 12, every: 1 }, { threshold: 0.4, minGap: 0, maxGap: 3 })).toEqual([]);
    expect(() => sceneMode({ keyframes: [0] }, { start: 0, end: 1, every: 1 }, { threshold: 0.4, minGap: 0, maxGap: 3 })).toThrow(/frame index/);
  });
});

const f = (timestampSec: number, targetSec = timestampSec): PlannedFrame => ({ index: 0, timestampSec, targetSec, keyframe: false, source: 'exact', pos: -1 });

describe('dedupeTimes: each time once (the first target that chose it), in time order', () => {
  it('sorts and keeps the first', () => {
    const got = dedupeTimes([f(2, 2), f(0), f(2, 3), f(1), f(0, 0.4)]);
    expect(got.map((x) => [x.timestampSec, x.targetSec])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
  });
  it('times equal to the microsecond are one frame; a microsecond apart are two', () => {
    expect(dedupeTimes([f(1), f(1.0000001)])).toHaveLength(1);
    expect(dedupeTimes([f(1), f(1.000001)])).toHaveLength(2);
  });
  it('does not touch its input', () => {
    const input = [f(2), f(1)];
    dedupeTimes(input);
    expect(input.map((x) => x.timestampSec)).toEqual([2, 1]);
  });
  it('empty in, empty out', () => expect(dedupeTimes([])).toEqual([]));
});

describe('thin: keeps round(i (n-1) / (max-1)), first and last stay', () => {
  const ten = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  it('10 -> 4 keeps 0, 3, 6, 9', () => expect(thin(ten, 4)).toEqual([0, 3, 6, 9]));
  it('10 -> 3 keeps 0, 5 (4.5 rounds up), 9', () => expect(thin(ten, 3)).toEqual([0, 5, 9]));
  it('10 -> 2 keeps the first and the last', () => expect(thin(ten, 2)).toEqual([0, 9]));
  it('7 -> 5 keeps 0, 2 (1.5), 3, 5 (4.5), 6', () => expect(thin([0, 1, 2, 3, 4, 5, 6], 5)).toEqual([0, 2, 3, 5, 6]));
  it('max 1 keeps the first, max 0 none', () => {
    expect(thin(ten, 1)).toEqual([0]);
    expect(thin(ten, 0)).toEqual([]);
  });
  it('no cap, or a cap at or above n, keeps everything', () => {
    expect(thin(ten, undefined)).toBe(ten);
    expect(thin(ten, 10)).toBe(ten);
    expect(thin(ten, 50)).toEqual(ten);
  });
});

describe('numberFrames', () => {
  it('numbers 0..n-1 in order without mutating', () => {
    const input = [f(5), f(7), f(9)];
    const got = numberFrames(input);
    expect(got.map((x) => [x.index, x.timestampSec])).toEqual([
      [0, 5],
      [1, 7],
      [2, 9],
    ]);
    expect(input.map((x) => x.index)).toEqual([0, 0, 0]);
  });
});
