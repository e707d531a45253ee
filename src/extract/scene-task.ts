/**
 * The scene task: decode a time range on a 160x90 copy and report each frame's score, time, byte
 * position and keyframe flag. The `ffmpeg` measure is ffmpeg's `select` scene score (0-1, read
 * from its log); the `hsv` measure reads the copy (area-averaged) as rgb24 and scores each frame
 * by its mean HSV difference from the frame before (hsv.ts, 0-255). Frames before `fromSec` only prime the score.
 */
import { OmniprepError } from '../errors.js';
import { FfmpegArgs } from '../ffmpeg/args.js';
import { start, type RunningProcess } from '../ffmpeg/runner.js';
import { HsvScorer } from './hsv.js';
import { parseShowinfo } from './showinfo.js';
import type { SceneResult, SceneTask, TaskHooks } from './types.js';

const META_FRAME = /^frame:\s*\d+\s+pts:\s*\S+\s+pts_time:\s*(-?[\d.]+)/;
const META_SCORE = /lavfi\.scene_score=([\d.]+)/;
export const SCENE_WIDTH = 160;
export const SCENE_HEIGHT = 90;
const SCENE_SCALE = `scale=${SCENE_WIDTH}:${SCENE_HEIGHT}`;

interface Shown {
  time: number;
  pos: number;
  key: boolean;
}

export function scoreScenes(task: SceneTask, hooks: TaskHooks): Promise<SceneResult> {
  return task.measure === 'hsv' ? hsvScores(task, hooks) : ffmpegScores(task, hooks);
}

function sceneArgs(task: SceneTask, filters: string[], output: { format: string; pixFmt?: string }): string[] {
  return new FfmpegArgs(task.ffmpeg.version, { logLevel: 'info' })
    .input(task.path, { threads: 1, maxPixels: task.maxPixels, seekSec: task.seekSec, durationSec: task.toSec - task.seekSec + 0.5 })
    .copyTimestamps()
    .map(`0:${task.streamIndex}`)
    .noAudio()
    .noSubtitles()
    .videoFilters(filters)
    .passthroughTimestamps()
    .threads(1)
    .output(output.format === 'null' ? '-' : 'pipe:1', output)
    .toArgs();
}

function spawnScan(task: SceneTask, hooks: TaskHooks, args: string[], onLine: (body: string, shown: Shown | undefined) => void): RunningProcess {
  return start({
    command: task.ffmpeg.path,
    args,
    input: task.input,
    timeoutMs: task.timeoutMs,
    signal: hooks.signal,
    onSpawn: hooks.onSpawn,
    onStderrLine: (line) => {
      const shown = parseShowinfo(line, 0);
      onLine(line.replace(/^\[[^\]]*\]\s*/, ''), shown && { ...shown, time: Math.round((shown.time - task.startTimeSec) * 1e6) / 1e6 });
    },
  });
}

/** The frames of the task's range [fromSec, toSec) with their scores, in decode order. */
function inRange(task: SceneTask, shown: readonly Shown[], scores: readonly number[], measure: SceneResult['measure']): SceneResult {
  const out: SceneResult = { measure, times: [], scores: [], keyframes: [], pos: [] };
  shown.forEach((s, i) => {
    if (s.time < task.fromSec - 1e-6 || s.time >= task.toSec - 1e-6) return;
    out.times.push(s.time);
    out.scores.push(scores[i]!);
    out.pos.push(s.pos);
    out.keyframes.push(s.key);
  });
  return out;
}

async function ffmpegScores(task: SceneTask, hooks: TaskHooks): Promise<SceneResult> {
  const args = sceneArgs(task, [SCENE_SCALE, `select='gte(scene\\,0)'`, 'metadata=print:key=lavfi.scene_score', 'showinfo'], { format: 'null' });
  const shown: Shown[] = [];
  const scores: number[] = [];
  let pendingScore = 0;
  const proc = spawnScan(task, hooks, args, (body, s) => {
    if (META_FRAME.test(body)) pendingScore = 0;
    const m = META_SCORE.exec(body);
    if (m) pendingScore = Number(m[1]);
    if (s) {
      shown.push(s);
      scores.push(pendingScore);
      pendingScore = 0;
    }
  });
  proc.stdout.resume();
  await proc.done;
  return inRange(task, shown, scores, 'ffmpeg');
}

async function hsvScores(task: SceneTask, hooks: TaskHooks): Promise<SceneResult> {
  // Area averaging: each of the copy's pixels is the mean of the pixels it covers (the right
  // downscale for a mean difference, and a fifth cheaper than the default bicubic from 720p).
  const args = sceneArgs(task, [`${SCENE_SCALE}:flags=area`, 'format=rgb24', 'showinfo'], { format: 'rawvideo', pixFmt: 'rgb24' });
  const shown: Shown[] = [];
  const proc = spawnScan(task, hooks, args, (_, s) => s && shown.push(s));
  const pixels = SCENE_WIDTH * SCENE_HEIGHT;
  const frameBytes = pixels * 3;
  const scorer = new HsvScorer(pixels);
  const frame = new Uint8Array(frameBytes);
  const scores: number[] = [];
  let filled = 0;
  // The k-th frame on stdout is the k-th showinfo line (one output frame per decoded frame).
  try {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - off);
        frame.set(chunk.subarray(off, off + n), filled);
        filled += n;
        off += n;
        if (filled === frameBytes) {
          scores.push(scorer.next(frame));
          filled = 0;
        }
      }
    }
    await proc.done;
  } catch (e) {
    proc.stop();
    await proc.done.catch(() => {});
    throw e;
  }
  if (scores.length !== shown.length) {
    throw new OmniprepError('PROCESS_FAILED', `${task.input}: the scene scan read ${scores.length} frames but ffmpeg reported ${shown.length}`, {
      input: task.input,
    });
  }
  return inRange(task, shown, scores, 'hsv');
}
