/**
 * Children die with their parent, even when it is killed with SIGKILL (no exit hook runs then,
 * and Node cannot ask the kernel for PR_SET_PDEATHSIG). Each thread that starts children keeps one
 * small shell beside them, in its own process group, reading a pipe from this process: `+PGID`
 * registers a child's process group, `-PGID` forgets it. When this process (or the worker thread)
 * dies, the kernel closes the pipe, the shell reads end-of-file and kills every group still
 * registered. Used by src/ffmpeg/runner.ts for every child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';

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

/** Registers a child's process group; returns the function that forgets it (call it when the child has exited). */
export function guardGroup(pgid: number): () => void {
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
