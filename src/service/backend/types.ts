/**
 * A backend is where jobs live and how they move: the store, the event bus, the queue and (on a
 * node that runs jobs) the runner. Embedded: SQLite, an in-process bus and queue under --data.
 * Redis: state in Redis, the queue in BullMQ, events over pub/sub.
 */
import type { EventBus } from '../bus.js';
import type { JobQueue } from '../queue/types.js';
import type { JobWorker } from '../runner.js';
import type { JobStore } from '../store/types.js';
import type { UploadStore } from '../store/uploads.js';

/** A node's health check: whether the store answers, and what else it says. */
export type Health = Record<string, unknown> & { ok: boolean };

export interface Backend {
  readonly store: JobStore;
  /** Upload records (POST /v1/uploads), beside the jobs. */
  readonly uploads: UploadStore;
  readonly bus: EventBus;
  readonly queue: JobQueue;
  /** This node's runner (undefined on an API node started with workers 0 in Redis mode). */
  readonly runner: JobWorker | undefined;
  /** Whether the store answers, and what else the health check says (Redis: `redis: 'up' | 'down: <cause>'`). */
  health(): Promise<Health>;
  /** Starts taking jobs (after the app is ready): re-queues what a crash interrupted. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface BackendOptions {
  /** Run jobs on this node. */
  work: boolean;
  /** This node serves HTTP (an API node reconciles the queue at start). */
  http: boolean;
  /** Makes this node's runner over the backend's store and bus. */
  makeRunner(store: JobStore, bus: EventBus): JobWorker;
}
