// The package as users get it: imported by its name (Node resolves `omniprep` through package.json
// "exports", exactly as in a project that installed it), a small root, documented subpaths,
// internals closed, and every TypeScript block of the README compiled and run as written.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, ROOT } from '../helpers/fixtures.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';

const WORK = join(ROOT, '.cache', 'api');
const SUBPATHS = ['models', 'options', 'probe', 'audio', 'request', 'dispatch', 'batch', 'cost', 'calibrate', 'ffmpeg', 'service', 'source'];
const ROOT_NAMES = [
  'OmniprepError',
  'audioTokens',
  'buildRequests',
  'calibrate',
  'chooseSize',
  'chunkAudio',
  'costCurve',
  'dispatchAll',
  'doctor',
  'evaluate',
  'gatherFacts',
  'imageTokens',
  'plan',
  'planFromFacts',
  'planMany',
  'prepare',
  'probe',
  'registerModels',
  'run',
  'sample',
  'sampleMany',
  'textTokens',
  'writeBatch',
];

function exec(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The ```ts blocks of the README, in order. */
function readmeBlocks(): string[] {
  const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...md.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

beforeAll(() => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
});

describe('the package, imported by name', () => {
  it('has a small root, the documented subpaths, and no way into the internals', async () => {
    const script = join(WORK, 'exports.mjs');
    writeFileSync(
      script,
      `const root = await import('omniprep');
const out = { root: Object.keys(root).sort(), subpaths: {}, internal: null };
for (const s of ${JSON.stringify(SUBPATHS)}) out.subpaths[s] = Object.keys(await import('omniprep/' + s)).sort();
try { await import('omniprep/dist/src/plan/frames.js'); out.internal = 'open'; } catch (e) { out.internal = e.code; }
console.log(JSON.stringify(out));\n`,
    );
    const r = await exec(process.execPath, [script], WORK);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { root: string[]; subpaths: Record<string, string[]>; internal: string };
    expect(out.root).toEqual([...ROOT_NAMES].sort());
    expect(out.root.length).toBeLessThanOrEqual(40);
    // The README's subpath table names every runtime export of each subpath, and nothing else.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const s of SUBPATHS) {
      const row = new RegExp(`^\\| \`omniprep/${s}\` \\| (.+) \\|$`, 'm').exec(readme)?.[1] ?? '';
      const named = [...row.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]!);
      expect([...new Set(named)].sort(), `README row of omniprep/${s}`).toEqual(out.subpaths[s]);
    }
    expect(out.internal).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});

describe('every TypeScript block of the README', () => {
  let server: OpenAITestServer;
  beforeAll(async () => {
    server = await startOpenAITestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const blocks = readmeBlocks();
  it('there are blocks to run', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  blocks.forEach((code, i) => {
    it(`block ${i + 1} type-checks against the built package and runs as written`, async () => {
      const dir = join(WORK, `readme-${i + 1}`);
      mkdirSync(dir, { recursive: true });
      copyFileSync(await fixture('timecode'), join(dir, 'talk.mp4'));
      writeFileSync(join(dir, 'block.mts'), code);
      const tsc = await exec(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
          '--noEmit',
          '--strict',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--target',
          'es2023',
          '--skipLibCheck',
          '--types',
          'node',
          'block.mts',
        ],
        dir,
      );
      expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
      const r = await exec(process.execPath, ['--import', 'tsx', 'block.mts'], dir, { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test-key' });
      expect(r.code, r.stderr).toBe(0);
      if (code.includes('sampleMany(')) {
        // Many inputs: one line each, in the order they end; the missing one fails alone.
        expect(r.stdout.trim().split('\n').sort()).toEqual(['failed: missing.mp4: no such file', 'talk.mp4: 2 frames in many/talk.mp4']);
        expect(readdirSync(join(dir, 'many', 'talk.mp4')).sort()).toEqual(['frame-00000.jpg', 'frame-00001.jpg', 'manifest.json']);
      }
      if (code.includes("sample('talk.mp4'")) {
        // The ten lines: the plan's frame count, then one line per sampled frame, then the answer.
        const lines = r.stdout.trim().split('\n');
        const [frames, inputTokens, cost] = lines[0]!.split(' ').map(Number);
        expect(frames).toBe(2); // 20 s, a frame every 10 s
        expect(inputTokens).toBeGreaterThan(0);
        expect(cost).toBeGreaterThan(0);
        const sampled = lines.slice(1, 1 + frames!).map((l) => l.split(' '));
        expect(sampled.map((f) => Number(f[0]))).toEqual([0, 10]);
        for (const f of sampled) expect(f[1]).toMatch(/frames\/frame-\d{5}\.jpg$/);
        expect(lines.length).toBeGreaterThan(1 + frames!);
        expect(server.stats.total).toBeGreaterThan(0);
      }
    });
  });
});
