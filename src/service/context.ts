/**
 * What the routes see of a service node: a narrow interface, given to them through Fastify's
 * `decorate` (`app.omniprep`). Routes import this file and never service.ts.
 */
import type { FastifyRequest } from 'fastify';
import type { PlanFacts } from '../plan/planner.js';
import type { Plan } from '../plan/types.js';
import type { EventBus } from './bus.js';
import type { EvalTask, EvalTaskOutcome } from './eval-task.js';
import type { ResolvedConfig } from './config.js';
import type { DataDir } from './data.js';
import type { ObjectStore } from './objects/types.js';
import type { JobOptions } from './options.js';
import type { JobQueue } from './queue/types.js';
import type { JobInput, JobRecord, JobStore } from './store/types.js';
import type { Health } from './backend/types.js';
import type { Uploads } from './uploads.js';

export type { Health };

export interface RouteContext {
  readonly config: ResolvedConfig;
  readonly data: DataDir;
  readonly store: JobStore;
  readonly bus: EventBus;
  readonly queue: JobQueue;
  /** Where outputs and uploads are: the data directory, or S3 (--store). */
  readonly objects: ObjectStore;
  readonly inputs: {
    read(request: FastifyRequest, o?: { whole?: string; signal?: AbortSignal }): Promise<{ input: JobInput; options: JobOptions }>;
    plan(input: JobInput, options: JobOptions, signal?: AbortSignal): Promise<Plan>;
    planWithFacts(input: JobInput, options: JobOptions, signal?: AbortSignal): Promise<{ plan: Plan; facts?: PlanFacts | undefined }>;
    checkCallable(options: JobOptions, name: string): void;
    discard(input: JobInput): Promise<void>;
    localVideo(ref: { path?: string; url?: string; upload?: string }, dest: string, signal?: AbortSignal): Promise<number>;
    estimateEval(task: Omit<EvalTask, 'kind' | 'registry'>, signal?: AbortSignal): Promise<Extract<EvalTaskOutcome, { ok: true }>>;
    unpin(input: JobInput): void;
  };
  /** Uploads sent once (POST /v1/uploads). */
  readonly uploads: Pick<Uploads, 'receive' | 'presign' | 'complete' | 'get' | 'delete'>;
  /** A place in the queue for one submission (429 when full); call the result when it is stored. */
  admit(): Promise<() => void>;
  health(): Promise<Health>;
  /** DELETE: frees what the job alone holds (its outputs, and its stored input when no other job or submission uses it), removes its record, and its upload when no other job holds it. */
  remove(job: JobRecord): Promise<void>;
  /** Jobs running on this node. */
  runningHere(): number;
  /** Waits until this node no longer runs the job (after a cancel). */
  waitStopped(id: string, timeoutMs?: number): Promise<void>;
}

/** A stored, queued record handed to the workers, and its first event. */
export async function enqueue(svc: Pick<RouteContext, 'queue' | 'bus'>, id: string): Promise<void> {
  await svc.queue.enqueue(id);
  await svc.bus.publish(id, { type: 'state', state: 'queued', attempts: 0 });
}

declare module 'fastify' {
  interface FastifyInstance {
    omniprep: RouteContext;
  }
}
