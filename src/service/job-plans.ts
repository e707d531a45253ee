/**
 * A job's plan, kept with the facts it was made from (DATA/plans/JOB.json): written at submit
 * before the job is queued, read by the worker that runs it (which then neither probes nor plans
 * again: src/sample/planned.ts), removed with the job's outputs (release.ts).
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { factsFromJson, factsToJson } from '../plan/facts.js';
import type { PlanFacts } from '../plan/planner.js';
import type { Plan } from '../plan/types.js';
import type { DataDir } from './data.js';
import { diskFull, storageError } from './errors.js';

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

/** The job's plan and facts; undefined when it has none (a URL read by ranges, a job submitted before plans were kept). */
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
