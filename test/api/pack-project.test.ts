// The packed tarball in new projects (issue 25, item 14): a CommonJS project as `npm init -y`
// makes it and an ESM one ("type": "module"), with only the core installed (no optional peer: no
// provider SDK, no service package, no vega, no AWS SDK), each import the root's and every
// subpath's types under `tsc --strict` without skipLibCheck (the declarations imported the
// OpenAI, Anthropic, Fastify, BullMQ, ioredis and vega-lite types, which a core install lacks), and
// load it at run time: `require('omniprep')` (Node >= 20.19 loads the ES module; the exports give it
// a "default" condition) and `import`. Offline, `npm install` of the tarball fails here (npm's
// cache holds the dependencies' tarballs but not their metadata), so the tarball is unpacked into
// each project's node_modules, and a node_modules above both projects links only the core's
// folders from this checkout: the lock's closure of "dependencies" and "optionalDependencies"
// (scripts/install-size.mjs), plus @types/node, which a TypeScript user of a Node library has.
// About a minute (most of it tsc); not a *.unit.test.ts, so `npm run test:unit` skips it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';
// @ts-expect-error: a plain .mjs script without declarations
import { closure } from '../../scripts/install-size.mjs';

const SUBPATHS = ['audio', 'batch', 'calibrate', 'cost', 'dispatch', 'ffmpeg', 'models', 'options', 'probe', 'request', 'service', 'source'];
const PEERS = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).peerDependencies as object);
let dir: string;
let tarball: string;

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

/** Links the core's top-level package folders (nested ones come inside them) and @types/node. */
function linkCore(to: string) {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const root = lock.packages[''];
  const names = [...Object.keys(root.dependencies), ...Object.keys(root.optionalDependencies ?? {}), '@types/node'];
  const paths: string[] = closure(lock, names, (p: string) => existsSync(join(ROOT, p)));
  for (const p of paths.filter((q) => q.split('node_modules/').length === 2)) {
    const at = join(to, p.slice('node_modules/'.length));
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(join(ROOT, p), at);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omniprep-pack-'));
  const packed = run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], ROOT);
  expect(packed.code, packed.out).toBe(0);
  tarball = join(dir, packed.stdout.trim().split('\n').at(-1)!);
  linkCore(join(dir, 'node_modules'));
  for (const kind of ['cjs', 'esm']) {
    const project = join(dir, kind);
    mkdirSync(join(project, 'node_modules', 'omniprep'), { recursive: true });
    expect(run('tar', ['-xzf', tarball, '-C', join(project, 'node_modules', 'omniprep'), '--strip-components=1'], dir).code).toBe(0);
    expect(run('npm', ['init', '-y'], project).code).toBe(0);
  }
  expect(run('npm', ['pkg', 'set', 'type=module'], join(dir, 'esm')).code).toBe(0);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package in a new project', () => {
  it('npm init -y makes a CommonJS project; the core is installed and no optional peer is', () => {
    expect(JSON.parse(readFileSync(join(dir, 'cjs', 'package.json'), 'utf8')).type ?? 'commonjs').toBe('commonjs');
    expect(PEERS).toEqual(expect.arrayContaining(['openai', '@anthropic-ai/sdk', '@google/genai', 'fastify', 'bullmq', 'vega-lite']));
    // Where Node and tsc look for a package from the project: each node_modules from it up to the root.
    const above = (from: string): string[] => (dirname(from) === from ? [from] : [from, ...above(dirname(from))]);
    const installed = (n: string) => above(join(dir, 'cjs')).some((d) => existsSync(join(d, 'node_modules', n, 'package.json')));
    expect(PEERS.filter(installed)).toEqual([]);
    const core = ['sharp', 'zod', 'piscina', 'commander', '@types/node'];
    expect(core.filter(installed)).toEqual(core);
    const list = run('tar', ['-tzf', tarball], dir).stdout.split('\n');
    const dts = list.filter((f) => f.endsWith('.d.ts'));
    expect(dts.length).toBeGreaterThan(50);
    const naming = run('tar', ['-xzOf', tarball, ...dts], dir).stdout;
    // Comments may name it; no import does (the next test holds every optional peer to the same, through tsc).
    expect(naming).toContain('@google/genai');
    expect(naming).not.toMatch(/from '@google\/genai|import\(["']@google\/genai/);
  });

  it('tsc --strict without skipLibCheck accepts a CommonJS and an ESM file importing its types', () => {
    const body = [
      "import * as root from 'omniprep';",
      "import { plan, type Plan } from 'omniprep';",
      "import { registry, type ModelEntry } from 'omniprep/models';",
      ...SUBPATHS.map((s, i) => `import * as m${i} from 'omniprep/${s}';`),
      "export const p: Promise<Plan> = plan('x.mp4');",
      'export const n: number = registry().names().length;',
      'export type M = ModelEntry;',
      `export const all = [root, ${SUBPATHS.map((_, i) => `m${i}`).join(', ')}];`,
    ].join('\n');
    writeFileSync(join(dir, 'cjs', 'index.ts'), body);
    writeFileSync(join(dir, 'esm', 'index.ts'), body);
    const tsc = run(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--strict',
        '--noEmit',
        '--module',
        'nodenext',
        '--target',
        'es2022',
        'cjs/index.ts',
        'esm/index.ts',
      ],
      dir,
    );
    expect(tsc.out).toBe('');
    expect(tsc.code).toBe(0);
  }, 240_000);

  it('require() in the CommonJS project and import in the ESM one give the same API', () => {
    const names = "Object.keys(o).sort().join(',') + ' ' + m.registry().names().length";
    const cjs = run(process.execPath, ['-e', `const o = require('omniprep'); const m = require('omniprep/models'); console.log(${names})`], join(dir, 'cjs'));
    const esm = run(
      process.execPath,
      ['--input-type=module', '-e', `const o = await import('omniprep'); const m = await import('omniprep/models'); console.log(${names})`],
      join(dir, 'esm'),
    );
    expect(cjs.code, cjs.out).toBe(0);
    expect(esm.code, esm.out).toBe(0);
    expect(cjs.out).toBe(esm.out);
    expect(cjs.out).toMatch(/(^|,)plan,.* \d+\n$/);
    for (const s of SUBPATHS) {
      const r = run(process.execPath, ['-e', `require('omniprep/${s}')`], join(dir, 'cjs'));
      expect(r.code, `omniprep/${s}: ${r.out}`).toBe(0);
    }
  }, 120_000);
});
