// End to end through the CLI: request bodies the API accepts, run against the OpenAI test server
// (estimates against what the server bills), batch files, and the budget guard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startOpenAITestServer, specValidator, type OpenAITestServer } from '../helpers/openai/server.js';
import { cli, leftovers } from '../helpers/cli.js';
import { fixture, ROOT, sharedMedia, tempDir } from '../helpers/fixtures.js';
import { plan } from '../../src/plan/plan.js';
import { run } from '../../src/run.js';

const DEMO = join(ROOT, 'samples', 'demo.mp4');
let server: OpenAITestServer;
const spec = specValidator();

beforeAll(async () => {
  server = await startOpenAITestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('omniprep request', () => {
  const inputs = [DEMO, ...['friday.mp4', 'flower.mp4', 'stream-of-water.mp4', 'echo-hereweare.webm'].map(sharedMedia).filter((x): x is string => Boolean(x))];
  for (const input of inputs) {
    it(`bodies validate against the OpenAPI description: ${input.split('/').pop()}`, async () => {
      const responses = await cli(['request', input, '--prompt', 'What happens?', '--every', '3']);
      expect(responses.code, responses.stderr).toBe(0);
      const body = JSON.parse(responses.stdout);
      expect(spec.validate('responses', body)).toMatchObject({ valid: true });
      expect(body.input[0].content.filter((p: { type: string }) => p.type === 'input_image').every((p: { detail?: string }) => p.detail)).toBe(true);
      const chat = await cli(['request', input, '--prompt', 'What happens?', '--every', '3', '--audio', '--detail', 'low']);
      expect(chat.code, chat.stderr).toBe(0);
      const cbody = JSON.parse(chat.stdout);
      expect(spec.validate('chat', cbody)).toMatchObject({ valid: true });
      const types = cbody.messages[0].content.map((p: { type: string }) => p.type);
      expect(types).toContain('input_audio');
      expect(types).not.toContain('audio');
      expect(leftovers(chat)).toEqual({ files: [], processes: [] });
    });
  }

  it('writes the timestamp before each frame, and refuses audio on the Responses API with one line', async () => {
    const r = await cli(['request', DEMO, '--prompt', 'Describe', '--mode', 'exact', '--every', '10', '--detail', 'low']);
    const texts = JSON.parse(r.stdout)
      .input[0].content.filter((p: { type: string }) => p.type === 'input_text')
      .map((p: { text: string }) => p.text);
    expect(texts).toEqual(['Describe', '[00:00]', '[00:10]', '[00:20]']);
    const bad = await cli(['request', DEMO, '--prompt', 'Describe', '--audio', '--api', 'responses']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/Responses API takes no audio input/);
  });
});

describe('omniprep run against the test server', () => {
  it('answers, and bills exactly the tokens the plan estimated', async () => {
    server.reset();
    const p = await plan(DEMO, { every: 5, prompt: 'What happens?' });
    const r = await cli(['run', DEMO, '--prompt', 'What happens?', '--every', '5', '--base-url', server.baseURL, '--api-key', 'test', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.totals.ok).toBe(1);
    expect(out.totals.actualInputTokens).toBe(p.inputTokens);
    expect(out.totals.estimatedInputTokens).toBe(p.inputTokens);
    expect(out.report.results[0].drift.inputTokens).toBe(0);
    expect(server.stats.invalid).toEqual([]);
    const text = await cli(['run', DEMO, '--prompt', 'What happens?', '--base-url', server.baseURL, '--api-key', 'test']);
    expect(text.stdout).toMatch(/1\/1 requests answered \(gpt-5\.5\); input tokens: \d+ billed, \d+ estimated/);
  });

  it('with audio on a long video in windows: several requests, then one reduce call', async () => {
    server.reset();
    const input = await fixture('tonesVideo');
    const result = await run(input, {
      prompt: 'What do you hear?',
      every: 5,
      audio: true,
      windowSec: 10,
      audioOptions: { chunkSeconds: 10 },
      baseURL: server.baseURL,
      apiKey: 'test',
    });
    expect(result.requests.length).toBeGreaterThanOrEqual(3);
    expect(result.requests.every((q) => q.api === 'chat')).toBe(true);
    expect(result.reduce?.status).toBe('ok');
    expect(result.report.totals.ok).toBe(result.requests.length);
    expect(server.stats.invalid).toEqual([]);
    // every request's image and audio tokens as estimated (audio: the server measures the MP3s)
    for (const res of result.report.results) if (res.status === 'ok') expect(Math.abs(res.drift!.inputTokens)).toBeLessThanOrEqual(2);
  });

  it('a budget makes the plan sparser, and the run spends no more than it', async () => {
    server.reset();
    const opts = { every: 2, windowSec: 6, outputTokens: 200, prompt: 'What happens?' };
    const dense = await plan(DEMO, opts);
    const budget = Math.round(dense.costUsd * 0.6 * 1e6) / 1e6;
    const r = await cli([
      'run',
      DEMO,
      '--prompt',
      'What happens?',
      '--every',
      '2',
      '--window',
      '6',
      '--output-tokens',
      '200',
      '--max-output-tokens',
      '200',
      '--budget',
      String(budget),
      '--base-url',
      server.baseURL,
      '--api-key',
      'test',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.plan.budget.changed).toBe(true);
    expect(out.plan.budget.chosen.every).toBeGreaterThan(2);
    expect(out.plan.costUsd).toBeLessThanOrEqual(budget);
    expect(out.totals.spentUsd).toBeLessThanOrEqual(budget);
    const none = await cli(['run', DEMO, '--prompt', 'What happens?', '--budget', '0.000001', '--base-url', server.baseURL, '--api-key', 'test']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/nothing fits \$0\.000001; the cheapest plan \(1 frame at .*\) costs \$/);
  });
});

describe('omniprep batch', () => {
  it('writes Batch API lines whose bodies validate, with stable custom_ids, sharded at the limits', async () => {
    const dir = tempDir('batch-');
    const out = join(dir, 'jobs.jsonl');
    const args = ['batch', DEMO, await fixture('timecode'), '--out', out, '--prompt', 'Describe', '--every', '5', '--window', '10', '--max-lines', '2'];
    const r = await cli([...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const written = JSON.parse(r.stdout);
    expect(written.paths.length).toBeGreaterThan(1);
    const lines = written.paths.flatMap((p: string) =>
      readFileSync(p, 'utf8')
        .trim()
        .split('\n')
        .map((l: string) => JSON.parse(l)),
    );
    expect(lines.every((l: { method: string; url: string }) => l.method === 'POST' && l.url === '/v1/responses')).toBe(true);
    for (const l of lines) expect(spec.validate('responses', l.body)).toMatchObject({ valid: true });
    expect(new Set(lines.map((l: { custom_id: string }) => l.custom_id)).size).toBe(lines.length);
    const again = JSON.parse((await cli([...args, '--json'])).stdout);
    const ids2 = again.paths.flatMap((p: string) =>
      readFileSync(p, 'utf8')
        .trim()
        .split('\n')
        .map((l: string) => JSON.parse(l).custom_id),
    );
    expect(ids2).toEqual(lines.map((l: { custom_id: string }) => l.custom_id));
    expect(readdirSync(dir).filter((f) => f.endsWith('.mapping.json'))).toHaveLength(1);
    expect(written.mapping.tier).toBe('batch');
  });
});
