// Batch API: JSONL lines valid against the endpoint's schema, stable custom_ids, sharding at the
// (lowered) limits, submission through the SDK to the test server, and results mapped back to
// their inputs and segments by custom_id, errors included.
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { batchResults, batchStatus, readMapping, submitBatch } from '../../src/batch/submit.js';
import { customId, writeBatch, type BatchLine, type BatchMapping } from '../../src/batch/write.js';
import { builtinRegistry } from '../../src/models/registry.js';
import { estimateRequest } from '../../src/request/index.js';
import { OmniprepError } from '../../src/errors.js';
import type { PreparedMedia } from '../../src/request/types.js';
import { specValidator, startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { audioAsset, frameAsset, makeAudio, segment } from '../helpers/request-media.js';
import { tempDir as makeTempDir } from '../helpers/fixtures.js';

const spec = specValidator();
let server: OpenAITestServer;
let clip: PreparedMedia;
let talk: PreparedMedia;

beforeAll(async () => {
  server = await startOpenAITestServer();
  const f = await Promise.all([0, 1, 2, 3, 4].map((i) => frameAsset(i, i * 10, { width: 160, height: 90 })));
  clip = {
    input: 'clip.mp4',
    model: 'gpt-5.5',
    durationSec: 50,
    contentHash: 'aa11',
    segments: [0, 1, 2, 3, 4].map((i) => segment(i, i * 10, i * 10 + 10, [f[i]!])),
  };
  talk = {
    input: 'talk.mp4',
    model: 'gpt-5.5',
    durationSec: 20,
    contentHash: 'bb22',
    segments: [segment(0, 0, 10, f.slice(0, 2)), segment(1, 10, 20, f.slice(2, 3))],
  };
});
const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = makeTempDir(prefix);
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await server.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(() => server.reset());

const client = (): { apiKey: string; baseURL: string } => ({ apiKey: 'test-key', baseURL: server.baseURL });

function lines(path: string): BatchLine[] {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as BatchLine);
}

async function waitDone(id: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const s = await batchStatus(id, client());
    if (['completed', 'failed', 'expired', 'cancelled'].includes(s.status)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`batch ${id} did not finish`);
}

describe('writing', () => {
  it('one line per request, each body valid for its endpoint, custom_ids stable across reruns', async () => {
    const dir = tempDir('omniprep-batch-');
    const a = await writeBatch([clip, talk], { out: join(dir, 'run.jsonl'), prompt: 'Summarise.', maxOutputTokens: 60 });
    expect(a.paths).toEqual([join(dir, 'run.jsonl')]);
    expect(a.mappingFile).toBe(join(dir, 'run.mapping.json'));
    const ls = lines(a.paths[0]!);
    expect(ls).toHaveLength(7);
    for (const l of ls) {
      expect(Object.keys(l)).toEqual(['custom_id', 'method', 'url', 'body']);
      expect([l.method, l.url]).toEqual(['POST', '/v1/responses']);
      expect(spec.validate('responses', l.body).message).toBe('valid');
    }
    expect(new Set(ls.map((l) => l.custom_id)).size).toBe(7);
    expect(ls[0]!.custom_id).toBe(
      customId({ input: 'clip.mp4', contentHash: 'aa11', model: 'gpt-5.5', url: '/v1/responses', segment: { index: 0, startSec: 0, endSec: 10 } }),
    );
    expect(ls.map((l) => l.custom_id.replace(/^omni-[0-9a-f]{12}-/, ''))).toEqual(['s0', 's1', 's2', 's3', 's4', 's0', 's1']);
    // Rerun: the same ids; another name or content makes others.
    const b = await writeBatch([clip, talk], { out: join(dir, 'again.jsonl'), prompt: 'Summarise.', maxOutputTokens: 60 });
    expect(lines(b.paths[0]!).map((l) => l.custom_id)).toEqual(ls.map((l) => l.custom_id));
    const renamed = await writeBatch([{ ...clip, contentHash: 'cc33' }], { out: join(dir, 'other.jsonl'), prompt: 'Summarise.' });
    expect(
      lines(renamed.paths[0]!)
        .map((l) => l.custom_id)
        .filter((id) => ls.some((l) => l.custom_id === id)),
    ).toEqual([]);
    // The mapping says where each custom_id comes from.
    const m = readMapping(a.mappingFile);
    expect(m).toMatchObject({
      version: 1,
      model: 'gpt-5.5',
      endpoint: '/v1/responses',
      tier: 'batch',
      limits: { batchLines: 50_000, batchBytes: 200 * 1024 * 1024 },
    });
    expect(m.requests[ls[6]!.custom_id]).toMatchObject({
      id: 'talk.mp4#1',
      input: 'talk.mp4',
      segment: 1,
      startSec: 10,
      endSec: 20,
      model: 'gpt-5.5',
      file: 'run.jsonl',
      line: 7,
    });
    // Estimated at the batch price: half the standard one for gpt-5.5.
    const standard = estimateRequest(talk.segments[1]!, { model: 'gpt-5.5', prompt: 'Summarise.', maxOutputTokens: 60, input: 'talk.mp4' });
    expect(m.requests[ls[6]!.custom_id]!.estimate.usd).toBe(standard.usd / 2);
    expect(m.files).toEqual([{ file: 'run.jsonl', lines: 7, bytes: readFileSync(a.paths[0]!).length }]);
  });

  it('shards at the lowered line and byte limits, never over either', async () => {
    const dir = tempDir('omniprep-batch-');
    const byLines = await writeBatch([clip, talk], { out: join(dir, 'lines.jsonl'), prompt: 'Summarise.', limits: { batchLines: 3 } });
    expect(byLines.paths.map((p) => p.slice(dir.length + 1))).toEqual(['lines.001.jsonl', 'lines.002.jsonl', 'lines.003.jsonl']);
    expect(byLines.paths.map((p) => lines(p).length)).toEqual([3, 3, 1]);
    expect(existsSync(join(dir, 'lines.jsonl'))).toBe(false);
    const all = byLines.paths.flatMap(lines);
    const sizes = all.map((l) => Buffer.byteLength(JSON.stringify(l)) + 1);
    const limit = Math.max(...sizes) * 2; // any two lines fit
    // In order, a new file whenever the next line would not fit.
    const expected: number[] = [];
    let used = Infinity;
    for (const size of sizes) {
      if (used + size > limit) {
        expected.push(0);
        used = 0;
      }
      expected[expected.length - 1]!++;
      used += size;
    }
    const byBytes = await writeBatch([clip, talk], { out: join(dir, 'bytes.jsonl'), prompt: 'Summarise.', limits: { batchBytes: limit } });
    expect(byBytes.paths.map((p) => lines(p).length)).toEqual(expected);
    expect(expected.every((n) => n >= 2 || n === expected.at(-1))).toBe(true);
    for (const p of byBytes.paths) expect(readFileSync(p).length).toBeLessThanOrEqual(limit);
    expect(byBytes.paths.flatMap(lines).map((l) => l.custom_id)).toEqual(all.map((l) => l.custom_id));
    expect(byBytes.mapping.files.map((f) => [f.file, f.lines, f.bytes])).toEqual(
      byBytes.paths.map((p, i) => [`bytes.00${i + 1}.jsonl`, lines(p).length, readFileSync(p).length]),
    );
    // A tighter limit: each file is as full as the limit lets it be.
    const tight = sizes[0]! + sizes[1]! + Math.floor(sizes[2]! / 2);
    const byTight = await writeBatch([clip, talk], { out: join(dir, 'tight.jsonl'), prompt: 'Summarise.', limits: { batchBytes: tight } });
    const shardLines = byTight.paths.map(lines);
    for (const [i, ls] of shardLines.entries()) {
      expect(readFileSync(byTight.paths[i]!).length).toBeLessThanOrEqual(tight);
      const next = shardLines[i + 1]?.[0];
      if (next) expect(readFileSync(byTight.paths[i]!).length + Buffer.byteLength(JSON.stringify(next)) + 1).toBeGreaterThan(tight);
      expect(ls.length).toBeGreaterThan(0);
    }
    expect(shardLines.flat().map((l) => l.custom_id)).toEqual(all.map((l) => l.custom_id));
    // Limits from the registry entry when given there.
    const registry = builtinRegistry().withOverrides({ models: { 'gpt-5.5': { limits: { batchLines: 4 } } } });
    const fromRegistry = await writeBatch([clip, talk], { out: join(dir, 'reg.jsonl'), prompt: 'Summarise.', registry });
    expect(fromRegistry.paths.map((p) => lines(p).length)).toEqual([4, 3]);
  });

  it('refuses what the Batch API would: two models in one file, a line over the byte limit', async () => {
    const dir = tempDir('omniprep-batch-');
    const other = { ...talk, model: 'gpt-5.4' };
    await expect(writeBatch([clip, other], { out: join(dir, 'x.jsonl'), prompt: 'p' })).rejects.toThrow(
      `${join(dir, 'x.jsonl')}: a batch file holds one model, but the inputs differ (clip.mp4 for gpt-5.5, talk.mp4 for gpt-5.4); pass a model`,
    );
    const e = await writeBatch([clip], { out: join(dir, 'y.jsonl'), prompt: 'p', limits: { batchBytes: 500 } }).catch((x: unknown) => x as OmniprepError);
    expect(e).toBeInstanceOf(OmniprepError);
    expect((e as OmniprepError).code).toBe('LIMIT_EXCEEDED');
    expect((e as OmniprepError).message).toMatch(/^clip\.mp4#0: its batch line is \d+ bytes, more than the 500 bytes a batch file may hold$/);
    expect(existsSync(join(dir, 'y.jsonl'))).toBe(false);
    await expect(writeBatch([clip, clip], { out: join(dir, 'z.jsonl'), prompt: 'p' })).rejects.toThrow(/^clip\.mp4: appears twice in the batch/);
  });

  it('audio goes to /v1/chat/completions lines, valid against the Chat schema', async () => {
    const dir = tempDir('omniprep-batch-');
    const mp3 = await makeAudio('mp3', 2);
    const withAudio: PreparedMedia = {
      input: 'voice.mp3',
      model: 'gpt-5.5',
      durationSec: 4,
      segments: [segment(0, 0, 2, [], [audioAsset(0, 0, 2, 'mp3', { data: mp3 })]), segment(1, 2, 4, [])],
    };
    const res = await writeBatch([withAudio], { out: join(dir, 'voice.jsonl'), prompt: 'Transcribe.' });
    expect(res.mapping.endpoint).toBe('/v1/chat/completions');
    for (const l of lines(res.paths[0]!)) {
      expect(l.url).toBe('/v1/chat/completions');
      expect(spec.validate('chat', l.body).message).toBe('valid');
    }
  });
});

describe('submitting and results', () => {
  it('uploads each shard, creates batches, and maps every result back by custom_id, errors included', async () => {
    const dir = tempDir('omniprep-batch-');
    const schema = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'], additionalProperties: false };
    const written = await writeBatch([clip, talk], {
      out: join(dir, 'job.jsonl'),
      prompt: 'Summarise.',
      maxOutputTokens: 60,
      schema,
      limits: { batchLines: 4 },
    });
    const ids = Object.keys(written.mapping.requests);
    const failing = ids[2]!; // clip.mp4#2: the server fails it
    const offSchema = ids[5]!; // talk.mp4#0: answers off the schema
    server.control.onRequest = (r) => (r.customId === failing ? { status: 500, message: 'Internal error on this line.' } : undefined);
    server.control.reply = (r) => (r.customId === offSchema ? '{"headline": "x"}' : '{"summary": "fine"}');
    const submitted = await submitBatch(written.mappingFile, client());
    expect(submitted.map((s) => [s.file, s.status])).toEqual([
      ['job.001.jsonl', 'validating'],
      ['job.002.jsonl', 'validating'],
    ]);
    // The uploads are the files, byte for byte, with purpose batch.
    for (const s of submitted) {
      const f = server.files.get(s.fileId)!;
      expect(f.purpose).toBe('batch');
      expect(f.bytes.equals(readFileSync(join(dir, s.file)))).toBe(true);
    }
    const mapping: BatchMapping = readMapping(written.mappingFile);
    expect(mapping.files.map((f) => [f.fileId, f.batchId])).toEqual(submitted.map((s) => [s.fileId, s.batchId]));
    // Submitting again sends nothing new.
    expect((await submitBatch(written.mappingFile, client())).map((s) => s.status)).toEqual(['submitted before', 'submitted before']);
    expect(server.batches.size).toBe(2);

    for (const s of submitted) await waitDone(s.batchId);
    const first = await batchResults(submitted[0]!.batchId, written.mappingFile, client());
    expect(first.done).toBe(true);
    expect(first.batch).toMatchObject({ status: 'completed', requestCounts: { total: 4, completed: 3, failed: 1 } });
    expect(first.results.map((r) => [r.customId, r.id, r.segment, r.startSec, r.endSec, r.status])).toEqual([
      [ids[0], 'clip.mp4#0', 0, 0, 10, 'ok'],
      [ids[1], 'clip.mp4#1', 1, 10, 20, 'ok'],
      [ids[2], 'clip.mp4#2', 2, 20, 30, 'error'],
      [ids[3], 'clip.mp4#3', 3, 30, 40, 'ok'],
    ]);
    const failed = first.results[2]!;
    expect(failed.status === 'error' && failed.error).toEqual({ code: 'REQUEST_FAILED', message: 'clip.mp4#2: Internal error on this line.', httpStatus: 500 });
    const okOne = first.results[0]!;
    expect(okOne.status === 'ok' && okOne.parsed).toEqual({ summary: 'fine' });
    expect(okOne.usage!.inputTokens).toBe(written.mapping.requests[ids[0]!]!.estimate.inputTokens);
    expect(first.missing).toEqual([]);

    const second = await batchResults(submitted[1]!.batchId, mapping, client());
    expect(second.results.map((r) => [r.id, r.status])).toEqual([
      ['clip.mp4#4', 'ok'],
      ['talk.mp4#0', 'error'],
      ['talk.mp4#1', 'ok'],
    ]);
    const off = second.results[1]!;
    expect(off.status === 'error' && off.error.message).toBe(
      "talk.mp4#0: the answer does not match the schema: (answer) must have required property 'summary'; (answer) must NOT have additional properties (headline)",
    );
    expect(second.totals).toMatchObject({ ok: 2, failed: 1, missing: 0 });
    // The batch price: half the standard dollars of the reported usage.
    expect(second.totals.spentUsd).toBeGreaterThan(0);
    expect(second.totals.spentUsd).toBeCloseTo(
      second.results.reduce((s, r) => s + (r.usage!.inputTokens * 2.5 + r.usage!.outputTokens * 15) / 1e6, 0),
      10,
    );
  });

  it('a batch the server refuses as a whole reports every request as missing', async () => {
    const dir = tempDir('omniprep-batch-');
    const written = await writeBatch([talk], { out: join(dir, 'bad.jsonl'), prompt: 'p' });
    // Tamper with the file after writing: the second line now points at another endpoint.
    const path = written.paths[0]!;
    const ls = lines(path);
    ls[1]!.url = '/v1/chat/completions' as BatchLine['url'];
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, `${ls.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const [s] = await submitBatch(written.mappingFile, client());
    await waitDone(s!.batchId);
    const res = await batchResults(s!.batchId, written.mappingFile, client());
    expect(res.batch.status).toBe('failed');
    expect(res.batch.errors).toEqual(['line 2: Line 2: url /v1/chat/completions differs from the batch endpoint /v1/responses.']);
    expect(res.results).toEqual([]);
    expect(res.missing.map((m) => m.id)).toEqual(['talk.mp4#0', 'talk.mp4#1']);
  });
});
