/**
 * Cut planning, pure: silences + where the audio ends + limits -> chunk bounds. No ffmpeg here.
 *
 * The rule, for every chunk in turn:
 * 1. The chunk may last `maxChunkSec` (the tighter of the length limit and the byte limit), so its
 *    limit point is `start + maxChunkSec`. When the audio ends before that, it is the last chunk.
 * 2. The cut may move back from the limit point by up to `searchSec` (never more than half of what
 *    the chunk adds after its overlap, so every chunk moves the timeline on by at least that half).
 * 3. Of the silences that reach into that window, the one closest to the limit point wins (on a
 *    tie, the longer one). The cut goes to the middle of that silence, pulled into the window when
 *    the middle lies outside it, so it is always inside the silence and never past the limit.
 * 4. No silence in the window: the cut is at the limit point.
 * 5. The next chunk starts `overlapSec` before the cut (never before the start of the timeline).
 * 6. A last piece that would add under `tailSec` after the cut (default 0: never) joins the chunk
 *    before it instead, when the joined chunk lasts at most `maxMergedSec`: no chunk of half a
 *    second at the end (see `tailSeconds` for the threshold the planners use).
 *
 * All arithmetic is in whole samples of the output rate, so a chunk's end and the next chunk's
 * start are the same number, and the chunk durations add up to the timeline exactly.
 */
import { invalidOption } from '../errors.js';
import { firstIndex } from '../util/search.js';

export interface Silence {
  startSec: number;
  endSec: number;
}

export type CutReason = 'silence' | 'limit' | 'end';

export interface ChunkBounds {
  index: number;
  /** Start on the source timeline, seconds (includes the overlap). */
  startSec: number;
  /** End on the source timeline, seconds: the cut, or the end of the audio. */
  endSec: number;
  /** Seconds at the start that repeat the end of the previous chunk. */
  overlapSec: number;
  /** Why the chunk ends where it does. */
  cut: CutReason;
  /** The silence the cut lies in (when `cut` is `silence`). */
  silence?: Silence;
}

export interface CutPlanParams {
  /** Where the audio ends on the source timeline, seconds. */
  endSec: number;
  /** The output sample rate: every bound is a whole number of its samples. */
  sampleRate: number;
  /** Longest chunk, seconds, overlap included. */
  maxChunkSec: number;
  /** Seconds repeated at the start of each chunk after the first (default 0). At most half of maxChunkSec. */
  overlapSec?: number | undefined;
  /** How far before its limit a cut may move to reach a silence (default 0: cut at the limit). */
  searchSec?: number | undefined;
  /** Silences anywhere on the timeline, in any order. */
  silences?: readonly Silence[] | undefined;
  /** Where the timeline starts (default 0). */
  startSec?: number | undefined;
  /** A last piece adding less than this after its cut joins the chunk before it (default 0: never). */
  tailSec?: number | undefined;
  /** Longest a chunk joined with the last piece may be, overlap included (default maxChunkSec). */
  maxMergedSec?: number | undefined;
  /** Go on from an earlier plan: the index and start of the next chunk, and the cut it follows. */
  from?: { index: number; startSec: number; prevCutSec: number } | undefined;
}

/** The search window actually used (any unit): `search`, but at most half of what a chunk adds after its overlap. */
export function effectiveSearch(maxChunk: number, overlap: number, search: number): number {
  return Math.max(0, Math.min(search, (maxChunk - overlap) / 2));
}

/**
 * The tail threshold the planners use: a last piece under 2 s, or under a quarter of a chunk for
 * chunks under 8 s, joins the chunk before it.
 */
export function tailSeconds(maxChunkSec: number): number {
  return Math.min(2, maxChunkSec / 4);
}

/** Index of the first silence (sorted, disjoint) whose end is after `t`. */
function firstEndingAfter(s: ReadonlyArray<[number, number]>, t: number): number {
  return firstIndex(s.length, (i) => s[i]![1] > t);
}

/** The cut for a window [lo, limit] in samples: a silence's middle pulled into the window, or undefined. */
export function pickCut(silences: ReadonlyArray<[number, number]>, lo: number, limit: number): { at: number; silence: [number, number] } | undefined {
  let best: [number, number] | undefined;
  for (let i = firstEndingAfter(silences, lo); i < silences.length; i++) {
    const s = silences[i]!;
    if (s[0] >= limit) break;
    if (!best) {
      best = s;
      continue;
    }
    const reach = Math.min(s[1], limit);
    const bestReach = Math.min(best[1], limit);
    if (reach > bestReach || (reach === bestReach && s[1] - s[0] > best[1] - best[0])) best = s;
  }
  if (!best) return undefined;
  const from = Math.max(best[0], lo);
  const to = Math.min(best[1], limit);
  const mid = Math.round((best[0] + best[1]) / 2);
  return { at: Math.min(to, Math.max(from, mid)), silence: best };
}

/**
 * Sorts silences, joins those separated by at most `gapSec` (a click inside a pause), and keeps
 * those lasting at least `minSec`.
 */
export function mergeSilences(silences: readonly Silence[], o: { gapSec?: number; minSec?: number } = {}): Silence[] {
  const gap = o.gapSec ?? 0.01;
  const min = o.minSec ?? 0;
  const sorted = silences.filter((s) => s.endSec > s.startSec).sort((a, b) => a.startSec - b.startSec);
  const merged: Silence[] = [];
  for (const s of sorted) {
    const last = merged[merged.length - 1];
    if (last && s.startSec - last.endSec <= gap) last.endSec = Math.max(last.endSec, s.endSec);
    else merged.push({ startSec: s.startSec, endSec: s.endSec });
  }
  return merged.filter((s) => s.endSec - s.startSec >= min - 1e-9);
}

/** Chunk bounds for a timeline. See the rule at the top of this file. */
export function planAudioCuts(p: CutPlanParams): ChunkBounds[] {
  const sr = p.sampleRate;
  if (!Number.isInteger(sr) || sr <= 0) throw invalidOption('sampleRate', 'a positive integer', sr);
  const overlapSec = p.overlapSec ?? 0;
  if (!(p.maxChunkSec > 0)) throw invalidOption('maxChunkSec', 'a positive number of seconds', p.maxChunkSec);
  if (!(overlapSec >= 0) || overlapSec > p.maxChunkSec / 2) {
    throw invalidOption('overlapSec', `from 0 to half a chunk (${p.maxChunkSec / 2} s)`, overlapSec);
  }
  const N = (t: number): number => Math.round(t * sr);
  const T0 = N(p.startSec ?? 0);
  const E = N(p.endSec);
  const maxN = Math.floor(p.maxChunkSec * sr + 1e-6);
  const ovN = N(overlapSec);
  const winN = Math.floor(effectiveSearch(maxN, ovN, N(p.searchSec ?? 0)));
  const tailN = N(p.tailSec ?? 0);
  const mergedN = p.maxMergedSec !== undefined ? Math.floor(p.maxMergedSec * sr + 1e-6) : maxN;
  if (maxN - ovN < 1) throw invalidOption('maxChunkSec', 'room for at least one sample after the overlap', p.maxChunkSec);
  const silences: Array<[number, number]> = mergeSilences(p.silences ?? [], { gapSec: 0 })
    .map((s): [number, number] => [Math.max(T0, N(s.startSec)), Math.min(E, N(s.endSec))])
    .filter(([a, b]) => b > a);

  const chunks: ChunkBounds[] = [];
  let index = p.from?.index ?? 0;
  let start = p.from ? N(p.from.startSec) : T0;
  let prevCut = p.from ? N(p.from.prevCutSec) : T0;
  const sec = (n: number): number => n / sr;
  while (start < E) {
    const overlap = Math.max(0, prevCut - start);
    const limit = start + maxN;
    if (limit >= E) {
      chunks.push({ index, startSec: sec(start), endSec: sec(E), overlapSec: sec(overlap), cut: 'end' });
      break;
    }
    const lo = Math.max(prevCut + 1, limit - winN);
    const picked = winN > 0 ? pickCut(silences, lo, limit) : undefined;
    const cutAt = picked ? picked.at : limit;
    if (E - cutAt < tailN && E - start <= mergedN) {
      chunks.push({ index, startSec: sec(start), endSec: sec(E), overlapSec: sec(overlap), cut: 'end' });
      break;
    }
    chunks.push({
      index,
      startSec: sec(start),
      endSec: sec(cutAt),
      overlapSec: sec(overlap),
      cut: picked ? 'silence' : 'limit',
      ...(picked ? { silence: { startSec: sec(picked.silence[0]), endSec: sec(picked.silence[1]) } } : {}),
    });
    index++;
    prevCut = cutAt;
    start = Math.max(T0, cutAt - ovN);
  }
  return chunks;
}

/**
 * The chunks that are already final while the audio is still being read: `p.endSec` is how far
 * it is read (every silence starting before it is known), `p.silences` the silences that ended
 * before it, `openFromSec` where a silence that may still grow begins (Infinity: none). A chunk is
 * final when its limit point lies before both: no later audio and no growing silence can reach
 * its search window, so the whole-file plan cuts it at the same sample. Stops at the first chunk
 * that is not final. The tail rule needs no more: a chunk the whole plan joins with a short last
 * piece (rule 6) is joined by the plan of the audio read so far too (less audio after its cut, a
 * shorter joined chunk), so it ends that plan as `end` and is not final.
 */
export function finalChunks(p: CutPlanParams, openFromSec: number): ChunkBounds[] {
  const sr = p.sampleRate;
  const maxN = Math.floor(p.maxChunkSec * sr + 1e-6);
  const readN = Math.round(p.endSec * sr);
  const openN = openFromSec === Infinity ? Infinity : Math.round(openFromSec * sr);
  const out: ChunkBounds[] = [];
  for (const b of planAudioCuts(p)) {
    const limit = Math.round(b.startSec * sr) + maxN;
    if (b.cut === 'end' || limit > readN || limit > openN) break;
    out.push(b);
  }
  return out;
}
