// Dispatch against the OpenAI test server with the real openai SDK: usage against estimates,
// concurrency, rate limits over sliding windows, Retry-After, the budget guard, 5xx storms,
// timeouts, cancellation, structured output and the reduce step.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRequest, buildRequests, type BuiltRequest } from '../../src/request/index.js';
import { BudgetGuard } from '../../src/dispatch/budget.js';
import { RateLimiter } from '../../src/dispatch/limiter.js';
import { backoffMs, retryAfterMs } from '../../src/dispatch/retry.js';
import { dispatchAll, usageCost, type DispatchProgress, type ErrorResult, type NotSentResult, type OkResult } from '../../src/dispatch/dispatch.js';
import { reduceAnswers, reducePrompt, segmentAnswers } from '../../src/dispatch/reduce.js';
import { realClock, type Clock } from '../../src/dispatch/clock.js';
import { dollars, imageTokens, textTokens } from '../../src/models/tokens.js';
import { maxInWindow, sampleFor, startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { audioAsset, frameAsset, makeAudio, segment } from '../helpers/request-media.js';
import type { FrameAsset } from '../../src/request/types.js';

let server: OpenAITestServer;
let frames: FrameAsset[];

beforeAll(async () => {
  server = await startOpenAITestServer();
  frames = await Promise.all([0, 1, 2].map((i) => frameAsset(i, i * 5, { width: 320, height: 180 })));
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const client = (): { apiKey: string; baseURL: string } => ({ apiKey: 'test-key', baseURL: server.baseURL });
const question = (text: string): string => text.split('\n')[0]!;

/** n requests, each with its own question ("Question i") and the three frames. */
function requests(n: number, o: { maxOutputTokens?: number; schema?: Record<string, unknown> } = {}): BuiltRequest[] {
  return Array.from({ length: n }, (_, i) =>
    buildRequest(segment(i, i * 15, i * 15 + 15, frames), {
      model: 'gpt-5.5',
      prompt: `Question ${i}`,
      input: 'clip.mp4',
      maxOutputTokens: o.maxOutputTokens ?? 50,
      ...(o.schema ? { schema: o.schema } : {}),
    }),
  );
}

/**
 * How much the delay between a request's start (client) and its arrival (server) varies. The
 * test server runs in this process, so both times are on the same performance.now() clock.
 */
function sendSpread(results: ReadonlyArray<{ attempts: ReadonlyArray<{ startedAt: number }> }>): number {
  const delays = server.stats.records.map((rec) => {
    const i = Number(/^Question (\d+)$/.exec(question(rec.text))![1]);
    return rec.receivedAt - results[i]!.attempts[0]!.startedAt;
  });
  expect(delays.length).toBe(results.length);
  expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
  return Math.max(...delays) - Math.min(...delays);
}

const ok = (r: unknown): OkResult => {
  expect((r as OkResult).status).toBe('ok');
  return r as OkResult;
};

describe('answers and usage', () => {
  it('Responses and Chat (with MP3 and WAV audio) answers carry usage equal to the estimate', async () => {
    const mp3 = await makeAudio('mp3', 2);
    const wav = await makeAudio('wav', 1.5);
    const withAudio = buildRequest(
      segment(0, 0, 5, frames.slice(0, 1), [audioAsset(0, 0, 2, 'mp3', { data: mp3 }), audioAsset(1, 2, 3.5, 'wav', { data: wav })]),
      {
        model: 'gpt-5.5',
        prompt: 'What do you hear?',
        system: 'Be brief.',
        maxOutputTokens: 80,
      },
    );
    expect(withAudio.api).toBe('chat');
    const reqs = [...requests(2), withAudio];
    const report = await dispatchAll(reqs, client());
    for (const [i, r] of report.results.entries()) {
      const res = ok(r);
      expect(res.usage!.inputTokens).toBe(reqs[i]!.estimate.inputTokens);
      expect(res.drift).toEqual({ inputTokens: 0, ratio: 1 });
      expect(res.costUsd).toBe(usageCost(reqs[i]!.estimate, res.usage!));
    }
    expect(ok(report.results[2]).usage!.audioTokens).toBe(20 + 15);
    expect(ok(report.results[2]).text).toBe('Seen 1 images and 3.5 s of audio.');
    expect(ok(report.results[0]).text).toBe('Seen 3 images and 0 s of audio.');
    expect(report.totals).toMatchObject({
      requests: 3,
      ok: 3,
      failed: 0,
      notSent: 0,
      retries: 0,
      inputTokenDrift: 0,
      estimatedInputTokens: reqs.reduce((s, r) => s + r.estimate.inputTokens, 0),
      actualInputTokens: reqs.reduce((s, r) => s + r.estimate.inputTokens, 0),
    });
    expect(report.totals.spentUsd).toBeCloseTo(
      report.results.reduce((s, r) => s + ok(r).costUsd, 0),
      10,
    );
    expect(server.stats.invalid).toEqual([]);
  });

  it('sends the organization and project, and refuses to start without an API key', async () => {
    const report = await dispatchAll(requests(1), { ...client(), organization: 'org-omni', project: 'proj_omni' });
    ok(report.results[0]);
    expect(server.stats.records[0]).toMatchObject({ organization: 'org-omni', project: 'proj_omni' });
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      await expect(dispatchAll(requests(1), { baseURL: server.baseURL })).rejects.toThrow(
        'option apiKey: no API key (set OPENAI_API_KEY, or pass --api-key on the command line, apiKey in code)',
      );
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it('drift shows when the assets or the billing rule disagree with the estimate', async () => {
    // The asset says 320x180 but the image is 640x360: the server bills what it receives.
    const lying = {
      ...(await frameAsset(0, 0, { width: 640, height: 360 })),
      width: 320,
      height: 180,
      tokens: imageTokens('gpt-5.5', 320, 180, 'high').tokens,
    };
    const req = buildRequest(segment(0, 0, 1, [lying]), { model: 'gpt-5.5', prompt: 'Look', maxOutputTokens: 20 });
    const first = ok((await dispatchAll([req], client())).results[0]);
    const extra = imageTokens('gpt-5.5', 640, 360, 'high').tokens - imageTokens('gpt-5.5', 320, 180, 'high').tokens;
    expect(first.drift!.inputTokens).toBe(extra);
    // A server that bills every image at 100 tokens.
    server.control.imageTokens = () => 100;
    const [r] = requests(1);
    const report = await dispatchAll([r!], client());
    expect(report.totals.inputTokenDrift).toBe(3 * (100 - frames[0]!.tokens));
  });
});

describe('concurrency and rate limits', () => {
  it('never more requests in flight than the concurrency', async () => {
    server.control.latencyMs = 250; // long enough for all five to be at the server at once, even on a busy machine
    const seen: DispatchProgress[] = [];
    const report = await dispatchAll(requests(15), { ...client(), concurrency: 5, onProgress: (p) => seen.push(p) });
    expect(report.totals.ok).toBe(15);
    expect(server.stats.maxInFlight).toBe(5);
    expect(report.totals.maxInFlight).toBe(5);
    expect(Math.max(...seen.map((p) => p.inFlight))).toBe(5);
    expect(seen.at(-1)).toMatchObject({ total: 15, done: 15, ok: 15, inFlight: 0 });
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
  });

  it('tokens per window never exceed the limit, in any window (client starts and server arrivals)', async () => {
    const reqs = requests(8);
    const perRequest = reqs[0]!.estimate.inputTokens + 50;
    const tpm = Math.floor(perRequest * 3.5); // three requests per window
    const windowMs = 500;
    const t0 = performance.now();
    const report = await dispatchAll(reqs, { ...client(), concurrency: 8, tokensPerMinute: tpm, windowMs });
    const wall = performance.now() - t0;
    expect(report.totals.ok).toBe(8);
    const starts = report.results.flatMap((r) => r.attempts.map((a) => ({ receivedAt: a.startedAt, tokens: a.tokens })));
    expect(starts.every((s) => s.tokens === perRequest)).toBe(true);
    expect(maxInWindow(starts, windowMs, (s) => s.tokens)).toBe(3 * perRequest);
    // The server measured the same tokens. Its arrivals lag the starts by a varying delay (the
    // SDK, the socket, a busy event loop): the limit holds on its clock for windows shorter by the spread.
    expect(server.stats.records.every((r) => r.promptTokens + r.maxOutputTokens === perRequest)).toBe(true);
    // (On a loaded machine the spread may reach the window; then the server's clock says nothing.)
    const spread = sendSpread(report.results);
    if (spread < windowMs) expect(server.maxTokensInWindow(windowMs - spread)).toBeLessThanOrEqual(tpm);
    // 8 requests at 3 per window: the last two cannot start before two windows have passed.
    expect(wall).toBeGreaterThanOrEqual(2 * windowMs);
  });

  it('requests per window never exceed the limit', async () => {
    const report = await dispatchAll(requests(9), { ...client(), concurrency: 9, requestsPerMinute: 4, windowMs: 400 });
    expect(report.totals.ok).toBe(9);
    const starts = report.results.map((r) => ({ receivedAt: r.attempts[0]!.startedAt }));
    expect(maxInWindow(starts, 400, () => 1)).toBe(4);
    // The server's arrivals lag the starts by a varying delay; its windows shrink by that spread
    // (on a loaded machine the spread may reach the window: then only the client's records count).
    const spread = sendSpread(report.results);
    if (spread < 400) expect(server.maxRequestsInWindow(400 - spread)).toBeLessThanOrEqual(4);
  });

  it('a request larger than the token limit is reported, not sent', async () => {
    const reqs = requests(2);
    const report = await dispatchAll(reqs, { ...client(), tokensPerMinute: 10, windowMs: 1000 });
    expect(report.notSent.map((n) => n.reason)).toEqual(['rate-limit', 'rate-limit']);
    expect(report.notSent[0]!.message).toBe(
      `clip.mp4#0: not sent: a request of ${reqs[0]!.estimate.inputTokens + 50} estimated tokens can never fit a limit of 10 tokens per 1 s`,
    );
    expect(server.stats.total).toBe(0);
  });

  it('the limiter holds in every window on a simulated clock', async () => {
    let t = 0;
    const clock: Clock = { now: () => t, sleep: async (ms) => void (t += ms) };
    const limiter = new RateLimiter({ tokensPerMinute: 100, requestsPerMinute: 3, windowMs: 1000, clock });
    const starts: Array<{ receivedAt: number; tokens: number }> = [];
    for (const tokens of [40, 40, 30, 10, 60, 5, 5, 5, 90]) {
      const e = await limiter.acquire(tokens);
      starts.push({ receivedAt: e.at, tokens });
      t += 100; // each call takes a while before the next asks
    }
    // 30 waits for the first 40 to leave the window; 60 fits exactly (100); then the 3-request limit binds.
    expect(starts.map((s) => s.receivedAt)).toEqual([0, 100, 1000, 1100, 1200, 2000, 2100, 2200, 3000]);
    expect(maxInWindow(starts, 1000, (s) => s.tokens)).toBeLessThanOrEqual(100);
    expect(maxInWindow(starts, 1000, () => 1)).toBeLessThanOrEqual(3);
  });
});

describe('retries', () => {
  it('Retry-After: 2 delays that request at least 2 s; the others go on', async () => {
    server.control.onRequest = (r) => (question(r.text) === 'Question 1' && r.previousAttempts === 0 ? { status: 429, retryAfter: 2 } : undefined);
    const report = await dispatchAll(requests(3), { ...client(), concurrency: 3 });
    expect(report.results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    const delayed = report.results[1]!;
    expect(delayed.attempts.map((a) => [a.outcome, a.httpStatus, a.retryInMs])).toEqual([
      ['rate-limit', 429, 2000],
      ['ok', undefined, undefined],
    ]);
    expect(delayed.attempts[1]!.startedAt - delayed.attempts[0]!.endedAt).toBeGreaterThanOrEqual(2000);
    const arrivals = server.stats.records.filter((r) => question(r.text) === 'Question 1').map((r) => r.receivedAt);
    expect(arrivals).toHaveLength(2);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(2000);
    // The others went on: they ended before the delayed request was tried again.
    expect(report.results[0]!.attempts[0]!.endedAt).toBeLessThan(delayed.attempts[1]!.startedAt);
    expect(report.results[2]!.attempts[0]!.endedAt).toBeLessThan(delayed.attempts[1]!.startedAt);
    expect(report.totals.retries).toBe(1);
  });

  it('retry-after-ms wins over Retry-After; seconds, decimals and HTTP dates are read', async () => {
    server.control.onRequest = (r) => (r.previousAttempts < 2 ? { status: 429, retryAfter: 30, retryAfterMs: 150 } : undefined);
    const report = await dispatchAll(requests(1), client());
    expect(ok(report.results[0]).attempts.map((a) => a.retryInMs)).toEqual([150, 150, undefined]);
    const now = Date.parse('2026-11-25T10:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(retryAfterMs(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 25 Nov 2026 10:00:07 GMT' }), now)).toBe(7000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 25 Nov 2026 09:00:00 GMT' }), now)).toBe(0);
    expect(retryAfterMs({ 'Retry-After-Ms': '250', 'retry-after': '9' }, now)).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('backoff is exponential with full jitter, capped', () => {
    const o = { maxRetries: 4, baseDelayMs: 500, maxDelayMs: 3000, maxRetryAfterMs: 1000 };
    expect([0, 1, 2, 3, 4].map((n) => backoffMs(n, o, () => 0.999999))).toEqual([499, 999, 1999, 2999, 2999]);
    expect([0, 1, 2].map((n) => backoffMs(n, o, () => 0))).toEqual([0, 0, 0]);
    expect(backoffMs(2, o, () => 0.5)).toBe(1000);
  });

  it('a 5xx storm ends in clear per-request errors after the retries, not a crash', async () => {
    server.control.onRequest = (r) => (question(r.text) === 'Question 3' ? { status: 400, message: 'Bad image.' } : { status: 503 });
    const report = await dispatchAll(requests(6), { ...client(), concurrency: 3, maxRetries: 2, baseDelayMs: 20 });
    expect(report.totals).toMatchObject({ ok: 0, failed: 6, notSent: 0, retries: 10, spentUsd: 0, uncertainUsd: 0 });
    for (const [i, r] of report.results.entries()) {
      const e = r as ErrorResult;
      expect(e.status).toBe('error');
      if (i === 3) {
        expect(e.error).toEqual({ code: 'REQUEST_FAILED', message: 'clip.mp4#3: refused (HTTP 400): 400 Bad image.', kind: 'client', httpStatus: 400 });
        expect(e.attempts).toHaveLength(1);
      } else {
        expect(e.error).toEqual({
          code: 'REQUEST_FAILED',
          message: `clip.mp4#${i}: the server failed (HTTP 503): 503 The server had an error while processing your request (test server). on all 3 attempts`,
          kind: 'server',
          httpStatus: 503,
        });
        expect(e.attempts.map((a) => a.outcome)).toEqual(['server', 'server', 'server']);
      }
    }
    expect(server.stats.total).toBe(5 * 3 + 1);
  });

  it('a Retry-After beyond maxRetryAfterMs ends the request instead of waiting', async () => {
    server.control.onRequest = () => ({ status: 429, retryAfter: 3600 });
    const report = await dispatchAll(requests(1), { ...client(), maxRetryAfterMs: 60_000 });
    expect((report.results[0] as ErrorResult).error.message).toBe(
      'clip.mp4#0: rate limited (HTTP 429): 429 Rate limit reached for requests (test server).; the server asked to wait 3600 s, more than maxRetryAfterMs (60 s)',
    );
  });

  it('timeouts are retried, counted as maybe billed, and leave nothing open on the server', async () => {
    server.control.onRequest = (r) => (question(r.text) === 'Question 0' ? { hang: true } : undefined);
    const reqs = requests(2);
    const report = await dispatchAll(reqs, { ...client(), timeoutMs: 300, maxRetries: 1, baseDelayMs: 10 });
    const e = report.results[0] as ErrorResult;
    expect(e.error).toEqual({ code: 'REQUEST_FAILED', message: 'clip.mp4#0: timed out on all 2 attempts', kind: 'timeout' });
    expect(e.costUsd).toBeCloseTo(2 * reqs[0]!.estimate.usd, 10);
    expect(report.totals.uncertainUsd).toBeCloseTo(2 * reqs[0]!.estimate.usd, 10);
    ok(report.results[1]);
    expect(await server.settled(1000)).toBe(0);
    expect(server.stats.records.filter((r) => r.closedByClient)).toHaveLength(2);
  });
});

describe('budget guard', () => {
  it('stops exactly where the budget runs out and reports every request not sent', async () => {
    server.control.reply = () => 'ok';
    const reqs = requests(10, { maxOutputTokens: 50 });
    const est = reqs[0]!.estimate;
    // What each answer really costs: the measured input (= estimate) and one output token.
    const actual = dollars('gpt-5.5', { textTokens: est.inputTokens, outputTokens: textTokens('gpt-5.5', 'ok') });
    expect(actual).toBeLessThan(est.usd);
    const budget = est.usd + 5.5 * actual; // in order: 6 fit (5 spent + 1 estimate), the 7th would not
    const report = await dispatchAll(reqs, { ...client(), concurrency: 4, budgetUsd: budget });
    expect(report.results.map((r) => r.status)).toEqual([...Array(6).fill('ok'), ...Array(4).fill('not-sent')]);
    expect(server.stats.total).toBe(6);
    expect(report.totals.spentUsd).toBeCloseTo(6 * actual, 10);
    expect(report.totals.spentUsd).toBeLessThanOrEqual(budget);
    expect(report.notSent.map((n) => [n.id, n.reason])).toEqual([6, 7, 8, 9].map((i) => [`clip.mp4#${i}`, 'budget']));
    const fmt = (n: number): string => `$${n.toFixed(6)}`;
    expect(report.notSent[0]!.message).toBe(
      `clip.mp4#6: not sent: its estimate of ${fmt(est.usd)} would take the ${fmt(6 * actual)} spent over the budget of ${fmt(budget)}`,
    );
    expect(report.notSent[3]!.message).toBe(`clip.mp4#9: not sent: the budget of ${fmt(budget)} ran out at clip.mp4#6`);
    // The guard overlapped requests while their estimates fitted: it is not merely sequential.
    expect(report.totals.maxInFlight).toBeGreaterThan(1);
  });

  it('never starts a request whose estimate does not fit, even the first', async () => {
    const reqs = requests(2);
    const report = await dispatchAll(reqs, { ...client(), budgetUsd: reqs[0]!.estimate.usd / 2, alreadySpentUsd: 0 });
    expect(report.notSent.map((n) => n.reason)).toEqual(['budget', 'budget']);
    expect(server.stats.total).toBe(0);
    const g = new BudgetGuard(1);
    const r = g.reserve(0.6);
    expect([g.fits(0.4), g.fits(0.41)]).toEqual([true, false]);
    r.settle(0.1);
    r.settle(5); // settles once
    expect([g.spentUsd, g.reservedUsd, g.fits(0.9), g.fits(0.91)]).toEqual([0.1, 0, true, false]);
  });
});

describe('cancellation', () => {
  it('aborting stops what is in flight and what is queued; nothing stays open', async () => {
    server.control.latencyMs = 10_000;
    const ac = new AbortController();
    // Cancel once four requests are at the server.
    const watch = setInterval(() => {
      if (server.stats.inFlight === 4) {
        clearInterval(watch);
        ac.abort(new Error('user pressed Ctrl-C'));
      }
    }, 2);
    const report = await dispatchAll(requests(12), { ...client(), concurrency: 4, signal: ac.signal });
    clearInterval(watch);
    expect(ac.signal.aborted).toBe(true);
    // Ended by the abort, not by the server's 10 s answers.
    expect(report.totals.wallMs).toBeLessThan(10_000);
    expect(report.results.filter((r) => r.status === 'error').map((r) => (r as ErrorResult).error.code)).toEqual(['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED']);
    expect(report.results.slice(4).map((r) => [(r as NotSentResult).reason, (r as NotSentResult).message])).toEqual(
      Array.from({ length: 8 }, (_, i) => ['cancelled', `clip.mp4#${i + 4}: not sent: cancelled`]),
    );
    expect(await server.settled(1000)).toBe(0);
    const total = server.stats.total;
    await new Promise((r) => setTimeout(r, 150));
    expect(total).toBe(4);
    expect(server.stats.total).toBe(4);
  });

  it('aborting while a request waits to retry or for the rate limit ends at once', async () => {
    server.control.onRequest = () => ({ status: 429, retryAfter: 10 });
    const ac = new AbortController();
    // Cancel as soon as the dispatcher starts its 10 s wait before the retry.
    const clock: Clock = {
      now: realClock.now,
      sleep: (ms, signal) => {
        if (ms === 10_000) setTimeout(() => ac.abort(), 20);
        return realClock.sleep(ms, signal);
      },
    };
    const t0 = performance.now();
    const report = await dispatchAll(requests(3), { ...client(), concurrency: 2, signal: ac.signal, requestsPerMinute: 1, windowMs: 60_000, clock });
    expect(performance.now() - t0).toBeLessThan(10_000); // not the 10 s wait
    expect((report.results[0] as ErrorResult).error).toMatchObject({ code: 'ABORTED', message: 'clip.mp4#0: cancelled while waiting to retry' });
    expect(report.results.slice(1).map((r) => r.status)).toEqual(['not-sent', 'not-sent']);
    expect(server.stats.total).toBe(1);
  });
});

describe('structured output', () => {
  const schema = {
    type: 'object',
    properties: { count: { type: 'integer', minimum: 0 }, items: { type: 'array', items: { type: 'string' } } },
    required: ['count', 'items'],
    additionalProperties: false,
  };

  it('answers are parsed and checked against the schema', async () => {
    const reqs = requests(3, { schema });
    server.control.reply = (r) =>
      question(r.text) === 'Question 1'
        ? '{"count": "three", "items": []}'
        : question(r.text) === 'Question 2'
          ? 'Sure! Here it is: {...}'
          : JSON.stringify(sampleFor(schema));
    const report = await dispatchAll(reqs, client());
    expect(ok(report.results[0]).parsed).toEqual({ count: 0, items: ['text'] });
    const bad = report.results[1] as ErrorResult;
    expect(bad.error).toEqual({ code: 'INVALID_RESPONSE', message: 'clip.mp4#1: the answer does not match the schema: /count must be integer' });
    expect(bad.text).toBe('{"count": "three", "items": []}');
    expect(bad.costUsd).toBe(usageCost(reqs[1]!.estimate, bad.usage!));
    expect((report.results[2] as ErrorResult).error.message).toBe('clip.mp4#2: the answer is not JSON ("Sure! Here it is: {...}")');
    expect(report.totals).toMatchObject({ ok: 1, failed: 2 });
  });

  it('a schema that does not compile is refused before anything is sent', async () => {
    await expect(dispatchAll(requests(1, { schema: { type: 'object', properties: { a: { type: 'nope' } } } }), client())).rejects.toThrow(
      /^clip\.mp4#0: the schema is not a valid JSON Schema/,
    );
    expect(server.stats.total).toBe(0);
  });
});

describe('reduce', () => {
  it('combines the segment answers with their time ranges in one more call', async () => {
    server.control.reply = (r) => (r.text.startsWith('What happens?\n\nBelow') ? 'Combined.' : `Part ${question(r.text)}`);
    const prepared = {
      input: 'talk.mp4',
      model: 'gpt-5.5',
      durationSec: 75,
      segments: [segment(0, 0, 30, frames.slice(0, 2)), segment(1, 30, 60, frames.slice(2)), segment(2, 60, 75, [])],
    };
    const reqs = buildRequests(prepared, { prompt: 'What happens?', maxOutputTokens: 40 });
    const report = await dispatchAll(reqs, client());
    const answers = segmentAnswers(reqs, report);
    expect(answers).toEqual([
      { startSec: 0, endSec: 30, text: 'Part What happens?' },
      { startSec: 30, endSec: 60, text: 'Part What happens?' },
      { startSec: 60, endSec: 75, text: 'Part What happens?' },
    ]);
    const result = await reduceAnswers(answers, {
      ...client(),
      model: 'gpt-5.5',
      prompt: 'What happens?',
      input: 'talk.mp4',
      maxOutputTokens: 100,
      budgetUsd: 1,
      alreadySpentUsd: report.totals.spentUsd,
    });
    expect(ok(result).text).toBe('Combined.');
    expect(result.id).toBe('talk.mp4#reduce');
    const sent = server.stats.records.at(-1)!.text;
    expect(sent).toBe(reducePrompt('What happens?', answers));
    expect(sent).toBe(
      'What happens?\n\nBelow are answers to that question for consecutive parts of the same media, each with its time range.\n\n' +
        '[00:00-00:30]\nPart What happens?\n\n[00:30-01:00]\nPart What happens?\n\n[01:00-01:15]\nPart What happens?\n\n' +
        'Combine them into one answer to the question. Refer to moments by their times ([mm:ss]).',
    );
  });
});
