/**
 * Splits one long timeline into windows that each become one request: every window gets its
 * frames and its audio chunks. Pure.
 *
 * With audio, windows follow the audio chunks (a chunk is never split, its cut lies in a silence):
 * consecutive chunks join one window while the window stays within `windowSec` and `maxFrames`;
 * a window ends where its last chunk ends, and the next window starts there (its first chunk may
 * begin a little earlier: the overlap, repeated for context). Cut the audio with
 * `chunkSeconds <= windowSec` to get windows of about `windowSec`.
 *
 * Without audio, windows are `windowSec` long, shortened where they would hold more than
 * `maxFrames` frames. A window without audio that would hold no frame, or be a sliver (shorter
 * than `minWindowSec`), joins the window before it: no request carries only the prompt.
 *
 * Frames go to the window whose [start, end) holds their timestamp (the last window also holds its
 * end); frames before the timeline or after its end go to the first or the last window.
 */
import { OmniprepError, invalidOption } from '../errors.js';
import { firstIndex } from '../util/search.js';

export interface TimedItem {
  timestampSec: number;
}

export interface AudioSpan {
  startSec: number;
  endSec: number;
  /** Seconds at the start repeated from the previous chunk (from the audio manifest). */
  overlapSec?: number | undefined;
}

export interface TimelineWindow<F, A> {
  index: number;
  startSec: number;
  endSec: number;
  frames: F[];
  audio: A[];
}

export interface SegmentOptions {
  /** Longest window in seconds (default 300). */
  windowSec?: number | undefined;
  /** Most frames in one window: the provider's images-per-request limit (default: no limit). */
  maxFrames?: number | undefined;
  /** Where the timeline starts (default 0). */
  startSec?: number | undefined;
  /**
   * A window without audio that is shorter than this (a sliver at the end: 0.08 s of a 600.08-s
   * clip in windows of 120 s) joins the window before it, within `maxFrames` (default 0). A
   * window without audio that holds no frame always does: it would be a request that carries
   * only the prompt, and is paid for.
   */
  minWindowSec?: number | undefined;
}

export const DEFAULT_WINDOW_SEC = 300;

/** Frames with timestampSec in [from, to) (sorted input; binary search). */
function countIn(times: readonly number[], from: number, to: number): number {
  const lower = (t: number): number => firstIndex(times.length, (i) => times[i]! >= t);
  return lower(to) - lower(from);
}

/**
 * Joins each window without audio that holds no frame, or is shorter than `minWindowSec`, to the
 * window before it when the two together stay within `maxFrames` (the last window also holds the
 * frames at and after its end).
 */
function joinSlivers<B extends { startSec: number; endSec: number; audio: unknown[] }>(
  bounds: readonly B[],
  times: readonly number[],
  o: { maxFrames: number; minWindowSec: number },
): B[] {
  const out: B[] = [];
  bounds.forEach((b, i) => {
    const to = i === bounds.length - 1 ? Infinity : b.endSec;
    const prev = out[out.length - 1];
    const sliver = countIn(times, b.startSec, to) === 0 || b.endSec - b.startSec < o.minWindowSec - 1e-9;
    if (prev && !b.audio.length && sliver && countIn(times, prev.startSec, to) <= o.maxFrames) prev.endSec = b.endSec;
    else out.push(b);
  });
  return out;
}

/** Windows over [startSec, durationSec], each with its frames and audio. */
export function segmentTimeline<F extends TimedItem, A extends AudioSpan>(
  durationSec: number,
  frames: readonly F[],
  audio: readonly A[] = [],
  options: SegmentOptions = {},
): Array<TimelineWindow<F, A>> {
  const windowSec = options.windowSec ?? DEFAULT_WINDOW_SEC;
  const maxFrames = options.maxFrames ?? Infinity;
  const t0 = options.startSec ?? 0;
  if (!(windowSec > 0) || !Number.isFinite(windowSec)) throw invalidOption('windowSec', 'a positive number of seconds', windowSec);
  if (!(maxFrames >= 1)) throw invalidOption('maxFrames', 'an integer >= 1', maxFrames);
  if (!(durationSec >= t0)) throw invalidOption('durationSec', `a number >= startSec (${t0})`, durationSec);

  const sortedFrames = [...frames].sort((a, b) => a.timestampSec - b.timestampSec);
  const times = sortedFrames.map((f) => f.timestampSec);
  const chunks = [...audio].sort((a, b) => a.startSec - b.startSec);
  const end = Math.max(durationSec, chunks.length ? chunks[chunks.length - 1]!.endSec : t0);

  // Windows without audio over [from, to): windowSec long, shorter where maxFrames binds.
  type Bound = { startSec: number; endSec: number; audio: A[] };
  const fixedWindows = (from: number, to: number): Bound[] => {
    const out: Bound[] = [];
    let start = from;
    do {
      let stop = Math.min(to, start + windowSec);
      if (countIn(times, start, stop) > maxFrames) {
        // End the window at the first frame that does not fit.
        stop = times[countIn(times, -Infinity, start) + maxFrames]!;
        if (!(stop > start)) {
          throw new OmniprepError('LIMIT_EXCEEDED', `more than ${maxFrames} frames share the timestamp ${start} s: they cannot be split across requests`);
        }
      }
      out.push({ startSec: start, endSec: stop, audio: [] });
      start = stop;
    } while (start < to);
    return out;
  };

  const bounds: Bound[] = [];
  if (chunks.length) {
    let cur: Bound | undefined;
    for (const c of chunks) {
      if (cur) {
        const fits = c.endSec - cur.startSec <= windowSec + 1e-9 && countIn(times, cur.startSec, c.endSec) <= maxFrames;
        if (fits) {
          cur.endSec = c.endSec;
          cur.audio.push(c);
          continue;
        }
        bounds.push(cur);
      }
      cur = { startSec: cur ? cur.endSec : t0, endSec: c.endSec, audio: [c] };
      const own = countIn(times, cur.startSec, cur.endSec);
      if (own > maxFrames) {
        throw new OmniprepError(
          'LIMIT_EXCEEDED',
          `the audio chunk from ${c.startSec.toFixed(3)} s to ${c.endSec.toFixed(3)} s spans ${own} frames, over the ${maxFrames}-frame limit of one request: cut the audio shorter or sample fewer frames`,
        );
      }
    }
    const last = cur!;
    bounds.push(last);
    // Video after the audio: the last window takes it when it fits, else windows of its own.
    if (end > last.endSec) {
      if (end - last.startSec <= windowSec + 1e-9 && countIn(times, last.startSec, Infinity) <= maxFrames) last.endSec = end;
      else bounds.push(...fixedWindows(last.endSec, end));
    }
  } else {
    bounds.push(...fixedWindows(t0, end));
  }

  const merged = joinSlivers(bounds, times, { maxFrames, minWindowSec: options.minWindowSec ?? 0 });
  const windows = merged.map((b, index): TimelineWindow<F, A> => ({ index, startSec: b.startSec, endSec: b.endSec, frames: [], audio: b.audio }));
  let w = 0;
  for (const f of sortedFrames) {
    while (w < windows.length - 1 && f.timestampSec >= windows[w]!.endSec) w++;
    windows[w]!.frames.push(f);
  }
  return windows;
}
