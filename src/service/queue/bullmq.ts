/**
 * The scale-out queue: BullMQ on Redis. API nodes add a BullMQ job per omniprep job (the same
 * id, so adding twice is harmless); every node started with workers > 0 (`omniprep serve
 * --workers N` or `omniprep worker`) takes jobs from it. BullMQ brings the retries (a failed
 * attempt is tried again after a back-off) and stalled-job recovery: a worker that dies stops
 * renewing its lock, and after `lockDurationMs` another worker's stalled check moves the job
 * back to waiting. The job's state, progress and result live in the RedisStore, not in BullMQ.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config.js';
import type { JobWorker, RunOutcome } from '../runner.js';
import type { RedisStore } from '../store/redis.js';
import type { JobQueue } from './types.js';

export const QUEUE_NAME = 'jobs';

export class BullQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  readonly queue: Queue;
  private worker: Worker | undefined;

  constructor(
    private readonly connection: () => Redis,
    private readonly store: RedisStore,
    private readonly config: ResolvedConfig,
    /** Where BullMQ's errors go (the outage logger: one line per outage, not a stack per retry). */
    private readonly onError: (e: unknown) => void,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: connection(), prefix: config.redisPrefix });
    // Without a listener, BullMQ prints every connection error's stack (console.error).
    this.queue.on('error', onError);
  }

  /** Starts taking jobs on this node. */
  work(runner: JobWorker, concurrency: number): void {
    if (concurrency < 1) return;
    this.worker = new Worker(
      QUEUE_NAME,
      async (job: Job<{ id: string }>): Promise<{ outcome: RunOutcome }> => {
        const outcome = await runner.run(job.data.id);
        // Tried again by BullMQ after its back-off (the store says queued again).
        if (outcome === 'retry' || outcome === 'interrupted')
          throw new Error(`job ${job.data.id}: ${outcome === 'retry' ? 'the attempt failed' : 'the node stopped'}; to be tried again`);
        return { outcome };
      },
      {
        connection: this.connection(),
        prefix: this.config.redisPrefix,
        concurrency,
        lockDuration: this.config.lockDurationMs,
        stalledInterval: this.config.stalledIntervalMs,
        maxStalledCount: 2,
      },
    );
    this.worker.on('error', (e) => {
      // A job whose keys went (Redis restarted empty): the runner has said so, naming the job.
      if (!/^Missing (key|lock) for job /.test(e.message)) this.onError(e);
    });
  }

  async enqueue(id: string): Promise<void> {
    await this.queue.add(
      'prepare',
      { id },
      {
        jobId: id,
        // The store counts attempts and decides when to stop; BullMQ only needs to allow them.
        attempts: this.config.attempts + 2,
        backoff: { type: 'fixed', delay: 250 },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 24 * 3600 },
      },
    );
  }

  /** Adds jobs the store holds as queued but BullMQ lacks (an API node died between the two writes). */
  async reconcile(ids: string[]): Promise<void> {
    for (const id of ids) if (!(await this.queue.getJob(id))) await this.enqueue(id);
  }

  async depth(): Promise<number> {
    return this.store.queuedCount();
  }

  async cancel(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    if (job && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove().catch(() => {});
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
