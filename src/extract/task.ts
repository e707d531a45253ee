/**
 * The work one worker thread does for one task. A frame task runs the decode strategy the
 * grouping chose (src/extract/strategies/registry.ts), then the range decode if that one finds
 * the file does not suit it; it reads the frames from its decoder's stdout (JPEG that ffmpeg
 * encoded, or raw for sharp), writes them and returns metadata. A scene task reports every frame's scene score.
 *
 * Tasks are plain data (they cross the thread boundary); errors come back as values with the
 * OmniprepError code, so the main thread can rethrow them unchanged.
 */
import { OmniprepError } from '../errors.js';
import { scoreScenes } from './scene-task.js';
import { strategiesFor } from './strategies/registry.js';
import { StrategyMismatch } from './strategies/strategy.js';
import type { FrameTask, SceneTask, TaskHooks, TaskOutcome } from './types.js';

export type * from './types.js';
export { frameFileName, posWindow } from './graph.js';

function failure(e: unknown, task: FrameTask | SceneTask): TaskOutcome {
  if (e instanceof OmniprepError) return { ok: false, error: { code: e.code, message: e.message, ...(e.input ? { input: e.input } : {}) } };
  return { ok: false, error: { code: 'PROCESS_FAILED', message: `${task.input}: ${(e as Error).message}` } };
}

/** The named piscina task `frames`: never throws (errors come back as values). */
export async function decodeFrameTask(task: FrameTask, hooks: TaskHooks = {}): Promise<TaskOutcome> {
  const t0 = performance.now();
  try {
    for (const strategy of strategiesFor(task)) {
      try {
        const frames = await strategy.run(task, hooks);
        return { ok: true, frames, decodeMs: performance.now() - t0, path: strategy.name };
      } catch (e) {
        if (!(e instanceof StrategyMismatch) || hooks.signal?.aborted) throw e;
        if (process.env.OMNIPREP_DEBUG_KEYFRAMES) process.stderr.write(`${strategy.name}: ${e.message}\n`);
      }
    }
    throw new OmniprepError('PROCESS_FAILED', `${task.input}: no decode strategy could read the frames`, { input: task.input });
  } catch (e) {
    return failure(e, task);
  }
}

/** The named piscina task `scene`: never throws. */
export async function scoreSceneTask(task: SceneTask, hooks: TaskHooks = {}): Promise<TaskOutcome> {
  const t0 = performance.now();
  try {
    return { ok: true, scene: await scoreScenes(task, hooks), decodeMs: performance.now() - t0 };
  } catch (e) {
    return failure(e, task);
  }
}

/** Runs one task of either kind. */
export function handleTask(task: FrameTask | SceneTask, hooks: TaskHooks = {}): Promise<TaskOutcome> {
  return task.kind === 'frames' ? decodeFrameTask(task, hooks) : scoreSceneTask(task, hooks);
}
