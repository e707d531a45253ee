/**
 * The node-av decoder: a few long-lived child processes (workers/av.ts, one per core), each taking
 * frame tasks in turn, so a clip costs no process start. node-av's FFmpeg libraries never load in
 * the calling process: a crash in a hostile file ends one child, which is replaced, and its task
 * fails with one line naming the input. A task has the process time limit (the child is killed and
 * replaced past it), a cancelled task kills its child, and each child runs with a heap cap and the
 * decoder's pixel limit (av-decode.ts). Frames come back as rgb24 at the output size, which sharp
 * encodes here as they arrive. Idle children hold nothing open: they are unref'd, exit when
 * the parent does (their IPC channel closes), and the shared pool closes after KEEP_WARM_MS unused.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { OmniprepError } from '../errors.js';
import { onStopWork } from '../util/temp.js';
import { workerEntry } from '../util/worker-entry.js';
import type { FromChild, ToChild } from './av-child.js';
import type { TaskRunner } from './pool.js';
import { writeFrame } from './reader.js';
import type { FrameResult, FrameTask, Task, TaskOutcome } from './types.js';

/** The heap a decoder child may use, MB (frames live in native memory, bounded by the pixel limit). */
const CHILD_HEAP_MB = 256;

type Ok = Extract<TaskOutcome, { ok: true }>;

interface Child {
  proc: ChildProcess;
  /** Resolves with node-av's FFmpeg version once the child has loaded it; rejects with NotLoaded or the child's end. */
  ready: Promise<string>;
  dead: boolean;
}

function hold(c: Child, on: boolean): void {
  const ch = c.proc.channel as unknown as { ref?: () => void; unref?: () => void } | undefined;
  if (on) {
    c.proc.ref();
    ch?.ref?.();
  } else {
    c.proc.unref();
    ch?.unref?.();
  }
}

/** What a task whose child died fails with (after the input's name). */
const died = (how: string): string => `the node-av decoder process died (${how}) decoding it; it was restarted`;

/** node-av did not load in a child. */
class NotLoaded extends Error {}

/** Kills a child now; it is dead from here on (never handed another task). */
function killChild(c: Child): void {
  if (c.dead) return;
  c.dead = true;
  c.proc.kill('SIGKILL');
}

function spawnChild(): Child {
  const entry = workerEntry('av');
  // Not this process's flags: a program run with -e or -p would have its children run its code again.
  const execArgv = [...(entry.execArgv ? ['--import', 'tsx'] : []), `--max-old-space-size=${CHILD_HEAP_MB}`];
  const proc = fork(entry.filename, [], {
    execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const c: Child = { proc, dead: false, ready: Promise.resolve('') };
  c.ready = new Promise<string>((resolve, reject) => {
    const onMessage = (m: FromChild): void => {
      if (m.type === 'ready') resolve(m.version);
      if (m.type === 'failed') reject(new NotLoaded(m.message));
      if (m.type === 'ready' || m.type === 'failed') proc.off('message', onMessage);
    };
    proc.on('message', onMessage);
    proc.once('exit', (code, signal) => reject(new Error(`${signal ?? `exit code ${code}`}`)));
    proc.once('error', reject);
  });
  c.ready.catch(() => {});
  proc.once('exit', () => (c.dead = true));
  proc.on('error', () => {});
  return c;
}

export class AvPool implements TaskRunner {
  readonly threads: number;
  readonly window: number;
  private readonly children = new Set<Child>();
  private readonly idle: Child[] = [];
  private readonly waiters: Array<(c: Child) => void> = [];
  private nextId = 1;
  private closed = false;
  /** Tasks under way: each settles once the frames it received are written (close waits for them). */
  private readonly running = new Set<Promise<void>>();

  constructor(threads = availableParallelism()) {
    this.threads = Math.max(1, threads);
    this.window = this.threads * 2;
  }

  /** The child processes' pids (tests check that none is left). */
  get pids(): number[] {
    return [...this.children].flatMap((c) => (c.proc.pid && !c.dead ? [c.proc.pid] : []));
  }

  private take(): Promise<Child> {
    if (this.closed) return Promise.reject(new OmniprepError('ABORTED', 'the decoder processes were closed'));
    for (let c = this.idle.pop(); c; c = this.idle.pop()) if (!c.dead) return Promise.resolve(c);
    if (this.children.size < this.threads) {
      const c = spawnChild();
      this.children.add(c);
      c.proc.once('exit', () => this.children.delete(c));
      return Promise.resolve(c);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private give(c: Child): void {
    if (c.dead || this.closed) {
      this.children.delete(c);
      // A waiter gets a fresh child in place of a dead one.
      const w = this.waiters.shift();
      if (w && !this.closed) void this.take().then(w);
      return;
    }
    const w = this.waiters.shift();
    if (w) w(c);
    else {
      hold(c, false);
      this.idle.push(c);
    }
  }

  /** node-av's FFmpeg version, from a child (rejects when node-av does not load here). */
  async version(): Promise<string> {
    const c = await this.take();
    try {
      return await c.ready;
    } finally {
      this.give(c);
    }
  }

  async run(task: Task, signal?: AbortSignal): Promise<Ok> {
    if (task.kind !== 'frames') throw new OmniprepError('PROCESS_FAILED', `${task.input}: the node-av decoder takes frame tasks only`, { input: task.input });
    if (signal?.aborted) throw new OmniprepError('ABORTED', `${task.input}: cancelled`, { input: task.input });
    const c = await this.take();
    hold(c, true);
    try {
      await c.ready.catch((e: Error) => {
        if (e instanceof NotLoaded)
          throw new OmniprepError('MISSING_PACKAGE', `${task.input}: node-av does not load here (${e.message})`, { input: task.input, cause: e });
        throw new OmniprepError('PROCESS_FAILED', `${task.input}: ${died(e.message)}`, { input: task.input, cause: e });
      });
      const running = runOn(c, task, this.nextId++, signal);
      const settled = running.then(
        () => {},
        () => {},
      );
      this.running.add(settled);
      void settled.then(() => this.running.delete(settled));
      return await running;
    } finally {
      this.give(c);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const gone = [...this.children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
          c.proc.once('exit', () => resolve());
          killChild(c);
        }),
    );
    this.idle.length = 0;
    await Promise.all(gone);
    this.children.clear();
    // No frame file may appear after this (an interrupted run sweeps its folder next).
    await Promise.all(this.running);
  }
}

/** Runs one task on a ready child: frames are written as they come, in order. */
function runOn(c: Child, task: FrameTask, id: number, signal?: AbortSignal): Promise<Ok> {
  return new Promise<Ok>((resolve, reject) => {
    const results: FrameResult[] = [];
    // The child scales to the output size: sharp only encodes.
    const atOutputSize = { ...task, decodeWidth: task.out.width, decodeHeight: task.out.height };
    let writing: Promise<unknown> = Promise.resolve();
    let settled = false;
    let stopped = false;
    /** `between`: the child finished the task (done, or its error): it stays. */
    const end = (e: OmniprepError | undefined, ok?: Ok, between = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      c.proc.off('message', onMessage);
      c.proc.off('exit', onExit);
      signal?.removeEventListener('abort', onAbort);
      if (e) {
        // The child may be mid-task: it goes, and a fresh one takes its place. Frames not yet
        // written are dropped; the task fails once the one being written is (nothing after it).
        if (!between) killChild(c);
        stopped = true;
        writing.then(
          () => reject(e),
          () => reject(e),
        );
      } else resolve(ok!);
    };
    const fail = (code: OmniprepError['code'], why: string): void => end(new OmniprepError(code, `${task.input}: ${why}`, { input: task.input }));
    const onMessage = (m: FromChild): void => {
      if (!('id' in m) || m.id !== id) return;
      if (m.type === 'frame') {
        const f = m.frame;
        const planned = task.frames.find((p) => p.index === f.index);
        if (!planned) {
          fail('PROCESS_FAILED', `the node-av decoder sent a frame the task did not plan (#${f.index})`);
          return;
        }
        const raw = Buffer.from(f.rgb.buffer, f.rgb.byteOffset, f.rgb.byteLength);
        writing = writing
          .then(() => (stopped ? undefined : writeFrame(atOutputSize, raw, { planned, time: f.timestampSec, key: f.keyframe, fromIndex: true })))
          .then((r) => void (r && results.push(r)));
        writing.catch((e: unknown) =>
          end(e instanceof OmniprepError ? e : new OmniprepError('PROCESS_FAILED', `${task.input}: ${(e as Error).message}`, { input: task.input })),
        );
      } else if (m.type === 'done') {
        const ok: Ok = { ok: true, frames: results, decodeMs: m.decodeMs, path: 'node-av' };
        writing.then(
          () => end(undefined, ok, true),
          () => {},
        );
      } else if (m.type === 'error') {
        const e = new OmniprepError(m.error.code, m.error.message, { input: task.input });
        writing.then(
          () => end(e, undefined, true),
          () => {},
        );
      }
    };
    const onExit = (code: number | null, sig: NodeJS.Signals | null): void => fail('PROCESS_FAILED', died(sig ?? `exit code ${code}`));
    const onAbort = (): void => fail('ABORTED', 'cancelled');
    const timer = setTimeout(() => fail('TIMEOUT', `decoding took longer than the limit of ${Math.round(task.timeoutMs / 1000)} s`), task.timeoutMs);
    c.proc.on('message', onMessage);
    c.proc.once('exit', onExit);
    signal?.addEventListener('abort', onAbort, { once: true });
    c.proc.send(
      { type: 'task', id, task } satisfies ToChild,
      (e) => e && fail('PROCESS_FAILED', `the node-av decoder process did not take the task (${e.message})`),
    );
  });
}

let shared: AvPool | undefined;
let users = 0;
let idleTimer: NodeJS.Timeout | undefined;
let unhookStop: (() => void) | undefined;
/** How long an unused pool keeps its children (they never keep the process alive meanwhile). */
const KEEP_WARM_MS = 30_000;

/** The decoder pool shared by concurrent and successive calls in this process. */
export function acquireAvPool(threads?: number): AvPool {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  if (!shared) {
    shared = new AvPool(threads);
    unhookStop = onStopWork(closeAvPool);
  }
  users++;
  return shared;
}

export function releaseAvPool(): void {
  users = Math.max(0, users - 1);
  if (users > 0 || !shared) return;
  idleTimer = setTimeout(() => void closeAvPool(), KEEP_WARM_MS);
  idleTimer.unref();
}

/** The shared pool's children's pids (none when it is closed). */
export function avPoolPids(): number[] {
  return shared?.pids ?? [];
}

/** Closes the shared pool now, killing its children, whoever uses it. */
export async function closeAvPool(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  const p = shared;
  shared = undefined;
  users = 0;
  unhookStop?.();
  unhookStop = undefined;
  await p?.close();
}
