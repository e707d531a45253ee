#!/usr/bin/env node
// What installing omniprep brings, measured on this machine's node_modules (npm ci): the packages
// the lock file resolves from "dependencies" (the core: with the platform binaries of sharp and the
// ffmpeg installers that npm installs here), and with every optional peer (the service, the provider
// SDKs, vega) and ffmpeg-static added. Sizes are bytes on disk of each package's folder, nested
// folders counted once. `node scripts/install-size.mjs [--json]`.
import { existsSync, readdirSync, readFileSync, lstatSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The lock's packages reachable from `names` (dependencies and the optional ones installed here). */
export function closure(lock, names, installed = () => true) {
  const seen = new Set();
  const visit = (from, name) => {
    for (let at = from; ; at = at.includes('/node_modules/') ? at.slice(0, at.lastIndexOf('/node_modules/')) : '') {
      const path = `${at ? `${at}/` : ''}node_modules/${name}`;
      const entry = lock.packages[path];
      if (entry) {
        if (seen.has(path) || !installed(path)) return;
        seen.add(path);
        for (const d of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) visit(path, d);
        return;
      }
      if (!at) return;
    }
  };
  for (const n of names) visit('', n);
  return [...seen].sort();
}

function bytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += bytes(p);
    else total += lstatSync(p).size;
  }
  return total;
}

/** Bytes of the packages' folders, each nested folder once. */
export function sizeOf(paths, base = root) {
  const top = paths.filter((p) => !paths.some((q) => q !== p && p.startsWith(`${q}/`)));
  return top.reduce((s, p) => s + bytes(join(base, p)), 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const pkg = lock.packages[''];
  const here = (p) => existsSync(join(root, p));
  const core = closure(lock, Object.keys(pkg.dependencies), here);
  const full = closure(
    lock,
    [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})],
    here,
  );
  const out = { core: { packages: core.length, bytes: sizeOf(core) }, full: { packages: full.length, bytes: sizeOf(full) } };
  if (process.argv.includes('--json')) console.log(JSON.stringify(out));
  else for (const [k, v] of Object.entries(out)) console.log(`${k}: ${v.packages} packages, ${(v.bytes / 1e6).toFixed(1)} MB`);
}
