/**
 * The one binary search: the first index in [0, length) where `past(i)` holds, for a predicate that
 * is false up to some index and true from there on (length when it never holds).
 *
 *     firstIndex(times.length, (i) => times[i] >= t)      // lower bound
 *     firstIndex(times.length, (i) => times[i] > t) - 1   // last at or before t (-1: none)
 */
export function firstIndex(length: number, past: (i: number) => boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (past(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
