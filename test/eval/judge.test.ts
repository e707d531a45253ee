// `judge` scoring against the OpenAI and Anthropic test servers: the answer hook answers a needle
// question right only when it saw a frame inside the needle (test/helpers/frame-code.ts), and
// grades a judge's request by the answer it carries. Each plan's correct count is then the one its
// frame times allow, the judge's calls are counted and billed apart, and a rerun sends nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.js';
import { DEFAULT_RUBRIC, JUDGE_SECTIONS } from '../../src/eval/judge.js';
import { reportJson } from '../../src/eval/output.js';
import type { Question } from '../../src/eval/questions.js';
import { startAnthropicTestServer, type AnthropicTestServer } from '../helpers/anthropic/server.js';
import { codedVideo, needleQuestion, needleReply, type JudgedRequest, type NeedleKey, type SeenRequest } from '../helpers/frame-code.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { ownedTempDirs } from '../helpers/temp.js';

const CHOICES = ['KESTREL', 'MARLIN', 'OSPREY', 'PELICAN'];
/** Frame intervals (10 fps): every 1 s sees frames 0, 10, ..., 190; every 5 s 0, 50, 100, 150. */
const NEEDLES: Array<[number, number]> = [
  [8, 12],
  [95, 105],
  [38, 42],
  [148, 152],
  [195, 199],
];
/** Needles holding a frame: every 1 s all but the last (4), every 5 s 95-105 and 148-152 (2). */
const EXPECTED = [4, 2];

const temp = ownedTempDirs();
const key = new Map<string, NeedleKey>();
let questions: Question[];
let openai: OpenAITestServer;
let claude: AnthropicTestServer;

beforeAll(async () => {
  const video = await codedVideo({ seconds: 20, fps: 10 });
  [openai, claude] = await Promise.all([startOpenAITestServer(), startAnthropicTestServer()]);
  questions = NEEDLES.map(([from, to], i) => {
    key.set(`${from}-${to}`, { right: 'ABCD'[i % 4]!, wrong: 'ABCD'[(i + 1) % 4]!, rightText: CHOICES[i % 4]! });
    return { id: `j${i}`, video, question: needleQuestion(from, to), choices: CHOICES, answer: CHOICES[i % 4]!, scoring: 'judge' as const };
  });
}, 240_000);
afterAll(async () => {
  await Promise.all([openai?.close(), claude?.close()]);
});

const grid = (model: string) => ({ every: [1, 5], mode: ['exact' as const], maxSide: [256], models: [model] });

describe.each([
  { name: 'OpenAI', model: 'gpt-5.5', apiModel: /^gpt-5\.5$/, server: () => openai },
  { name: 'Anthropic', model: 'claude-haiku-4.5', apiModel: /^claude-haiku-4[.-]5/, server: () => claude },
])('$name form', ({ model, apiModel, server }) => {
  it('each answer is graded by one judge call, billed apart; the dry run prices the judge apart; a rerun sends nothing', async () => {
    const s = server();
    s.reset();
    const seen: SeenRequest[] = [];
    const judged: JudgedRequest[] = [];
    // Always "Answer: X": two plans that answer a question alike ask the judge the same, once.
    s.control.reply = needleReply(key, seen, { judged, plain: true });
    const client = { apiKey: 'test', baseURL: s.baseURL };
    const dry = await evaluate(questions, grid(model), { ...client, dryRun: true });
    expect(s.stats.total).toBe(0);
    expect(dry.plans.every((p) => p.estimatedJudgeUsd > 0)).toBe(true);
    expect(dry.total.estimatedJudgeUsd).toBeCloseTo(dry.plans[0]!.estimatedJudgeUsd + dry.plans[1]!.estimatedJudgeUsd, 12);
    // The judge's estimate is the same for both plans (text only: it sees no frames) and not in the answers' estimate.
    expect(dry.plans[0]!.estimatedJudgeUsd).toBe(dry.plans[1]!.estimatedJudgeUsd);

    const cache = temp('omniprep-eval-judge-');
    const r = await evaluate(questions, grid(model), { ...client, cache });
    expect(s.stats.invalid).toEqual([]);
    // 5 questions x 2 plans answered; 7 distinct answers judged (j1 and j3 right for both plans, j4 wrong for both: 3 judged once for two).
    expect(r.requests).toEqual({ sent: 17, cached: 3 });
    expect([s.stats.total, seen.length, judged.length]).toEqual([17, 10, 7]);
    expect(r.plans.map((p) => [p.questions, p.answered, p.correct])).toEqual(EXPECTED.map((c) => [5, 5, c]));
    expect(judged.filter((j) => j.verdict === 'CORRECT')).toHaveLength(4);
    expect(judged.every((j) => apiModel.test(String(j.model)))).toBe(true);
    // The judge saw each answer as the model gave it.
    const asked = (x: { from: number; answer: string }): string => `${x.from}: ${x.answer}`;
    expect(judged.map(asked).sort()).toEqual([...new Set(seen.map(asked))].sort());
    expect(r.results.every((x) => /^The answer was graded\.\nVerdict: (CORRECT|INCORRECT)$/.test(x.verdict ?? ''))).toBe(true);
    // Judge dollars are apart from the answers': the answers' input tokens are those of the requests with images.
    const answerRecords = s.stats.records.filter((x) => x.images > 0);
    const judgeRecords = s.stats.records.filter((x) => x.images === 0);
    expect([answerRecords.length, judgeRecords.length]).toEqual([10, 7]);
    expect(r.plans.reduce((a, p) => a + p.inputTokens, 0)).toBe(answerRecords.reduce((a, x) => a + x.promptTokens, 0));
    expect(r.plans.every((p) => p.judgeUsd > 0 && p.billedUsd > p.judgeUsd)).toBe(true);
    expect(r.plans.map((p) => p.estimatedJudgeUsd)).toEqual(dry.plans.map((p) => p.estimatedJudgeUsd));
    expect(r.results.every((x) => x.judgeUsd > 0)).toBe(true);
    const json = reportJson(r);
    expect(json.total.judgeUsd).toBeCloseTo(r.plans[0]!.judgeUsd + r.plans[1]!.judgeUsd, 12);
    expect(json.total.billedUsd).toBeCloseTo(r.plans[0]!.billedUsd + r.plans[1]!.billedUsd, 12);
    expect(json.total.estimatedJudgeUsd).toBe(dry.total.estimatedJudgeUsd);

    s.reset();
    const again = await evaluate(questions, grid(model), { ...client, cache });
    expect([again.requests, s.stats.total]).toEqual([{ sent: 0, cached: 20 }, 0]);
    expect(again.plans).toEqual(r.plans);
  }, 240_000);
});

describe('judge options', () => {
  it('a judge model and a rubric of the user are used; a budget under answers plus judge refuses before sending', async () => {
    openai.reset();
    const judged: JudgedRequest[] = [];
    const texts: string[] = [];
    const reply = needleReply(key, [], { judged, plain: true });
    openai.control.reply = (req) => {
      texts.push(req.text);
      return reply(req);
    };
    const cache = temp('omniprep-eval-judge-');
    const o = { apiKey: 'test', baseURL: openai.baseURL, cache, judgeModel: 'gpt-5-mini', judgeRubric: 'Grade strictly: the code word must match.' };
    const r = await evaluate(questions.slice(0, 2), grid('gpt-5.5'), o);
    expect(r.plans.map((p) => p.correct)).toEqual([2, 1]);
    // j0 right every 1 s, wrong every 5 s (2 judge calls); j1 right for both (1: in flight or cached, the same body is sent once).
    expect(judged.map((j) => j.model)).toEqual(Array(3).fill('gpt-5-mini'));
    const judgeTexts = texts.filter((t) => t.includes(JUDGE_SECTIONS.answer));
    expect(judgeTexts).toHaveLength(3);
    expect(judgeTexts.every((t) => t.startsWith('Grade strictly: the code word must match.\n\nQuestion:\n') && !t.includes(DEFAULT_RUBRIC))).toBe(true);

    const dry = await evaluate(questions, grid('gpt-5.5'), { ...o, dryRun: true });
    const between = dry.total.estimatedUsd + dry.total.estimatedJudgeUsd / 2;
    openai.reset();
    await expect(evaluate(questions, grid('gpt-5.5'), { ...o, budget: between })).rejects.toThrow(
      /^eval: its estimate of \$[0-9.]+ \(the judge's \$[0-9.]+ included\) is over the budget of \$[0-9.]+ \(nothing was sent/,
    );
    expect(openai.stats.total).toBe(0);
    await expect(evaluate(questions, grid('gpt-5.5'), { ...o, judgeModel: 'gpt-nope' })).rejects.toThrow(/gpt-nope/);
    await expect(evaluate(questions, grid('gpt-5.5'), { ...o, judgeRubric: ' ' })).rejects.toThrow('option judgeRubric: expected the rubric\'s text, got " "');
    expect(openai.stats.total).toBe(0);
  }, 240_000);
});
