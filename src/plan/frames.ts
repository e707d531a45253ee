/**
 * Which frames to take: pure functions over timestamps. Each sampling mode is one function with
 * the same shape (window + timeline facts -> planned frames), so a new strategy is one new
 * function here and one case in `selectFrames`.
 *
 * Rules (the manifest and the tests rely on them):
 * - Target times are t = start, start + every, ... while t < end.
 * - keyframe: the keyframe nearest to t in [t - tolerance, t + tolerance) within [start, end)
 *   (ties go to the earlier one); where the window holds none, the window's frame that is
 *   cheapest to decode (fewest frames after its keyframe: in a window without a keyframe, its
 *   first frame), so targets in one long group of pictures share one short decode; where the
 *   window holds no frame at all, the exact frame at t.
 * - exact: the frame displayed at t: the last frame whose time is <= t (the first frame when t
 *   comes before it).
 * - scene: the first frame, then every frame whose scene score reaches the threshold and is at
 *   least minGap after the last kept one; where kept frames are more than maxGap apart, fills:
 *   the exact frame at lastKept + maxGap, each counted from the frame the previous fill took (the
 *   next frame that exists when none falls in between).
 * - A frame chosen twice is kept once. --max-frames then keeps round(i (n-1) / (max-1)).
 */
import type { PlannedFrame } from './types.js';
import { firstIndex } from '../util/search.js';

const EPS = 1e-6;

export interface Timeline {
  /** Every frame's time, ascending (needed for exact frames). */
  frames?: readonly number[] | undefined;
  /** Keyframe flags parallel to `frames`. */
  keyframeFlags?: readonly boolean[] | undefined;
  /** Every keyframe's time, ascending. */
  keyframes?: readonly number[] | undefined;
  /** Scene score of each frame, parallel to `frames` (scene mode). */
  sceneScores?: readonly number[] | undefined;
}

export interface Window {
  start: number;
  end: number;
  every: number;
}

export function targetTimes(w: Window): number[] {
  const out: number[] = [];
  for (let k = 0; ; k++) {
    const t = Math.round((w.start + k * w.every) * 1e6) / 1e6;
    if (t >= w.end - EPS) break;
    out.push(t);
  }
  return out;
}

/** Index of the last element <= x (or -1). */
function lastAtOrBefore(sorted: readonly number[], x: number): number {
  return firstIndex(sorted.length, (i) => sorted[i]! > x + EPS) - 1;
}

/** Index of the first element >= x (or length). */
function firstAtOrAfter(sorted: readonly number[], x: number): number {
  return firstIndex(sorted.length, (i) => sorted[i]! >= x - EPS);
}

/**
 * A frame other than a keyframe is needed and the timeline lists keyframes only (a remote
 * Matroska file's Cues): the caller reads every packet and plans again.
 */
export class IncompleteIndex extends Error {}

function requireFrames(tl: Timeline): { times: readonly number[]; keys: readonly boolean[] } {
  if (!tl.frames) throw new IncompleteIndex('the frame index is needed for exact frames');
  return { times: tl.frames, keys: tl.keyframeFlags ?? tl.frames.map(() => false) };
}

/** The frame displayed at t, within [start, end); undefined when the window holds no frame. */
export function exactFrameAt(tl: Timeline, t: number, w: Pick<Window, 'start' | 'end'>): { time: number; keyframe: boolean } | undefined {
  const { times, keys } = requireFrames(tl);
  let i = lastAtOrBefore(times, t);
  if (i < 0 || times[i]! < w.start - EPS) i = firstAtOrAfter(times, Math.max(t, w.start));
  if (i >= times.length || times[i]! >= w.end - EPS) return undefined;
  return { time: times[i]!, keyframe: keys[i]! };
}

function pickKeyframe(keyframes: readonly number[], t: number, tolerance: number, w: Window): number | undefined {
  const lo = Math.max(t - tolerance, w.start);
  const hi = Math.min(t + tolerance, w.end);
  let best: number | undefined;
  for (let i = firstAtOrAfter(keyframes, lo); i < keyframes.length && keyframes[i]! < hi - EPS; i++) {
    const k = keyframes[i]!;
    if (best === undefined || Math.abs(k - t) < Math.abs(best - t) - EPS) best = k;
  }
  return best;
}

/**
 * The frame of [t - tolerance, t + tolerance) within the window that is cheapest to decode: the
 * fewest frames after its keyframe (ties: the nearest to t, then the earlier). Undefined when the
 * window holds no frame.
 */
export function cheapestFrameIn(tl: Timeline, t: number, tolerance: number, w: Window): { time: number; keyframe: boolean } | undefined {
  const { times, keys } = requireFrames(tl);
  const lo = Math.max(t - tolerance, w.start);
  const hi = Math.min(t + tolerance, w.end);
  const first = firstAtOrAfter(times, lo);
  if (first >= times.length || times[first]! >= hi - EPS) return undefined;
  let key = first;
  while (key > 0 && !keys[key]) key--;
  let best = -1;
  let bestCost = Infinity;
  for (let i = first; i < times.length && times[i]! < hi - EPS; i++) {
    if (keys[i]) key = i;
    const cost = i - key;
    if (cost < bestCost || (cost === bestCost && Math.abs(times[i]! - t) < Math.abs(times[best]! - t) - EPS)) {
      best = i;
      bestCost = cost;
    }
  }
  return { time: times[best]!, keyframe: keys[best]! };
}

export function keyframeMode(tl: Timeline, w: Window, tolerance: number): PlannedFrame[] {
  const kfs = tl.keyframes ?? [];
  const out: PlannedFrame[] = [];
  for (const t of targetTimes(w)) {
    const k = pickKeyframe(kfs, t, tolerance, w);
    if (k !== undefined) out.push({ index: 0, timestampSec: k, targetSec: t, keyframe: true, source: 'keyframe', pos: -1 });
    else {
      const f = (tl.frames ? cheapestFrameIn(tl, t, tolerance, w) : undefined) ?? exactFrameAt(tl, t, w);
      if (f) out.push({ index: 0, timestampSec: f.time, targetSec: t, keyframe: f.keyframe, source: 'exact', pos: -1 });
    }
  }
  return out;
}

export function exactMode(tl: Timeline, w: Window): PlannedFrame[] {
  const out: PlannedFrame[] = [];
  for (const t of targetTimes(w)) {
    const f = exactFrameAt(tl, t, w);
    if (f) out.push({ index: 0, timestampSec: f.time, targetSec: t, keyframe: f.keyframe, source: 'exact', pos: -1 });
  }
  return out;
}

export function sceneMode(tl: Timeline, w: Window, o: { threshold: number; minGap: number; maxGap: number }): PlannedFrame[] {
  const { times, keys } = requireFrames(tl);
  const scores = tl.sceneScores ?? [];
  const from = firstAtOrAfter(times, w.start);
  const picked: PlannedFrame[] = [];
  if (from >= times.length || times[from]! >= w.end - EPS) return picked;
  picked.push({ index: 0, timestampSec: times[from]!, targetSec: times[from]!, keyframe: keys[from]!, source: 'scene', pos: -1 });
  let last = times[from]!;
  const fillTo = (until: number): void => {
    // exact frames every maxGap after the last kept one, while the gap to `until` exceeds maxGap
    while (until - last > o.maxGap + EPS) {
      const t = last + o.maxGap;
      let f = exactFrameAt(tl, t, w);
      if (!f || f.time <= last + EPS) {
        // No frame between the last kept one and t (sparse or held frames): the next frame that
        // exists stands in, so a still stretch keeps getting frames.
        const j = lastAtOrBefore(times, last) + 1;
        if (j >= times.length || times[j]! >= Math.min(until, w.end) - EPS) break;
        f = { time: times[j]!, keyframe: keys[j]! };
      }
      picked.push({ index: 0, timestampSec: f.time, targetSec: t, keyframe: f.keyframe, source: 'fill', pos: -1 });
      last = f.time;
    }
  };
  for (let i = from + 1; i < times.length && times[i]! < w.end - EPS; i++) {
    const t = times[i]!;
    if ((scores[i] ?? 0) < o.threshold) continue;
    fillTo(t);
    if (t - last < o.minGap - EPS) continue;
    picked.push({ index: 0, timestampSec: t, targetSec: t, keyframe: keys[i]!, source: 'scene', pos: -1 });
    last = t;
  }
  fillTo(w.end);
  return picked;
}

/** Keeps each frame time once (the first target that chose it), in time order. */
export function dedupeTimes(frames: PlannedFrame[]): PlannedFrame[] {
  const seen = new Set<number>();
  const out: PlannedFrame[] = [];
  for (const f of [...frames].sort((a, b) => a.timestampSec - b.timestampSec)) {
    const key = Math.round(f.timestampSec * 1e6);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

/** Thins evenly to `max` frames: keeps round(i (n-1) / (max-1)), so the first and last stay. */
export function thin<T>(items: T[], max: number | undefined): T[] {
  if (max === undefined || items.length <= max) return items;
  if (max <= 1) return items.slice(0, Math.max(0, max));
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.round((i * (items.length - 1)) / (max - 1))]!);
  return out;
}

export function numberFrames(frames: PlannedFrame[]): PlannedFrame[] {
  return frames.map((f, index) => ({ ...f, index }));
}
