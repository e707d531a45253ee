// Dispatch through the official Anthropic and Gemini SDKs against their test servers
// (test/helpers/anthropic/server.ts, test/helpers/gemini/server.ts): billed input tokens equal the
// estimates, structured output, each provider's rate-limit hints and error shapes retried,
// concurrency and the budget guard shared with OpenAI's path.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRequest, type BuiltRequest } from '../../src/request/index.js';
import { dispatchAll, type ErrorResult, type NotSentResult, type OkResult } from '../../src/dispatch/dispatch.js';
import { anthropicRetryAfterMs, classifyFailure, geminiRetryDelayMs } from '../../src/dispatch/retry.js';
import { startAnthropicTestServer, type AnthropicTestServer } from '../helpers/anthropic/server.js';
import { startGeminiTestServer, type GeminiTestServer } from '../helpers/gemini/server.js';
import { audioAsset, frameAsset, makeAudio, segment } from '../helpers/request-media.js';
import { validateSdk } from '../helpers/sdk/schemas.js';
import type { FrameAsset } from '../../src/request/types.js';

let claude: AnthropicTestServer;
let gemini: GeminiTestServer;
let claudeFrames: FrameAsset[];
let geminiFrames: FrameAsset[];
let mp3: Buffer;

beforeAll(async () => {
  validateSdk('anthropic.messages', {});
  validateSdk('gemini.generateContent', {});
  [claude, gemini] = await Promise.all([startAnthropicTestServer(), startGeminiTestServer()]);
  claudeFrames = await Promise.all([0, 1, 2].map((i) => frameAsset(i, i * 5, { width: 640, height: 360, model: 'claude-haiku-4.5', detail: 'auto' })));
  geminiFrames = await Promise.all([0, 1, 2].map((i) => frameAsset(i, i * 5, { width: 800, height: 450, model: 'gemini-2.5-flash', detail: 'auto' })));
  mp3 = await makeAudio('mp3', 3);
}, 240_000);
afterAll(async () => {
  await claude?.close();
  await gemini?.close();
});
beforeEach(() => {
  claude.reset();
  gemini.reset();
});

const anthropicClient = (): { apiKey: string; baseURL: string } => ({ apiKey: 'test-key', baseURL: claude.baseURL });
const geminiClient = (): { apiKey: string; baseURL: string } => ({ apiKey: 'test-key', baseURL: gemini.baseURL });

function claudeRequests(n: number, o: { schema?: Record<string, unknown> } = {}): BuiltRequest[] {
  return Array.from({ length: n }, (_, i) =>
    buildRequest(segment(i, i * 15, i * 15 + 15, claudeFrames), {
      model: 'claude-haiku-4.5',
      prompt: `Question ${i}`,
      input: 'clip.mp4',
      maxOutputTokens: 100,
      ...(o.schema ? { schema: o.schema } : {}),
    }),
  );
}

function geminiRequests(n: number): BuiltRequest[] {
  return Array.from({ length: n }, (_, i) =>
    buildRequest(segment(i, i * 15, i * 15 + 15, geminiFrames, [audioAsset(0, i * 15, i * 15 + 3, 'mp3', { data: mp3 }, 'gemini-2.5-flash')]), {
      model: 'gemini-2.5-flash',
      prompt: `Question ${i}`,
      input: 'clip.mp4',
      maxOutputTokens: 100,
    }),
  );
}

describe('Anthropic through @anthropic-ai/sdk', () => {
  it('answers every request; billed input tokens equal the estimates; usage priced at the model', async () => {
    const reqs = claudeRequests(3);
    const report = await dispatchAll(reqs, { ...anthropicClient(), concurrency: 2 });
    expect(report.results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(claude.stats.invalid).toEqual([]);
    for (const r of report.results as OkResult[]) {
      expect(r.usage!.inputTokens).toBe(r.estimate.inputTokens);
      expect(r.drift).toEqual({ inputTokens: 0, ratio: 1 });
      expect(r.text).toBe('Seen 3 images and 0 s of audio.');
    }
    expect(claude.stats.records.map((x) => x.promptTokens).sort()).toEqual(reqs.map((r) => r.estimate.inputTokens).sort());
    expect(claude.stats.records.every((x) => x.images === 3)).toBe(true);
    expect(report.totals.inputTokenDrift).toBe(0);
    expect(claude.stats.maxInFlight).toBeLessThanOrEqual(2);
  });

  it('structured output comes back parsed and checked', async () => {
    const schema = { type: 'object', properties: { events: { type: 'array', items: { type: 'string' } } }, required: ['events'] };
    const report = await dispatchAll(claudeRequests(1, { schema }), anthropicClient());
    const r = report.results[0] as OkResult;
    expect(r.status).toBe('ok');
    expect(r.parsed).toEqual({ events: ['text'] });
  });

  it('429 waits what retry-after says; 529 overloaded is retried; a 400 is not', async () => {
    claude.control.onRequest = (req) => {
      if (req.text.startsWith('Question 0') && req.previousAttempts === 0) return { status: 429, retryAfterSec: 1 };
      if (req.text.startsWith('Question 1') && req.previousAttempts < 2) return { status: 529 };
      if (req.text.startsWith('Question 2')) return { status: 400, message: 'messages: bad' };
      return undefined;
    };
    const report = await dispatchAll(claudeRequests(3), { ...anthropicClient(), baseDelayMs: 1, maxDelayMs: 5 });
    const [a, b, c] = report.results;
    expect(a!.status).toBe('ok');
    expect(a!.attempts.map((x) => [x.outcome, x.httpStatus, x.retryInMs])).toEqual([
      ['rate-limit', 429, 1000],
      ['ok', undefined, undefined],
    ]);
    expect(b!.status).toBe('ok');
    expect(b!.attempts.map((x) => x.outcome)).toEqual(['server', 'server', 'ok']);
    expect(b!.attempts[0]!.httpStatus).toBe(529);
    expect(c!.status).toBe('error');
    expect((c as ErrorResult).error.message).toBe('clip.mp4#2: refused (HTTP 400): invalid_request_error: messages: bad');
    expect(c!.attempts).toHaveLength(1);
  });

  it('the budget guard stops before a request that would go over', async () => {
    const reqs = claudeRequests(3);
    const report = await dispatchAll(reqs, { ...anthropicClient(), concurrency: 1, budgetUsd: reqs[0]!.estimate.usd * 1.5 });
    expect(report.results.map((r) => r.status)).toEqual(['ok', 'not-sent', 'not-sent']);
    expect((report.results[1] as NotSentResult).reason).toBe('budget');
    expect(claude.stats.total).toBe(1);
  });

  it('no API key: one line naming ANTHROPIC_API_KEY, nothing sent', async () => {
    const saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      await expect(dispatchAll(claudeRequests(1), { baseURL: claude.baseURL })).rejects.toThrow(
        'option apiKey: no API key (set ANTHROPIC_API_KEY, or pass --api-key on the command line, apiKey in code)',
      );
    } finally {
      if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved;
    }
    expect(claude.stats.total).toBe(0);
  });

  it('rate-limit reset headers stand in for a missing retry-after', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    const headers = new Headers({
      'anthropic-ratelimit-requests-remaining': '3',
      'anthropic-ratelimit-requests-reset': '2026-11-30T12:00:30Z',
      'anthropic-ratelimit-input-tokens-remaining': '0',
      'anthropic-ratelimit-input-tokens-reset': '2026-11-30T12:00:05Z',
    });
    expect(anthropicRetryAfterMs(headers, now)).toBe(5000);
    headers.set('retry-after', '2');
    expect(anthropicRetryAfterMs(headers, now)).toBe(2000);
    expect(anthropicRetryAfterMs(new Headers(), now)).toBeUndefined();
  });
});

describe('Gemini through @google/genai', () => {
  it('answers every request; billed input (images, audio, text) equals the estimates', async () => {
    const reqs = geminiRequests(3);
    const report = await dispatchAll(reqs, { ...geminiClient(), concurrency: 3 });
    expect(gemini.stats.invalid).toEqual([]);
    expect(report.results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    for (const r of report.results as OkResult[]) {
      expect(r.usage!.inputTokens).toBe(r.estimate.inputTokens);
      expect(r.usage!.audioTokens).toBe(r.estimate.audioTokens);
      expect(r.estimate.audioTokens).toBe(96);
      // Priced with the audio at the audio price: the spend equals the estimate's input part plus the real output.
      expect(r.costUsd).toBeGreaterThan(r.estimate.inputUsd);
    }
    expect(report.totals.inputTokenDrift).toBe(0);
  });

  it("429 waits the RetryInfo retryDelay; 503 is retried; a 400 names Google's status", async () => {
    gemini.control.onRequest = (req) => {
      if (req.text.startsWith('Question 0') && req.previousAttempts === 0) return { status: 429, retryAfterSec: 1 };
      if (req.text.startsWith('Question 1') && req.previousAttempts === 0) return { status: 503 };
      if (req.text.startsWith('Question 2')) return { status: 400, message: 'contents: bad' };
      return undefined;
    };
    const report = await dispatchAll(geminiRequests(3), { ...geminiClient(), baseDelayMs: 1, maxDelayMs: 5 });
    const [a, b, c] = report.results;
    expect(a!.attempts.map((x) => [x.outcome, x.httpStatus, x.retryInMs])).toEqual([
      ['rate-limit', 429, 1000],
      ['ok', undefined, undefined],
    ]);
    expect(b!.attempts.map((x) => x.outcome)).toEqual(['server', 'ok']);
    expect((c as ErrorResult).error.message).toBe('clip.mp4#2: refused (HTTP 400): INVALID_ARGUMENT: contents: bad');
  });

  it('a timeout is a timeout (retried, maybe billed), a cancel is a cancel', async () => {
    gemini.control.onRequest = (req) => (req.previousAttempts === 0 ? { hang: true } : undefined);
    const report = await dispatchAll(geminiRequests(1), { ...geminiClient(), timeoutMs: 300, baseDelayMs: 1, maxDelayMs: 5 });
    const r = report.results[0]!;
    expect(r.status).toBe('ok');
    expect(r.attempts.map((x) => x.outcome)).toEqual(['timeout', 'ok']);
    expect(report.totals.uncertainUsd).toBeCloseTo(r.estimate.usd, 10);
    gemini.control.onRequest = () => ({ hang: true });
    const ac = new AbortController();
    const pending = dispatchAll(geminiRequests(1), { ...geminiClient(), signal: ac.signal });
    while (gemini.stats.inFlight === 0) await new Promise((res) => setTimeout(res, 5));
    ac.abort();
    const cancelled = await pending;
    expect((cancelled.results[0] as ErrorResult).error.code).toBe('ABORTED');
  });

  it('RetryInfo delays parse; unknown errors are not retried', () => {
    expect(geminiRetryDelayMs({ error: { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12.5s' }] } })).toBe(12_500);
    expect(geminiRetryDelayMs({ error: { details: [] } })).toBeUndefined();
    expect(classifyFailure(new Error('boom'))).toMatchObject({ kind: 'other', retryable: false });
  });
});
