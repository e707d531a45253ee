/**
 * Children die with their parent, even when it is killed with SIGKILL (no exit hook runs then,
 * and Node cannot ask the kernel for PR_SET_PDEATHSIG). Each thread that starts children keeps one
 * small shell beside them, in its own process group, reading a pipe from this process: `+PGID`
 * registers a child's process group, `-PGID` forgets it. When this process (or the worker thread)
 * dies, the kernel closes the pipe, the shell reads end-of-file and kills every group still
 * registered. Used by src/ffmpeg/runner.ts for every child.
 *
 * Worker threads share the main thread's shell (its pipe's descriptor is handed to them in their
 * environment, `sharedWatchdogEnv`): a shell started by a worker thread is that thread's child,
 * and once the thread ends nobody reaps it, so every pool thread that exited left a zombie `sh`
 * beside a long-running service. A worker whose children outlive it is the pool's to clean up
 * (src/extract/pool.ts kills their groups).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, fstatSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { isMainThread } from 'node:worker_threads';

/** The shell's loop: a space-separated set of groups, killed at end of input. */
const SCRIPT = [
  'g=" "',
  'while IFS= read -r l; do',
  '  case "$l" in',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  '    +*) g="$g${l#+} " ;;',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  '    -*) i=${l#-}; case "$g" in *" $i "*) g="${g%% $i *} ${g#* $i }" ;; esac ;;',
  '  esac',
  'done',
  'for p in $g; do kill -s KILL -- "-$p" 2>/dev/null; done',
].join('\n');

const SHELL = '/bin/sh';
let dog: ChildProcess | undefined;
let unavailable = process.platform === 'win32' || !existsSync(SHELL);

function pipe(): Writable | undefined {
  if (unavailable) return undefined;
  if (dog?.stdin && !dog.stdin.destroyed && dog.exitCode === null && dog.signalCode === null) return dog.stdin;
  try {
    const d = spawn(SHELL, ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, windowsHide: true });
    d.on('error', () => {
      unavailable = true;
      if (dog === d) dog = undefined;
    });
    d.stdin!.on('error', () => {
      if (dog === d) dog = undefined;
    });
    // Neither the shell nor its pipe keeps this process alive.
    d.unref();
    (d.stdin as unknown as { _handle?: { unref?: () => void } })._handle?.unref?.();
    dog = d;
    return d.stdin!;
  } catch {
    unavailable = true;
    return undefined;
  }
}

/** Where a worker thread finds the main thread's shell: `fd:inode` of its pipe. */
const SHARED = 'OMNIPREP_WATCHDOG_PIPE';

/**
 * The environment a worker thread needs to use this (the main) thread's shell; empty where there
 * is none. The pool passes it to its threads.
 */
export function sharedWatchdogEnv(): Record<string, string> {
  if (!isMainThread) return process.env[SHARED] ? { [SHARED]: process.env[SHARED] } : {};
  const w = pipe();
  const fd = (w as unknown as { _handle?: { fd?: number } } | undefined)?._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return {};
  return { [SHARED]: `${fd}:${fstatSync(fd).ino}` };
}

/**
 * A worker thread's line to the main thread's shell: written straight to its pipe (one short
 * write is atomic), after checking the descriptor is still that pipe. False when it cannot be.
 */
function sharedWrite(line: string): boolean {
  const spec = isMainThread ? undefined : process.env[SHARED];
  if (!spec) return false;
  const [fd, ino] = spec.split(':').map(Number);
  try {
    if (fstatSync(fd!).ino !== ino) return false;
    writeSync(fd!, line);
    return true;
  } catch {
    return false;
  }
}

/** Registers a child's process group; returns the function that forgets it (call it when the child has exited). */
export function guardGroup(pgid: number): () => void {
  if (sharedWrite(`+${pgid}\n`)) {
    let forgotten = false;
    return () => {
      if (forgotten) return;
      forgotten = true;
      sharedWrite(`-${pgid}\n`);
    };
  }
  const w = pipe();
  if (!w) return () => {};
  w.write(`+${pgid}\n`);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (!w.destroyed) w.write(`-${pgid}\n`);
  };
}

/** The watchdog shell's pid on this thread (tests). */
export function watchdogPid(): number | undefined {
  return dog?.pid;
}
