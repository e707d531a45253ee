// What `npm pack` puts in the tarball (issue 25): the LICENSE package.json promises (MIT), the
// changelog, the README, and no source maps pointing at src/*.ts, which is not shipped. Reads
// npm's own file list (--dry-run) of the built package (npm run build first).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';

describe('the packed tarball', () => {
  it('ships LICENSE (MIT, as package.json says), CHANGELOG.md and README.md, and no .map files', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'CHANGELOG.md', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/cli/main.js']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('src/') && !f.startsWith('src/models/'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license).toBe('MIT');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
    // No built file names a map either (a sourceMappingURL to a file that is not there).
    const index = readFileSync(join(ROOT, 'dist', 'src', 'index.js'), 'utf8');
    expect(index).not.toContain('sourceMappingURL');
    expect(existsSync(join(ROOT, 'dist', 'src', 'index.js.map'))).toBe(false);
  }, 60_000);
});
