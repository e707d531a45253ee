/** Temporary directories a test file makes, removed after its tests. */
import { rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tempDir } from './fixtures.js';

/** Call at the top of a test file: the returned function makes a directory that goes after the file's tests. */
export function ownedTempDirs(): (prefix: string) => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return (prefix) => {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  };
}
