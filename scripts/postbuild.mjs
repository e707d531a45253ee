// Copies the data files tsc does not emit, and makes the CLI executable.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
const root = new URL('..', import.meta.url).pathname;
for (const dir of ['src/models']) {
  const from = join(root, dir);
  if (!existsSync(from)) continue;
  for (const f of readdirSync(from)) {
    if (!f.endsWith('.json')) continue;
    const to = join(root, 'dist', dir, f);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(from, f), to);
  }
}
chmodSync(join(root, 'dist/src/cli/main.js'), 0o755);
