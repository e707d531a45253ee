/**
 * Where jobs live. Two stores keep the same records: SQLite under --data (one node, the
 * default) and Redis (many nodes: any API node reads any job, workers on other machines write
 * them). Transitions are conditional, so a cancelled or finished job is never overwritten by a
 * worker that comes late.
 */
import type { RemoteReport } from '../../source/remote.js';
import type { JobOptions } from '../options.js';

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled']);

export interface JobInput {
  kind: 'upload' | 'path' | 'url';
  /** What the client called it: the upload's file name, the path or the URL. */
  name: string;
  /**
   * The file the workers read: a content-addressed blob under --data (upload, url read whole) or a
   * confined path; empty for a url read by byte ranges (nothing is stored: see `remote`).
   */
  file: string;
  sha256?: string | undefined;
  /** The file's size (a url read by ranges: the size its server gave). */
  bytes: number;
  /** For url inputs: a worker that cannot see the shared blob downloads it again. */
  url?: string | undefined;
  /**
   * For url inputs, how the submission read it (the range reader's report): `ranges` (MP4/MOV from
   * a server that answers byte ranges) leaves it at its URL, and the job reads the index and the
   * packets it keeps, pinned to the ETag, Last-Modified and size seen here; `download` stored the
   * whole file (`reason` says why), and the job reads that copy.
   */
  remote?: RemoteReport | undefined;
  /**
   * An input in the S3 store (an upload, or an `s3://` URL in the service's bucket): its key.
   * Planners and workers read it like a URL, through a presigned GET (by byte ranges when it is
   * MP4/MOV or Matroska/WebM), pinned to `etag` and `bytes`.
   */
  object?: string | undefined;
  etag?: string | undefined;
  /** The object is the job's own (a multipart upload through the API): it goes with the job. */
  owned?: boolean | undefined;
  /** The upload (POST /v1/uploads) the job was submitted with: the job holds it (it does not expire) until the job lets go. */
  upload?: string | undefined;
}

/**
 * What a job holds of its input, for the stores' reference counts: its upload (by id), or its
 * stored file; '' for nothing (a URL read by ranges, an object the job owns).
 */
export function holdKey(input: JobInput): string {
  return input.upload ? `upload:${input.upload}` : input.file;
}

/** An input read like a URL by the job: a url left at its URL (byte ranges), or an object in the S3 store. */
export function readByRanges(input: JobInput): boolean {
  return Boolean(input.object) || (input.kind === 'url' && input.remote?.mode === 'ranges' && !input.file);
}

export interface JobProgress {
  stage: 'queued' | 'preparing' | 'sampling' | 'audio' | 'calling' | 'done';
  framesDone: number;
  framesTotal: number;
  requestsDone?: number | undefined;
  requestsTotal?: number | undefined;
  /** An eval: questions answered (each question once per plan) of all, dollars spent so far, and the last answer. */
  questionsDone?: number | undefined;
  questionsTotal?: number | undefined;
  spentUsd?: number | undefined;
  answer?: { plan: number; question: string; answered: boolean; correct: boolean; billedUsd: number } | undefined;
  /** Why the job went back to the queue, when it did. */
  note?: string | undefined;
}

/** Totals that /metrics counts: what the plan said, and what was written and billed. */
export interface JobNumbers {
  frames: number;
  audioSeconds: number;
  inputTokens: number;
  costUsd: number;
}

/** What a record is: a job (prepare, or run) or an eval (src/service/evals.ts). Both go through the same store, queue and workers. */
export type JobKind = 'job' | 'eval';

export interface JobRecord {
  id: string;
  /** Absent: a job. */
  kind?: JobKind | undefined;
  state: JobState;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  attempts: number;
  worker: string | null;
  input: JobInput;
  options: JobOptions;
  /** The full plan (JSON of the library's Plan). */
  plan: Record<string, unknown>;
  progress: JobProgress;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  /** Output directory, relative to --data. */
  outputDir: string;
}

/** A new record's state and times: queued now, never started. */
export function queuedRecord(
  id: string,
  now: number,
): Pick<JobRecord, 'id' | 'state' | 'createdAt' | 'updatedAt' | 'startedAt' | 'finishedAt' | 'attempts' | 'worker'> {
  return { id, state: 'queued', createdAt: now, updatedAt: now, startedAt: null, finishedAt: null, attempts: 0, worker: null };
}

export interface Counters {
  framesTotal: number;
  audioSecondsTotal: number;
  tokensEstimatedTotal: number;
  dollarsEstimatedTotal: number;
  tokensSpentTotal: number;
  dollarsSpentTotal: number;
  jobsSubmittedTotal: number;
  jobsSucceededTotal: number;
  jobsFailedTotal: number;
  jobsCancelledTotal: number;
}

export const ZERO_COUNTERS: Counters = {
  framesTotal: 0,
  audioSecondsTotal: 0,
  tokensEstimatedTotal: 0,
  dollarsEstimatedTotal: 0,
  tokensSpentTotal: 0,
  dollarsSpentTotal: 0,
  jobsSubmittedTotal: 0,
  jobsSucceededTotal: 0,
  jobsFailedTotal: 0,
  jobsCancelledTotal: 0,
};

export interface FinishOutcome {
  state: 'succeeded' | 'failed';
  result?: Record<string, unknown> | null;
  error?: { code: string; message: string } | null;
  /** Added to the counters when the transition happens. */
  counters?: Partial<Counters>;
  /** Only if this worker still owns the job (a worker that lost its BullMQ lock must not overwrite the one that took over). */
  worker?: string;
}

export interface JobStore {
  readonly kind: 'sqlite' | 'redis';
  /** Adds a queued job; counts its estimate. */
  create(job: JobRecord): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /** queued or running (a crashed worker's) -> running; attempts + 1. Undefined when the job is gone, cancelled or finished. */
  claim(id: string, worker: string): Promise<JobRecord | undefined>;
  /** running -> queued (to be tried again), with a note; only by `worker` when given. */
  release(id: string, note: string, worker?: string): Promise<boolean>;
  /** Progress of a running job (ignored otherwise, or when `worker` no longer owns it). */
  progress(id: string, p: JobProgress, worker?: string): Promise<void>;
  /** running -> succeeded | failed. False when the job is no longer running (cancelled). */
  finish(id: string, outcome: FinishOutcome): Promise<boolean>;
  /** queued | running -> cancelled. Returns the state before, or undefined when there is no such job. */
  cancel(id: string): Promise<JobState | undefined>;
  /** Jobs by state, right now. */
  countByState(): Promise<Record<JobState, number>>;
  counters(): Promise<Counters>;
  /** Removes finished jobs older than `before` (ms); returns them (for their files). */
  expire(before: number): Promise<JobRecord[]>;
  /** Whether any job still holds this input file, or upload (holdKey; a job that let go of it, see releaseInput, does not). */
  inputInUse(file: string): Promise<boolean>;
  /** The job no longer holds its input (it failed, was deleted or expired); the record stays. Idempotent. */
  releaseInput(id: string): Promise<void>;
  /** Jobs newest first (created time, then id, both descending), `limit` of them after `after`. */
  list(o: ListOptions): Promise<JobRecord[]>;
  /**
   * Removes a finished record (DELETE of a job or an eval, after its cancel and its files); it
   * stops holding its input. False when there is none, or it is still queued or running.
   */
  remove(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A page of the jobs list: the cursor is the last job of the page before (its created time and id). */
export interface ListOptions {
  limit: number;
  /** Which records (default: jobs). */
  kind?: JobKind | undefined;
  after?: { createdAt: number; id: string } | undefined;
}
