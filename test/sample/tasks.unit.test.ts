/** The decode plan by cost (pure: a made-up packet index, no ffmpeg). */
import { describe, expect, it } from 'vitest';
import {
  buildTasks,
  chooseStrategy,
  DecodeOrder,
  groupFrames,
  keyframeSkip,
  keyframesAlone,
  MIN_TASK_FRAMES,
  START_COST,
  startCost,
  taskSize,
} from '../../src/sample/tasks.js';
import type { PacketIndex } from '../../src/probe/keyframes.js';
import type { PlannedFrame } from '../../src/plan/types.js';
import type { MediaInfo, VideoStreamInfo } from '../../src/probe/types.js';
import type { TaskContext } from '../../src/sample/tasks.js';

/** n frames at 30 fps, a keyframe every `gop`, positions in file order (no B-frames). */
function index(n: number, gop: number, positions = true): PacketIndex {
  const times = Array.from({ length: n }, (_, i) => Math.round((i / 30) * 1e6) / 1e6);
  return {
    streamIndex: 0,
    times,
    pos: times.map((_, i) => (positions ? 1000 + i * 100 : -1)),
    size: times.map(() => 100),
    keyframe: times.map((_, i) => i % gop === 0),
  };
}

function frames(idx: PacketIndex, numbers: number[], source: PlannedFrame['source'] = 'exact'): PlannedFrame[] {
  return numbers.map((n, index) => ({ index, timestampSec: idx.times[n]!, targetSec: idx.times[n]!, keyframe: idx.keyframe[n]!, source, pos: idx.pos[n]! }));
}

describe('grouping frames into decode tasks by cost', () => {
  it('dense frames (closer than a group of pictures) share one sequential pass', () => {
    const idx = index(900, 30);
    const dec = new DecodeOrder(idx);
    const fs = frames(
      idx,
      Array.from({ length: 60 }, (_, i) => i * 15),
    );
    const groups = groupFrames(fs, dec, 1, false);
    // one thread: tasks of ceil(60 / 2) frames, each one pass across its groups of pictures
    expect(groups.map((g) => g.frames.length)).toEqual([30, 30]);
    expect(groups.map((g) => chooseStrategy(g, dec, false))).toEqual(['one-pass', 'one-pass']);
    expect(groups[1]!.first).toBe(450);
  });

  it('sparse frames each start at their own keyframe (a range per frame)', () => {
    const idx = index(3000, 30);
    const dec = new DecodeOrder(idx);
    // 10 s apart, 1 s groups of pictures: decoding on would cost 300 packets, a fresh start 30 + a few
    const groups = groupFrames(frames(idx, [5, 305, 605]), dec, 1, false);
    expect(groups.map((g) => [g.first, g.last])).toEqual([
      [0, 5],
      [300, 305],
      [600, 605],
    ]);
    expect(groups.map((g) => chooseStrategy(g, dec, false))).toEqual(['range', 'range', 'range']);
  });

  it('joins the next frame when decoding on to it costs no more than a start at its keyframe', () => {
    const idx = index(600, 60);
    const dec = new DecodeOrder(idx);
    // 40 -> 70 decodes 30 packets on; a fresh start at keyframe 60 would cost 11 + START_COST: join.
    // 70 -> 250 would decode 180 on; a fresh start at 240 costs 11 + START_COST: a new task.
    expect(70 - 40).toBeLessThanOrEqual(70 - 60 + 1 + START_COST);
    const groups = groupFrames(frames(idx, [10, 40, 70, 250, 260, 270, 280, 290]), dec, 1, false);
    // 250..290 share a group of pictures: one task, over the size cap, rather than decoding it twice
    expect(groups.map((g) => g.frames.length)).toEqual([3, 5]);
    expect(groups.map((g) => g.first)).toEqual([0, 240]);
  });

  it('frames of one group of pictures are never split across tasks (a short clip with one keyframe)', () => {
    const idx = index(150, 250);
    const dec = new DecodeOrder(idx);
    const groups = groupFrames(frames(idx, [0, 30, 60, 90, 120]), dec, 2, false);
    expect(groups).toHaveLength(1);
    expect(chooseStrategy(groups[0]!, dec, false)).toBe('range');
  });

  it('on Annex B codecs, short spans keyframe..frame beat a pass through long groups of pictures', () => {
    const idx = index(1800, 300);
    const dec = new DecodeOrder(idx);
    const early = groupFrames(frames(idx, [0, 315, 630, 945]), dec, 1, true);
    expect(early.map((g) => g.frames.length)).toEqual([4]); // at least 8 frames a task: one process
    expect(early.map((g) => chooseStrategy(g, dec, true))).toEqual(['span-stream']);
    // frames late in their groups of pictures: the spans are nearly the whole pass, and cost a second process
    const late = groupFrames(frames(idx, [290, 590, 890, 1190]), dec, 1, true);
    expect(chooseStrategy(late[0]!, dec, true)).toBe('one-pass');
  });

  it('tasks hold at least MIN_TASK_FRAMES frames, at most 96, about two a thread in between', () => {
    expect(MIN_TASK_FRAMES).toBe(8);
    expect(taskSize(5, 2)).toBe(8); // a short clip: one task
    expect(taskSize(100, 2)).toBe(25);
    expect(taskSize(10_000, 2)).toBe(96);
    // Keyframes decoded alone cost the same per frame: one task per core.
    expect(taskSize(121, 2, true)).toBe(61);
    // Shared out evenly: 9 keyframes are one task, not 8 and a process for the ninth; 20 exact frames two of 10, not 8, 8 and 4.
    expect(taskSize(9, 2, true)).toBe(9);
    expect(taskSize(20, 2)).toBe(10);
    expect(taskSize(10_000, 2, true)).toBe(96);
  });

  it('without byte positions (Ogg) decode order is time order', () => {
    const idx = index(300, 30, false);
    const dec = new DecodeOrder(idx);
    expect(dec.rankOf(frames(idx, [45])[0]!)).toBe(45);
    expect(dec.keyBefore[45]).toBe(30);
  });

  it('keyframe frames run together across the exact frames between them, which fill a task of their own', () => {
    const idx = index(900, 30);
    const dec = new DecodeOrder(idx);
    const fs = [...frames(idx, [0, 30]), ...frames(idx, [45], 'exact'), ...frames(idx, [90], 'keyframe')].map((f, index) => ({
      ...f,
      index,
      source: f.keyframe ? ('keyframe' as const) : ('exact' as const),
    }));
    // 30 starts 45's span, so it is decoded with it.
    expect(groupFrames(fs, dec, 1, false).map((g) => [g.decode, g.frames.map((f) => f.index)])).toEqual([
      ['keyframes', [0, 3]],
      ['exact', [1, 2]],
    ]);
  });
});

describe('long groups of pictures in keyframe mode', () => {
  it('a keyframe that starts a planned exact frame span is decoded with it, not on its own', () => {
    const idx = index(1800, 300);
    const dec = new DecodeOrder(idx);
    const fs = [0, 75, 300, 375].map((n, index) => ({
      index,
      timestampSec: idx.times[n]!,
      targetSec: idx.times[n]!,
      keyframe: idx.keyframe[n]!,
      source: idx.keyframe[n] ? ('keyframe' as const) : ('exact' as const),
      pos: idx.pos[n]!,
    }));
    const groups = groupFrames(fs, dec, 1, false);
    expect(groups.map((g) => [g.decode, g.frames.map((f) => f.index)])).toEqual([
      ['exact', [0, 1]],
      ['exact', [2, 3]],
    ]);
    expect(groups.map((g) => chooseStrategy(g, dec, false))).toEqual(['range', 'range']);
  });
});

describe('keyframe mode where the decoder cannot skip to keyframes (VP9, AV1, ...)', () => {
  it('H.264, HEVC, MPEG video (nointra) and VP8 (nokey) skip to keyframes in a range; the Annex B stream always does', () => {
    const codecs = ['h264', 'hevc', 'mpeg2video', 'vp8', 'vp9', 'av1', 'theora', 'mjpeg', 'constructor'];
    expect(codecs.map((c) => keyframesAlone(c, false))).toEqual([true, true, true, true, false, false, false, false, false]);
    expect(codecs.map((c) => keyframeSkip(c))).toEqual(['nointra', 'nointra', 'nointra', 'nokey', undefined, undefined, undefined, undefined, undefined]);
    expect(keyframesAlone('vp9', true)).toBe(true);
  });

  it("keyframe tasks carry the codec's -skip_frame (nokey for VP8 in WebM, none for VP9); exact tasks none", () => {
    const idx = index(3000, 12);
    const ctx = (codec: string): TaskContext => {
      const video = { index: 0, codec, width: 480, height: 270, rotation: 0 } as VideoStreamInfo;
      const info = { path: '/x.webm', input: 'x.webm', container: 'webm', startTimeSec: 0, video } as MediaInfo;
      const out = { dir: '/out', width: 448, height: 252, format: 'jpeg' as const, quality: 80 };
      return {
        info,
        video,
        idx,
        ffmpeg: { path: 'ffmpeg', version: { version: '4.1', release: [4, 1], year: 2018, hasFpsMode: false } },
        threads: 2,
        maxPixels: 1e8,
        timeoutMs: 1000,
        out,
        hash: false,
      };
    };
    const keys = frames(idx, [0, 150, 300, 450], 'keyframe');
    const vp8 = buildTasks(keys, ctx('vp8'));
    expect(vp8.map((t) => [t.decode, t.skipFrame])).toEqual([['keyframes', 'nokey']]);
    expect(buildTasks(keys, ctx('vp9')).every((t) => t.decode === 'keyframes' && t.skipFrame === undefined)).toBe(true);
    expect(buildTasks(frames(idx, [5, 155]), ctx('vp8')).every((t) => t.decode === 'exact' && t.skipFrame === undefined)).toBe(true);
    // A lone task decodes on one thread when it decodes few packets (four VP8 keyframes), with
    // frame threads when it decodes many (a range of 41 packets; THREADED_DECODE_PACKETS).
    expect(vp8.map((t) => t.decodeThreads)).toEqual([1]);
    expect(buildTasks(frames(idx, [5, 40]), ctx('vp8')).map((t) => [t.decodeThreads, t.frames.length])).toEqual([[0, 2]]);
    expect(buildTasks(frames(idx, [5, 6]), ctx('vp8')).map((t) => t.decodeThreads)).toEqual([1]);
  });

  it('keyframes farther apart than a start costs each get a seek of their own; close ones share a range', () => {
    const idx = index(3000, 12); // a keyframe every 0.4 s (as echo-hereweare.webm has), in VP9
    const dec = new DecodeOrder(idx);
    const sparse = frames(idx, [0, 150, 300, 450], 'keyframe'); // every 5 s: 150 packets apart
    expect(groupFrames(sparse, dec, 1, false, false).map((g) => g.frames.length)).toEqual([1, 1, 1, 1]);
    expect(groupFrames(sparse, dec, 1, false, true).map((g) => g.frames.length)).toEqual([4]);
    const close = frames(idx, [0, 12, 24, 36], 'keyframe'); // 12 packets apart, under START_COST
    expect(12).toBeLessThanOrEqual(START_COST + 1);
    expect(groupFrames(close, dec, 1, false, false).map((g) => g.frames.length)).toEqual([4]);
  });
});

describe('tasks per core', () => {
  it('keyframes decoded alone: one task per core; exact frames (spans that differ in cost): two per core', () => {
    const idx = index(121 * 60, 60);
    const dec = new DecodeOrder(idx, START_COST);
    const keys = Array.from({ length: 121 }, (_, i) => i * 60);
    expect(groupFrames(frames(idx, keys, 'keyframe'), dec, 2, true).map((g) => g.frames.length)).toEqual([61, 60]);
    const exact = frames(
      idx,
      keys.map((k) => k + 30),
    );
    expect(groupFrames(exact, dec, 2, true).map((g) => g.frames.length)).toEqual([31, 31, 31, 28]);
  });
});

describe('a process start counts more packets of small frames', () => {
  it('62 packets at 480x270, 104 at 320x240, and never under START_COST (720p, 1080p)', () => {
    expect([startCost(480, 270), startCost(320, 240), startCost(1280, 720), startCost(1920, 1080)]).toEqual([62, 104, START_COST, START_COST]);
  });
  it('4-s clips: keyframes 36 packets apart share a task; 5 s apart at 480x270 (150) do not', () => {
    const idx = index(3000, 12);
    const dec = new DecodeOrder(idx, startCost(480, 270));
    expect(groupFrames(frames(idx, [0, 36, 72, 108], 'keyframe'), dec, 2, false, false)).toHaveLength(1);
    expect(groupFrames(frames(idx, [0, 150, 300], 'keyframe'), dec, 2, false, false)).toHaveLength(3);
  });
});
