// runMany (src/util/many.ts): the bound on inputs in flight, completion order, one outcome per
// input, failures as code and line, cancellation; FolderNames; the progress line. Pure: the work
// is promises the test settles by hand, so every assertion is on records, not on time.
import { describe, expect, it } from 'vitest';
import { OmniprepError } from '../../src/errors.js';
import { FolderNames, inputLabel, runMany, type ManyResult } from '../../src/util/many.js';
import { progressLine } from '../../src/cli/progress.js';

/** Work whose promises the test settles: records starts, ends and the signals it was given. */
function heldWork() {
  const started: string[] = [];
  const pending = new Map<string, { resolve: (v: string) => void; reject: (e: unknown) => void; signal: AbortSignal }>();
  let inFlight = 0;
  let maxInFlight = 0;
  const work = (input: string, _index: number, signal: AbortSignal): Promise<string> => {
    started.push(input);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    return new Promise<string>((resolve, reject) => {
      let ended = false;
      const done = (): void => {
        if (!ended) inFlight--;
        ended = true;
      };
      pending.set(input, { resolve: (v) => (done(), resolve(v)), reject: (e) => (done(), reject(e)), signal });
      signal.addEventListener('abort', () => (done(), reject(new OmniprepError('ABORTED', `${input}: cancelled`))), { once: true });
    });
  };
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  const resolveAll = (): void => {
    for (const [k, p] of pending) {
      pending.delete(k);
      p.resolve(`r-${k}`);
    }
  };
  return { work, started, pending, tick, resolveAll, max: () => maxInFlight, inFlight: () => inFlight };
}

describe('runMany', () => {
  it('keeps at most N inputs in flight, reads inputs lazily, and yields in completion order', async () => {
    const h = heldWork();
    let pulled = 0;
    function* inputs(): Generator<string> {
      for (let i = 0; i < 6; i++) {
        pulled++;
        yield `in${i}`;
      }
    }
    const it = runMany(inputs(), h.work, { concurrency: 2 })[Symbol.asyncIterator]();
    const first = it.next();
    await h.tick();
    expect(h.started).toEqual(['in0', 'in1']);
    expect(pulled).toBe(2);
    h.pending.get('in1')!.resolve('one');
    expect((await first).value).toEqual({ input: 'in1', index: 1, ok: true, result: 'one' });
    // The slot is free once the outcome is taken: one more starts.
    const second = it.next();
    await h.tick();
    expect(h.started).toEqual(['in0', 'in1', 'in2']);
    h.pending.get('in2')!.reject(new OmniprepError('CORRUPT', 'in2: the moov box is cut short'));
    h.pending.get('in0')!.reject(new RangeError('offset out of range'));
    const outcomes: Array<ManyResult<string>> = [(await second).value as ManyResult<string>];
    for (;;) {
      const next = it.next();
      await h.tick();
      h.resolveAll();
      const r = await next;
      if (r.done) break;
      outcomes.push(r.value);
    }
    // in2 and in0 failed, in that order, before in3 began: both come out first.
    expect(outcomes.slice(0, 2)).toEqual([
      { input: 'in2', index: 2, ok: false, error: { code: 'CORRUPT', message: 'in2: the moov box is cut short' } },
      { input: 'in0', index: 0, ok: false, error: { code: 'PROCESS_FAILED', message: 'in0: offset out of range' } },
    ]);
    expect(outcomes.slice(2).map((o) => [o.index, o.ok && o.result])).toEqual([
      [3, 'r-in3'],
      [4, 'r-in4'],
      [5, 'r-in5'],
    ]);
    expect(h.max()).toBe(2);
    expect(pulled).toBe(6);
  });

  it('never holds more than N outcomes while the consumer is slow', async () => {
    const h = heldWork();
    const it = runMany(['a', 'b', 'c', 'd', 'e'], h.work, { concurrency: 3 })[Symbol.asyncIterator]();
    const first = it.next();
    await h.tick();
    for (const k of ['a', 'b', 'c']) h.pending.get(k)!.resolve(k);
    expect((await first).value).toMatchObject({ input: 'a' });
    await h.tick();
    // Nothing starts until the consumer asks again (b and c are held, one slot each).
    expect(h.started).toEqual(['a', 'b', 'c']);
    // Asked again: one slot is free (a's), so d starts, and b is handed over.
    expect((await it.next()).value).toMatchObject({ input: 'b' });
    expect(h.started).toEqual(['a', 'b', 'c', 'd']);
    expect(h.max()).toBe(3);
    await it.return(undefined);
  });

  it('cancels the inputs running when the signal aborts, starts no other, and throws ABORTED', async () => {
    const h = heldWork();
    const ac = new AbortController();
    const it = runMany(['a', 'b', 'c', 'd'], h.work, { concurrency: 2, signal: ac.signal })[Symbol.asyncIterator]();
    const first = it.next();
    await h.tick();
    ac.abort();
    await expect(first).rejects.toMatchObject({ code: 'ABORTED', message: 'cancelled: 2 input(s) running were stopped, none other started' });
    expect(h.started).toEqual(['a', 'b']);
    expect(h.pending.get('a')!.signal.aborted).toBe(true);
    expect(h.inFlight()).toBe(0);
  });

  it('stopping the iteration early cancels what runs and waits for it', async () => {
    const h = heldWork();
    const it = runMany(['a', 'b', 'c'], h.work, { concurrency: 2 })[Symbol.asyncIterator]();
    const first = it.next();
    await h.tick();
    h.pending.get('a')!.resolve('A');
    expect((await first).value).toEqual({ input: 'a', index: 0, ok: true, result: 'A' });
    await it.return?.(undefined);
    expect(h.started).toEqual(['a', 'b']);
    expect(h.pending.get('b')!.signal.aborted).toBe(true);
    expect(h.inFlight()).toBe(0);
  });

  it('refuses a concurrency that is not a positive integer', async () => {
    for (const bad of [0, 1.5, -1, 2000]) {
      await expect(runMany(['a'], async () => 1, { concurrency: bad }).next()).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: `option concurrency: expected an integer from 1 to 1024, got ${bad}`,
      });
    }
  });
});

describe('FolderNames', () => {
  it('keeps names unique, case-insensitively, and away from reserved ones', () => {
    const n = new FolderNames(['summary.json']);
    expect(['clip.mp4', 'sub/clip.mp4', 'CLIP.mp4', 'clip.mp4', 'summary.json', '../x y.webm', '.hidden.mp4', '///'].map((l) => n.name(l))).toEqual([
      'clip.mp4',
      'sub_clip.mp4',
      'CLIP.mp4-2',
      'clip.mp4-3',
      'summary.json-2',
      'x_y.webm',
      'hidden.mp4',
      'input',
    ]);
  });

  it('labels a URL by its last path segment and a path by its file name', () => {
    expect(inputLabel('https://example.com/media/talk.mp4?sig=1')).toBe('talk.mp4');
    expect(inputLabel('https://example.com/')).toBe('example.com');
    expect(inputLabel('/data/set/sub/clip.webm')).toBe('clip.webm');
  });
});

describe('progressLine of many inputs', () => {
  it('shows inputs done of all, frames and the time left', () => {
    expect(progressLine('inputs, 0 frames', 0, 50, 0)).toBe('[........................] 0/50 inputs, 0 frames, ETA --');
    expect(progressLine('inputs, 30 frames', 10, 40, 10_000)).toBe('[######..................] 10/40 inputs, 30 frames, ETA 30s');
    expect(progressLine('inputs', 1, 3, 61_000)).toBe('[########................] 1/3 inputs, ETA 2m02s');
    expect(progressLine('inputs, 9 frames', 3, 3, 5_000)).toBe('[########################] 3/3 inputs, 9 frames');
  });
});
