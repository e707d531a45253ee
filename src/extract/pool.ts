/**
 * The worker pool: piscina, sized to the cores. It owns concurrency and cancellation; callers
 * submit plain-data tasks. Each task gets a MessagePort: cancellation is a message (the worker
 * kills its ffmpeg child), and children's pids come back so that nothing outlives a dead worker.
 * A task whose worker dies is retried once on a fresh worker. piscina itself loads with the first
 * task, so a plan that decodes nothing never loads it.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { OmniprepError } from '../errors.js';
import { sharedWatchdogEnv } from '../ffmpeg/watchdog.js';
import { onStopWork } from '../util/temp.js';
import { workerEntry } from '../util/worker-entry.js';
import { encodesJpeg } from './graph.js';
import type { Task, TaskOutcome } from './task.js';

export interface PoolOptions {
  /** Worker threads (default: the number of cores). */
  threads?: number | undefined;
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** This machine's cores: the pool's threads and this thread's tasks at once. */
const CORES = Math.max(1, availableParallelism());

/** A task's outcome, or its error (sent back as a value) thrown as the OmniprepError it was. */
function succeeded(outcome: TaskOutcome): Extract<TaskOutcome, { ok: true }> {
  if (!outcome.ok) throw new OmniprepError(outcome.error.code, outcome.error.message, outcome.error.input ? { input: outcome.error.input } : {});
  return outcome;
}

export class FramePool implements TaskRunner {
  readonly threads: number;
  readonly window: number;
  /** Made by the first task (`started`). */
  private piscina: Piscina | undefined;
  private starting: Promise<Piscina> | undefined;
  private closed = false;
  private readonly pids = new Set<number>();

  constructor(o: PoolOptions = {}) {
    this.threads = Math.max(1, o.threads ?? CORES);
    this.window = this.threads * 2;
  }

  private started(): Promise<Piscina> {
    if (this.closed) return Promise.reject(new Error('the pool is closed'));
    this.starting ??= import('piscina').then(({ Piscina }) => {
      // A task mostly waits (for its ffmpeg child, for sharp on libuv's pool), so one thread runs
      // two tasks at once: the cores stay busy with half the threads (each thread is ~40 MB).
      const perThread = Number(process.env.OMNIPREP_TASKS_PER_THREAD ?? 2);
      this.piscina = new Piscina({
        ...workerEntry('frames'),
        minThreads: 0,
        maxThreads: Math.max(1, Math.ceil(this.threads / perThread)),
        concurrentTasksPerWorker: perThread,
        // Raw frames live in one reused buffer per task; a small young generation keeps the
        // pipe's chunk garbage from growing the heap.
        resourceLimits: { maxYoungGenerationSizeMb: 8 },
        idleTimeout: 2000,
        // Their children are watched by this thread's watchdog shell (a thread's own would be left a zombie when it ends).
        env: { ...process.env, ...sharedWatchdogEnv() },
      });
      return this.piscina;
    });
    return this.starting;
  }

  /** Runs a task; rejects with the task's OmniprepError, or ABORTED. */
  async run(task: Task, signal?: AbortSignal, attempt = 1): Promise<Extract<TaskOutcome, { ok: true }>> {
    if (signal?.aborted) throw new OmniprepError('ABORTED', `${task.input}: cancelled`, { input: task.input });
    const { port1, port2 } = new MessageChannel();
    const mine = new Set<number>();
    port1.on('message', (m: { type?: string; pid?: number }) => {
      if (m?.type === 'spawned' && m.pid) {
        mine.add(m.pid);
        this.pids.add(m.pid);
      }
    });
    const onAbort = (): void => port1.postMessage({ type: 'abort' });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const piscina = await this.started();
      return succeeded((await piscina.run({ task, port: port2 }, { name: task.kind, transferList: [port2] })) as TaskOutcome);
    } catch (e) {
      if (e instanceof OmniprepError) throw e;
      // The worker thread itself died: its children may still run. Kill them, retry once.
      for (const pid of mine) killGroup(pid);
      if (attempt < 2 && !signal?.aborted) return this.run(task, signal, attempt + 1);
      throw new OmniprepError('PROCESS_FAILED', `${task.input}: a worker thread failed (${(e as Error).message})`, { input: task.input, cause: e });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      for (const pid of mine) this.pids.delete(pid);
      port1.close();
    }
  }

  get queued(): number {
    return this.piscina?.queueSize ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pid of this.pids) killGroup(pid);
    const piscina = await this.starting?.catch(() => undefined);
    await piscina?.destroy();
  }
}

/** What runs tasks: the pool, or this thread (runHere). */
export interface TaskRunner {
  readonly threads: number;
  /** Tasks to keep in flight (the pool queues its own; this thread runs what it is given). */
  readonly window: number;
  run(task: Task, signal?: AbortSignal): Promise<Extract<TaskOutcome, { ok: true }>>;
}

/** Frame bytes a job may move on the calling thread (see runsHere). */
export const HERE_RAW_BYTES = 256 * 2 ** 20;

/**
 * Whether a job's frame tasks run on the calling thread: when the frame bytes its pipes carry are
 * few (HERE_RAW_BYTES). The decoding is ffmpeg's, and so is the encoding of JPEG (sharp's, on
 * libuv's threads, for the other formats), so the thread only moves frames: JPEGs at the output
 * size (counted at a quarter of their raw size, 6 bits a pixel, far above what q 2-31 writes), or
 * raw RGB at the decoded size for sharp. A pool would add its start and a second load of the
 * decode modules (~0.1-0.3 s): ten minutes of 720p in keyframe mode, 121 JPEGs, 1.27 -> 1.15 s.
 */
export function runsHere(tasks: readonly Task[]): boolean {
  let bytes = 0;
  for (const t of tasks) {
    if (t.kind !== 'frames') return false;
    bytes += t.expectedOutputs * (encodesJpeg(t) ? (t.out.width * t.out.height * 3) / 4 : t.decodeWidth * t.decodeHeight * 3);
  }
  return bytes <= HERE_RAW_BYTES;
}

/**
 * Runs tasks on this thread, one per core at a time (runsHere says when). An interrupted process
 * stops the task before its files are swept (util/temp.ts).
 */
export const runHere: TaskRunner = {
  threads: CORES,
  window: CORES,
  async run(task, signal) {
    if (signal?.aborted) throw new OmniprepError('ABORTED', `${task.input}: cancelled`, { input: task.input });
    const { handleTask } = await import('./task.js');
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const running = handleTask(task, { signal: ac.signal });
    const unhook = onStopWork(async () => {
      ac.abort();
      await running;
    });
    try {
      return succeeded(await running);
    } finally {
      unhook();
      signal?.removeEventListener('abort', onAbort);
    }
  },
};

let shared: FramePool | undefined;
let users = 0;
let idleTimer: NodeJS.Timeout | undefined;
/** How long an unused pool stays warm (its threads exit on their own after piscina's idle timeout). */
const KEEP_WARM_MS = 30_000;

/**
 * A pool shared by concurrent and successive calls in this process: a program that samples many
 * short clips one after another keeps it (and its threads, while they are busy) warm. An unused
 * pool never keeps the process alive: piscina unrefs idle threads, and the timer that closes it
 * is unref'd too.
 */
export function acquirePool(): FramePool {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  if (!shared) {
    shared = new FramePool();
    unhookStop = onStopWork(terminatePool);
  }
  users++;
  return shared;
}

/** The threads the shared pool has (or would have): what tasks are sized for. */
export function poolThreads(): number {
  return shared?.threads ?? CORES;
}

export async function releasePool(): Promise<void> {
  users = Math.max(0, users - 1);
  if (users > 0 || !shared) return;
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => void closePool(), KEEP_WARM_MS);
  idleTimer.unref();
}

let unhookStop: (() => void) | undefined;

/** An interrupted process: the pool's threads stop now, whoever uses them (util/temp.ts stopAllWork). */
async function terminatePool(): Promise<void> {
  const p = shared;
  shared = undefined;
  unhookStop?.();
  await p?.close();
}

/** Closes the shared pool now if nobody uses it (kills any child left). */
export async function closePool(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  if (users > 0 || !shared) return;
  const p = shared;
  shared = undefined;
  unhookStop?.();
  await p.close();
}
