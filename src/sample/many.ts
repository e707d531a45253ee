/**
 * sampleMany / planMany: a dataset (paths or URLs) through sample() or plan(), a bounded number
 * of inputs at a time, one outcome per input in completion order (src/util/many.ts).
 *
 *     for await (const r of sampleMany(['a.mp4', 'b.webm'], { out: 'frames', every: 1, concurrency: 2 }))
 *       console.log(r.input, r.ok ? r.result.totals.frames : r.error.message);
 */
import { join } from 'node:path';
import { plan } from '../plan/plan.js';
import type { Plan, PlanOptions } from '../plan/types.js';
import { FolderNames, inputLabel, runMany, type Inputs, type ManyOptions, type ManyResult } from '../util/many.js';
import { sample, type Manifest, type SampledFrame, type SampleOptions } from './sample.js';

export type { ManyOptions, ManyResult } from '../util/many.js';

export interface SampleManyOptions extends Omit<SampleOptions, 'out' | 'onFrame' | 'signal' | 'plan' | 'facts'>, ManyOptions {
  /**
   * Where each input's frames and manifest go: a directory that gets one folder per input (its
   * file name, made unique: `clip.mp4`, `clip.mp4-2`), or a function naming the folder of each
   * input. Default: a new temporary directory per input.
   */
  out?: string | ((input: string, index: number) => string) | undefined;
  /** Called after each frame an input writes. */
  onFrame?: ((input: string, frame: SampledFrame, done: number, total: number) => void) | undefined;
}

export interface PlanManyOptions extends Omit<PlanOptions, 'signal'>, ManyOptions {}

function outOf(out: SampleManyOptions['out']): ((input: string, index: number) => string) | undefined {
  if (typeof out !== 'string') return out;
  const names = new FolderNames();
  // Named in the order inputs start (their index order): the same inputs get the same folders.
  return (input) => join(out, names.name(inputLabel(input)));
}

/** Samples every input (sample()), `concurrency` at a time; yields each input's manifest or error as it completes. */
export function sampleMany(inputs: Inputs, options: SampleManyOptions = {}): AsyncGenerator<ManyResult<Manifest>> {
  const { concurrency, signal, out, onFrame, ...each } = options;
  const folder = outOf(out);
  return runMany(
    inputs,
    (input, index, stop) =>
      sample(input, {
        ...each,
        out: folder?.(input, index),
        signal: stop,
        onFrame: onFrame ? (f, done, total) => onFrame(input, f, done, total) : undefined,
      }).manifest(),
    { concurrency, signal },
  );
}

/** Plans every input (plan(): metadata only, no decode), `concurrency` at a time; yields each plan or error as it completes. */
export function planMany(inputs: Inputs, options: PlanManyOptions = {}): AsyncGenerator<ManyResult<Plan>> {
  const { concurrency, signal, ...each } = options;
  return runMany(inputs, (input, _index, stop) => plan(input, { ...each, signal: stop }), { concurrency, signal });
}
