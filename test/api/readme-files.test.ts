// Following the README in a clone must not break `npm test`: every file or folder its shell blocks
// write into the working directory (`> body.json`, `--out frames`, `--png curve.png`, ...) is
// ignored by git, and so by biome (biome.json: vcs.useIgnoreFile), whose format step failed on them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';
import { shBlocks, writtenBy } from '../helpers/readme.js';

/** What the README's sh blocks write, relative to where they run. */
function written(readme: string): string[] {
  return [...new Set(shBlocks(readme).flatMap((b) => b.split('\n').flatMap(writtenBy)))].sort();
}

describe("the README's files", () => {
  it('everything its shell blocks write is ignored by git (and biome)', () => {
    const files = written(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(files).toEqual(expect.arrayContaining(['body.json', 'frames']));
    const notIgnored = files.filter((f) => {
      // A folder's files: check one inside it too.
      const probe = [f, `${f}/x.jpg`];
      return probe.every((p) => spawnSync('git', ['check-ignore', '-q', '--no-index', p], { cwd: ROOT }).status !== 0);
    });
    expect(notIgnored).toEqual([]);
  });
});
