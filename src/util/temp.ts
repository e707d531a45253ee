/**
 * Temporary directories that are removed when the work ends, when it fails, and when the process
 * exits or is interrupted: bad input leaves nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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

export function makeTempDir(prefix = 'omniprep-'): TempDir {
  hook();
  const path = mkdtempSync(join(process.env.OMNIPREP_TMPDIR ?? tmpdir(), prefix));
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
