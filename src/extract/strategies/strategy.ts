/**
 * A decode strategy: how one frame task's frames are decoded. `applies()` says whether the task
 * carries what the strategy needs; `run()` decodes and writes the frames, or throws
 * StrategyMismatch when the file turns out not to suit it (the task then tries the next one).
 * See ARCHITECTURE.md ("where a new decode strategy goes").
 */
import type { DecodePath, FrameResult, FrameTask, TaskHooks } from '../types.js';

export interface DecodeStrategy {
  readonly name: DecodePath;
  applies(task: FrameTask): boolean;
  run(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]>;
}

/** The file could not be decoded this way (the stream does not match the index): try the next strategy. */
export class StrategyMismatch extends Error {}
