// The cost curve's `shots:` line lists the first cut times only: a 10-minute file has hundreds
// (649 on one 9-KB line before), and --json lists them all.
import { describe, expect, it } from 'vitest';
import { cutList } from '../../src/cli/commands/cost-curve.js';

describe('the shots line', () => {
  it('lists up to 12 cuts, then says how many more', () => {
    expect(cutList([])).toBe('');
    expect(cutList([4, 9, 13.5])).toBe('; cuts at 4 s, 9 s, 13.5 s');
    const many = Array.from({ length: 649 }, (_, i) => i + 1);
    const line = cutList(many);
    expect(line).toBe('; cuts at 1 s, 2 s, 3 s, 4 s, 5 s, 6 s, 7 s, 8 s, 9 s, 10 s, 11 s, 12 s and 637 more (--json lists them all)');
    expect(cutList(many.slice(0, 12))).not.toContain('more');
  });
});
