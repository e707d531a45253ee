/**
 * Temporary directories that are removed when the work ends, when it fails, and when the process
 * exits or is interrupted: bad input leaves nothing behind.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
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
