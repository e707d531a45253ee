/**
 * The sampling and estimate options of one plan, checked against their one description
 * (options/sampling.ts) and resolved with its defaults. plan() and the pipeline take them from
 * resolveOptions() (options/resolve.ts); this is for callers that hold sampling options alone.
 */
import { checkGroup } from '../options/define.js';
import { samplingOf, type ResolvedSampling } from '../options/resolve.js';
import { checkRelations, ESTIMATE, SAMPLING } from '../options/sampling.js';
import type { PlanOptions } from './types.js';

export { parseGrid, pickSampling, SAMPLING_KEYS } from '../options/sampling.js';
export type { ResolvedSampling } from '../options/resolve.js';

export function resolveSampling(o: PlanOptions): ResolvedSampling {
  checkGroup(SAMPLING, o);
  checkGroup(ESTIMATE, o);
  checkRelations(o);
  return samplingOf(o);
}
