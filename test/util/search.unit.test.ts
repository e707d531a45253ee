import { describe, expect, it } from 'vitest';
import { firstIndex } from '../../src/util/search.js';

describe('firstIndex: the one binary search', () => {
  const xs = [0, 1, 1, 1, 2, 5, 8];
  it('lower bound, upper bound, and last at or before', () => {
    for (const t of [-1, 0, 1, 1.5, 2, 5, 7, 8, 9]) {
      expect(
        firstIndex(xs.length, (i) => xs[i]! >= t),
        `>= ${t}`,
      ).toBe(xs.findIndex((x) => x >= t) === -1 ? xs.length : xs.findIndex((x) => x >= t));
      const last = xs.reduce((a, x, i) => (x <= t ? i : a), -1);
      expect(firstIndex(xs.length, (i) => xs[i]! > t) - 1, `<= ${t}`).toBe(last);
    }
  });
  it('empty: 0; never true: length; always true: 0', () => {
    expect(firstIndex(0, () => true)).toBe(0);
    expect(firstIndex(5, () => false)).toBe(5);
    expect(firstIndex(5, () => true)).toBe(0);
  });
  it('asks O(log n) questions', () => {
    let asked = 0;
    firstIndex(1_000_000, (i) => (asked++, i >= 123_456));
    expect(asked).toBeLessThanOrEqual(21);
  });
});
