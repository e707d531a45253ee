/**
 * The embedded queue: job ids in memory in submission order, the truth in SQLite. On start, jobs
 * a crash interrupted (running) go back to queued, and every queued job is run again, oldest
 * first. `concurrency` jobs run at once; each one's frames go through the shared piscina pool.
 */
import type { JobWorker } from '../runner.js';
import type { SqliteStore } from '../store/sqlite.js';
import type { JobQueue } from './types.js';

export class LocalQueue implements JobQueue {
  readonly kind = 'local' as const;
  private readonly pending: string[] = [];
  private readonly active = new Set<string>();
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly store: SqliteStore,
    private readonly runner: JobWorker,
    private readonly concurrency: number,
  ) {}

  /** Re-queues what a crash interrupted and starts working. Returns how many jobs were queued. */
  start(): number {
    const ids = this.store.recover();
    this.pending.push(...ids);
    this.pump();
    return ids.length;
  }

  async enqueue(id: string): Promise<void> {
    this.pending.push(id);
    this.pump();
  }

  async depth(): Promise<number> {
    return this.store.queuedCount();
  }

  async cancel(id: string): Promise<void> {
    const i = this.pending.indexOf(id);
    if (i >= 0) this.pending.splice(i, 1);
    this.runner.abort(id);
  }

  /** Resolves when nothing runs and nothing waits (tests, benchmarks). */
  idle(): Promise<void> {
    if (!this.active.size && !this.pending.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.concurrency && this.pending.length) {
      const id = this.pending.shift()!;
      if (this.active.has(id)) continue;
      this.active.add(id);
      void this.runner
        .run(id)
        .then((outcome) => {
          if (outcome === 'retry' && !this.closed) this.pending.push(id);
        })
        .catch(() => {})
        .finally(() => {
          this.active.delete(id);
          this.pump();
          if (!this.active.size && !this.pending.length) {
            const w = this.idleWaiters;
            this.idleWaiters = [];
            for (const f of w) f();
          }
        });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pending.length = 0;
    await this.runner.shutdown();
  }
}
