// Following the README in a clone must not break `npm test`: every file or folder its shell blocks
// write into the working directory (`> body.json`, `--out frames`, `--png curve.png`, ...) is
// ignored by git, and so by biome (biome.json: vcs.useIgnoreFile), whose format step failed on them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';

/** What the README's sh blocks write, relative to where they run. */
function written(readme: string): string[] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const out = new Set<string>();
  for (const block of blocks) {
    for (const line of block.split('\n')) {
      const code = line.replace(/\s#.*$/, '');
      for (const m of code.matchAll(/(?:^|\s)(?:>|--out|--png|--save|--spec|--svg)\s+([^\s'"|;&]+)/g)) {
        const target = m[1]!;
        // Placeholders (FILE.svg), options, absolute paths and /dev/null are not files of the clone.
        if (/^[-/$]|[A-Z]{3,}/.test(target)) continue;
        out.add(target);
      }
    }
  }
  return [...out].sort();
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
