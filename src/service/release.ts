/**
 * What a job alone holds on disk: its outputs directory and its stored input. A failed job lets go
 * of its input (its outputs are already gone), a deleted or expired one of both. The input stays
 * while another job uses it, a submission on this node holds it (pinned), or, in a directory shared
 * with other nodes, it was stored again after the job was created (a submission on another node may
 * be about to use it; the orphan sweep takes it later if none does).
 */
import { rm, stat } from 'node:fs/promises';
import type { DataDir } from './data.js';
import { inputFile } from './intake.js';
import { removeJobPlan } from './job-plans.js';
import type { ObjectStore } from './objects/types.js';
import { dropOutputs } from './outputs.js';
import { holdKey, type JobRecord, type JobStore } from './store/types.js';

export interface Holders {
  data: DataDir;
  /** The data directory, or the S3 store (--store) where outputs and uploads are. */
  objects: ObjectStore;
  store: JobStore;
  /** Whether a submission on this node holds the stored file (Inputs.isPinned). */
  isPinned(file: string): boolean;
  /** Whether other nodes submit into the same --data (Redis mode). */
  shared: boolean;
}

/** The job stops holding its input; the stored file goes when nothing else holds it. True when it went. */
export async function releaseInput(job: JobRecord, h: Holders): Promise<boolean> {
  const { data, store } = h;
  // An upload through the API into the S3 store is the job's own object.
  if (job.input.object && job.input.owned) return (await h.objects.deletePrefix(job.input.object)) > 0;
  if (!holdKey(job.input)) return false; // a URL read by ranges: nothing stored
  await store.releaseInput(job.id);
  // An upload stays until it expires or is deleted (uploads.ts), whoever held it.
  if (job.input.upload) return false;
  const file = inputFile(job.input, data);
  // Only the store's own copies (a job recorded before paths were pinned names the client's file).
  if (!data.isInput(file) || h.isPinned(job.input.file) || (await store.inputInUse(job.input.file))) return false;
  if (h.shared && ((await stat(file).catch(() => undefined))?.mtimeMs ?? 0) > job.createdAt) return false;
  await rm(file, { force: true });
  return true;
}

/** Removes the job's outputs and plan, and its input when nothing else holds it (true when the input went). */
export async function releaseJob(job: JobRecord, h: Holders): Promise<boolean> {
  // A worker on another node may still be writing frames until it sees the cancel (it removes
  // what it wrote then, too): a directory that refills while it is removed is tried again.
  await dropOutputs(h.objects, job.id, h.data.abs(job.outputDir));
  await removeJobPlan(h.data, job.id);
  return releaseInput(job, h);
}
