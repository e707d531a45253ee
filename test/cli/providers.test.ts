// The CLI with Claude and Gemini models: `request` prints bodies that validate against the
// schemas derived from the SDKs' request types; `run` against the Anthropic and Gemini test
// servers is billed exactly the planned input tokens. Runs the built CLI (npm run build first).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { fixture, tempDir } from '../helpers/fixtures.js';
import { validateSdk } from '../helpers/sdk/schemas.js';
import { startAnthropicTestServer, type AnthropicTestServer } from '../helpers/anthropic/server.js';
import { asSdkParameters, startGeminiTestServer, type GeminiTestServer, type RestBody } from '../helpers/gemini/server.js';

let input: string;
let claude: AnthropicTestServer;
let gemini: GeminiTestServer;

beforeAll(async () => {
  validateSdk('anthropic.messages', {});
  validateSdk('gemini.generateContent', {});
  input = await fixture('timecode');
  [claude, gemini] = await Promise.all([startAnthropicTestServer(), startGeminiTestServer()]);
}, 240_000);
afterAll(async () => {
  await claude?.close();
  await gemini?.close();
});

describe('omniprep request with Claude and Gemini models', () => {
  it('--model claude-sonnet-4.6 prints a Messages body the SDK type accepts', async () => {
    const r = await cli(['request', input, '--model', 'claude-sonnet-4.6', '--prompt', 'What happens?', '--system', 'Be brief.']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { model: string; system: string; messages: Array<{ content: Array<{ type: string }> }> };
    expect(validateSdk('anthropic.messages', body).message).toBe('valid');
    expect(body.model).toBe('claude-sonnet-4-6');
    expect(body.system).toBe('Be brief.');
    // 20 s every 5 s: 4 frames, each after its timestamp.
    expect(body.messages[0]!.content.map((b) => b.type)).toEqual(['text', ...Array<string[]>(4).fill(['text', 'image']).flat()]);
  }, 60_000);

  it('--model gemini-2.5-flash prints the REST body of generateContent (the SDK type accepts it as parameters)', async () => {
    const schema = join(tempDir('gemini-schema-'), 's.json');
    writeFileSync(schema, JSON.stringify({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }));
    const r = await cli([
      'request',
      input,
      '--model',
      'gemini-2.5-flash',
      '--prompt',
      'What happens?',
      '--max-output-tokens',
      '200',
      '--system',
      'be brief',
      '--schema',
      schema,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as RestBody & { contents: Array<{ parts: Array<Record<string, unknown>> }> };
    // The REST body: no model (it is in the URL), no SDK config.
    expect(Object.keys(body).sort()).toEqual(['contents', 'generationConfig', 'systemInstruction']);
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'be brief' }] });
    expect(body.generationConfig).toMatchObject({ maxOutputTokens: 200, responseMimeType: 'application/json' });
    expect(validateSdk('gemini.generateContent', asSdkParameters('gemini-2.5-flash', body)).message).toBe('valid');
    expect(body.contents[0]!.parts.filter((p) => p.inlineData)).toHaveLength(4);
  }, 60_000);

  it('--api chat with a Claude model is one clear line and a non-zero exit', async () => {
    const r = await cli(['request', input, '--model', 'claude-sonnet-4.6', '--prompt', 'x', '--api', 'chat']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('omniprep: option api: chat is not an API of anthropic (model claude-sonnet-4.6); anthropic takes messages');
    expect(r.stdout).toBe('');
  }, 60_000);
});

describe('omniprep run against the Anthropic and Gemini test servers', () => {
  for (const [model, server] of [
    ['claude-haiku-4.5', (): { baseURL: string; stats: AnthropicTestServer['stats'] } => claude],
    ['gemini-2.5-flash', (): { baseURL: string; stats: GeminiTestServer['stats'] } => gemini],
  ] as const) {
    it(`${model}: billed input tokens equal the plan's`, async () => {
      const s = server();
      const before = s.stats.records.length;
      const planned = JSON.parse((await cli(['plan', input, '--model', model, '--prompt', 'What happens?', '--json'])).stdout) as {
        inputTokens: number;
        requests: number;
      };
      const r = await cli(['run', input, '--model', model, '--prompt', 'What happens?', '--base-url', s.baseURL, '--api-key', 'test-key', '--json']);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { totals: { ok: number; requests: number; actualInputTokens: number; estimatedInputTokens: number } };
      expect(out.totals.ok).toBe(1);
      expect(planned.requests).toBe(1);
      expect(out.totals.actualInputTokens).toBe(planned.inputTokens);
      expect(out.totals.estimatedInputTokens).toBe(planned.inputTokens);
      const records = s.stats.records.slice(before);
      expect(records.map((x) => x.promptTokens)).toEqual([planned.inputTokens]);
      expect(records[0]!.images).toBe(4);
    }, 120_000);
  }
});
