/**
 * What a planning thread does (workers/plan.ts runs it; src/service/planner.ts sends the tasks):
 * probe a stored file, bound the work its options ask for, and plan it: the plan comes back with
 * the facts it was made from (a job keeps both; its worker neither probes nor plans again). Every parser that reads
 * the untrusted file's container (the MP4 moov, Matroska's elements) runs here, on a thread of
 * its own with a heap limit, never on the service's event loop. Probes are kept per file (the
 * page plans the same upload again as options change) while the thread lives.
 */
import { corruptInput, isOmniprepError, type OmniprepError } from '../errors.js';
import type { Limits } from '../limits.js';
import { ModelRegistry } from '../models/registry.js';
import { planWithFacts, type PlanFacts } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { probe } from '../probe/probe.js';
import type { MediaInfo } from '../probe/types.js';
import { checkPlanBounds } from './bounds.js';
import { resolveJobOptions, toPlanOptions, type JobOptions } from './options.js';

export interface PlanTask {
  /** The stored file (absolute). */
  file: string;
  options: JobOptions;
  limits: Partial<Limits>;
  /** The calling thread's model registry (overrides made there reach the plan), and a key that changes with it. */
  registry: { key: number; json: ReturnType<ModelRegistry['toJSON']> };
}

export type PlanOutcome = { ok: true; plan: Plan; facts: PlanFacts } | { ok: false; error: ReturnType<OmniprepError['toJSON']> };

const PROBE_CACHE = 256;
const probes = new Map<string, Promise<MediaInfo>>();
let registry: { key: number; value: ModelRegistry } | undefined;

function cachedProbe(file: string, limits: Partial<Limits>, signal: AbortSignal | undefined): Promise<MediaInfo> {
  let p = probes.get(file);
  if (!p) {
    p = probe(file, { limits, signal });
    probes.set(file, p);
    p.catch(() => probes.delete(file));
    if (probes.size > PROBE_CACHE) probes.delete(probes.keys().next().value as string);
  }
  return p;
}

function registryFor(t: PlanTask): ModelRegistry {
  if (registry?.key !== t.registry.key) registry = { key: t.registry.key, value: ModelRegistry.fromJson(t.registry.json, 'the service registry') };
  return registry.value;
}

/** Plans one stored file; every failure comes back as an OmniprepError's fields (a parser's raw error as CORRUPT). */
export async function planStored(t: PlanTask, signal?: AbortSignal): Promise<PlanOutcome> {
  try {
    const info = await cachedProbe(t.file, t.limits, signal).catch((e: unknown) => {
      // A probe shared with a request whose client left was cancelled for it, not for this one.
      if (isOmniprepError(e) && e.code === 'ABORTED' && !signal?.aborted) return cachedProbe(t.file, t.limits, signal);
      throw e;
    });
    checkPlanBounds(info, t.options);
    const { plan, facts } = await planWithFacts(info, resolveJobOptions({ ...toPlanOptions(t.options, t.limits), registry: registryFor(t), signal }));
    return { ok: true, plan, facts };
  } catch (e) {
    return { ok: false, error: (isOmniprepError(e) ? e : corruptInput(t.file, e)).toJSON() };
  }
}
