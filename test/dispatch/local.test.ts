// The local-server adapter (src/providers/local/adapter.ts) end to end against the shared OpenAI
// test server, standing in for vLLM / Ollama / LM Studio: `run` (library and CLI) and `request`
// apply; `batch` writes the OpenAI-format JSONL a local runner reads (`vllm run-batch`), and its
// submission is refused (a local server has no batch endpoint). The server bills each request by
// the registry's rule at the images' real sizes, so estimates are checked against what it measured.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { submitBatch, writeBatch } from '../../src/batch/index.js';
import { OmniprepError } from '../../src/errors.js';
import { builtinRegistry } from '../../src/models/registry.js';
import { prepare } from '../../src/prepare.js';
import { run } from '../../src/run.js';
import { cli, leftovers } from '../helpers/cli.js';
import { fixture, tempDir } from '../helpers/fixtures.js';
import { specValidator, startOpenAITestServer, type IncomingRequest, type OpenAITestServer } from '../helpers/openai/server.js';

/** A model the registry does not know, served locally; it is billed by gpt-4.1-mini's rule (`--rule`). */
const MODEL = 'qwen2.5-vl-7b';
const RULE = 'gpt-4.1-mini';
const PRICED = {
  models: {
    'my-vlm': {
      extends: RULE,
      provider: 'local',
      prices: { standard: { input: 0.5, output: 1 } },
      limits: { imagesPerRequest: 2 },
    },
  },
};
const NO_URL =
  "option baseURL: provider local needs its server's URL (pass --base-url, baseURL in code, or set OMNIPREP_LOCAL_BASE_URL), e.g. http://127.0.0.1:8000/v1";
const NOTE = `model ${MODEL} has no price on a local server: costs are shown as $0 (unknown); give one with a registry entry of provider local (--models FILE)`;

let server: OpenAITestServer;
let input: string;
let modelsFile: string;
let bodies: IncomingRequest[] = [];
const spec = specValidator();
const ENV = ['OMNIPREP_LOCAL_BASE_URL', 'OMNIPREP_LOCAL_API_KEY'] as const;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  input = await fixture('timecode');
  // The server knows the local models so it can bill them (the client knows `qwen2.5-vl-7b` only by --rule).
  server = await startOpenAITestServer({ registry: builtinRegistry().withOverrides({ models: { [MODEL]: { extends: RULE }, ...PRICED.models } }) });
  modelsFile = join(tempDir('local-models-'), 'models.json');
  writeFileSync(modelsFile, JSON.stringify(PRICED));
}, 240_000);
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  for (const k of ENV) delete process.env[k];
  server.reset();
  bodies = [];
  server.control.onRequest = (r) => {
    bodies.push(r);
    return undefined;
  };
});
afterEach(() => {
  for (const k of ENV)
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
});

const images = (r: IncomingRequest): number =>
  (r.body.messages as Array<{ content: string | Array<{ type: string }> }>)
    .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
    .filter((p) => p.type === 'image_url').length;

describe('run through a local server', () => {
  it('sends Chat Completions to the base URL; no price: $0 with the note, tokens as the server measured them', async () => {
    const r = await run(input, { model: MODEL, rule: RULE, provider: 'local', baseURL: server.baseURL, prompt: 'What happens?' });
    expect(r.totals).toMatchObject({ requests: 1, ok: 1, failed: 0, estimatedUsd: 0, spentUsd: 0 });
    expect(r.requests.map((q) => [q.api, q.url])).toEqual([['chat', '/v1/chat/completions']]);
    expect(r.requests[0]!.estimate.priceNote).toBe(NOTE);
    expect(server.stats.records.map((x) => x.path)).toEqual(['/v1/chat/completions']);
    expect(server.stats.invalid).toEqual([]);
    expect(bodies.map((b) => [b.body.model, images(b)])).toEqual([[MODEL, 4]]);
    expect(r.totals.actualInputTokens).toBe(server.stats.records[0]!.promptTokens);
    expect(r.totals.estimatedInputTokens).toBe(r.totals.actualInputTokens);
  }, 120_000);

  it('takes the URL from OMNIPREP_LOCAL_BASE_URL; without one it is refused before anything is sent', async () => {
    const err = await run(input, { model: MODEL, rule: RULE, provider: 'local', prompt: 'What happens?' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OmniprepError);
    expect(err).toMatchObject({ code: 'INVALID_OPTION', message: NO_URL });
    expect(server.stats.total).toBe(0);
    process.env.OMNIPREP_LOCAL_BASE_URL = server.baseURL;
    const r = await run(input, { model: MODEL, rule: RULE, provider: 'local', prompt: 'What happens?' });
    expect(r.totals.ok).toBe(1);
    expect(server.stats.total).toBe(1);
  }, 120_000);

  it('CLI: a priced local entry (--models) is its own provider: its price, and its image limit splits the requests', async () => {
    const r = await cli(['run', input, '--model', 'my-vlm', '--models', modelsFile, '--prompt', 'What happens?', '--base-url', server.baseURL, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      requests: Array<{ api: string; estimate: { priceNote?: string } }>;
      totals: { requests: number; ok: number; spentUsd: number; actualInputTokens: number; estimatedInputTokens: number };
    };
    // 4 frames, 2 per request, then the reduce call (no images).
    expect(out.totals).toMatchObject({ requests: 3, ok: 3 });
    expect(out.requests.map((q) => q.api)).toEqual(['chat', 'chat']);
    expect(out.requests.every((q) => q.estimate.priceNote === undefined)).toBe(true);
    expect(bodies.slice(0, 2).map(images)).toEqual([2, 2]);
    expect(images(bodies[2]!)).toBe(0);
    expect(bodies.map((b) => b.body.model)).toEqual(['my-vlm', 'my-vlm', 'my-vlm']);
    const billed = server.stats.records.reduce((s, x) => s + (x.promptTokens * 0.5 + x.outputTokens * 1) / 1e6, 0);
    expect(out.totals.spentUsd).toBeCloseTo(billed, 10);
    expect(out.totals.spentUsd).toBeGreaterThan(0);
    expect(leftovers(r)).toEqual({ files: [], processes: [] });
  }, 120_000);

  it('CLI: the text output says why the dollars are 0', async () => {
    const r = await cli(['run', input, '--model', MODEL, '--rule', RULE, '--provider', 'local', '--prompt', 'What happens?', '--base-url', server.baseURL]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').slice(-2)).toEqual(['spent $0.000000 (estimated $0.000000)', `note: ${NOTE}`]);
  }, 120_000);
});

describe('request for a local server', () => {
  it('prints a Chat Completions body the OpenAPI description accepts; another API is refused in one line', async () => {
    const r = await cli(['request', input, '--model', MODEL, '--rule', RULE, '--provider', 'local', '--prompt', 'What happens?']);
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as { model: string; messages: Array<{ content: Array<{ type: string }> }> };
    expect(spec.validate('chat', body)).toMatchObject({ valid: true });
    expect(body.model).toBe(MODEL);
    expect(body.messages[0]!.content.map((p) => p.type)).toEqual(['text', ...Array<string[]>(4).fill(['text', 'image_url']).flat()]);
    const bad = await cli(['request', input, '--model', MODEL, '--rule', RULE, '--provider', 'local', '--api', 'responses', '--prompt', 'x']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe(`omniprep: option api: responses is not an API of local (model ${MODEL}); local takes chat`);
    expect(server.stats.total).toBe(0);
  }, 120_000);
});

describe('batch for a local server', () => {
  it('writes OpenAI Batch API lines at $0; submitting is refused, nothing uploaded', async () => {
    const prepared = await prepare(input, { model: MODEL, rule: RULE });
    try {
      const out = join(tempDir('local-batch-'), 'local.jsonl');
      const w = await writeBatch([prepared], { out, model: MODEL, rule: RULE, provider: 'local', prompt: 'What happens?' });
      expect(w.mapping).toMatchObject({ provider: 'local', endpoint: '/v1/chat/completions', model: MODEL });
      expect(w.mapping.estimate.usd).toBe(0);
      const lines = readFileSync(w.paths[0]!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { method: string; url: string; body: unknown });
      expect(lines.map((l) => [l.method, l.url])).toEqual([['POST', '/v1/chat/completions']]);
      expect(spec.validate('chat', lines[0]!.body)).toMatchObject({ valid: true });
      const err = await submitBatch(w.mappingFile, { baseURL: server.baseURL }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'INVALID_OPTION',
        message:
          'provider local: a local server has no batch API to submit to; run the JSONL with its offline runner (vLLM: `vllm run-batch -i FILE -o RESULTS`)',
      });
      expect(server.files.size).toBe(0);
    } finally {
      await prepared.cleanup();
    }
  }, 120_000);
});

describe('a local registry entry', () => {
  it('gives its own prices when it moves a model to another provider; partial prices are not topped up from the cloud', () => {
    expect(() => builtinRegistry().withOverrides({ models: { x: { extends: RULE, provider: 'local' } } }, 'models.json')).toThrow(
      new OmniprepError('INVALID_OPTION', `models.json: model x moves ${RULE} from provider openai to local: give its own prices (0 for none)`),
    );
    const r = builtinRegistry().withOverrides(PRICED);
    expect(r.get('my-vlm').prices).toEqual({ standard: { input: 0.5, output: 1 } });
    expect(r.get(RULE).prices.batch).toBeDefined();
  });
});
