// evaluate() on a synthetic coded video (every frame carries its number) against the OpenAI,
// Anthropic and Gemini test servers, whose answer hook reads the frame numbers of the images it
// receives and answers a needle question right only when one lies inside the question's interval
// (test/helpers/frame-code.ts). In exact mode each plan's correct count follows from its frame
// times, computed here from plan() alone.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.js';
import { builtinRegistry } from '../../src/models/registry.js';
import type { Question } from '../../src/eval/questions.js';
import { plan } from '../../src/plan/plan.js';
import { sample } from '../../src/sample/sample.js';
import { startAnthropicTestServer, type AnthropicTestServer } from '../helpers/anthropic/server.js';
import { codedVideo, needleQuestion, needleReply, type NeedleKey, type SeenRequest } from '../helpers/frame-code.js';
import { loggingBinary } from '../helpers/ffprobe-log.js';
import { startGeminiTestServer, type GeminiTestServer } from '../helpers/gemini/server.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { ownedTempDirs } from '../helpers/temp.js';

const FPS = 10;
const CHOICES = ['KESTREL', 'MARLIN', 'OSPREY', 'PELICAN'];
const LETTERS = ['A', 'B', 'C', 'D'];
/** Needles as inclusive frame intervals: every 1 s sees frames 0, 10, ..., 190; every 2 s 0, 20, ...; every 5 s 0, 50, 100, 150. */
const NEEDLES: Array<[number, number]> = [
  [8, 12],
  [18, 22],
  [95, 105],
  [148, 152],
  [38, 42],
  [58, 62],
  [178, 182],
  [195, 199],
];
const EVERY = [1, 2, 5];

const temp = ownedTempDirs();
let video: string;
let openai: OpenAITestServer;
let claude: AnthropicTestServer;
let gemini: GeminiTestServer;
const key = new Map<string, NeedleKey>();
let questions: Question[];

beforeAll(async () => {
  video = await codedVideo({ seconds: 20, fps: FPS });
  [openai, claude, gemini] = await Promise.all([startOpenAITestServer(), startAnthropicTestServer(), startGeminiTestServer()]);
  questions = NEEDLES.map(([from, to], i) => {
    key.set(`${from}-${to}`, { right: LETTERS[i % 4]!, wrong: LETTERS[(i + 1) % 4]!, rightText: CHOICES[i % 4]! });
    return { id: `n${i}`, video, question: needleQuestion(from, to), choices: CHOICES, answer: LETTERS[i % 4]! };
  });
}, 240_000);
afterAll(async () => {
  await Promise.all([openai?.close(), claude?.close(), gemini?.close()]);
});
beforeEach(() => {
  for (const s of [openai, claude, gemini]) s.reset();
});

/** The correct count each plan's frame times allow: needles holding one of its frames. */
async function expectedCorrect(every: number, maxSide = 256): Promise<number> {
  const p = await plan(video, { every, mode: 'exact', maxSide });
  const frames = p.frames.map((f) => Math.round(f.timestampSec * FPS));
  return NEEDLES.filter(([a, b]) => frames.some((n) => n >= a && n <= b)).length;
}

const PROVIDERS = [
  { name: 'OpenAI', model: 'gpt-5.5', server: () => openai },
  { name: 'Anthropic', model: 'claude-haiku-4.5', server: () => claude },
  { name: 'Gemini', model: 'gemini-2.5-flash', server: () => gemini },
];

describe.each(PROVIDERS)('$name form', ({ model, server }) => {
  it('every plan is right exactly where its frames reach a needle; frontier and recommendation follow', async () => {
    const s = server();
    const seen: SeenRequest[] = [];
    s.control.reply = needleReply(key, seen);
    const r = await evaluate(
      questions,
      { every: EVERY, mode: ['exact'], maxSide: [256], models: [model] },
      { apiKey: 'test', baseURL: (s as { baseURL: string }).baseURL, concurrency: 4 },
    );
    expect(s.stats.invalid).toEqual([]);
    const expected = await Promise.all(EVERY.map((e) => expectedCorrect(e)));
    expect(expected).toEqual([7, 5, 2]);
    expect(r.plans.map((p) => p.correct)).toEqual(expected);
    expect(r.plans.map((p) => [p.every, p.mode, p.model, p.maxSide, p.send, p.questions, p.answered])).toEqual(
      EVERY.map((e) => [e, 'exact', model, 256, 'frames', 8, 8]),
    );
    expect(r.plans.map((p) => p.frames)).toEqual([160, 80, 32]);
    expect(r.requests).toEqual({ sent: 24, cached: 0 });
    expect(s.stats.total).toBe(24);
    // The server saw exactly the frames each plan planned (read back from the pixels).
    expect(seen.filter((x) => x.frames.length === 20).every((x) => x.frames.join() === Array.from({ length: 20 }, (_, i) => i * 10).join())).toBe(true);
    expect(seen.map((x) => x.frames.length).sort((a, b) => a - b)).toEqual([...Array(8).fill(4), ...Array(8).fill(10), ...Array(8).fill(20)]);
    expect(r.frontier).toEqual([2, 1, 0]);
    expect(r.recommended).toBe(1);
    expect(r.plans.map((p) => p.accuracy)).toEqual([0.875, 0.625, 0.25]);
    expect(r.plans.every((p) => p.billedUsd > 0 && p.inputTokens > 0)).toBe(true);
    // Billed input tokens are the server's count of what it received.
    expect(r.plans.reduce((a, p) => a + p.inputTokens, 0)).toBe(s.stats.records.reduce((a, x) => a + x.promptTokens, 0));
  }, 240_000);
});

describe('estimates, cache, budget and decoding', () => {
  const grid = { every: EVERY, mode: ['exact' as const], maxSide: [256], models: ['gpt-5.5'] };
  const client = (): { apiKey: string; baseURL: string } => ({ apiKey: 'test', baseURL: openai.baseURL });

  it('a dry run sends nothing and its estimate is the run estimate, plan by plan', async () => {
    openai.control.reply = needleReply(key);
    const dry = await evaluate(questions, grid, { ...client(), dryRun: true });
    expect(openai.stats.total).toBe(0);
    expect(dry.dryRun).toBe(true);
    expect(dry.requests).toEqual({ sent: 0, cached: 0 });
    const real = await evaluate(questions, grid, client());
    expect(dry.plans.map((p) => p.estimatedUsd)).toEqual(real.plans.map((p) => p.estimatedUsd));
    expect(dry.total).toEqual(real.total);
    // The estimate is the planner's, question by question.
    const perQuestion = await Promise.all(EVERY.map(async (every) => (await plan(video, { every, mode: 'exact', maxSide: 256, prompt: 'x' })).frames.length));
    expect(dry.plans.map((p) => p.frames)).toEqual(perQuestion.map((n) => n * 8));
  }, 240_000);

  it('a rerun with the cache sends zero requests and reports the same', async () => {
    openai.control.reply = needleReply(key);
    const cache = temp('omniprep-eval-cache-');
    const first = await evaluate(questions, grid, { ...client(), cache });
    expect(first.requests).toEqual({ sent: 24, cached: 0 });
    openai.reset();
    const again = await evaluate(questions, grid, { ...client(), cache });
    expect(openai.stats.total).toBe(0);
    expect(again.requests).toEqual({ sent: 0, cached: 24 });
    expect(again.plans).toEqual(first.plans);
  }, 240_000);

  it('an eval stopped part way keeps every answer it got: resumed, it sends only the rest', async () => {
    openai.control.reply = needleReply(key);
    const cache = temp('omniprep-eval-resume-');
    const stop = new AbortController();
    let answered = 0;
    const cut = await evaluate(questions, grid, {
      ...client(),
      cache,
      concurrency: 1,
      signal: stop.signal,
      onQuestion: (q) => {
        if (q.answered && ++answered === 5) stop.abort();
      },
    });
    expect(cut.requests).toEqual({ sent: 5, cached: 0 });
    expect(cut.results.filter((x) => x.answered)).toHaveLength(5);
    expect(readdirSync(cache).filter((f) => f.endsWith('.json'))).toHaveLength(5);
    openai.reset();
    openai.control.reply = needleReply(key);
    const resumed = await evaluate(questions, grid, { ...client(), cache });
    expect([resumed.requests, openai.stats.total]).toEqual([{ sent: 19, cached: 5 }, 19]);
    expect(resumed.plans.map((p) => p.correct)).toEqual([7, 5, 2]);
  }, 240_000);

  it('a budget under the estimate refuses before anything is sent; one the answers outrun stops the eval', async () => {
    openai.control.reply = needleReply(key);
    const dry = await evaluate(questions, grid, { ...client(), dryRun: true, outputTokens: 1 });
    await expect(evaluate(questions, grid, { ...client(), budget: dry.total.estimatedUsd / 2, outputTokens: 1 })).rejects.toThrow(
      /^eval: its estimate of \$[0-9.]+ is over the budget of \$[0-9.]+ \(nothing was sent/,
    );
    expect(openai.stats.total).toBe(0);
    // Estimated at one output token, the answers cost more than their estimates: the spend reaches the budget first.
    const r = await evaluate(questions, grid, { ...client(), budget: dry.total.estimatedUsd, outputTokens: 1, concurrency: 1 });
    expect(r.stopped).toMatch(/not sent: its estimate of \$[0-9.]+ would take the \$[0-9.]+ spent over the budget/);
    expect(r.requests.sent).toBe(openai.stats.total);
    expect(r.requests.sent).toBeGreaterThan(0);
    expect(r.requests.sent).toBeLessThan(24);
    expect(r.results.filter((x) => x.answered)).toHaveLength(r.requests.sent);
    expect(r.results.filter((x) => !x.answered).every((x) => x.error === r.stopped)).toBe(true);
  }, 240_000);

  it('writes the JSON report, the CSV, the per-question JSONL and the chart', async () => {
    openai.control.reply = needleReply(key);
    const out = join(temp('omniprep-eval-out-'), 'report');
    const r = await evaluate(questions, grid, { ...client(), out });
    expect(r.files).toEqual({
      json: join(out, 'report.json'),
      csv: join(out, 'report.csv'),
      questions: join(out, 'questions.jsonl'),
      svg: join(out, 'chart.svg'),
      png: join(out, 'chart.png'),
    });
    const json = JSON.parse(readFileSync(r.files!.json, 'utf8'));
    expect(Object.keys(json)).toEqual(['plans', 'frontier', 'recommended', 'requests', 'total']);
    expect(Object.keys(json.total).join()).toBe('estimatedUsd,estimatedInputTokens,estimatedJudgeUsd,billedUsd,judgeUsd');
    expect([json.total.estimatedJudgeUsd, json.total.judgeUsd]).toEqual([0, 0]);
    expect(Object.keys(json.plans[0]).join()).toBe(
      'every,mode,model,detail,send,maxSide,questions,answered,correct,accuracy,ci95,estimatedUsd,billedUsd,estimatedJudgeUsd,judgeUsd,inputTokens,frames,latencyMs',
    );
    expect(json.plans.map((p: { correct: number }) => p.correct)).toEqual([7, 5, 2]);
    expect(json.plans[0].ci95).toEqual([0.529112, 0.977583]);
    expect([json.frontier, json.recommended, json.requests]).toEqual([[2, 1, 0], 1, { sent: 24, cached: 0 }]);
    const csv = readFileSync(r.files!.csv, 'utf8').trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(csv[2]).toMatch(/^2,exact,gpt-5\.5,auto,frames,256,8,8,5,0\.625,/);
    expect(csv[2]).toMatch(/,true,true$/);
    const lines = readFileSync(r.files!.questions, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(24);
    const n3 = lines.find((l) => l.plan === 2 && l.question === 'n3');
    expect([n3.correct, n3.frameTimes, n3.answered]).toEqual([true, [0, 5, 10, 15], true]);
    expect(lines.filter((l) => l.plan === 2 && l.correct).map((l) => l.question)).toEqual(['n2', 'n3']);
    const svg = readFileSync(r.files!.svg, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const label of ['every 1 s', 'every 2 s', 'every 5 s', 'accuracy against dollars', 'ringed: recommended (every 2 s, 62.5%)'])
      expect(svg).toContain(label);
    expect(readFileSync(r.files!.png).subarray(1, 4).toString()).toBe('PNG');
  }, 240_000);

  it('decodes the video once per image size: the plans of a size share one sampling pass', async () => {
    openai.control.reply = needleReply(key);
    const dir = temp('omniprep-eval-ffmpeg-');
    const ffmpeg = loggingBinary(dir, 'ffmpeg');
    const decodes = (): string[] => ffmpeg.calls().filter((c) => !c.includes('-version'));
    const r = await evaluate(questions, { ...grid, maxSide: [256, 128] }, { ...client(), ffmpegPath: ffmpeg.path });
    expect(r.samplingPasses).toBe(2);
    const evalDecodes = decodes().length;
    // The same as sampling the finest plan once at each size.
    const alone = loggingBinary(temp('omniprep-eval-ffmpeg-'), 'ffmpeg');
    for (const maxSide of [256, 128])
      await sample(video, { every: 1, mode: 'exact', maxSide, out: temp('omniprep-eval-frames-'), ffmpegPath: alone.path }).manifest();
    expect(evalDecodes).toBe(alone.calls().filter((c) => !c.includes('-version')).length);
    expect(r.plans.map((p) => p.correct)).toEqual([7, 5, 2, 7, 5, 2]);
  }, 240_000);
});

describe('Gemini video and question windows', () => {
  it('send video uploads each video once; a question window plans its own frames; a rerun uploads and sends nothing', async () => {
    gemini.control.reply = needleReply(key);
    const windowed: Question = { ...questions[3]!, id: 'win', start: 10, end: 20 };
    const grid = { every: [2, 5], mode: ['exact' as const], maxSide: [256], models: ['gemini-2.5-flash'], send: ['frames' as const, 'video' as const] };
    const filesBefore = gemini.files.size;
    const cache = temp('omniprep-eval-video-cache-');
    const r = await evaluate([...questions, windowed], grid, { apiKey: 'test', baseURL: gemini.baseURL, cache });
    expect(gemini.stats.invalid).toEqual([]);
    expect(gemini.files.size - filesBefore).toBe(1);
    expect(r.plans.map((p) => [p.send, p.every, p.questions, p.answered])).toEqual([
      ['frames', 2, 9, 9],
      ['frames', 5, 9, 9],
      ['video', 2, 9, 9],
      ['video', 5, 9, 9],
    ]);
    // The window's frames (from 10 s) reach its needle (148-152) every 5 s (frame 150), not every 2 s (140, 160).
    const windowHits = await Promise.all(
      [2, 5].map(async (every) => {
        const p = await plan(video, { every, mode: 'exact', maxSide: 256, start: 10, end: 20 });
        return p.frames.some((f) => Math.abs(Math.round(f.timestampSec * FPS) - 150) <= 2) ? 1 : 0;
      }),
    );
    expect(windowHits).toEqual([0, 1]);
    // The answer hook reads images only: a video request is answered wrong.
    expect(r.plans.map((p) => p.correct)).toEqual([5 + 0, 2 + 1, 0, 0]);
    const seen = (plan: number, id: string): number[] => r.results.find((x) => x.plan === plan && x.question === id)!.frameTimes;
    const inWindow = await plan(video, { every: 5, mode: 'exact', maxSide: 256, start: 10, end: 20 });
    expect(seen(1, 'win')).toEqual(inWindow.frames.map((f) => f.timestampSec));
    expect(seen(1, 'win')).toEqual([10, 15]);
    // Sent as video at 1/every fps: the provider's samples.
    expect(seen(2, 'n0')).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(seen(3, 'n0')).toEqual([0, 5, 10, 15]);
    // Billed input tokens are what the plans estimated for the images and video.
    const billed = r.plans.map((p) => p.inputTokens);
    expect(billed.reduce((a, b) => a + b, 0)).toBe(gemini.stats.records.reduce((a, x) => a + x.promptTokens, 0));
    gemini.reset();
    const again = await evaluate([...questions, windowed], grid, { apiKey: 'test', baseURL: gemini.baseURL, cache });
    expect([again.requests, gemini.stats.total, gemini.files.size - filesBefore]).toEqual([{ sent: 0, cached: 36 }, 0, 1]);
  }, 240_000);
});

describe('a question over more frames than one request takes', () => {
  it('is asked in parts and their answers combined by one reduce call, all cached', async () => {
    const seen: SeenRequest[] = [];
    openai.control.reply = needleReply(key, seen, { plain: true });
    const registry = builtinRegistry().withOverrides({ models: { 'gpt-5.5': { limits: { imagesPerRequest: 8 } } } });
    const grid = { every: [1, 5], mode: ['exact' as const], maxSide: [256], models: ['gpt-5.5'] };
    const cache = temp('omniprep-eval-split-');
    const r = await evaluate(questions, grid, { apiKey: 'test', baseURL: openai.baseURL, registry, cache });
    expect(openai.stats.invalid).toEqual([]);
    // every 1 s: 20 frames in 3 parts (8, 8, 4) and a reduce call; every 5 s: 4 frames, one request.
    expect(r.requests).toEqual({ sent: 8 * 4 + 8, cached: 0 });
    expect(
      seen
        .filter((x) => x.frames.length)
        .map((x) => x.frames.length)
        .sort((a, b) => a - b),
    ).toEqual([...Array(8).fill(4), ...Array(8).fill(4), ...Array(16).fill(8)]);
    expect(r.plans.map((p) => p.correct)).toEqual([7, 2]);
    expect(r.results.filter((x) => x.plan === 0).every((x) => x.frameTimes.length === 20)).toBe(true);
    openai.reset();
    const again = await evaluate(questions, grid, { apiKey: 'test', baseURL: openai.baseURL, registry, cache });
    expect([again.requests, openai.stats.total]).toEqual([{ sent: 0, cached: 40 }, 0]);
    expect(again.plans.map((p) => p.correct)).toEqual([7, 2]);
  }, 240_000);
});

describe('several videos', () => {
  it('each video is sampled once per size and its questions get its own frames', async () => {
    openai.control.reply = needleReply(key);
    const short = await codedVideo({ seconds: 12, fps: FPS });
    const more = NEEDLES.slice(0, 5).map(([from, to], i) => ({ ...questions[i]!, id: `short${i}`, video: short, question: needleQuestion(from, to) }));
    const r = await evaluate(
      [...questions, ...more],
      { every: [2, 5], mode: ['exact'], maxSide: [256] },
      { apiKey: 'test', baseURL: openai.baseURL, concurrency: 3 },
    );
    expect(r.samplingPasses).toBe(2);
    const expected = await Promise.all(
      [2, 5].map(async (every) => {
        let n = 0;
        for (const [v, count] of [
          [video, NEEDLES.length],
          [short, 5],
        ] as const) {
          const frames = (await plan(v, { every, mode: 'exact', maxSide: 256 })).frames.map((f) => Math.round(f.timestampSec * FPS));
          n += NEEDLES.slice(0, count).filter(([a, b]) => frames.some((x) => x >= a && x <= b)).length;
        }
        return n;
      }),
    );
    // The long video: 5 and 2; the short one (frames 0-110, its first five needles): every 2 s hits at 20, 40 and 100, every 5 s at 100.
    expect(expected).toEqual([5 + 3, 2 + 1]);
    expect(r.plans.map((p) => p.correct)).toEqual(expected);
    expect(r.results.map((x) => x.question)).toEqual([...questions, ...more].flatMap((q) => [q.id, q.id]));
    expect(r.results.filter((x) => x.video === short).every((x) => x.frameTimes.every((t) => t < 12))).toBe(true);
  }, 240_000);
});

describe('memory over many videos', () => {
  it('holds the frames of at most three videos at once, whatever the number of videos', async () => {
    openai.control.reply = needleReply(key);
    const seconds = [10, 11, 12, 13, 14, 15];
    const videos = await Promise.all(seconds.map((s) => codedVideo({ seconds: s, fps: FPS })));
    const qs: Question[] = videos.flatMap((v, vi) =>
      NEEDLES.slice(0, 2).map(([from, to], i) => ({ ...questions[i]!, id: `m${vi}-${i}`, video: v, question: needleQuestion(from, to) })),
    );
    const grid = { every: [2, 5], mode: ['exact' as const], maxSide: [256] };
    const r = await evaluate(qs, grid, { apiKey: 'test', baseURL: openai.baseURL, concurrency: 4 });
    expect(r.requests).toEqual({ sent: 24, cached: 0 });
    // Distinct images per video: the union of its every-2 s and every-5 s frames (each coded frame differs).
    const images = await Promise.all(
      videos.map(async (v) => {
        const times = await Promise.all([2, 5].map(async (every) => (await plan(v, { every, mode: 'exact', maxSide: 256 })).frames.map((f) => f.timestampSec)));
        return new Set(times.flat()).size;
      }),
    );
    expect(images).toEqual([6, 7, 7, 8, 8, 9]);
    const threeMost = [...images]
      .sort((a, b) => b - a)
      .slice(0, 3)
      .reduce((a, b) => a + b, 0);
    expect(r.imagesHeldPeak).toBeGreaterThanOrEqual(6);
    expect(r.imagesHeldPeak).toBeLessThanOrEqual(threeMost);
    expect(threeMost).toBeLessThan(images.reduce((a, b) => a + b, 0));
    expect(r.samplingPasses).toBe(6);
  }, 240_000);

  it('a video that cannot be read is refused in one line, the first video already planned: nothing sent, no ffmpeg left', async () => {
    const dir = temp('omniprep-eval-missing-');
    const ffmpeg = loggingBinary(dir, 'ffmpeg');
    const missing = join(dir, 'gone.mp4');
    const qs: Question[] = [questions[0]!, { ...questions[1]!, id: 'gone', video: missing }];
    const err = await evaluate(qs, { every: [1], mode: ['exact'], maxSide: [256] }, { apiKey: 'test', baseURL: openai.baseURL, ffmpegPath: ffmpeg.path }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('OmniprepError');
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).not.toContain('\n');
    expect(openai.stats.total).toBe(0);
    // The first video is planned first and its sampling started; whatever of it ran was stopped before the refusal returned.
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(dir);
  }, 240_000);
});
