// Following the README in a clone, then npm test's lint step (issue 25, item 12): the repository
// is cloned (git clone: its committed state) into a temporary directory, with node_modules and the
// built dist/ linked from this checkout; every README command that writes a file there runs as
// written (sample --out frames, request > body.json, the models.json echo, the Claude and Gemini
// bodies, cost-curve --out/--png), and then `npx biome check` in the clone passes and git sees no
// new file. Only the commands that write run: the service, curl and `run` blocks write nothing
// there (readme-sh.test.ts runs them). Uses its own directory, not .cache/readme-sh.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';
import { commands, shBlocks, writtenBy } from '../helpers/readme.js';

let dir: string;
let clone: string;

function sh(script: string, cwd: string) {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omniprep-clone-'));
  clone = join(dir, 'omniprep');
  const r = spawnSync('git', ['clone', '--quiet', ROOT, clone], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  symlinkSync(join(ROOT, 'dist'), join(clone, 'dist'));
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the README, followed in a clone', () => {
  it('writes its files where they are ignored: biome check passes after every writing command', () => {
    const readme = readFileSync(join(clone, 'README.md'), 'utf8');
    const all = shBlocks(readme).flatMap(commands);
    const writing = all.filter((c) => writtenBy(c).length > 0);
    // Each command that writes into the clone (the list changes with the README).
    expect(writing.map((c) => writtenBy(c).join(' '))).toEqual([
      'frames',
      'body.json',
      'dataset',
      'list.txt',
      'speech',
      'models.json',
      'claude.json',
      'gemini.json',
      'upload.json',
      'plan.json',
      'replan.json',
      'upload.json',
      'curve.svg curve.png',
      'eval',
      'eval',
    ]);
    // The user's own video, which the README calls talk.mp4 (removed again before git status).
    copyFileSync(join(clone, 'samples', 'demo.mp4'), join(clone, 'talk.mp4'));
    // Run in order: the writing commands and the ones that make their inputs (mkdir, cp, printf);
    // a command that needs the running service (curl) or a model (eval without --dry-run) only has
    // its output checked as ignored (test/api/readme-sh.test.ts runs those against test servers).
    const service = (c: string): boolean => /\bcurl\b|127\.0\.0\.1/.test(c) || (/omniprep (eval|run)\b/.test(c) && !c.includes('--dry-run'));
    for (const c of all.filter((c) => writtenBy(c).length > 0 || /^(mkdir|cp|printf)\b/.test(c))) {
      if (service(c)) {
        for (const f of writtenBy(c)) expect(spawnSync('git', ['check-ignore', '-q', f], { cwd: clone }).status, `${f} is ignored`).toBe(0);
        continue;
      }
      const r = sh(c, clone);
      expect(r.code, `${c}\n${r.stderr}`).toBe(0);
      for (const f of writtenBy(c)) expect(existsSync(join(clone, f)), `${c} wrote ${f}`).toBe(true);
    }
    rmSync(join(clone, 'talk.mp4'));
    const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: clone, encoding: 'utf8' });
    // Only the two links this test made (node_modules and dist are ignored as folders, not as links).
    expect(status.stdout.split('\n').filter(Boolean).sort()).toEqual(['?? dist', '?? node_modules']);
    const check = sh('npx biome check', clone);
    expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);
  }, 300_000);
});
