/**
 * Range decode, the strategy every file can take: one ffmpeg seeks onto the keyframe at or before
 * the first planned frame and decodes on to the last one; a `select` keeps the planned frames by
 * their packets' byte positions (or by time when the container gives none). Keyframe tasks skip
 * every frame they can (`-skip_frame` as the codec honours it, `-discard nokey`).
 */
import { FfmpegArgs } from '../../ffmpeg/args.js';
import { start } from '../../ffmpeg/runner.js';
import { frameGraph, frameOutput, selectExpr } from '../graph.js';
import { readFrames } from '../reader.js';
import { ShowinfoLog } from '../showinfo.js';
import { COPY_COST, multiGop, rangeDecoded, rangePackets } from '../decode-cost.js';
import type { FrameResult, FrameTask, TaskHooks } from '../types.js';
import type { DecodeStrategy } from './strategy.js';

function decodeArgs(task: FrameTask): string[] {
  return new FfmpegArgs(task.ffmpeg.version, { logLevel: 'info' })
    .input(task.path, {
      threads: task.decodeThreads ?? 1,
      maxPixels: task.maxPixels,
      seekSec: task.seekSec,
      // No -t: with -copyts an input duration counts from 0, not from the seek point. -frames:v
      // below stops the process at the last planned frame.
      accurateSeek: false,
      // The codec's way of skipping to keyframes (src/sample/tasks.ts keyframeSkip).
      ...(task.decode === 'keyframes' ? { skipFrame: task.skipFrame, discard: 'nokey' as const } : {}),
    })
    .copyTimestamps()
    .filterComplex(frameGraph(task, `[0:${task.streamIndex}]`, selectExpr(task.frames, task.startTimeSec), 0))
    .map('[out]')
    .noAudio()
    .noSubtitles()
    .passthroughTimestamps()
    .frames(task.expectedOutputs)
    .threads(1)
    .output('pipe:1', frameOutput(task))
    .toArgs();
}

/** Decodes from the seek point through the last planned frame, keeping the planned ones. */
export async function decodeThrough(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]> {
  const log = new ShowinfoLog(task);
  const proc = start({
    command: task.ffmpeg.path,
    args: decodeArgs(task),
    input: task.input,
    timeoutMs: task.timeoutMs,
    signal: hooks.signal,
    onSpawn: hooks.onSpawn,
    onStderrLine: (l) => log.line(l),
  });
  proc.done.then(
    () => log.end(),
    () => log.end(),
  );
  const byPos = new Map(task.frames.filter((f) => f.pos >= 0).map((f) => [f.pos, f]));
  const posMode = byPos.size === task.frames.length;
  let next = 0;
  return readFrames(proc, task, async (k) => {
    const info = await log.nth(k);
    // By position: the frame whose packet this is (a neighbour the float window let through is
    // skipped). By time, or when showinfo prints no position (7.0 and later): the next planned frame.
    const planned = posMode && info.pos >= 0 ? byPos.get(info.pos) : task.frames[next++];
    // showinfo prints times to the millisecond: a frame within that of its planned time is it.
    const fromIndex = posMode || (planned !== undefined && Math.abs(info.time - planned.timestampSec) <= 0.001);
    return { planned, time: info.time, key: info.key, fromIndex };
  });
}

/**
 * Chosen for keyframes and for exact frames within one group of pictures (across several it is
 * the one pass); the fallback of every task. A keyframes-only range decodes every keyframe in it
 * when the codec skips to them (kept or not: dense keyframes cost their whole run), and its demuxer
 * still reads every packet between (COPY_COST each).
 */
export const range: DecodeStrategy = {
  name: 'range',
  applies: (facts, g) => g.decode === 'keyframes' || !multiGop(g, facts.dec),
  cost: (facts, g) => facts.dec.startCost + rangeDecoded(g, facts) + (g.decode === 'keyframes' ? rangePackets(g) * COPY_COST : 0),
  run: decodeThrough,
};
