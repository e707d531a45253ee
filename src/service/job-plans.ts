/**
 * A job's plan, kept with the facts it was made from (DATA/plans/JOB.json): written at submit
 * before the job is queued, read by the worker that runs it (which then neither probes nor plans
 * again: src/sample/planned.ts), removed with the job's outputs (release.ts); one whose job was
 * never created is swept (sweepOrphanPlans).
 */
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { factsFromJson, factsToJson } from '../plan/facts.js';
import type { PlanFacts } from '../plan/planner.js';
import type { Plan } from '../plan/types.js';
import type { DataDir } from './data.js';
import { diskFull, storageError } from './errors.js';
import type { JobStore } from './store/types.js';

export interface JobPlan {
  plan: Plan;
  facts: PlanFacts;
}

/** Writes the job's plan and facts (whole or not at all); `name` is the input's, for a full disk's message. */
export async function writeJobPlan(data: DataDir, id: string, p: JobPlan, name: string): Promise<void> {
  const file = data.planFile(id);
  const tmp = data.tmpFile();
  try {
    await writeFile(tmp, JSON.stringify({ plan: p.plan, facts: factsToJson(p.facts) }));
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    const full = diskFull(e);
    throw full ? storageError(full, name) : e;
  }
}

/** The job's plan and facts; undefined when it has none (a job submitted before plans were kept). */
export async function readJobPlan(data: DataDir, id: string, name: string): Promise<JobPlan | undefined> {
  let text: string;
  try {
    text = await readFile(data.planFile(id), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let json: { plan?: Plan; facts?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    json = {};
  }
  return { plan: json.plan as Plan, facts: factsFromJson(json.plan ? json.facts : undefined, name) };
}

export function removeJobPlan(data: DataDir, id: string): Promise<void> {
  return rm(data.planFile(id), { force: true });
}

/**
 * Removes plans whose job does not exist, last written more than `graceMs` ago (a submission that
 * died between writing its plan and creating its job, here or on another node). Says how many went.
 */
export async function sweepOrphanPlans(data: DataDir, store: JobStore, graceMs: number): Promise<number> {
  const cutoff = Date.now() - graceMs;
  let removed = 0;
  for (const name of await readdir(data.plans).catch(() => [] as string[])) {
    const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
    if (!id) continue;
    const st = await stat(join(data.plans, name)).catch(() => undefined);
    if (!st || st.mtimeMs > cutoff || (await store.get(id))) continue;
    await removeJobPlan(data, id);
    removed++;
  }
  return removed;
}
