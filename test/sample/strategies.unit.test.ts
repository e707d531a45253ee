/**
 * Decode strategies as a table (src/extract/strategies/registry.ts): the grouping takes the
 * cheapest strategy that applies to each group of frames and names none, so a new strategy is one
 * object in STRATEGIES. Pure: a made-up packet index, no ffmpeg.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FALLBACK, STRATEGIES, strategiesFor } from '../../src/extract/strategies/registry.js';
import type { DecodeStrategy } from '../../src/extract/strategies/strategy.js';
import type { PlannedFrame } from '../../src/plan/types.js';
import type { PacketIndex } from '../../src/probe/keyframes.js';
import type { MediaInfo, VideoStreamInfo } from '../../src/probe/types.js';
import { buildTasks, type TaskContext } from '../../src/sample/tasks.js';
import { ROOT } from '../helpers/fixtures.js';
import { matchingLines, tsFiles } from '../helpers/source-lines.js';

/** n frames at 30 fps, a keyframe every `gop`, positions in file order. */
function index(n: number, gop: number): PacketIndex {
  const times = Array.from({ length: n }, (_, i) => Math.round((i / 30) * 1e6) / 1e6);
  return { streamIndex: 0, times, pos: times.map((_, i) => 1000 + i * 100), size: times.map(() => 100), keyframe: times.map((_, i) => i % gop === 0) };
}

function frames(idx: PacketIndex, numbers: number[]): PlannedFrame[] {
  return numbers.map((n, index) => {
    const keyframe = idx.keyframe[n]!;
    return { index, timestampSec: idx.times[n]!, targetSec: idx.times[n]!, keyframe, source: keyframe ? 'keyframe' : 'exact', pos: idx.pos[n]! };
  });
}

function context(idx: PacketIndex, codec: string, container: string, strategies?: readonly DecodeStrategy[]): TaskContext {
  const video = { index: 0, codec, width: 1280, height: 720, rotation: 0 } as VideoStreamInfo;
  return {
    info: { path: '/x', input: 'x', container, startTimeSec: 0, video } as MediaInfo,
    video,
    idx,
    ffmpeg: { path: 'ffmpeg', version: { version: '4.1', release: [4, 1], year: 2018, hasFpsMode: false } },
    threads: 1,
    maxPixels: 1e8,
    timeoutMs: 1000,
    out: { dir: '/out', width: 640, height: 360, format: 'jpeg', quality: 80 },
    hash: false,
    ...(strategies ? { strategies } : {}),
  };
}

/** A strategy the grouping has never heard of: exact frames of one group of pictures, one packet each. */
const seekOne: DecodeStrategy = {
  name: 'seek-one',
  applies: (facts, g) => g.decode === 'exact' && facts.dec.keyBefore[g.last] === g.first,
  cost: (_facts, g) => g.frames.length,
  fill: (_facts, g) => ({ packetRun: [{ pos: g.first, size: 0, t: 0, key: true }] }),
  run: () => Promise.reject(new Error('not run here')),
};

describe('the grouping takes the cheapest strategy that applies', () => {
  // 1-s groups of pictures: two keyframes kept, three exact frames 10 s apart (one task each).
  const idx = index(1800, 30);
  const fs = frames(idx, [0, 305, 605, 900, 1205]);

  it('today: VP8 in WebM by ranges; H.264 in MP4 by its keyframe stream and span stream', () => {
    expect(buildTasks(fs, context(idx, 'vp8', 'webm')).map((t) => [t.decode, t.strategy, t.frames.length])).toEqual([
      ['keyframes', 'range', 2],
      ['exact', 'range', 1],
      ['exact', 'range', 1],
      ['exact', 'range', 1],
    ]);
    const mp4 = buildTasks(fs, context(idx, 'h264', 'mp4'));
    // On an Annex B stream exact frames that run on share a task (305, 605; the keyframe 900
    // ends the run): two spans of 6 packets and two starts (60 + 306 packets copied at 0.05 +
    // 12) against a pass through 306 packets. 1205 alone, in its group of pictures: a range.
    expect(mp4.map((t) => [t.strategy, t.frames.length])).toEqual([
      ['keyframe-stream', 2],
      ['span-stream', 2],
      ['range', 1],
    ]);
    // Each stream's own fields, filled by it.
    expect(mp4.map((t) => [t.keyframeRun?.length, t.packetRun?.length, t.annexB])).toEqual([
      [31, undefined, 'h264'],
      [undefined, 306, 'h264'],
      [undefined, undefined, undefined],
    ]);
  });

  it('a strategy registered beside them that costs less for some groups is chosen for those, with its own fields', () => {
    const tasks = buildTasks(fs, context(idx, 'vp8', 'webm', [...STRATEGIES, seekOne]));
    expect(tasks.map((t) => [t.decode, t.strategy])).toEqual([
      ['keyframes', 'range'], // it does not apply to keyframes
      ['exact', 'seek-one'],
      ['exact', 'seek-one'],
      ['exact', 'seek-one'],
    ]);
    expect(tasks.map((t) => t.packetRun?.[0]?.pos)).toEqual([undefined, 300, 600, 1200]);
    // Dearer than the range decode (31 + 6 packets a frame): never chosen.
    const dear = { ...seekOne, cost: () => 1e6 };
    expect(buildTasks(fs, context(idx, 'vp8', 'webm', [...STRATEGIES, dear])).map((t) => t.strategy)).toEqual(['range', 'range', 'range', 'range']);
  });

  it('a task falls back to the range decode only; a strategy the worker does not know is the range decode', () => {
    expect(FALLBACK.name).toBe('range');
    for (const s of STRATEGIES) expect(strategiesFor({ strategy: s.name })).toEqual(s === FALLBACK ? [FALLBACK] : [s, FALLBACK]);
    expect(strategiesFor({ strategy: 'seek-one' })).toEqual([FALLBACK]);
    expect(new Set(STRATEGIES.map((s) => s.name)).size).toBe(STRATEGIES.length);
  });
});

describe('no module names a decode strategy', () => {
  it('src/sample and src/extract outside src/extract/strategies/ hold no strategy name as a string', () => {
    const names = STRATEGIES.map((s) => s.name).join('|');
    const literal = new RegExp(`(['"\`])(${names})\\1`);
    const strategies = join(ROOT, 'src', 'extract', 'strategies');
    const files = [...tsFiles(join(ROOT, 'src', 'sample')), ...tsFiles(join(ROOT, 'src', 'extract'))].filter((f) => !f.startsWith(strategies));
    expect(files.length).toBeGreaterThan(10);
    const found = matchingLines(files, literal);
    expect(found).toEqual([]);
    // The pattern itself finds what it must.
    expect(literal.test("g.decode === 'exact' ? 'one-pass' : 'range'")).toBe(true);
    expect(literal.test('if (strategy === "span-stream") x();')).toBe(true);
    expect(literal.test("{ kind: 'ranges' }")).toBe(false);
  });
});
