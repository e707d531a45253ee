// The layer rule (.dependency-cruiser.cjs, ARCHITECTURE.md "Layers") holds on the source, and it
// fails on a back-arrow: a tree where a lower layer imports a higher one, and one where the pure
// planner imports a process runner, are both refused.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/fixtures.js';

const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

function cruise(cwd: string, paths: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEPCRUISE, ...paths, '--config', CONFIG, '--output-type', 'err'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

function tree(files: Record<string, string>): string {
  const dir = tempDir('layers-');
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('the layer rule', () => {
  it('holds on the source', async () => {
    const r = await cruise(ROOT, ['src', 'workers']);
    expect(r.code, r.out).toBe(0);
  }, 120_000);

  it('refuses a back-arrow: models importing the CLI', async () => {
    const dir = tree({ 'src/models/registry.ts': "import { x } from '../cli/main.js';\nexport const y = x;\n", 'src/cli/main.ts': 'export const x = 1;\n' });
    const r = await cruise(dir, ['src']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/layer: models and options: src\/models\/registry\.ts → src\/cli\/main\.ts/);
  }, 120_000);

  it('refuses I/O in the pure planner, and a circle', async () => {
    const dir = tree({
      'src/plan/planner.ts': "import { runProcess } from '../ffmpeg/runner.js';\nexport const p = runProcess;\n",
      'src/ffmpeg/runner.ts': 'export const runProcess = 1;\n',
      'src/util/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'src/util/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    });
    const r = await cruise(dir, ['src']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/pure planner: src\/plan\/planner\.ts → src\/ffmpeg\/runner\.ts/);
    expect(r.out).toMatch(/no circles: src\/util\/a\.ts/);
  }, 120_000);
});

describe("ARCHITECTURE.md's layer table", () => {
  /** LAYERS in .dependency-cruiser.cjs: [name, path pattern], lowest first. */
  const rule = (): Array<[string, RegExp]> => {
    const text = readFileSync(CONFIG, 'utf8');
    const literal = /const LAYERS = (\[[\s\S]*?\n\]);/.exec(text)?.[1];
    if (!literal) throw new Error('no LAYERS list in .dependency-cruiser.cjs');
    return (new Function(`return ${literal}`)() as Array<[string, string]>).map(([name, p]) => [name, new RegExp(p)]);
  };
  /** The table's rows: number, name, the folders and files it names. */
  const table = (): Array<{ n: number; name: string; entries: string[] }> => {
    const text = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
    return [...text.matchAll(/^\| (\d+) ([^|]+?) \| ([^|]+) \|/gm)].map((m) => ({
      n: Number(m[1]),
      name: m[2]!.trim(),
      entries: [...m[3]!.matchAll(/`([^`]+)`/g)].map((e) => e[1]!),
    }));
  };
  /** A path inside a folder entry (`src/cli/` -> `src/cli/x.ts`), or the file itself. */
  const sample = (entry: string): string => (entry.endsWith('/') ? `${entry}x.ts` : entry);

  it("has the rule's layers, in its order, each naming only what the rule puts there", () => {
    const layers = rule();
    const rows = table();
    expect(rows.map((r) => r.n).sort((a, b) => a - b)).toEqual(layers.map((_, i) => i + 1));
    for (const row of rows) {
      const [name, pattern] = layers[row.n - 1]!;
      expect(row.name, `row ${row.n}`).toBe(name);
      for (const entry of row.entries) {
        expect(pattern.test(sample(entry)), `${entry} in row ${row.n}`).toBe(true);
        const others = layers.filter(([, p], i) => i !== row.n - 1 && p.test(sample(entry))).map(([n]) => n);
        expect(others, `${entry} is also in`).toEqual([]);
      }
    }
  });

  it('names every folder and top-level module of src/', () => {
    const named = new Set(table().flatMap((r) => r.entries));
    const src = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory() || (d.name.endsWith('.ts') && !d.name.endsWith('.d.ts')))
      .map((d) => (d.isDirectory() ? `src/${d.name}/` : `src/${d.name}`));
    expect(src.filter((p) => !named.has(p))).toEqual([]);
  });
});
