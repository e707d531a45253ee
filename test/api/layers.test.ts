// The layer rule (.dependency-cruiser.cjs, ARCHITECTURE.md "Layers") holds on the source, and it
// fails on a back-arrow: a tree where a lower layer imports a higher one, and one where the pure
// planner imports a process runner, are both refused.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
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
