/**
 * Plans untrusted files off the event loop. The service's POST /v1/plan and /v1/jobs plan a
 * stranger's upload at once; probing it parses its container in JavaScript (src/probe/mp4.ts,
 * matroska.ts), which on the service's own thread would let one hostile file stall /healthz and
 * every other request, or grow the server. Here each plan runs in a piscina thread
 * (workers/plan.ts -> plan-task.ts) with a heap limit and a time limit:
 *
 * - the time limit first asks the thread to stop (its ffprobe is killed through the signal), and
 *   terminates the thread when it does not answer within a grace period (a parser in a loop);
 * - a thread over its heap limit dies alone, and the request is refused as TOO_LARGE;
 * - threads exit when idle, so the server's memory returns to its baseline.
 *
 * The caller's signal (the client went away) cancels the same way.
 */
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { OmniprepError } from '../errors.js';
import type { Limits } from '../limits.js';
import { registry } from '../models/registry.js';
import type { ModelRegistry } from '../models/registry.js';
import type { PlanFacts } from '../plan/planner.js';
import type { Plan } from '../plan/types.js';
import type { JobOptions } from './options.js';
import type { EvalTask, EvalTaskOutcome } from './eval-task.js';
import type { PlanOutcome, PlanTask } from './plan-task.js';
import { workerEntry } from '../util/worker-entry.js';

export interface PlannerOptions {
  /** Threads planning at once (default 2). */
  threads?: number | undefined;
  /** How long one plan may take, probe included (default 60 s). */
  timeoutMs?: number | undefined;
  /** A planning thread's heap (default 512 MB). */
  heapMb?: number | undefined;
}

/** How long a thread asked to stop has before it is terminated. */
const GRACE_MS = 2_000;
/** Idle threads exit after this long (their probe cache with them). */
const IDLE_MS = 60_000;

const registryKeys = new WeakMap<ModelRegistry, number>();
let nextKey = 1;
/** The registry this thread uses now, with a key that changes whenever it does (registerModels, OMNIPREP_MODELS). */
function currentRegistry(): PlanTask['registry'] {
  const r = registry();
  let key = registryKeys.get(r);
  if (key === undefined) {
    key = nextKey++;
    registryKeys.set(r, key);
  }
  return { key, json: r.toJSON() };
}

export class Planner {
  private piscina: Piscina | undefined;
  private starting: Promise<Piscina> | undefined;
  private closed = false;
  readonly timeoutMs: number;

  constructor(private readonly o: PlannerOptions = {}) {
    this.timeoutMs = o.timeoutMs ?? 60_000;
  }

  private started(): Promise<Piscina> {
    if (this.closed) return Promise.reject(new OmniprepError('ABORTED', 'the server is shutting down'));
    this.starting ??= import('piscina').then(({ Piscina }) => {
      this.piscina = new Piscina({
        ...workerEntry('plan'),
        minThreads: 0,
        maxThreads: Math.max(1, this.o.threads ?? 2),
        idleTimeout: IDLE_MS,
        resourceLimits: { maxOldGenerationSizeMb: this.o.heapMb ?? 512, maxYoungGenerationSizeMb: 32 },
      });
      return this.piscina;
    });
    return this.starting;
  }

  /**
   * Plans a stored file, with the facts the plan was made from. `name` is the client's name for it (in messages). Rejects with the plan's
   * OmniprepError; TIMEOUT past the time limit, ABORTED when `signal` fires, TOO_LARGE when the
   * thread runs out of memory.
   */
  async plan(file: string, name: string, options: JobOptions, limits: Partial<Limits>, signal?: AbortSignal): Promise<{ plan: Plan; facts: PlanFacts }> {
    const task: PlanTask = { file, options, limits, registry: currentRegistry() };
    const outcome = (await this.runTask(task, name, this.timeoutMs, signal)) as PlanOutcome;
    if (!outcome.ok) throw new OmniprepError(outcome.error.code, outcome.error.message, errorExtras(outcome.error));
    return { plan: outcome.plan, facts: outcome.facts };
  }

  /** An eval's estimate (with needles: the copy and its questions made first), under `timeoutMs`, as plan() runs its task. */
  async estimateEval(task: Omit<EvalTask, 'kind' | 'registry'>, timeoutMs: number, signal?: AbortSignal): Promise<Extract<EvalTaskOutcome, { ok: true }>> {
    const outcome = (await this.runTask({ ...task, kind: 'eval', registry: currentRegistry() }, 'the eval', timeoutMs, signal)) as EvalTaskOutcome;
    if (!outcome.ok) throw new OmniprepError(outcome.error.code, outcome.error.message, errorExtras(outcome.error));
    return outcome;
  }

  /** Runs one task on a thread: the time limit asks it to stop, then terminates it; the caller's signal does the same. */
  private async runTask(task: PlanTask | EvalTask, name: string, timeoutMs: number, signal?: AbortSignal): Promise<PlanOutcome | EvalTaskOutcome> {
    if (signal?.aborted) throw new OmniprepError('ABORTED', `${name}: cancelled (the client went away)`, { input: name });
    const { port1, port2 } = new MessageChannel();
    const hard = new AbortController();
    let why: 'timeout' | 'cancelled' | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const stop = (reason: 'timeout' | 'cancelled'): void => {
      if (why) return;
      why = reason;
      port1.postMessage({ type: 'abort' });
      graceTimer = setTimeout(() => hard.abort(), GRACE_MS);
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onCancel = (): void => stop('cancelled');
    signal?.addEventListener('abort', onCancel, { once: true });
    try {
      const piscina = await this.started();
      const outcome = (await piscina.run({ task, port: port2 }, { transferList: [port2], signal: hard.signal })) as PlanOutcome | EvalTaskOutcome;
      if (!why) return outcome;
      throw stopped(why, name, timeoutMs);
    } catch (e) {
      if (e instanceof OmniprepError) throw e;
      if (why) throw stopped(why, name, timeoutMs);
      const err = e as Error & { code?: string };
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(err.message))
        throw new OmniprepError('TOO_LARGE', `${name}: planning it needed more than the ${this.o.heapMb ?? 512} MB a plan may use`, { input: name });
      throw new OmniprepError('CORRUPT', `${name}: it cannot be planned (${err.message})`, { input: name, cause: e });
    } finally {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onCancel);
      port1.close();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const p = await this.starting?.catch(() => undefined);
    await p?.destroy();
  }
}

function errorExtras(e: { input?: string | undefined; details?: Record<string, unknown> | undefined }): { input?: string; details?: Record<string, unknown> } {
  return { ...(e.input === undefined ? {} : { input: e.input }), ...(e.details === undefined ? {} : { details: e.details }) };
}

function stopped(why: 'timeout' | 'cancelled', name: string, timeoutMs: number): OmniprepError {
  return why === 'timeout'
    ? new OmniprepError('TIMEOUT', `${name}: planning took longer than ${timeoutMs / 1000} s`, { input: name })
    : new OmniprepError('ABORTED', `${name}: cancelled (the client went away)`, { input: name });
}
