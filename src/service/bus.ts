/**
 * Job events between the node that runs a job and the nodes that stream them (SSE) or cancel it:
 * in one process an EventEmitter; across nodes Redis pub/sub (one channel, fanned out by job id:
 * redis-bus.ts, apart so that this file's declarations need no ioredis).
 */
import { EventEmitter } from 'node:events';
import type { JobProgress, JobState } from './store/types.js';

export type JobEvent =
  | { type: 'state'; state: JobState; attempts?: number; error?: { code: string; message: string } | null }
  | { type: 'progress'; progress: JobProgress }
  /** Asks the node running the job to stop it. */
  | { type: 'cancel' };

export interface EventBus {
  publish(id: string, event: JobEvent): Promise<void>;
  /** Every event of one job; returns the unsubscribe function. */
  subscribe(id: string, fn: (e: JobEvent) => void): () => void;
  /** Every event of every job (workers listen for cancels). */
  subscribeAll(fn: (id: string, e: JobEvent) => void): () => void;
  close(): Promise<void>;
}

/** Delivers a job's events to its subscribers in this process (both buses fan out through one). */
export class Fanout {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  deliver(id: string, e: JobEvent): void {
    this.emitter.emit(`job:${id}`, e);
    this.emitter.emit('*', id, e);
  }
  subscribe(id: string, fn: (e: JobEvent) => void): () => void {
    this.emitter.on(`job:${id}`, fn);
    return () => this.emitter.off(`job:${id}`, fn);
  }
  subscribeAll(fn: (id: string, e: JobEvent) => void): () => void {
    this.emitter.on('*', fn);
    return () => this.emitter.off('*', fn);
  }
}

export class LocalBus implements EventBus {
  private readonly fan = new Fanout();
  async publish(id: string, e: JobEvent): Promise<void> {
    this.fan.deliver(id, e);
  }
  subscribe(id: string, fn: (e: JobEvent) => void): () => void {
    return this.fan.subscribe(id, fn);
  }
  subscribeAll(fn: (id: string, e: JobEvent) => void): () => void {
    return this.fan.subscribeAll(fn);
  }
  async close(): Promise<void> {}
}
