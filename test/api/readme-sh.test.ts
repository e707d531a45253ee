/**
 * The README's shell blocks, run as written by bash from a directory laid out as the README
 * assumes (samples/, talk.mp4, ../shared/media, `omniprep` on PATH), with the model calls going
 * to the test servers. The main job's printed plan is compared with the real output line by line;
 * the service blocks run against `omniprep serve` started by the README's own command, with only
 * its port, data and root directories swapped for temporary ones. (The scale-out block's two
 * commands are what test/service/redis.test.ts runs, with Redis on 127.0.0.1.)
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, ROOT } from '../helpers/fixtures.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { validateSdk } from '../helpers/sdk/schemas.js';
import { asSdkParameters, startGeminiTestServer, type RestBody } from '../helpers/gemini/server.js';
import { startAnthropicTestServer } from '../helpers/anthropic/server.js';
import { waitFor } from '../helpers/service.js';
import { commands, shBlocks } from '../helpers/readme.js';

const WORK = join(ROOT, '.cache', 'readme-sh');
const SHIM = join(WORK, '.bin');
const SHARED = resolve(ROOT, '..', 'shared');

/** The ```sh blocks of the README. */
const BLOCKS = shBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));

/** The one block holding `marker` (a README edit that drops it fails here, not silently). */
function block(marker: string): string {
  const found = BLOCKS.filter((b) => b.includes(marker));
  expect(found, `README sh blocks holding ${marker}`).toHaveLength(1);
  return found[0]!;
}

interface Shell {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bash(script: string, cwd: string, env: Record<string, string> = {}): Promise<Shell> {
  return new Promise((done) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd,
      env: { ...process.env, PATH: `${SHIM}:${process.env.PATH}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A fresh directory as the README's commands expect to run in (the repository's root, in effect). */
async function workdir(name: string): Promise<string> {
  const dir = join(WORK, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(ROOT, 'samples'), join(dir, 'samples'));
  copyFileSync(await fixture('timecode'), join(dir, 'talk.mp4'));
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

let openai: OpenAITestServer;
beforeAll(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(SHIM, { recursive: true });
  // `omniprep` as an installed command; `npx omniprep` resolves the package itself (WORK is inside it).
  writeFileSync(join(SHIM, 'omniprep'), `#!/bin/sh\nexec ${JSON.stringify(join(ROOT, 'bin', 'omniprep'))} "$@"\n`);
  chmodSync(join(SHIM, 'omniprep'), 0o755);
  // ../shared/media, seen from a directory under WORK.
  if (existsSync(SHARED)) symlinkSync(SHARED, join(WORK, 'shared'));
  openai = await startOpenAITestServer();
}, 60_000);
afterAll(async () => {
  await openai?.close();
});

/** The service's eval block: a dry run, the start, its events, its results as JSON and CSV. */
async function runEvalBlock(swap: (s: string) => string, dir: string, env: Record<string, string>): Promise<void> {
  const before = openai.stats.total;
  const [dry, start, events, results, csv] = commands(block('/v1/evals/ID/events'));
  const d = await bash(swap(dry!), dir, env);
  expect(d.code, d.stderr).toBe(0);
  expect(JSON.parse(d.stdout).plans.map((p: { every: number; questions: number }) => [p.every, p.questions])).toEqual([
    [2, 3],
    [5, 3],
  ]);
  expect(openai.stats.total).toBe(before);
  const s = JSON.parse((await bash(swap(start!), dir, env)).stdout) as { id: string; state: string; estimate: unknown };
  expect(s.state).toBe('queued');
  expect(s.estimate).toEqual(JSON.parse(d.stdout));
  const at = (c: string): string => swap(c).replaceAll('/ID', `/${s.id}`);
  const ev = await bash(at(events!), dir, env);
  expect(ev.code, ev.stderr).toBe(0);
  // The last event is the eval: every question answered with every plan (progress events before it
  // depend on when curl connected).
  expect(ev.stdout).toMatch(/event: done\ndata: \{[^\n]*"questionsDone":6,"questionsTotal":6/);
  const r = JSON.parse((await bash(at(results!), dir, env)).stdout) as { plans: Array<{ answered: number }>; questions: unknown[] };
  expect([r.plans.map((p) => p.answered), r.questions.length]).toEqual([[3, 3], 3]);
  expect((await bash(at(csv!), dir, env)).stdout.split('\n')[0]).toMatch(/^every,mode,model,/);
  expect(openai.stats.total - before).toBe(6);
}

describe("the README's shell blocks, run as written", () => {
  it('the main job: plan prints what the README shows; sample, request and run do what their comments say', async () => {
    const b = block('npx omniprep plan samples/demo.mp4 --prompt');
    const dir = await workdir('main');
    const r = await bash(b, dir, { OPENAI_BASE_URL: openai.baseURL, OPENAI_API_KEY: 'test-key' });
    expect(r.code, r.stderr).toBe(0);
    const shown = b
      .split('\n')
      .filter((l) => l.startsWith('#  '))
      .map((l) => l.slice(3));
    expect(shown.length).toBeGreaterThanOrEqual(5);
    expect(r.stdout.split('\n').slice(0, shown.length)).toEqual(shown);
    const manifest = JSON.parse(readFileSync(join(dir, 'frames', 'manifest.json'), 'utf8')) as { frames: Array<{ file: string }> };
    expect(manifest.frames).toHaveLength(6);
    for (const f of manifest.frames) expect(existsSync(resolve(dir, 'frames', f.file)) || existsSync(resolve(dir, f.file)), f.file).toBe(true);
    const body = JSON.parse(readFileSync(join(dir, 'body.json'), 'utf8')) as { model: string; input: unknown[] };
    expect(body.model).toBe('gpt-5.5');
    expect(Array.isArray(body.input)).toBe(true);
    expect(r.stdout).toMatch(/1\/1 requests answered \(gpt-5\.5\)/);
  }, 180_000);

  it('a registry override file and a model priced by a rule', async () => {
    const b = block('--models models.json');
    const dir = await workdir('models');
    const r = await bash(b, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'models.json'), 'utf8'))).toHaveProperty('models.my-proxy.extends', 'gpt-5-mini');
    expect(r.stdout).toMatch(/talk\.mp4: 20\.\d\d s mp4/);
    expect(r.stdout).toMatch(/some-new-model/);
  }, 120_000);

  it('Claude and Gemini bodies, frames and inline video, valid against the SDKs own request types', async () => {
    const b = block('--model claude-sonnet-4.6 > claude.json');
    const dir = await workdir('providers');
    const r = await bash(b, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/video/);
    expect(validateSdk('anthropic.messages', JSON.parse(readFileSync(join(dir, 'claude.json'), 'utf8'))).message).toBe('valid');
    // Gemini's REST body: the SDK's type accepts it as parameters (the model is in the URL).
    const gemini = JSON.parse(readFileSync(join(dir, 'gemini.json'), 'utf8')) as RestBody & {
      contents: Array<{ parts: Array<{ inlineData?: { mimeType: string } }> }>;
    };
    expect(validateSdk('gemini.generateContent', asSdkParameters('gemini-2.5-flash', gemini)).message).toBe('valid');
    expect(gemini.contents[0]!.parts.some((p) => p.inlineData?.mimeType === 'video/mp4')).toBe(true);
  }, 240_000);

  it('many files: a directory planned and sampled, a list chunked, with a JSON line per input', async () => {
    const b = block('npx omniprep sample clips --out dataset');
    const dir = await workdir('many');
    const r = await bash(b, dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => /^clips\/(a|sub\/a)\.mp4: \d+ frames, \d+ tokens, \$/.test(l))).toHaveLength(4);
    expect(lines).toContain('summary: dataset/summary.json');
    expect(lines.some((l) => l.startsWith('dataset cost by tier: standard $'))).toBe(true);
    const summary = JSON.parse(readFileSync(join(dir, 'dataset', 'summary.json'), 'utf8')) as { ok: number; items: Array<{ out: string }> };
    expect([summary.ok, summary.items.map((i) => i.out)]).toEqual([2, ['a.mp4', 'sub_a.mp4']]);
    const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { input?: string; summary?: { ok: number } });
    expect(json.map((j) => j.input ?? j.summary?.ok).sort()).toEqual([2, 'samples/demo.mp4', 'talk.mp4'].sort());
    expect(existsSync(join(dir, 'speech', 'demo.mp4', 'manifest.json')) && existsSync(join(dir, 'speech', 'talk.mp4', 'manifest.json'))).toBe(true);
  }, 180_000);

  // On samples/demo.mp4: it runs in a fresh clone (it named ../shared/media, which a clone lacks).
  it('the cost curve, as SVG and PNG', async () => {
    const b = block('npx omniprep cost-curve');
    const dir = await workdir('curve');
    const r = await bash(b, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'curve.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(join(dir, 'curve.png')).subarray(1, 4).toString()).toBe('PNG');
  }, 180_000);

  it('eval with needles on the sample: a dry run, then the run, its files and a cache', async () => {
    const b = block('npx omniprep eval --needles');
    const dir = await workdir('eval');
    const r = await bash(b, dir, { OPENAI_BASE_URL: openai.baseURL, OPENAI_API_KEY: 'test-key' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dry run: nothing was sent');
    expect(r.stdout).toMatch(/requests: 15 sent, 0 from the cache/);
    expect(
      readFileSync(join(dir, 'eval', 'demo-needles.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(5);
    const report = JSON.parse(readFileSync(join(dir, 'eval', 'report.json'), 'utf8')) as { plans: Array<{ every: number; answered: number }> };
    expect(report.plans.map((p) => [p.every, p.answered])).toEqual([
      [1, 5],
      [2, 5],
      [5, 5],
    ]);
    for (const f of ['demo-needles.mp4', 'report.csv', 'questions.jsonl', 'chart.svg', 'chart.png']) expect(existsSync(join(dir, 'eval', f)), f).toBe(true);
    // One answer per request, kept under its body's hash.
    expect(readdirSync(join(dir, 'eval', 'cache')).filter((f) => f.endsWith('.json'))).toHaveLength(15);
  }, 240_000);

  it('the service: started by its README command; submit, watch, fetch a frame and cancel with the curl lines', async () => {
    const dir = await workdir('service');
    const data = join(dir, 'data');
    const media = join(dir, 'media');
    mkdirSync(join(media, 'talks'), { recursive: true });
    copyFileSync(join(dir, 'talk.mp4'), join(media, 'talks', 'talk.mp4'));
    const port = String(await freePort());
    const swap = (s: string): string => s.replaceAll('8080', port).replaceAll('/var/lib/omniprep', data).replaceAll('/srv/media', media);
    const start = commands(block('omniprep serve --port 8080 --data'));
    const token = /^export OMNIPREP_TOKEN=(\S+)/.exec(start.find((c) => c.startsWith('export'))!)![1]!;
    const env = { OMNIPREP_TOKEN: token };
    const models = await modelServers();
    const server = spawn('bash', ['-c', `exec ${swap(start.find((c) => c.includes('omniprep serve'))!)}`], {
      cwd: dir,
      // The jobs' and the eval's model calls go to the test servers.
      env: { ...process.env, PATH: `${SHIM}:${process.env.PATH}`, ...env, OPENAI_BASE_URL: openai.baseURL, OPENAI_API_KEY: 'test-key', ...models.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    server.stdout.on('data', (c: Buffer) => (log += c.toString()));
    server.stderr.on('data', (c: Buffer) => (log += c.toString()));
    try {
      await waitFor('the server', () => log.includes('listening on'), 60_000);
      const submitted: Array<{ id: string; state: string; plan: { frames: number } }> = [];
      for (const c of commands(block("-F 'options="))) {
        const r = await bash(swap(c), dir, env);
        expect(r.code, r.stderr).toBe(0);
        submitted.push(JSON.parse(r.stdout));
      }
      expect(submitted).toHaveLength(2);
      expect(submitted[0]).toMatchObject({ state: 'queued', plan: { frames: 2 } });
      expect(submitted[1]).toMatchObject({ state: 'queued', plan: { frames: 4 } });
      const watch = commands(block('/v1/jobs/ID/events'));
      const id = submitted[1]!.id;
      const [events, job, manifest, frame, cancel, del] = watch.map((c) => swap(c).replaceAll('/ID', `/${id}`));
      const ev = await bash(events!, dir, env);
      expect(ev.code, ev.stderr).toBe(0);
      expect(ev.stdout).toMatch(/event: end/);
      expect(JSON.parse((await bash(job!, dir, env)).stdout)).toMatchObject({ id, state: 'succeeded' });
      expect(JSON.parse((await bash(manifest!, dir, env)).stdout).frames.frames).toHaveLength(4);
      expect((await bash(frame!, dir, env)).code).toBe(0);
      expect(readFileSync(join(dir, 'frame-0.jpg')).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      await providerJobs(models, (c) => bash(swap(c), dir, env));
      const other = submitted[0]!.id;
      const c = await bash(cancel!.replace(`/${id}`, `/${other}`), dir, env);
      expect(c.code, c.stderr).toBe(0);
      expect(JSON.parse(c.stdout).id).toBe(other);
      const d = await bash(del!.replace(`/${id}`, `/${other}`), dir, env);
      expect(d.code, d.stderr).toBe(0);
      expect((await bash(job!.replace(`/${id}`, `/${other}`), dir, env)).stdout).toContain('JOB_NOT_FOUND');
      // Upload once, plan, change an option and plan again by id, then submit: the file is sent once.
      const once = commands(block('-F file=@talk.mp4 http://127.0.0.1:8080/v1/uploads'));
      expect(once).toHaveLength(4);
      const outs: string[] = [];
      for (const line of once) {
        const r = await bash(swap(line), dir, env);
        expect(r.code, r.stderr).toBe(0);
        outs.push(r.stdout);
      }
      const up = JSON.parse(readFileSync(join(dir, 'upload.json'), 'utf8'));
      expect(up).toMatchObject({ name: 'talk.mp4', size: readFileSync(join(dir, 'talk.mp4')).length, deduplicated: false });
      const times = (f: string): number[] => JSON.parse(readFileSync(join(dir, f), 'utf8')).frames.map((x: { timestampSec: number }) => x.timestampSec);
      expect(times('plan.json')).toEqual([0, 4, 10, 14]);
      expect(times('replan.json')).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
      const gridJob = JSON.parse(outs[3]!);
      expect(gridJob).toMatchObject({ state: 'queued', input: { kind: 'upload', upload: up.id }, plan: { frames: 10, grids: 3 } });
      await runEvalBlock(swap, dir, env);
      // Without the token, only /healthz answers.
      expect((await bash(`curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${port}/v1/jobs`, dir)).stdout).toBe('401');
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('close', r));
      await models.close();
    }
  }, 240_000);
});

/** The Anthropic and Gemini test servers, and the variables that send the service's calls to them. */
async function modelServers() {
  const [claude, gemini] = await Promise.all([startAnthropicTestServer(), startGeminiTestServer()]);
  return {
    claude,
    gemini,
    env: { ANTHROPIC_BASE_URL: claude.baseURL, ANTHROPIC_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: gemini.baseURL, GEMINI_API_KEY: 'test-key' },
    close: () => Promise.all([claude.close(), gemini.close()]),
  };
}

/** The README's Claude job and Gemini video job, submitted and read with its curl lines. */
async function providerJobs(models: Awaited<ReturnType<typeof modelServers>>, sh: (c: string) => Promise<Shell>): Promise<void> {
  const [claudeJob, geminiJob, read] = commands(block('"send":"video"'));
  const ids: string[] = [];
  for (const c of [claudeJob!, geminiJob!]) {
    const r = await sh(c);
    expect(r.code, r.stderr).toBe(0);
    ids.push(JSON.parse(r.stdout).id);
  }
  const jobs = [];
  for (const id of ids) {
    const ended = async () => {
      const j = JSON.parse((await sh(read!.replaceAll('/ID', `/${id}`))).stdout);
      return ['succeeded', 'failed'].includes(j.state) && j;
    };
    jobs.push(await waitFor(`job ${id}`, ended, 120_000, 200));
  }
  expect(jobs.map((j) => [j.state, j.result?.provider, j.options.model])).toEqual([
    ['succeeded', 'anthropic', 'claude-haiku-4.5'],
    ['succeeded', 'gemini', 'gemini-2.5-flash'],
  ]);
  // Each server billed one request: the plan's input tokens, recorded with their dollars.
  expect(models.claude.stats.records.map((r) => r.promptTokens)).toEqual([jobs[0].estimate.actual.inputTokens]);
  expect(models.gemini.stats.records.map((r) => r.promptTokens)).toEqual([jobs[1].estimate.actual.inputTokens]);
  expect(jobs.map((j) => j.estimate.actual.inputTokens)).toEqual(jobs.map((j) => j.estimate.estimated.inputTokens));
  expect(models.gemini.files.size).toBe(1); // the clip, uploaded once
  for (const j of jobs) expect(j.estimate.actual.costUsd).toBeGreaterThan(0);
}
