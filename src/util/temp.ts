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

/** Runs the registered undo steps now (the CLI's signal handler); returns what they said. */
export function runInterruptCleanups(): string[] {
  const said: string[] = [];
  for (const fn of [...undo]) {
    undo.delete(fn);
    try {
      const line = fn();
      if (line) said.push(line);
    } catch {
      /* best effort: the process is going */
    }
  }
  return said;
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
