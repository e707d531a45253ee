/**
 * Temporary directories that are removed when the work ends, when it fails, and when the process
 * exits or is interrupted: bad input leaves nothing behind.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
let hooked = false;

/** Synchronous undo steps of work in progress, run when the process is interrupted or exits. */
const undo = new Set<() => string | undefined>();

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    runInterruptCleanups();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}

/**
 * Registers a synchronous step that removes what unfinished work wrote outside temporary
 * directories (frames in `--out`), run if the process is interrupted or exits first. The step
 * returns a line saying what it removed. Returns the function that unregisters it (call it when
 * the work is done or has cleaned up itself).
 */
export function onInterrupt(fn: () => string | undefined): () => void {
  hook();
  undo.add(fn);
  return () => void undo.delete(fn);
}

/** Asynchronous stops of work that writes on its own (worker threads), run before the undo steps. */
const stoppers = new Set<() => Promise<void>>();

/**
 * Registers a step that stops work able to write files by itself (a worker thread finishing a
 * frame): an interrupted run calls it, and waits for it, before the undo steps remove what was
 * written, so that no file appears after the sweep. Returns the function that unregisters it.
 */
export function onStopWork(fn: () => Promise<void>): () => void {
  stoppers.add(fn);
  return () => void stoppers.delete(fn);
}

/** Runs every registered stop step and waits for them, at most `timeoutMs`. */
export async function stopAllWork(timeoutMs = 3000): Promise<void> {
  const all = Promise.allSettled([...stoppers].map((fn) => fn()));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((r) => {
    timer = setTimeout(r, timeoutMs);
    timer.unref();
  });
  await Promise.race([all, late]);
  clearTimeout(timer);
}

/**
 * Runs the registered undo steps now (the CLI's signal handler); returns what they said, and a
 * function that runs the same steps once more, silently (after the work was stopped, for any
 * file that appeared in between).
 */
export function runInterruptCleanups(): { said: string[]; again: () => void } {
  const steps = [...undo];
  const said: string[] = [];
  const run = (fn: () => string | undefined): string | undefined => {
    try {
      return fn();
    } catch {
      return undefined; /* best effort: the process is going */
    }
  };
  for (const fn of steps) {
    undo.delete(fn);
    const line = run(fn);
    if (line) said.push(line);
  }
  return { said, again: () => void steps.forEach(run) };
}

export interface TempDir {
  path: string;
  remove(): void;
}

let rootOverride: string | undefined;

/**
 * Puts this process's temporary directories under `dir` (a service node uses its data
 * directory, so that the next start removes what a killed node left). OMNIPREP_TMPDIR still wins.
 * Returns a function that restores the previous place.
 */
export function useTempRoot(dir: string | undefined): () => void {
  const before = rootOverride;
  rootOverride = dir;
  return () => {
    if (rootOverride === dir) rootOverride = before;
  };
}

export function makeTempDir(prefix = 'omniprep-'): TempDir {
  hook();
  const root = process.env.OMNIPREP_TMPDIR ?? rootOverride ?? tmpdir();
  if (root === rootOverride) mkdirSync(root, { recursive: true });
  const path = mkdtempSync(join(root, prefix));
  dirs.add(path);
  return {
    path,
    remove() {
      rmSync(path, { recursive: true, force: true });
      dirs.delete(path);
    },
  };
}

/** Runs `fn` with a temporary directory that is removed afterwards, whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>, prefix?: string): Promise<T> {
  const dir = makeTempDir(prefix);
  try {
    return await fn(dir.path);
  } finally {
    dir.remove();
  }
}
