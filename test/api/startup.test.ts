// Start-up paid only for what a command uses (issue 11; ARCHITECTURE.md, "Public API": heavy
// dependencies load when used). Which packages a process loads is recorded by a loader hook
// (test/helpers/loaded/): importing the package root or any subpath, `omniprep --version`,
// `--help`, `tokens`, `probe`, `plan` and `sample` load no SDK, no service stack and no chart
// library, and each loads the worker pool, sharp and the tokenizer only when it uses them. No
// clock: the time these take is measured by `npm run bench -- startup`.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { fixture, ROOT, tempDir } from '../helpers/fixtures.js';

const HOOK = join(ROOT, 'test', 'helpers', 'loaded', 'register.mjs');

/** What no start-up and no command below needs: the SDKs, the service stack, the chart library. */
const HEAVY = [
  'openai',
  '@anthropic-ai/sdk',
  '@google/genai',
  'fastify',
  '@fastify/multipart',
  '@fastify/static',
  '@fastify/swagger',
  'bullmq',
  'ioredis',
  'better-sqlite3',
  'ajv',
  'vega',
  'vega-lite',
];
/** Loaded only by the work that needs them: decoding (piscina, sharp) and counting text (gpt-tokenizer). */
const WORK = ['piscina', 'sharp', 'gpt-tokenizer'];

interface Loaded {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The packages (under node_modules) the process loaded. */
  packages: Set<string>;
}

/** The package a module URL belongs to (the innermost node_modules), or undefined for one of ours or Node's. */
function packageOf(url: string): string | undefined {
  const parts = url.split('/node_modules/');
  if (parts.length < 2) return undefined;
  const rest = parts[parts.length - 1]!.split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

/** Runs `node --import <hook> ...args` from the repository and returns what it loaded. */
function loaded(args: string[]): Promise<Loaded> {
  const dir = tempDir('loaded-');
  const log = join(dir, 'modules.txt');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', HOOK, ...args], {
      cwd: ROOT,
      env: { ...process.env, OMNIPREP_LOADED_LOG: log, OMNIPREP_TMPDIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
      rmSync(dir, { recursive: true, force: true });
      const packages = new Set(urls.map(packageOf).filter((p): p is string => p !== undefined));
      resolve({ code, stdout, stderr, packages });
    });
  });
}

const omniprep = (...args: string[]): Promise<Loaded> => loaded([CLI, ...args]);
const importing = (code: string): Promise<Loaded> => loaded(['--input-type=module', '-e', code]);

function expectNone(r: Loaded, names: string[]): void {
  expect(r.code, r.stderr).toBe(0);
  expect(names.filter((n) => r.packages.has(n))).toEqual([]);
}

describe('what start-up loads', () => {
  it('the hook sees the SDKs when a dispatch makes their clients (they load then, not before)', async () => {
    const r = await importing(
      "const { Clients } = await import('omniprep/dispatch'); await new Clients({ apiKey: 'test-key' }).prepare(['openai', 'anthropic']);",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.packages).toContain('openai');
    expect(r.packages).toContain('@anthropic-ai/sdk');
  });

  it('importing the package root loads no SDK, service, chart, pool, sharp or tokenizer', async () => {
    const r = await importing("const m = await import('omniprep'); if (typeof m.run !== 'function') process.exit(3);");
    expectNone(r, [...HEAVY, ...WORK, 'commander']);
    expect(r.packages).toContain('zod'); // the options: what the hook sees includes what the root does load
  });

  it('importing every documented subpath loads none of them either', async () => {
    const subpaths = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).exports as Record<string, unknown>;
    const names = Object.keys(subpaths)
      .filter((k) => k !== '.' && !k.endsWith('.json'))
      .map((k) => `omniprep${k.slice(1)}`);
    expect(names.length).toBeGreaterThan(10);
    const r = await importing(`for (const name of ${JSON.stringify(names)}) await import(name);`);
    expectNone(r, [...HEAVY, ...WORK]);
  });

  it('omniprep --version loads commander and nothing else', async () => {
    const r = await omniprep('--version');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect([...r.packages]).toEqual(['commander']);
  });

  it('omniprep --help lists every command without loading what the commands run', async () => {
    const r = await omniprep('--help');
    for (const name of [
      'doctor',
      'probe',
      'tokens',
      'plan',
      'sample',
      'audio',
      'request',
      'run',
      'batch',
      'cost-curve',
      'eval',
      'calibrate',
      'serve',
      'worker',
    ])
      expect(r.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    expectNone(r, [...HEAVY, ...WORK]);
  });

  it('omniprep tokens loads no SDK, service, chart, pool, sharp or tokenizer', async () => {
    const r = await omniprep('tokens', '--width', '1920', '--height', '1080', '--json');
    expectNone(r, [...HEAVY, ...WORK]);
    expect(JSON.parse(r.stdout).tokens).toBeGreaterThan(0);
  });

  it('omniprep probe loads only what probing needs (not even the option schemas)', async () => {
    const clip = await fixture('timecode');
    const r = await omniprep('probe', clip, '--json');
    expectNone(r, [...HEAVY, ...WORK, 'zod']);
    expect(JSON.parse(r.stdout).durationSec).toBeGreaterThan(0);
  });

  it('omniprep plan counts its own labels without the tokenizer, and loads it for a prompt; it decodes nothing (no pool, no sharp)', async () => {
    const clip = await fixture('timecode');
    const r = await omniprep('plan', clip, '--json');
    expectNone(r, [...HEAVY, ...WORK]);
    const p = JSON.parse(r.stdout) as { frames: unknown[]; textTokens: number };
    expect(p.frames.length).toBeGreaterThan(0);
    expect(p.textTokens).toBeGreaterThan(0);
    const prompted = await omniprep('plan', clip, '--json', '--prompt', 'Describe the scene.');
    expectNone(prompted, [...HEAVY, 'piscina', 'sharp']);
    // loaded through createRequire: the hook sees CommonJS loads too
    expect(prompted.packages).toContain('gpt-tokenizer');
    expect(JSON.parse(prompted.stdout).textTokens).toBeGreaterThan(p.textTokens);
  });

  it('omniprep sample runs a job on its own thread without sharp while its pipes carry under 256 MB, and starts the pool past it; no SDK, service or chart', async () => {
    const clip = await fixture('timecode');
    const out = tempDir('startup-sample-');
    try {
      // The ffmpeg decoder's tasks (node-av's are in its child processes, below).
      const short = await omniprep('sample', clip, '--out', out, '--every', '5', '--decoder', 'ffmpeg', '--json');
      // JPEG frames are encoded by ffmpeg (src/extract/graph.ts): sharp is not needed either.
      expectNone(short, [...HEAVY, ...WORK]);
      expect(JSON.parse(short.stdout).totals.frames).toBe(4);
      // 500 frames of 640x360 RGB for sharp (WebP): 345 MB through the pipes (extract/pool.ts HERE_RAW_BYTES)
      const more = await omniprep(
        'sample',
        clip,
        '--out',
        out,
        '--every',
        '0.04',
        '--mode',
        'exact',
        '--format',
        'webp',
        '--max-side',
        '64',
        '--decoder',
        'ffmpeg',
        '--json',
      );
      expectNone(more, [...HEAVY, 'gpt-tokenizer']);
      expect(more.packages).toContain('piscina');
      expect(JSON.parse(more.stdout).totals.frames).toBe(500);
      // The same 500 frames as JPEG, which ffmpeg encodes: 86 MB (a quarter of the raw at 640x360) stays here.
      const jpegs = await omniprep('sample', clip, '--out', out, '--every', '0.04', '--mode', 'exact', '--decoder', 'ffmpeg', '--json');
      expectNone(jpegs, [...HEAVY, ...WORK]);
      expect(JSON.parse(jpegs.stdout).totals.frames).toBe(500);
      // node-av decodes in its child processes and sends rgb24: sharp encodes here; no worker pool.
      const av = await omniprep('sample', clip, '--out', out, '--every', '5', '--decoder', 'node-av', '--json');
      expectNone(av, [...HEAVY, 'piscina', 'node-av']);
      expect(av.packages).toContain('sharp');
      expect(JSON.parse(av.stdout).timings.decodePaths).toEqual({ 'node-av': 1 });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
