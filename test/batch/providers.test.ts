// Anthropic Message Batches and Gemini batch mode: lines valid against the SDK-derived schemas,
// sharded at the (lowered) limits, submitted through the SDKs to the test servers, results
// mapped back by id (errors included), and billed exactly the estimated input tokens.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { batchResults, batchStatus, readMapping, submitBatch, writeBatch, type AnthropicBatchLine, type GeminiBatchLine } from '../../src/batch/index.js';
import type { FrameAsset, PreparedMedia } from '../../src/request/types.js';
import { startAnthropicTestServer, type AnthropicTestServer } from '../helpers/anthropic/server.js';
import { asSdkParameters, startGeminiTestServer, type GeminiTestServer } from '../helpers/gemini/server.js';
import { validateSdk } from '../helpers/sdk/schemas.js';
import { frameAsset, segment } from '../helpers/request-media.js';
import { tempDir as makeTempDir } from '../helpers/fixtures.js';
import { imageTokens } from '../../src/models/tokens.js';

let claude: AnthropicTestServer;
let gemini: GeminiTestServer;
const dirs: string[] = [];
function tempDir(): string {
  const d = makeTempDir('omniprep-pbatch-');
  dirs.push(d);
  return d;
}

async function media(model: string, input: string, n: number): Promise<PreparedMedia> {
  const f = await Promise.all(Array.from({ length: n }, (_, i) => frameAsset(i, i * 10, { width: 320, height: 180, model, detail: 'auto' })));
  return { input, model, durationSec: n * 10, contentHash: input, segments: f.map((fr, i) => segment(i, i * 10, i * 10 + 10, [fr])) };
}

beforeAll(async () => {
  validateSdk('anthropic.batch', {});
  validateSdk('gemini.generateContent', {});
  [claude, gemini] = await Promise.all([startAnthropicTestServer(), startGeminiTestServer()]);
}, 240_000);
afterAll(async () => {
  await claude?.close();
  await gemini?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(() => {
  claude.reset();
  gemini.reset();
});

async function waitDone(id: string, o: { apiKey: string; baseURL: string }): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if ((await batchStatus(id, o)).done) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`batch ${id} did not end`);
}

const jsonl = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

describe('Anthropic Message Batches', () => {
  it('{custom_id, params} lines, one batch per shard, results mapped back and billed as estimated', async () => {
    const dir = tempDir();
    const clip = await media('claude-haiku-4.5', 'clip.mp4', 5);
    const schema = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] };
    const written = await writeBatch([clip], { out: join(dir, 'job.jsonl'), prompt: 'Summarise.', maxOutputTokens: 60, schema, limits: { batchLines: 3 } });
    expect(written.mapping.provider).toBe('anthropic');
    expect(written.paths.map((p) => p.slice(dir.length + 1))).toEqual(['job.001.jsonl', 'job.002.jsonl']);
    const shards = written.paths.map((p) => jsonl<AnthropicBatchLine>(p));
    expect(shards.map((s) => s.length)).toEqual([3, 2]);
    for (const s of shards) {
      for (const l of s) expect(Object.keys(l)).toEqual(['custom_id', 'params']);
      expect(validateSdk('anthropic.batch', { requests: s }).message).toBe('valid');
    }
    const ids = shards.flat().map((l) => l.custom_id);
    const failing = ids[1]!;
    claude.control.onRequest = (r) => (r.customId === failing ? { status: 500, message: 'Internal error on this one.' } : undefined);
    const client = { apiKey: 'test-key', baseURL: claude.baseURL };
    const submitted = await submitBatch(written.mappingFile, client);
    expect(submitted.map((s) => s.batchId.startsWith('msgbatch_'))).toEqual([true, true]);
    expect(readMapping(written.mappingFile).files.map((f) => f.batchId)).toEqual(submitted.map((s) => s.batchId));
    expect((await submitBatch(written.mappingFile, client)).map((s) => s.status)).toEqual(['submitted before', 'submitted before']);
    expect(claude.batches.size).toBe(2);
    // The POST body wrapping each shard is the shard's bytes, newlines for commas, plus the wrapper.
    expect(claude.batchBodies).toEqual(written.mapping.files.map((f) => f.bytes - 1 + '{"requests":[]}'.length));
    for (const s of submitted) await waitDone(s.batchId, client);
    const first = await batchResults(submitted[0]!.batchId, written.mappingFile, client);
    expect(first.batch).toMatchObject({ provider: 'anthropic', status: 'ended', done: true, requestCounts: { total: 3, completed: 2, failed: 1 } });
    expect(first.results.map((r) => [r.id, r.status])).toEqual([
      ['clip.mp4#0', 'ok'],
      ['clip.mp4#1', 'error'],
      ['clip.mp4#2', 'ok'],
    ]);
    const err = first.results[1]!;
    expect(err.status === 'error' && err.error.message).toBe('clip.mp4#1: api_error: Internal error on this one.');
    const ok = first.results[0]!;
    expect(ok.status === 'ok' && ok.parsed).toEqual({ summary: 'text' });
    for (const r of first.results) if (r.usage) expect(r.usage.inputTokens).toBe(written.mapping.requests[r.customId]!.estimate.inputTokens);
    const second = await batchResults(submitted[1]!.batchId, written.mappingFile, client);
    expect(second.totals).toMatchObject({ ok: 2, failed: 0, missing: 0 });
    // Priced at the batch tier (claude-haiku-4.5: $0.5 / $2.5 per 1M).
    expect(second.totals.spentUsd).toBeCloseTo(
      second.results.reduce((s, r) => s + (r.usage!.inputTokens * 0.5 + r.usage!.outputTokens * 2.5) / 1e6, 0),
      10,
    );
  });

  it("custom_ids of split segments fit Anthropic's pattern; the byte limit shards under the batch body limit", async () => {
    const dir = tempDir();
    const model = 'claude-haiku-4.5';
    const f: FrameAsset[] = await Promise.all(Array.from({ length: 3 }, (_, i) => frameAsset(i, i, { width: 64, height: 36, model, detail: 'auto' })));
    for (const x of f) expect(x.tokens).toBe(imageTokens(model, 64, 36).tokens);
    const registry = (await import('../../src/models/registry.js'))
      .builtinRegistry()
      .withOverrides({ models: { [model]: { limits: { imagesPerRequest: 2 } } } });
    const prepared: PreparedMedia = { input: 'split.mp4', model, durationSec: 3, segments: [segment(0, 0, 3, f)] };
    const written = await writeBatch([prepared], { out: join(dir, 'split.jsonl'), prompt: 'p', registry });
    const ls = jsonl<AnthropicBatchLine>(written.paths[0]!);
    expect(ls.map((l) => l.custom_id.replace(/^omni-[0-9a-f]{12}-/, ''))).toEqual(['s0_0', 's0_1']);
    for (const l of ls) expect(l.custom_id).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    const oneLine = Buffer.byteLength(`${JSON.stringify(ls[0])}\n`);
    const small = await writeBatch([prepared], {
      out: join(dir, 'small.jsonl'),
      prompt: 'p',
      registry,
      limits: { batchBytes: oneLine + '{"requests":[]}'.length },
    });
    expect(small.paths).toHaveLength(2);
  });
});

describe('Gemini batch mode', () => {
  it('{key, request} JSONL uploaded through the File API, results downloaded and mapped back by key', async () => {
    const dir = tempDir();
    const clip = await media('gemini-2.5-flash', 'clip.mp4', 4);
    const written = await writeBatch([clip], { out: join(dir, 'g.jsonl'), prompt: 'Summarise.', system: 'Be brief.', maxOutputTokens: 60 });
    expect(written.mapping.provider).toBe('gemini');
    const ls = jsonl<GeminiBatchLine>(written.paths[0]!);
    expect(ls).toHaveLength(4);
    for (const l of ls) {
      expect(Object.keys(l)).toEqual(['key', 'request']);
      expect(l.request.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }] });
      expect(l.request.generationConfig).toEqual({ maxOutputTokens: 60 });
      expect(validateSdk('gemini.generateContent', asSdkParameters('gemini-2.5-flash', l.request as never)).message).toBe('valid');
    }
    const failing = ls[3]!.key;
    gemini.control.onRequest = (r) => (r.customId === failing ? { status: 500, message: 'Internal error on this one.' } : undefined);
    const client = { apiKey: 'test-key', baseURL: gemini.baseURL };
    const [s] = await submitBatch(written.mappingFile, client);
    expect(s!.batchId).toMatch(/^batches\//);
    expect(gemini.files.get(s!.fileId)!.bytes.equals(readFileSync(written.paths[0]!))).toBe(true);
    await waitDone(s!.batchId, client);
    const res = await batchResults(s!.batchId, written.mappingFile, client);
    expect(res.batch).toMatchObject({ provider: 'gemini', status: 'JOB_STATE_SUCCEEDED', done: true });
    expect(res.results.map((r) => [r.id, r.status])).toEqual([
      ['clip.mp4#0', 'ok'],
      ['clip.mp4#1', 'ok'],
      ['clip.mp4#2', 'ok'],
      ['clip.mp4#3', 'error'],
    ]);
    const err = res.results[3]!;
    expect(err.status === 'error' && err.error).toEqual({
      code: 'REQUEST_FAILED',
      message: 'clip.mp4#3: INTERNAL: Internal error on this one.',
      httpStatus: 500,
    });
    for (const r of res.results) if (r.usage) expect(r.usage.inputTokens).toBe(written.mapping.requests[r.customId]!.estimate.inputTokens);
    expect(res.missing).toEqual([]);
  });
});
