/**
 * The stream paths on MP4/MOV (H.264, HEVC): keyframes (keyframe mode) and spans keyframe..frame
 * (exact mode) are read from the file by the moov index and made into Annex B units here, so each
 * task runs one ffmpeg (the decoder), not a demuxer too (src/extract/strategies/packet-stream.ts).
 * Real fixtures, frame numbers read from the images.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handleTask } from '../../src/extract/task.js';
import type { FrameTask } from '../../src/extract/types.js';
import { readFrameNumber, tempDir } from '../helpers/fixtures.js';
import { fixtureTasks } from '../helpers/tasks.js';

async function keyframeTasks(name: 'longgop' | 'hevcLonggop' | 'hevcLonggopMkv', every: number, mode: 'keyframe' | 'exact' = 'keyframe'): Promise<FrameTask[]> {
  return (await fixtureTasks(name, every, { mode, outDir: tempDir('direct-') })).tasks;
}

/** Runs a task; returns the decode path, the processes it started and the frame numbers its images show. */
async function runTask(task: FrameTask): Promise<{ path: string | undefined; spawned: number; numbers: number[] }> {
  let spawned = 0;
  const outcome = await handleTask(task, { onSpawn: () => spawned++ });
  if (!outcome.ok) throw new Error(outcome.error.message);
  const numbers = await Promise.all((outcome.frames ?? []).map((f) => readFrameNumber(join(task.out.dir, f.file.split('/').pop()!))));
  return { path: outcome.path, spawned, numbers };
}

describe('keyframes read from an MP4 by its index', () => {
  it.each([
    ['longgop', 'avcC'],
    ['hevcLonggop', 'hvcC'],
  ] as const)('%s (%s): one ffmpeg per task, the right frames', async (name, _record) => {
    const tasks = await keyframeTasks(name, 10);
    expect(tasks.length).toBeGreaterThan(0);
    const numbers: number[] = [];
    for (const task of tasks) {
      expect(task.decode).toBe('keyframes');
      expect(task.codecRecord?.length).toBeGreaterThan(6);
      const r = await runTask(task);
      expect(r.path).toBe('keyframe-stream');
      expect(r.spawned).toBe(1);
      numbers.push(...r.numbers);
    }
    expect(numbers).toEqual([0, 300, 600, 900, 1200, 1500]);
  });

  it.each(['longgop', 'hevcLonggop'] as const)('%s, exact: the spans keyframe..frame in one decoder, one ffmpeg per task, the right frames', async (name) => {
    // 10.5 s apart in 10-s groups of pictures: each frame a short span after its keyframe
    const tasks = await keyframeTasks(name, 10.5, 'exact');
    const numbers: number[] = [];
    for (const task of tasks) {
      expect(task.strategy).toBe('span-stream');
      const r = await runTask(task);
      expect(r.path).toBe('span-stream');
      expect(r.spawned).toBe(1);
      numbers.push(...r.numbers);
    }
    expect(numbers).toEqual([0, 10.5, 21, 31.5, 42, 52.5].map((t) => Math.floor(t * 30 + 1e-6)));
  });

  it('Matroska has no codec record in its index: the demuxing ffmpeg copies the keyframes (two processes)', async () => {
    const [task] = await keyframeTasks('hevcLonggopMkv', 30);
    expect(task!.codecRecord).toBeUndefined();
    const r = await runTask(task!);
    expect(r).toMatchObject({ path: 'keyframe-stream', spawned: 2 });
  });

  it('a record whose NAL length size the samples do not fit: the task falls back to the range decode, with the right frames', async () => {
    const [task] = await keyframeTasks('longgop', 30);
    const record = Buffer.from(task!.codecRecord!);
    record[4] = (record[4]! & 0xfc) | 1; // 2-byte NAL lengths, where the samples have 4-byte ones
    const r = await runTask({ ...task!, codecRecord: record });
    expect(r.path).toBe('range');
    expect(r.numbers).toEqual([0, 900]);
  });
});
