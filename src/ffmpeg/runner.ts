/**
 * The one safe process runner. Every ffmpeg and ffprobe call in omniprep goes through `start()`
 * (streaming stdout) or `run()` (buffered stdout):
 *
 * - argument arrays, never a shell; stdin is closed unless data is given;
 * - each child leads its own process group; a wall-clock timeout sends SIGTERM to the group, then
 *   SIGKILL after a grace period; an AbortSignal does the same; children still alive when this
 *   process exits are killed, and a watchdog kills them when it dies without exiting (kill -9);
 * - stderr is always drained; its tail is kept for the error message, and lines can be watched;
 * - a failure becomes an OmniprepError with a code, through `classify()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Readable, type Writable } from 'node:stream';
import { OmniprepError } from '../errors.js';
import { classifyFailure } from './classify.js';
import { guardGroup } from './watchdog.js';

export interface ProcessOptions {
  /** Absolute path of the program. */
  command: string;
  args: readonly string[];
  /** What the process works on, for error messages (a path or a label). */
  input: string;
  /** Wall-clock limit in ms (default 10 minutes). */
  timeoutMs?: number | undefined;
  /** Time between SIGTERM and SIGKILL (default 2000 ms). */
  killGraceMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Bytes written to stdin, then stdin is closed. Default: stdin closed at once. */
  stdinData?: Buffer | string | undefined;
  /** `pipe`: the caller writes stdin (`RunningProcess.stdin`) and ends it. */
  stdin?: 'pipe' | undefined;
  /** How many bytes of stderr to keep for the error message (default 16 KiB). */
  stderrTailBytes?: number | undefined;
  /** Called with every complete stderr line (for `showinfo`, `silencedetect`, progress). */
  onStderrLine?: ((line: string) => void) | undefined;
  /** Called with the child's pid once it runs (worker threads report it to the main thread). */
  onSpawn?: ((pid: number) => void) | undefined;
}

export interface ProcessResult {
  exitCode: number;
  stderrTail: string;
  durationMs: number;
  /** True when the caller stopped the process on purpose (`stop()`). */
  stopped: boolean;
}

export interface RunningProcess {
  readonly pid: number | undefined;
  /** The child's stdout; read it (or call `stop()`), or the child blocks once the pipe is full. */
  readonly stdout: Readable;
  /** The child's stdin, with `stdin: 'pipe'`. */
  readonly stdin: Writable | undefined;
  /** Settles when the process has exited and its pipes are closed. Rejects with an OmniprepError. */
  readonly done: Promise<ProcessResult>;
  /** Ends the process on purpose: `done` resolves with `stopped: true` instead of rejecting. */
  stop(): void;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

/** How many children are running now (for tests and /metrics). */
export function liveProcessCount(): number {
  return live.size;
}

/** Kills every running child (used by the CLI on SIGINT/SIGTERM and by the service on shutdown). */
export function killAllProcesses(): void {
  for (const child of live) killGroup(child, 'SIGKILL');
}

/**
 * The children's environment. Static ffmpeg builds carry their own glibc, whose iconv crashes
 * (SIGSEGV) on the system's gconv module cache: the bundled ffprobe dies on every MPEG-TS file
 * (its service names go through iconv). With GCONV_PATH set, glibc skips that cache; a static
 * build then converts only what it has built in, a dynamic one still finds the system's modules.
 */
function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GCONV_PATH: process.env.GCONV_PATH ?? '/nonexistent-omniprep-gconv' };
}

export function start(options: ProcessOptions): RunningProcess {
  installExitHook();
  const startedAt = performance.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const graceMs = options.killGraceMs ?? 2000;
  const tailBytes = options.stderrTailBytes ?? 16 * 1024;

  if (options.signal?.aborted) {
    const err = new OmniprepError('ABORTED', `${options.input}: cancelled before it started`, {
      input: options.input,
    });
    const empty = Readable.from([]);
    return { pid: undefined, stdout: empty, stdin: undefined, done: Promise.reject(err), stop: () => {} };
  }

  const child = spawn(options.command, options.args, {
    stdio: [options.stdinData === undefined && options.stdin !== 'pipe' ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    detached: true, // own process group, so the whole group can be killed
    shell: false,
    env: childEnv(),
    windowsHide: true,
  });
  live.add(child);
  const unguard = child.pid !== undefined ? guardGroup(child.pid) : () => {};
  if (child.pid !== undefined) options.onSpawn?.(child.pid);

  let stderrTail = '';
  let partialLine = '';
  let reason: 'timeout' | 'abort' | 'stop' | undefined;
  let killTimer: NodeJS.Timeout | undefined;

  const terminate = (why: 'timeout' | 'abort' | 'stop'): void => {
    if (reason) return;
    reason = why;
    killGroup(child, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), why === 'stop' ? Math.min(graceMs, 500) : graceMs);
    killTimer.unref();
  };

  const timer = setTimeout(() => terminate('timeout'), timeoutMs);
  timer.unref();
  const onAbort = (): void => terminate('abort');
  options.signal?.addEventListener('abort', onAbort, { once: true });

  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-tailBytes);
    if (options.onStderrLine) {
      const text = partialLine + chunk;
      const lines = text.split(/\r?\n|\r/);
      partialLine = lines.pop() ?? '';
      for (const line of lines) if (line) options.onStderrLine(line);
    }
  });

  if (child.stdin) {
    child.stdin.on('error', () => {
      /* EPIPE when the child exits early: its exit code tells the story */
    });
    if (options.stdinData !== undefined) child.stdin.end(options.stdinData);
  }

  const done = new Promise<ProcessResult>((resolve, reject) => {
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      live.delete(child);
      unguard();
      if (partialLine && options.onStderrLine) options.onStderrLine(partialLine);
      const durationMs = performance.now() - startedAt;
      const exitCode = code ?? -1;
      if (reason === 'stop') {
        resolve({ exitCode, stderrTail, durationMs, stopped: true });
        return;
      }
      if (reason === 'timeout') {
        reject(
          new OmniprepError(
            'TIMEOUT',
            `${options.input}: processing took longer than ${(timeoutMs / 1000).toFixed(timeoutMs < 10_000 ? 1 : 0)} s and was stopped`,
            { input: options.input, details: { stderrTail } },
          ),
        );
        return;
      }
      if (reason === 'abort') {
        reject(new OmniprepError('ABORTED', `${options.input}: cancelled`, { input: options.input }));
        return;
      }
      if (spawnError) {
        reject(
          new OmniprepError('BINARY_NOT_FOUND', `${options.input}: could not start ${options.command}: ${spawnError.message}`, {
            input: options.input,
            cause: spawnError,
          }),
        );
        return;
      }
      if (exitCode !== 0) {
        reject(classifyFailure(options.input, stderrTail, exitCode, signal));
        return;
      }
      resolve({ exitCode, stderrTail, durationMs, stopped: false });
    });
  });
  // Callers that only use `stdout` still see rejections through `done`; avoid unhandled noise here.
  done.catch(() => {});

  return {
    pid: child.pid,
    stdout: child.stdout!,
    stdin: options.stdin === 'pipe' ? (child.stdin ?? undefined) : undefined,
    done,
    stop: () => terminate('stop'),
  };
}

export interface RunProcessOptions extends ProcessOptions {
  /** stdout beyond this many bytes fails the run with TOO_LARGE (default 64 MiB). */
  maxStdoutBytes?: number | undefined;
}

/** Runs to completion and returns stdout as a Buffer. */
/** Runs a process to the end and collects its output (the one way omniprep runs ffmpeg and ffprobe to completion). */
export async function runProcess(options: RunProcessOptions): Promise<ProcessResult & { stdout: Buffer }> {
  const proc = start(options);
  const max = options.maxStdoutBytes ?? 64 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  proc.stdout.on('data', (c: Buffer) => {
    size += c.length;
    if (size > max) {
      if (!overflow) {
        overflow = true;
        proc.stop();
      }
      return;
    }
    chunks.push(c);
  });
  const result = await proc.done;
  if (overflow) {
    throw new OmniprepError('TOO_LARGE', `${options.input}: output exceeded ${max} bytes`, { input: options.input });
  }
  return { ...result, stdout: Buffer.concat(chunks, Math.min(size, max)) };
}

/**
 * Runs a short command to the end synchronously: a binary's `-version` while resolving which
 * binary to use (resolution is synchronous). Same rules as `start()`: an argument array, no
 * shell, stdin closed, the same environment; SIGKILL at the timeout. Returns stdout.
 */
export function runProcessSync(options: Pick<ProcessOptions, 'command' | 'args' | 'input' | 'timeoutMs'>): string {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const r = spawnSync(options.command, options.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: false,
    env: childEnv(),
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 4 * 1024 * 1024,
    windowsHide: true,
  });
  if (r.error) {
    const timedOut = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    throw new OmniprepError(
      timedOut ? 'TIMEOUT' : 'BINARY_NOT_FOUND',
      timedOut
        ? `${options.input}: took longer than ${(timeoutMs / 1000).toFixed(0)} s and was stopped`
        : `${options.input}: could not start ${options.command}: ${r.error.message}`,
      { input: options.input, cause: r.error },
    );
  }
  if (r.status !== 0) throw classifyFailure(options.input, r.stderr.toString('utf8').slice(-16 * 1024), r.status ?? -1, r.signal);
  return r.stdout.toString('utf8');
}
