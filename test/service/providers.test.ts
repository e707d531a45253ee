/**
 * Service jobs in every provider's own API: a Claude job that calls the Anthropic test server and
 * a Gemini job that sends the clip as video to the Gemini test server (both servers check each
 * request against the SDKs' types and bill what they received), their usage and dollars recorded
 * exactly; GET /v1/jobs/:id/requests and /batch byte for byte what `omniprep request --all` and
 * `omniprep batch` write for the same file and options; bad combinations refused in one line.
 * Runs the built CLI (npm run build first).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../src/models/registry.js';
import { startAnthropicTestServer, type AnthropicTestServer } from '../helpers/anthropic/server.js';
import { cli } from '../helpers/cli.js';
import { CACHE, fixture, tempDir } from '../helpers/fixtures.js';
import { startGeminiTestServer, type GeminiTestServer } from '../helpers/gemini/server.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';
import { api, startService, waitJob, type Running } from '../helpers/service.js';

const PROMPT = 'What happens?';
let clip: string;
let claude: AnthropicTestServer;
let gemini: GeminiTestServer;
let s: Running;
let ranges: RangeServer;

beforeAll(async () => {
  clip = await fixture('timecode'); // 20 s, 320x180 with a tone: a frame every 5 s is 4 frames
  [claude, gemini, ranges] = await Promise.all([startAnthropicTestServer(), startGeminiTestServer(), startRangeServer({ 'clip.mp4': clip })]);
  s = await startService({
    workers: 1,
    allowRoots: [CACHE],
    allowPrivateUrls: true,
    providers: { anthropic: { baseURL: claude.baseURL, apiKey: 'test-key' }, gemini: { baseURL: gemini.baseURL, apiKey: 'test-key' } },
  });
}, 240_000);
afterAll(async () => {
  await s?.close();
  await claude?.close();
  await gemini?.close();
  await ranges?.close();
});

/** Dollars of the billed usage at the model's standard price (per million tokens; audio input at its own). */
function dollars(model: string, input: number, output: number, audio = 0): number {
  const price = registry().get(model).prices.standard!;
  return ((input - audio) * price.input + audio * (price.audioInput ?? price.input) + output * price.output) / 1e6;
}

/** What the CLI writes for the same file and options: `request --all` on stdout, `batch --out`'s JSONL. */
async function cliOutputs(flags: string[]): Promise<{ requests: string; batch: string }> {
  const req = await cli(['request', clip, '--prompt', PROMPT, '--all', ...flags]);
  expect(req.code, req.stderr).toBe(0);
  const out = join(tempDir('svc-providers-'), 'batch.jsonl');
  const batch = await cli(['batch', clip, '--prompt', PROMPT, '--out', out, ...flags]);
  expect(batch.code, batch.stderr).toBe(0);
  return { requests: req.stdout.trim(), batch: readFileSync(out, 'utf8') };
}

/** The service's bodies (as JSON text) and batch file for a finished job. */
async function serviceOutputs(id: string): Promise<{ requests: string; batch: string; provider: string; api: string }> {
  const got = await api(s.url, 'GET', `/v1/jobs/${id}/requests`);
  expect(got.status, got.text).toBe(200);
  const batch = await fetch(`${s.url}/v1/jobs/${id}/batch`);
  expect(batch.status).toBe(200);
  return {
    requests: JSON.stringify(got.json.requests.map((r: { body: unknown }) => r.body)),
    batch: await batch.text(),
    provider: got.json.provider,
    api: got.json.api,
  };
}

describe('service jobs in their provider’s API', () => {
  it('a Claude job calls Anthropic: usage and dollars recorded exactly; requests and batch as the CLI writes them', async () => {
    const model = 'claude-haiku-4.5';
    const before = claude.stats.records.length;
    const r = await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { model, every: 5, prompt: PROMPT, call: true } });
    expect(r.status, r.text).toBe(202);
    const job = await waitJob(s.url, r.json.id, 120_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const records = claude.stats.records.slice(before);
    expect(claude.stats.invalid).toEqual([]);
    expect(records.map((x) => [x.path, x.status, x.images])).toEqual([['/v1/messages', 200, 4]]);
    const { estimated, actual } = job.estimate;
    expect(job.result.provider).toBe('anthropic');
    expect(job.result.dispatch.totals).toMatchObject({ requests: 1, ok: 1, failed: 0 });
    expect(actual.inputTokens).toBe(records[0]!.promptTokens);
    expect(actual.inputTokens).toBe(estimated.inputTokens); // the server bills what it received: the plan's count
    expect(actual.outputTokens).toBe(records[0]!.outputTokens);
    expect(actual.costUsd).toBeCloseTo(dollars(model, actual.inputTokens, actual.outputTokens), 12);
    expect(job.result.dispatch.answer).toBe(job.result.dispatch.answers[0].text);

    const [mine, theirs] = await Promise.all([serviceOutputs(job.id), cliOutputs(['--model', model, '--every', '5'])]);
    expect([mine.provider, mine.api]).toEqual(['anthropic', 'messages']);
    expect(mine.requests).toBe(theirs.requests);
    expect(mine.batch).toBe(theirs.batch);
    expect(JSON.parse(mine.batch.split('\n')[0]!)).toHaveProperty('params.model', 'claude-haiku-4-5');
  }, 240_000);

  it('a Gemini job sends the clip as video (uploaded once): billed as planned; /v1/plan and the bodies as the CLI', async () => {
    const model = 'gemini-2.5-flash';
    const options = { model, send: 'video', every: 5, prompt: PROMPT };
    const planned = await api(s.url, 'POST', '/v1/plan', { path: clip, options });
    expect(planned.status, planned.text).toBe(200);
    const cliPlan = await cli(['plan', clip, '--model', model, '--send', 'video', '--every', '5', '--prompt', PROMPT, '--json']);
    expect(cliPlan.code, cliPlan.stderr).toBe(0);
    const want = JSON.parse(cliPlan.stdout);
    expect(planned.json.send).toBe('video');
    expect([planned.json.video, planned.json.inputTokens, planned.json.costUsd]).toEqual([want.video, want.inputTokens, want.costUsd]);

    const files = gemini.files.size;
    const before = gemini.stats.records.length;
    const r = await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { ...options, call: true } });
    expect(r.status, r.text).toBe(202);
    expect(r.json.plan).toMatchObject({ send: 'video', frames: 0, video: { fps: 0.2, frames: want.video.frames } });
    const job = await waitJob(s.url, r.json.id, 120_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(gemini.files.size - files).toBe(1); // the clip, once
    const uploaded = [...gemini.files.values()].at(-1)!;
    expect(uploaded.bytes.equals(readFileSync(clip))).toBe(true);
    const records = gemini.stats.records.slice(before);
    expect(gemini.stats.invalid).toEqual([]);
    expect(records.map((x) => [x.status, x.images])).toEqual([[200, want.video.frames]]);
    const { estimated, actual } = job.estimate;
    expect(job.result).toMatchObject({ provider: 'gemini', send: 'video', frames: 0, video: { fps: 0.2, frames: want.video.frames } });
    expect(actual).toMatchObject({ frames: 0, videoFrames: want.video.frames, videoTokens: want.videoTokens, audioTokens: want.audioTokens });
    expect(estimated.videoTokens).toBe(want.videoTokens);
    expect(actual.inputTokens).toBe(records[0]!.promptTokens);
    expect(actual.inputTokens).toBe(want.inputTokens);
    expect(records[0]!.audioTokens).toBe(want.audioTokens);
    expect(actual.costUsd).toBeCloseTo(dollars(model, actual.inputTokens, actual.outputTokens, want.audioTokens), 12);

    // The bodies put the clip inline, as `omniprep request --send video` does.
    const [mine, theirs] = await Promise.all([serviceOutputs(job.id), cliOutputs(['--model', model, '--send', 'video', '--every', '5'])]);
    expect([mine.provider, mine.api]).toEqual(['gemini', 'gemini']);
    expect(mine.requests).toBe(theirs.requests);
    expect(mine.batch).toBe(theirs.batch);
    expect(mine.requests).toContain(`"data":"${readFileSync(clip).toString('base64')}"`);

    // Without call: nothing is uploaded or sent; the same bodies.
    const dry = await api(s.url, 'POST', '/v1/jobs', { path: clip, options });
    expect(dry.status, dry.text).toBe(202);
    expect((await waitJob(s.url, dry.json.id, 120_000)).state).toBe('succeeded');
    expect([gemini.files.size - files, gemini.stats.records.length - before]).toEqual([1, 1]);
    expect((await serviceOutputs(dry.json.id)).requests).toBe(theirs.requests);

    // A URL read by byte ranges: planned from its index, then fetched whole once for the upload.
    ranges.reset();
    const remote = await api(s.url, 'POST', '/v1/jobs', { url: ranges.url('clip.mp4'), options: { ...options, call: true } });
    expect(remote.status, remote.text).toBe(202);
    const remoteJob = await waitJob(s.url, remote.json.id, 120_000);
    expect(remoteJob.state, JSON.stringify(remoteJob.error)).toBe('succeeded');
    expect(remoteJob.plan.remote.mode).toBe('ranges');
    const size = readFileSync(clip).length;
    // The index at submit (its head and moov, a few kB), then the clip once.
    expect([ranges.bytesSent >= size, ranges.bytesSent - size < 100_000]).toEqual([true, true]);
    expect(gemini.files.size - files).toBe(2);
    expect([...gemini.files.values()].at(-1)!.bytes.equals(readFileSync(clip))).toBe(true);
    expect(remoteJob.estimate.actual.inputTokens).toBe(want.inputTokens);
    expect((await serviceOutputs(remoteJob.id)).requests).toBe(theirs.requests);
  }, 240_000);

  it('refuses bad combinations in one line, before anything is queued', async () => {
    const refused = async (options: Record<string, unknown>, code: string): Promise<string> => {
      const r = await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 5, prompt: PROMPT, ...options } });
      expect(r.status, r.text).toBe(400);
      expect(r.json.error.code).toBe(code);
      return r.json.error.message;
    };
    expect(await refused({ model: 'claude-haiku-4.5', send: 'video' }, 'INVALID_OPTION')).toBe(
      'option send: model claude-haiku-4.5 takes no video input (--send video is for Gemini models); send frames',
    );
    expect(await refused({ model: 'gemini-2.5-flash', provider: 'mistral' }, 'INVALID_OPTION')).toBe(
      'option provider: expected one of openai, anthropic, gemini, local, got "mistral"',
    );
    expect(await refused({ model: 'gpt-4.1', provider: 'anthropic' }, 'INVALID_OPTION')).toBe(
      "option provider: anthropic serves its own models only, and model gpt-4.1 is openai's; send it to openai, or to an OpenAI-compatible server with provider openai or local",
    );
    expect(await refused({ model: 'claude-haiku-4.5', provider: 'gemini', call: true }, 'INVALID_OPTION')).toMatch(
      /^option provider: gemini serves its own models only, and model claude-haiku-4\.5 is anthropic's;/,
    );
    expect(await refused({ model: 'gpt-4.1', call: true }, 'INVALID_OPTION')).toBe(
      `${clip}: option call: this server has no API key for openai (model gpt-4.1; start it with OPENAI_API_KEY set)`,
    );
    const list = await api(s.url, 'GET', '/v1/jobs?limit=100');
    // Only the jobs the other tests queued: a Claude job, and three Gemini video jobs.
    expect(list.json.jobs.map((j: { options: { model: string } }) => j.options.model).sort()).toEqual([
      'claude-haiku-4.5',
      ...Array<string>(3).fill('gemini-2.5-flash'),
    ]);
  }, 120_000);
});
