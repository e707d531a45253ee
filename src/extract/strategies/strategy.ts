/**
 * A decode strategy: one way of decoding a task's frames, as one object. The grouping
 * (src/sample/tasks.ts) asks every strategy of STRATEGIES (./registry.ts) whether it `applies()`
 * to a group of frames and what it would `cost()` (packets decoded, seeks and process starts, in
 * packets: src/extract/decode-cost.ts), takes the cheapest, and adds what the strategy needs to
 * the task (`fill()`); in the worker `run()` decodes and writes the frames, or throws
 * StrategyMismatch when the file turns out not to suit it (the task then takes the range decode).
 * See ARCHITECTURE.md ("A decode strategy").
 */
import type { DecodeFacts, FrameGroup } from '../decode-cost.js';
import type { DecodePath, FrameResult, FrameTask, TaskHooks } from '../types.js';

export interface DecodeStrategy {
  /** Its name: the task's `strategy` and the manifest's `timings.decodePaths` key. */
  readonly name: DecodePath;
  /** Whether it can decode this group of frames of this video. */
  applies(facts: DecodeFacts, frames: FrameGroup): boolean;
  /** What decoding the group this way costs, in packets decoded (a process start: facts.dec.startCost). */
  cost(facts: DecodeFacts, frames: FrameGroup): number;
  /** The task fields only this strategy reads (packet runs, codec records). */
  fill?(facts: DecodeFacts, frames: FrameGroup): Partial<FrameTask>;
  run(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]>;
}

/** The file could not be decoded this way (the stream does not match the index): try the range decode. */
export class StrategyMismatch extends Error {}
