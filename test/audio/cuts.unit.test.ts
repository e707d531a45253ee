// src/audio/cuts.ts: where audio chunks are cut (the rule in the file's header), on hand-made
// silences. Most cases use 1000 samples per second, so every bound is a whole millisecond.
import { describe, expect, it } from 'vitest';
import { effectiveSearch, finalChunks, mergeSilences, pickCut, planAudioCuts, type ChunkBounds } from '../../src/audio/cuts.js';

const SR = 1000;
const view = (cs: ChunkBounds[]) => cs.map((c) => [c.index, c.startSec, c.endSec, c.overlapSec, c.cut]);

describe('effectiveSearch: search, at most half of what a chunk adds after its overlap', () => {
  it('caps and floors', () => {
    expect(effectiveSearch(10, 0, 3)).toBe(3);
    expect(effectiveSearch(10, 2, 6)).toBe(4);
    expect(effectiveSearch(10, 0, 5)).toBe(5);
    expect(effectiveSearch(10, 0, 0)).toBe(0);
    expect(effectiveSearch(10, 12, 3)).toBe(0);
  });
});

describe('mergeSilences', () => {
  it('sorts, joins silences at most gapSec apart (default 0.01), drops empty ones, keeps those >= minSec', () => {
    const got = mergeSilences([
      { startSec: 3, endSec: 4 },
      { startSec: 1, endSec: 2 },
      { startSec: 2.005, endSec: 2.5 },
      { startSec: 5, endSec: 5 },
      { startSec: 6, endSec: 5.5 },
      { startSec: 4.5, endSec: 4.6 },
    ]);
    expect(got).toEqual([
      { startSec: 1, endSec: 2.5 },
      { startSec: 3, endSec: 4 },
      { startSec: 4.5, endSec: 4.6 },
    ]);
    expect(
      mergeSilences(
        [
          { startSec: 1, endSec: 2 },
          { startSec: 2.5, endSec: 3 },
          { startSec: 4, endSec: 4.1 },
        ],
        { gapSec: 0.5, minSec: 0.5 },
      ),
    ).toEqual([{ startSec: 1, endSec: 3 }]);
  });
  it('a silence inside another is absorbed; the input is not changed', () => {
    const input = [
      { startSec: 1, endSec: 5 },
      { startSec: 2, endSec: 3 },
    ];
    expect(mergeSilences(input)).toEqual([{ startSec: 1, endSec: 5 }]);
    expect(input).toEqual([
      { startSec: 1, endSec: 5 },
      { startSec: 2, endSec: 3 },
    ]);
  });
  it('minSec is inclusive', () => expect(mergeSilences([{ startSec: 0, endSec: 0.3 }], { minSec: 0.3 })).toHaveLength(1));
});

describe('pickCut (samples)', () => {
  it('the silence reaching closest to the limit wins; the cut is its middle', () => {
    expect(
      pickCut(
        [
          [6000, 7500],
          [8000, 8400],
        ],
        7000,
        10000,
      ),
    ).toEqual({ at: 8200, silence: [8000, 8400] });
  });
  it('on a tie of reach, the longer silence', () => {
    expect(
      pickCut(
        [
          [2000, 8000],
          [5000, 8000],
        ],
        0,
        10000,
      ),
    ).toEqual({ at: 5000, silence: [2000, 8000] });
    expect(
      pickCut(
        [
          [5000, 8000],
          [2000, 8000],
        ],
        0,
        10000,
      )!.silence,
    ).toEqual([2000, 8000]);
  });
  it('the middle is pulled into the window [lo, limit]', () => {
    expect(pickCut([[9000, 20000]], 7000, 10000)).toEqual({ at: 10000, silence: [9000, 20000] });
    expect(pickCut([[2000, 7500]], 7000, 10000)).toEqual({ at: 7000, silence: [2000, 7500] });
  });
  it('silences ending at or before lo, or starting at or after the limit, are out', () => {
    expect(
      pickCut(
        [
          [1000, 7000],
          [10000, 11000],
        ],
        7000,
        10000,
      ),
    ).toBeUndefined();
    expect(pickCut([], 0, 10)).toBeUndefined();
  });
});

describe('planAudioCuts', () => {
  it('no silences, no overlap: cuts at every limit, the rest is the last chunk', () => {
    expect(view(planAudioCuts({ endSec: 25, sampleRate: SR, maxChunkSec: 10 }))).toEqual([
      [0, 0, 10, 0, 'limit'],
      [1, 10, 20, 0, 'limit'],
      [2, 20, 25, 0, 'end'],
    ]);
  });
  it('audio ending exactly at a limit: the last chunk ends there', () => {
    expect(view(planAudioCuts({ endSec: 20, sampleRate: SR, maxChunkSec: 10 }))).toEqual([
      [0, 0, 10, 0, 'limit'],
      [1, 10, 20, 0, 'end'],
    ]);
    expect(view(planAudioCuts({ endSec: 7, sampleRate: SR, maxChunkSec: 10 }))).toEqual([[0, 0, 7, 0, 'end']]);
  });
  it('overlap: the next chunk starts overlapSec before the cut, and the chunk length includes it', () => {
    expect(view(planAudioCuts({ endSec: 25, sampleRate: SR, maxChunkSec: 10, overlapSec: 1 }))).toEqual([
      [0, 0, 10, 0, 'limit'],
      [1, 9, 19, 1, 'limit'],
      [2, 18, 25, 1, 'end'],
    ]);
  });
  it('cuts in the silence nearest each limit, within the search window', () => {
    const cs = planAudioCuts({
      endSec: 30,
      sampleRate: SR,
      maxChunkSec: 10,
      searchSec: 3,
      silences: [
        { startSec: 6, endSec: 7.5 }, // reaches 7.5: less close to the limit 10 than the next
        { startSec: 8, endSec: 8.4 }, // -> cut 8.2
        { startSec: 14, endSec: 15 }, // before the second window [15.2, 18.2]
        { startSec: 17, endSec: 19 }, // straddles 18.2: middle 18 -> cut 18
        { startSec: 27.5, endSec: 29 }, // the third chunk (18 -> 28) reaches 28: middle 28.25 pulled back to 28
      ],
    });
    expect(view(cs)).toEqual([
      [0, 0, 8.2, 0, 'silence'],
      [1, 8.2, 18, 0, 'silence'],
      [2, 18, 28, 0, 'silence'],
      [3, 28, 30, 0, 'end'],
    ]);
    expect(cs.map((c) => c.silence)).toEqual([{ startSec: 8, endSec: 8.4 }, { startSec: 17, endSec: 19 }, { startSec: 27.5, endSec: 29 }, undefined]);
  });
  it('a silence outside the search window is not used', () => {
    const cs = planAudioCuts({ endSec: 15, sampleRate: SR, maxChunkSec: 10, searchSec: 1, silences: [{ startSec: 7, endSec: 8.5 }] });
    expect(view(cs)).toEqual([
      [0, 0, 10, 0, 'limit'],
      [1, 10, 15, 0, 'end'],
    ]);
  });
  it('searchSec 0 (the default) never moves a cut', () => {
    const cs = planAudioCuts({ endSec: 15, sampleRate: SR, maxChunkSec: 10, silences: [{ startSec: 9, endSec: 9.9 }] });
    expect(cs[0]).toMatchObject({ endSec: 10, cut: 'limit' });
  });
  it('the search is capped at half the chunk after its overlap', () => {
    // max 10, overlap 2: search 8 -> 4, so the window is [6, 10]; a silence at 5..5.5 is out of reach
    const cs = planAudioCuts({ endSec: 15, sampleRate: SR, maxChunkSec: 10, overlapSec: 2, searchSec: 8, silences: [{ startSec: 5, endSec: 5.5 }] });
    expect(cs[0]).toMatchObject({ endSec: 10, cut: 'limit' });
    const near = planAudioCuts({ endSec: 15, sampleRate: SR, maxChunkSec: 10, overlapSec: 2, searchSec: 8, silences: [{ startSec: 6.5, endSec: 7 }] });
    expect(view(near)).toEqual([
      [0, 0, 6.75, 0, 'silence'],
      [1, 4.75, 14.75, 2, 'limit'],
      [2, 12.75, 15, 2, 'end'],
    ]);
  });
  it('whole samples: ends meet starts exactly and durations add up to the timeline (3 samples/s)', () => {
    // max 3.5 s = floor(10.5) = 10 samples = 3.333.. s
    const cs = planAudioCuts({ endSec: 10, sampleRate: 3, maxChunkSec: 3.5 });
    expect(cs.map((c) => [c.startSec * 3, c.endSec * 3])).toEqual([
      [0, 10],
      [10, 20],
      [20, 30],
    ]);
    for (let i = 1; i < cs.length; i++) expect(cs[i]!.startSec).toBe(cs[i - 1]!.endSec);
    expect(cs.map((c) => c.cut)).toEqual(['limit', 'limit', 'end']);
  });
  it('a timeline that starts later; silences before it are ignored', () => {
    const cs = planAudioCuts({ endSec: 12, startSec: 5, sampleRate: SR, maxChunkSec: 5, searchSec: 2, silences: [{ startSec: 1, endSec: 4 }] });
    expect(view(cs)).toEqual([
      [0, 5, 10, 0, 'limit'],
      [1, 10, 12, 0, 'end'],
    ]);
  });
  it('`from` goes on from an earlier plan exactly as the whole plan does', () => {
    const base = {
      endSec: 40,
      sampleRate: SR,
      maxChunkSec: 10,
      overlapSec: 1,
      searchSec: 3,
      silences: [
        { startSec: 8, endSec: 8.4 },
        { startSec: 25, endSec: 26 },
      ],
    };
    const whole = planAudioCuts(base);
    const c1 = whole[1]!;
    const rest = planAudioCuts({ ...base, from: { index: 1, startSec: c1.startSec, prevCutSec: whole[0]!.endSec } });
    expect(rest).toEqual(whole.slice(1));
  });
  it('nothing to cut when the audio ends at the start', () => {
    expect(planAudioCuts({ endSec: 0, sampleRate: SR, maxChunkSec: 10 })).toEqual([]);
  });
  it('bad parameters are refused naming the option', () => {
    expect(() => planAudioCuts({ endSec: 10, sampleRate: 0, maxChunkSec: 5 })).toThrow(/^option sampleRate: expected a positive integer, got 0$/);
    expect(() => planAudioCuts({ endSec: 10, sampleRate: 44_100.5, maxChunkSec: 5 })).toThrow(/option sampleRate/);
    expect(() => planAudioCuts({ endSec: 10, sampleRate: SR, maxChunkSec: 0 })).toThrow(/^option maxChunkSec: expected a positive number of seconds, got 0$/);
    expect(() => planAudioCuts({ endSec: 10, sampleRate: SR, maxChunkSec: Number.NaN })).toThrow(/option maxChunkSec/);
    expect(() => planAudioCuts({ endSec: 10, sampleRate: SR, maxChunkSec: 10, overlapSec: 6 })).toThrow(
      /^option overlapSec: expected from 0 to half a chunk \(5 s\), got 6$/,
    );
    expect(() => planAudioCuts({ endSec: 10, sampleRate: SR, maxChunkSec: 10, overlapSec: -1 })).toThrow(/option overlapSec/);
    expect(() => planAudioCuts({ endSec: 10, sampleRate: SR, maxChunkSec: 0.0005 })).toThrow(/option maxChunkSec: expected room for at least one sample/);
  });
});

describe('finalChunks: chunks already settled while the audio is read', () => {
  const silences = [
    { startSec: 8, endSec: 8.4 },
    { startSec: 17, endSec: 19 },
  ];
  const whole = planAudioCuts({ endSec: 40, sampleRate: SR, maxChunkSec: 10, searchSec: 3, silences });
  it('the whole plan, for reference', () => {
    expect(view(whole)).toEqual([
      [0, 0, 8.2, 0, 'silence'],
      [1, 8.2, 18, 0, 'silence'],
      [2, 18, 28, 0, 'limit'],
      [3, 28, 38, 0, 'limit'],
      [4, 38, 40, 0, 'end'],
    ]);
  });
  it('read to 25 s, both silences closed: the chunks whose limit is read (10, 18.2) are final and match the whole plan', () => {
    expect(finalChunks({ endSec: 25, sampleRate: SR, maxChunkSec: 10, searchSec: 3, silences }, Infinity)).toEqual(whole.slice(0, 2));
  });
  it('a silence still open from 17 s holds back the chunk whose limit (18.2) lies past it', () => {
    expect(finalChunks({ endSec: 18.5, sampleRate: SR, maxChunkSec: 10, searchSec: 3, silences: silences.slice(0, 1) }, 17)).toEqual(whole.slice(0, 1));
  });
  it('read only to 18.1 s: the second limit (18.2) is not read yet', () => {
    expect(finalChunks({ endSec: 18.1, sampleRate: SR, maxChunkSec: 10, searchSec: 3, silences: silences.slice(0, 1) }, Infinity)).toEqual(whole.slice(0, 1));
  });
  it('the last chunk is never final (the audio may go on); nothing before the first limit is read', () => {
    expect(finalChunks({ endSec: 40, sampleRate: SR, maxChunkSec: 10, searchSec: 3, silences }, Infinity)).toEqual(whole.slice(0, 4));
    expect(finalChunks({ endSec: 9.9, sampleRate: SR, maxChunkSec: 10, searchSec: 3, silences }, Infinity)).toEqual([]);
    expect(finalChunks({ endSec: 25, sampleRate: SR, maxChunkSec: 10, searchSec: 3, silences }, 9)).toEqual([]);
  });
});
