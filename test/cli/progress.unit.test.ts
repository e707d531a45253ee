// The shared progress bar (src/cli/progress.ts): drawn on a TTY only, silent otherwise and with
// --json; redraws are limited by the injected clock, never by waiting.
import { describe, expect, it } from 'vitest';
import { createProgress, formatEta, progressLine } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, write: (s: string) => writes.push(s) }, writes };
}

describe('createProgress', () => {
  it('draws a bar with counts and an ETA on a TTY, then ends the line', () => {
    const { stream, writes } = fakeStream(true);
    let t = 1000;
    const p = createProgress({ total: 4, label: 'frames', stream, now: () => t });
    t += 2000;
    p.tick();
    t += 2000;
    p.tick(2);
    t += 2000;
    p.tick();
    p.done();
    expect(writes).toEqual([
      '\r[........................] 0/4 frames, ETA --',
      '\r[######..................] 1/4 frames, ETA 6s',
      '\r[##################......] 3/4 frames, ETA 2s',
      `\r[########################] 4/4 frames${' '.repeat(8)}`, // clears ', ETA 2s'
      '\n',
    ]);
  });

  it('redraws at most once per interval, but always draws the last state', () => {
    const { stream, writes } = fakeStream(true);
    const t = 0;
    const p = createProgress({ total: 100, label: 'frames', stream, now: () => t, intervalMs: 100 });
    for (let i = 0; i < 99; i++) p.tick();
    expect(writes).toHaveLength(1);
    p.tick();
    expect(writes).toHaveLength(2);
    // Padded over the 6 characters the first line ('0/100', ', ETA --') had more.
    expect(writes[1]).toBe(`\r[########################] 100/100 frames${' '.repeat(6)}`);
    p.done();
    p.tick();
    p.done();
    expect(writes).toHaveLength(3);
  });

  it('takes a new total from update() and shows a bare count without one', () => {
    const { stream, writes } = fakeStream(true);
    let t = 0;
    const p = createProgress({ total: 0, label: 'inputs', stream, now: () => t });
    t = 500;
    p.update(3);
    t = 1000;
    p.update(3, 6);
    p.done();
    expect(writes).toEqual(['\r3 inputs', '\r[############............] 3/6 inputs, ETA 1s', '\n']);
    // Never updated and no total: nothing at all, not even the end of the line.
    const idle = fakeStream(true);
    createProgress({ total: 0, label: 'seconds', stream: idle.stream }).done();
    expect(idle.writes).toEqual([]);
  });

  it('writes nothing when the stream is not a TTY or when disabled (--json)', () => {
    for (const [isTTY, enabled] of [
      [false, true],
      [true, false],
    ] as const) {
      const { stream, writes } = fakeStream(isTTY);
      const p = createProgress({ total: 3, label: 'frames', stream, enabled });
      p.tick();
      p.update(3, 3);
      p.done();
      expect(writes).toEqual([]);
    }
  });
});

describe('progress text', () => {
  it('formats ETAs and caps a count past the total', () => {
    expect(formatEta(9.2)).toBe('10s');
    expect(formatEta(75)).toBe('1m15s');
    expect(formatEta(7260)).toBe('2h01m');
    expect(formatEta(-3)).toBe('0s');
    expect(progressLine('frames', 7, 5, 100)).toBe('[########################] 5/5 frames');
  });
});
