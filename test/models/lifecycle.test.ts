// Model lifecycle through plan, request and run (library and CLI): a retired model is refused
// before any work (no probe, no request), a deprecated one is planned with a warning, and
// `allowRetired` / `--allow-retired` goes on with one. The CLI judges on the real date: its cases
// use claude-sonnet-4.5 (retired on 2026-11-30, in the past for good) or --models overrides with
// dates far from today. Runs the built CLI (npm run build first).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OmniprepError } from '../../src/errors.js';
import { plan } from '../../src/plan/plan.js';
import { run } from '../../src/run.js';
import { cli } from '../helpers/cli.js';
import { fixture, tempDir } from '../helpers/fixtures.js';
import { startAnthropicTestServer, type AnthropicTestServer } from '../helpers/anthropic/server.js';

const RETIRED = 'model claude-sonnet-4.5 was retired on 2026-11-30: use claude-sonnet-4.6 (allowRetired: true or --allow-retired to go on anyway)';
let input: string;
let claude: AnthropicTestServer;
let deprecatedModels: string;
let retiredModels: string;

beforeAll(async () => {
  input = await fixture('timecode');
  claude = await startAnthropicTestServer();
  const dir = tempDir('lifecycle-');
  deprecatedModels = join(dir, 'deprecated.json');
  retiredModels = join(dir, 'retired.json');
  writeFileSync(deprecatedModels, JSON.stringify({ models: { 'claude-haiku-4.5': { retires: '2999-01-01', replacement: 'claude-sonnet-4.6' } } }));
  writeFileSync(retiredModels, JSON.stringify({ models: { 'claude-haiku-4.5': { retired: '2000-01-01', replacement: 'claude-sonnet-4.6' } } }));
}, 240_000);
afterAll(async () => {
  await claude?.close();
});

describe('plan() and run() with a model past its dates', () => {
  it('plan refuses a retired model before it looks at the input', async () => {
    const e = await plan('/nonexistent/clip.mp4', { model: 'claude-sonnet-4.5', today: '2026-12-07' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OmniprepError);
    expect((e as OmniprepError).message).toBe(RETIRED);
    // The day before its end of life: planned, with the warning first.
    const p = await plan(input, { model: 'claude-sonnet-4.5', today: '2026-11-29' });
    expect(p.warnings).toEqual(['model claude-sonnet-4.5 is deprecated and retires on 2026-11-30: use claude-sonnet-4.6']);
    expect(p.frames).toHaveLength(4);
  }, 60_000);

  it('allowRetired plans it with a warning, the same plan as its replacement (same rules)', async () => {
    const p = await plan(input, { model: 'claude-sonnet-4.5', today: '2026-12-07', allowRetired: true });
    expect(p.warnings).toEqual(['model claude-sonnet-4.5 was retired on 2026-11-30: its provider may refuse the requests (use claude-sonnet-4.6)']);
    const next = await plan(input, { model: 'claude-sonnet-4.6', today: '2026-12-07' });
    expect(next.warnings).toEqual([]);
    expect([p.frames.length, p.imageTokens, p.costUsd]).toEqual([next.frames.length, next.imageTokens, next.costUsd]);
    expect((await plan(input, { model: 'claude-opus-4.5', today: '2026-12-07' })).warnings[0]).toBe(
      'model claude-opus-4.5 is deprecated and retires on 2027-01-22: use claude-opus-4.7',
    );
  }, 60_000);

  it('run sends nothing for a retired model', async () => {
    const before = claude.stats.records.length;
    const e = await run(input, { model: 'claude-sonnet-4.5', prompt: 'x', baseURL: claude.baseURL, apiKey: 'k', today: '2026-12-07' }).catch((x: unknown) => x);
    expect((e as OmniprepError).message).toBe(RETIRED);
    expect(claude.stats.records.length).toBe(before);
  }, 60_000);
});

describe('the CLI', () => {
  it('plan, request and run refuse a retired model in one line (exit 2), and print nothing on stdout', async () => {
    for (const cmd of ['plan', 'request', 'run']) {
      const before = claude.stats.records.length;
      const r = await cli([
        cmd,
        input,
        '--model',
        'claude-sonnet-4.5',
        '--prompt',
        'x',
        ...(cmd === 'run' ? ['--base-url', claude.baseURL, '--api-key', 'k'] : []),
      ]);
      expect(r.code, cmd).toBe(2);
      expect(r.stderr, cmd).toBe(`omniprep: ${RETIRED}\n`);
      expect(r.stdout, cmd).toBe('');
      expect(claude.stats.records.length).toBe(before);
    }
  }, 120_000);

  it('--allow-retired goes on with a warning on stderr', async () => {
    const r = await cli(['request', input, '--model', 'claude-sonnet-4.5', '--prompt', 'x', '--allow-retired']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      'omniprep: warning: model claude-sonnet-4.5 was retired on 2026-11-30: its provider may refuse the requests (use claude-sonnet-4.6)\n',
    );
    expect((JSON.parse(r.stdout) as { model: string }).model).toBe('claude-sonnet-4-5');
  }, 60_000);

  it('a deprecated model: plan shows the warning, run warns on stderr and sends; a retired one from --models is refused', async () => {
    const warning = 'model claude-haiku-4.5 is deprecated and retires on 2999-01-01: use claude-sonnet-4.6';
    const p = await cli(['plan', input, '--model', 'claude-haiku-4.5', '--models', deprecatedModels]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout.split('\n').filter((l) => l.startsWith('warning: '))).toEqual([`warning: ${warning}`]);
    const before = claude.stats.records.length;
    const args = ['run', input, '--model', 'claude-haiku-4.5', '--prompt', 'x', '--base-url', claude.baseURL, '--api-key', 'k'];
    const r = await cli([...args, '--models', deprecatedModels]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`omniprep: warning: ${warning}\n`);
    expect(claude.stats.records.length).toBe(before + 1);
    const refused = await cli([...args, '--models', retiredModels]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'omniprep: model claude-haiku-4.5 was retired on 2000-01-01: use claude-sonnet-4.6 (allowRetired: true or --allow-retired to go on anyway)\n',
    );
    expect(claude.stats.records.length).toBe(before + 1);
  }, 120_000);
});
