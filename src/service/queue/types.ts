/** The job queue: in-process over SQLite (embedded), or BullMQ on Redis (scale-out). */
export interface JobQueue {
  readonly kind: 'local' | 'bullmq';
  /** Hands a stored, queued job to the workers. */
  enqueue(id: string): Promise<void>;
  /** Jobs waiting to run (what the queue limit bounds). */
  depth(): Promise<number>;
  /** Stops a job: drops it from the queue, or aborts it on whichever node runs it. */
  cancel(id: string): Promise<void>;
  close(): Promise<void>;
}
