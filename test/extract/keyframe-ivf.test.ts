/**
 * Dense keyframes sought, not decoded all (src/extract/strategies/keyframe-ivf.ts): on VP8 with a
 * keyframe every 10 frames, keyframe mode every 5 s decodes the 12 kept keyframes, one packet each,
 * where a range decode of the same task goes through all 166 keyframes between the first and the last; the cost
 * model (src/extract/decode-cost.ts rangeDecoded) counts that and chooses the IVF path. Counts come
 * from the tasks and their outcomes; the frames are the right ones (numbers read from the images)
 * and the same pixels as the range decode's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeOrder, keyframesIn, rangeDecoded } from '../../src/extract/decode-cost.js';
import { handleTask } from '../../src/extract/task.js';
import type { FrameTask } from '../../src/extract/types.js';
import type { PacketIndex } from '../../src/probe/types.js';
import { type FixtureName, readFrameNumber } from '../helpers/fixtures.js';
import { fixtureTasks } from '../helpers/tasks.js';
import { ownedTempDirs } from '../helpers/temp.js';

const dir = ownedTempDirs();

function keyframeTasks(
  name: FixtureName,
  every: number,
  o: { ffprobeIndex?: boolean; mode?: 'keyframe' | 'exact' } = {},
): Promise<{ tasks: FrameTask[]; idx: PacketIndex }> {
  return fixtureTasks(name, every, { mode: o.mode, indexSource: o.ffprobeIndex ? 'ffprobe' : 'auto', outDir: dir('ivf-') });
}

/** Runs a task: its decode path, the processes it started, its images' bytes and frame numbers, its timestamps. */
async function runTask(task: FrameTask): Promise<{ path: string | undefined; spawned: number; images: Buffer[]; numbers: number[]; times: number[] }> {
  let spawned = 0;
  const outcome = await handleTask(task, { onSpawn: () => spawned++ });
  if (!outcome.ok) throw new Error(outcome.error.message);
  const images = (outcome.frames ?? []).map((f) => readFileSync(f.file));
  const numbers = await Promise.all(images.map((b) => readFrameNumber(b)));
  return { path: outcome.path, spawned, images, numbers, times: (outcome.frames ?? []).map((f) => f.timestampSec) };
}

describe('dense VP8 keyframes: one decode per kept keyframe', () => {
  it('keyframe mode every 5 s on 60 s with a keyframe every 10 frames: 12 packets decoded in one task, not the 166 keyframes a range decode goes through', async () => {
    const { tasks, idx } = await keyframeTasks('denseVp8', 5);
    expect(idx.rawFrames).toBe(true);
    expect(tasks.map((t) => [t.strategy, t.frames.length, t.frameSizes?.length])).toEqual([['keyframe-ivf', 12, 12]]);
    // What a range decode of the same groups would go through: every keyframe from the first kept one to the last.
    const dec = new DecodeOrder(idx);
    const spans = tasks.map((t) => {
      const ranks = t.frames.map((f) => dec.rankOf(f));
      const g = { decode: 'keyframes' as const, frames: t.frames, first: ranks[0]!, last: ranks.at(-1)! };
      return [keyframesIn(g, dec), rangeDecoded(g, { dec, skip: true, streamable: false })];
    });
    // Frames 0..1650 hold 166 keyframes.
    expect(spans).toEqual([[166, 166]]);
    const runs = await Promise.all(tasks.map(runTask));
    expect(runs.map((r) => [r.path, r.spawned])).toEqual([['keyframe-ivf', 1]]);
    expect(runs.flatMap((r) => r.numbers)).toEqual(Array.from({ length: 12 }, (_, i) => i * 150));
    expect(runs.flatMap((r) => r.times)).toEqual(Array.from({ length: 12 }, (_, i) => i * 5));
  }, 120_000);

  it('the same pixels as the range decode, on VP8 and on VP9 (whose decoder cannot skip to keyframes)', async () => {
    for (const name of ['vp8', 'vp9'] as const) {
      const { tasks } = await keyframeTasks(name, 1);
      expect(tasks.map((t) => t.strategy)).toEqual(['keyframe-ivf']);
      const ivf = await runTask(tasks[0]!);
      const range = await runTask({ ...tasks[0]!, strategy: 'range', out: { ...tasks[0]!.out, dir: dir('ivf-range-') } });
      expect([name, ivf.path, range.path]).toEqual([name, 'keyframe-ivf', 'range']);
      expect(ivf.numbers).toEqual(range.numbers);
      expect(ivf.times).toEqual(range.times);
      expect(ivf.images.every((b, i) => b.equals(range.images[i]!))).toBe(true);
    }
  }, 120_000);

  it('an index read by ffprobe (its packets not known to be the frames’ bytes) keeps the range decode; exact mode is unchanged', async () => {
    const { tasks } = await keyframeTasks('denseVp8', 5, { ffprobeIndex: true });
    expect([...new Set(tasks.map((t) => t.strategy))]).toEqual(['range']);
    const exact = await keyframeTasks('denseVp8', 5, { mode: 'exact' });
    expect(exact.tasks.every((t) => t.strategy !== 'keyframe-ivf')).toBe(true);
    expect(exact.tasks.flatMap((t) => t.frames.map((f) => f.timestampSec))).toEqual(Array.from({ length: 12 }, (_, i) => i * 5));
  }, 120_000);

  it('a block the index misplaces makes the path give way to the range decode, with the right frames', async () => {
    const { tasks } = await keyframeTasks('vp8', 1);
    const task = { ...tasks[0]!, frameSizes: tasks[0]!.frameSizes!.map((s, i) => (i === 2 ? s + 100_000 : s)) };
    const r = await runTask(task);
    expect(r.path).toBe('range');
    expect(r.numbers).toEqual([0, 30, 60, 90, 120, 150]);
  }, 120_000);
});
