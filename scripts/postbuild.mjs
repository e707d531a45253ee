// Copies the data files tsc does not emit, and makes the CLI executable.
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
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
// The web page's files (plain ES modules and CSS), served from next to dist/src/web/page.js.
rmSync(join(root, 'dist/src/web/static'), { recursive: true, force: true });
cpSync(join(root, 'src/web/static'), join(root, 'dist/src/web/static'), { recursive: true });
chmodSync(join(root, 'dist/src/cli/main.js'), 0o755);
// No source maps ship (they would point at src/*.ts, which is not in the package): remove any an earlier build left.
for (const f of readdirSync(join(root, 'dist'), { recursive: true })) if (String(f).endsWith('.js.map')) rmSync(join(root, 'dist', String(f)));
// A module that moved or went leaves its old output behind (tsc never deletes): remove every .js
// and .d.ts in dist/src and dist/workers whose source .ts is gone, so neither the build nor
// `npm pack` carries it. Only stale files go: tests that use dist while a build runs keep theirs.
for (const top of ['src', 'workers']) {
  const out = join(root, 'dist', top);
  if (!existsSync(out)) continue;
  for (const f of readdirSync(out, { recursive: true })) {
    const rel = String(f);
    const m = /^(.*)\.(?:js|d\.ts)$/.exec(rel);
    if (!m) continue;
    // The page's static files are plain .js copied from src (no .ts): kept when their source is there.
    if (!existsSync(join(root, top, `${m[1]}.ts`)) && !existsSync(join(root, top, rel))) rmSync(join(out, rel));
  }
}
