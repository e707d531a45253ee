/**
 * The scene task: decode a time range on a 160x90 copy and report each frame's scene score
 * (ffmpeg's `select` scene measure), time, byte position and keyframe flag.
 */
import { FfmpegArgs } from '../ffmpeg/args.js';
import { start } from '../ffmpeg/runner.js';
import { parseShowinfo } from './showinfo.js';
import type { SceneResult, SceneTask, TaskHooks } from './types.js';

const META_FRAME = /^frame:\s*\d+\s+pts:\s*\S+\s+pts_time:\s*(-?[\d.]+)/;
const META_SCORE = /lavfi\.scene_score=([\d.]+)/;
const SCENE_SCALE = 'scale=160:90';

export async function scoreScenes(task: SceneTask, hooks: TaskHooks): Promise<SceneResult> {
  const args = new FfmpegArgs(task.ffmpeg.version, { logLevel: 'info' })
    .input(task.path, { threads: 1, maxPixels: task.maxPixels, seekSec: task.seekSec, durationSec: task.toSec - task.seekSec + 0.5 })
    .copyTimestamps()
    .map(`0:${task.streamIndex}`)
    .noAudio()
    .noSubtitles()
    .videoFilters([SCENE_SCALE, `select='gte(scene\\,0)'`, 'metadata=print:key=lavfi.scene_score', 'showinfo'])
    .passthroughTimestamps()
    .threads(1)
    .output('-', { format: 'null' })
    .toArgs();
  const times: number[] = [];
  const scores: number[] = [];
  const keys: boolean[] = [];
  const positions: number[] = [];
  let pendingScore = 0;
  const proc = start({
    command: task.ffmpeg.path,
    args,
    input: task.input,
    timeoutMs: task.timeoutMs,
    signal: hooks.signal,
    onSpawn: hooks.onSpawn,
    onStderrLine: (line) => {
      const body = line.replace(/^\[[^\]]*\]\s*/, '');
      if (META_FRAME.test(body)) pendingScore = 0;
      const s = META_SCORE.exec(body);
      if (s) pendingScore = Number(s[1]);
      const shown = parseShowinfo(line, 0);
      if (shown) {
        const t = Math.round((shown.time - task.startTimeSec) * 1e6) / 1e6;
        if (t >= task.fromSec - 1e-6 && t < task.toSec - 1e-6) {
          times.push(t);
          scores.push(pendingScore);
          positions.push(shown.pos);
          keys.push(shown.key);
        }
        pendingScore = 0;
      }
    },
  });
  proc.stdout.resume();
  await proc.done;
  return { times, scores, keyframes: keys, pos: positions };
}
