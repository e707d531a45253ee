// Evals as service jobs (POST /v1/evals and its routes), one service against the OpenAI test
// server whose answers come from the frames it is sent (test/helpers/frame-code.ts): a dry run
// that sends nothing, a run whose report is the library's (what `omniprep eval --json` prints),
// progress over SSE, cancel mid-way, the budget, a bad question set, delete.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.js';
import { reportJson } from '../../src/eval/output.js';
import { reportCsv, type Evaluation } from '../../src/eval/report.js';
import { codedVideo, needleQuestion, needleReply, type NeedleKey } from '../helpers/frame-code.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { api, startService, waitFor, type Running } from '../helpers/service.js';

const NEEDLES: Array<[number, number]> = [
  [8, 12],
  [18, 22],
  [95, 105],
  [148, 152],
];
const GRID = { every: [1, 5], mode: ['exact'], maxSide: [256], models: ['gpt-5.5'] };
const key = new Map<string, NeedleKey>(NEEDLES.map(([a, b]) => [`${a}-${b}`, { right: 'A', wrong: 'B', rightText: 'KESTREL' }]));

let server: OpenAITestServer;
let s: Running;
let video: string;
let lines: string[];
/** The library's evaluation of the same questions and grid: what the CLI prints. */
let library: Evaluation;

const question = (i: number, v: string) => {
  const [a, b] = NEEDLES[i]!;
  return { id: `n${i}`, video: v, question: needleQuestion(a, b), choices: ['KESTREL', 'MARLIN'], answer: 'A' };
};

beforeAll(async () => {
  server = await startOpenAITestServer();
  server.control.reply = needleReply(key, [], { plain: true });
  video = await codedVideo({ seconds: 20, fps: 10 });
  lines = NEEDLES.map((_, i) => JSON.stringify(question(i, basename(video))));
  library = await evaluate(
    NEEDLES.map((_, i) => question(i, video)),
    GRID as never,
    { baseURL: server.baseURL, apiKey: 'test' },
  );
  s = await startService({ workers: 1, allowRoots: [dirname(video)], baseURL: server.baseURL, apiKey: 'test' });
}, 240_000);
afterAll(async () => {
  await s?.close();
  await server?.close();
});
beforeEach(() => {
  server.reset();
  server.control.reply = needleReply(key, [], { plain: true });
});

const body = (extra: Record<string, unknown> = {}) => ({ videos: [{ path: video }], questions: `${lines.join('\n')}\n`, grid: GRID, ...extra });

/**
 * Holds the model's answers until `open()`: an eval's stream is opened (and subscribed) before its
 * first answer, however fast the worker is.
 */
function gate(): { open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const reply = needleReply(key, [], { plain: true });
  server.control.reply = async (req) => {
    await opened;
    return reply(req);
  };
  return { open };
}

/** The SSE stream of an eval until it ends: each event's name and data. The gate opens once the stream is. */
async function events(id: string, g: { open: () => void }, onEvent?: (e: { event: string; data: any }) => void): Promise<Array<{ event: string; data: any }>> {
  const res = await fetch(`${s.url}/v1/evals/${id}/events`);
  g.open();
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const out: Array<{ event: string; data: any }> = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const m = /^event: (\w+)\ndata: (.*)$/s.exec(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (!m) continue;
      const e = { event: m[1]!, data: JSON.parse(m[2]!) };
      out.push(e);
      onEvent?.(e);
    }
  }
  return out;
}

describe('POST /v1/evals', () => {
  it('dryRun answers the estimate as `omniprep eval --dry-run --json` prints it, with no model request', async () => {
    const r = await api(s.url, 'POST', '/v1/evals', body({ dryRun: true }));
    expect(r.status, r.text).toBe(200);
    const dry = await evaluate(
      NEEDLES.map((_, i) => question(i, video)),
      GRID as never,
      { dryRun: true },
    );
    expect(r.json).toEqual(reportJson(dry));
    expect(r.json.plans.map((p: { every: number; questions: number }) => [p.every, p.questions])).toEqual([
      [1, 4],
      [5, 4],
    ]);
    expect(server.stats.total).toBe(0);
    // Nothing kept: no record, no files.
    expect((await api(s.url, 'GET', '/v1/evals')).json.evals).toEqual([]);
    expect(existsSync(join(s.svc.data.root, 'evals'))).toBe(false);
    expect(readdirSync(join(s.svc.data.root, 'tmp')).filter((n) => !n.startsWith('node-'))).toEqual([]);
  }, 120_000);

  it('needles on the one video: the copy and its questions are made, then priced', async () => {
    const r = await api(s.url, 'POST', '/v1/evals', { videos: [{ path: video }], needles: 3, grid: { every: [2, 5] }, dryRun: true });
    expect(r.status, r.text).toBe(200);
    expect(r.json.plans.map((p: { every: number; questions: number }) => [p.every, p.questions])).toEqual([
      [2, 3],
      [5, 3],
    ]);
    expect(server.stats.total).toBe(0);
  }, 120_000);

  it.each([
    [{ grid: { every: [0] } }, 'option every: expected a number from 0.001 to 86400, got 0'],
    [{ grid: { mode: ['fast'] } }, 'option mode: expected one of keyframe, exact, scene, got "fast"'],
    [{ questions: '{"id":"a","video":"x.mp4","answer":"A"}\n' }, 'questions line 1: question must be a non-empty string, got nothing'],
    [{ questions: '{"id":"a",\n' }, /^questions line 1: not JSON \(.+\)$/],
    [
      { questions: [{ id: 'a', video: 'other.mp4', question: 'q?', answer: 'x' }] },
      /^questions: question a: its video "other\.mp4" is not one of the eval's videos \(coded-.+\.mp4\)$/,
    ],
    [{ questions: '[{"video_id": 3}]' }, 'questions item 1: expected {video_id, questions: [...]}'],
    [{ needles: 2 }, 'give either questions or needles (a number of code words to burn into the one video)'],
    [{ budgetUsd: -1 }, 'option budgetUsd: expected dollars > 0, got -1'],
  ])('refuses %j in one line, before any video is read', async (extra, message) => {
    const r = await api(s.url, 'POST', '/v1/evals', body(extra));
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.code).toBe('INVALID_OPTION');
    if (typeof message === 'string') expect(r.json.error.message).toBe(message);
    else expect(r.json.error.message).toMatch(message);
    expect(server.stats.total).toBe(0);
  });

  it.each([
    [{ videos: [{ path: '/etc/passwd' }] }, 403, 'FORBIDDEN_PATH'],
    [{ videos: [{ url: 'not a url' }] }, 403, 'FORBIDDEN_URL'],
    [{ videos: [{ url: 'http://127.0.0.1:1/a.mp4' }] }, 403, 'FORBIDDEN_URL'],
    [{ videos: [{ path: 'a.mp4', url: 'http://x/a.mp4' }] }, 400, 'INVALID_OPTION'],
    [{ videos: [{ upload: 'nope' }] }, 400, 'BAD_REQUEST'],
    [{ questions: '[]' }, 400, 'INVALID_OPTION'],
    [{ questions: '"text"\n' }, 400, 'INVALID_OPTION'],
    [{ questions: {} }, 400, 'BAD_REQUEST'],
    [{ grid: { every: ['x'] } }, 400, 'BAD_REQUEST'],
    [{ grid: { models: ['gpt-nope'] } }, 400, 'UNKNOWN_MODEL'],
    [{ needles: 0, questions: undefined }, 400, 'INVALID_OPTION'],
  ])('a hostile body %j is refused with the error shape, never a 5xx', async (extra, status, code) => {
    // Each video is called what the questions call theirs: the refusal is the video's own.
    const videos = (extra as { videos?: Array<Record<string, string>> }).videos?.map((v) => ({ ...v, name: basename(video) }));
    const r = await api(s.url, 'POST', '/v1/evals', { ...body(), ...extra, ...(videos ? { videos } : {}) });
    expect(r.status, r.text).toBe(status);
    if (code) expect(r.json.error.code).toBe(code);
    expect(r.json.error.message).not.toContain('\n');
    expect(server.stats.total).toBe(0);
  });

  it('an estimate over budgetUsd is refused before anything is sent, and nothing is kept', async () => {
    const r = await api(s.url, 'POST', '/v1/evals', body({ budgetUsd: 0.000001 }));
    expect(r.status, r.text).toBe(422);
    expect(r.json.error.code).toBe('BUDGET_EXCEEDED');
    expect(r.json.error.message).toMatch(
      /^eval: its estimate of \$[0-9.]+ is over the budget of \$0\.000001 \(nothing was sent; --dry-run shows each plan's share\)$/,
    );
    expect(server.stats.total).toBe(0);
    expect((await api(s.url, 'GET', '/v1/evals')).json.evals).toEqual([]);
  }, 120_000);
});

describe('an eval run by the workers', () => {
  it("its results are the library's; progress comes per answer over SSE; DELETE removes it", async () => {
    const g = gate();
    const r = await api(s.url, 'POST', '/v1/evals', body());
    expect(r.status, r.text).toBe(202);
    const id = r.json.id as string;
    expect(r.headers.get('location')).toBe(`/v1/evals/${id}`);
    expect(r.json.estimate).toEqual((await api(s.url, 'POST', '/v1/evals', body({ dryRun: true }))).json);
    const seen = await events(id, g);
    expect(seen.at(-1)!.event).toBe('done');
    expect(seen.at(-1)!.data.state).toBe('succeeded');
    const progress = seen.filter((e) => e.event === 'progress' && e.data.answer);
    // One event per question and plan, counted in order.
    expect(progress.map((e) => e.data.questionsDone)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(progress.every((e) => e.data.questionsTotal === 8)).toBe(true);
    expect(progress.filter((e) => e.data.answer.correct).length).toBe(6);
    expect(server.stats.total).toBe(8);

    const view = (await api(s.url, 'GET', `/v1/evals/${id}`)).json;
    expect(view.state).toBe('succeeded');
    expect(view.spentUsd).toBeCloseTo(reportJson(library).total.billedUsd!, 9);
    expect(view.summary.recommended).toBe(0);

    const res = (await api(s.url, 'GET', `/v1/evals/${id}/results`)).json;
    const pick = (p: Evaluation['plans'][number]) => ({
      every: p.every,
      accuracy: p.accuracy,
      correct: p.correct,
      inputTokens: p.inputTokens,
      estimatedUsd: p.estimatedUsd,
      billedUsd: p.billedUsd,
      frames: p.frames,
    });
    expect(res.plans.map(pick)).toEqual(library.plans.map(pick));
    expect([res.frontier, res.recommended]).toEqual([library.frontier, library.recommended]);
    expect([res.frontier, res.recommended]).toEqual([[1, 0], 0]);
    expect(res.plans.map((p: { onFrontier: boolean; recommended: boolean }) => [p.onFrontier, p.recommended])).toEqual([
      [true, true],
      [true, false],
    ]);
    // Per question: which plan got it right, and the frames that plan sent (the library's times).
    const q0 = res.questions[0];
    expect(q0).toMatchObject({ id: 'n0', video: basename(video), expected: 'A' });
    expect(q0.plans.map((p: { plan: number; correct: boolean; frameTimes: number[] }) => [p.plan, p.correct, p.frameTimes])).toEqual(
      library.results.filter((x) => x.question === 'n0').map((x) => [x.plan, x.correct, x.frameTimes]),
    );
    // The CSV is the CLI's report.csv (latency aside: a column of its own run).
    const csv = await fetch(`${s.url}/v1/evals/${id}/results.csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const noLatency = (t: string) =>
      t.split('\n').map((l) =>
        l
          .split(',')
          .filter((_, i) => i !== 18 && i !== 19)
          .join(','),
      );
    expect(noLatency(await csv.text())).toEqual(noLatency(reportCsv(library)));
    const chart = (await api(s.url, 'GET', `/v1/evals/${id}/chart`)).json;
    expect(chart.layer).toHaveLength(5);
    expect(chart.layer[1].data.values.map((p: { i: number }) => p.i)).toEqual([1, 0]);

    const dir = join(s.svc.data.root, 'evals', id);
    expect(existsSync(join(dir, 'evaluation.json'))).toBe(true);
    expect(readFileSync(join(dir, 'evaluation.json'), 'utf8')).not.toContain(dirname(video));
    expect((await api(s.url, 'GET', '/v1/evals')).json.evals.map((e: { id: string }) => e.id)).toContain(id);
    // An eval is no job.
    expect((await api(s.url, 'GET', `/v1/jobs/${id}`)).status).toBe(404);
    expect((await api(s.url, 'GET', '/v1/jobs')).json.jobs).toEqual([]);

    const del = await api(s.url, 'DELETE', `/v1/evals/${id}`);
    expect([del.status, del.json]).toEqual([200, { id, deleted: true }]);
    expect(existsSync(dir)).toBe(false);
    expect((await api(s.url, 'GET', `/v1/evals/${id}`)).status).toBe(404);
    expect((await api(s.url, 'GET', '/v1/evals')).json.evals).toEqual([]);
  }, 180_000);

  it('the budget holds while it runs: answers dearer than estimated stop the sending (the record says why)', async () => {
    // Estimated at one output token an answer, answered with hundreds: the spend outruns the estimate.
    const extra = { outputTokens: 1, concurrency: 1 };
    const estimate = (await api(s.url, 'POST', '/v1/evals', body({ ...extra, dryRun: true }))).json.total.estimatedUsd as number;
    server.control.reply = async () => `Answer: A. ${'The code word is shown at the top left. '.repeat(60)}`;
    const r = await api(s.url, 'POST', '/v1/evals', body({ ...extra, budgetUsd: Number((estimate * 1.5).toFixed(6)) }));
    expect(r.status, r.text).toBe(202);
    const id = r.json.id as string;
    const view = await waitFor(
      'the eval to end',
      async () => {
        const v = (await api(s.url, 'GET', `/v1/evals/${id}`)).json;
        return v.state === 'succeeded' || v.state === 'failed' ? v : undefined;
      },
      120_000,
    );
    expect(view.state, JSON.stringify(view.error)).toBe('succeeded');
    expect(view.summary.stopped).toMatch(/budget/);
    expect(server.stats.total).toBeLessThan(8);
    expect(view.summary.requests.sent).toBe(server.stats.total);
    // What was spent is what was billed (an answer dearer than its estimate may take it past the budget: the check is made before each request).
    expect(view.spentUsd).toBeCloseTo(view.summary.total.billedUsd, 9);
    expect((await api(s.url, 'DELETE', `/v1/evals/${id}`)).status).toBe(200);
  }, 180_000);

  it('cancel mid-way stops sending: no request reaches the model server after it', async () => {
    server.control.latencyMs = 150;
    const g = gate();
    const r = await api(s.url, 'POST', '/v1/evals', body({ concurrency: 1 }));
    expect(r.status, r.text).toBe(202);
    const id = r.json.id as string;
    let cancelled: Promise<number> | undefined;
    const seen = await events(id, g, (e) => {
      if (e.event === 'progress' && e.data.questionsDone === 2 && !cancelled)
        cancelled = api(s.url, 'POST', `/v1/evals/${id}/cancel`).then((c) => {
          expect(c.json.state).toBe('cancelled');
          return server.stats.total;
        });
    });
    const atCancel = await cancelled!;
    expect(seen.at(-1)!.event).toBe('cancelled');
    // At most the one request in flight when the cancel came (concurrency 1) went after the second answer.
    expect(atCancel).toBeLessThanOrEqual(3);
    // The runner has let go when cancel answers; a later look at the server finds nothing more.
    await waitFor('the worker to be idle', () => s.svc.runner!.active === 0);
    await api(s.url, 'GET', `/v1/evals/${id}`);
    expect(server.stats.total).toBe(atCancel);
    const view = (await api(s.url, 'GET', `/v1/evals/${id}`)).json;
    expect(view.state).toBe('cancelled');
    expect((await api(s.url, 'GET', `/v1/evals/${id}/results`)).json.error.message).toBe(`eval ${id}: is cancelled; its results exist once it has succeeded`);
    expect((await api(s.url, 'DELETE', `/v1/evals/${id}`)).status).toBe(200);
    server.control.latencyMs = 0;
  }, 180_000);
});
