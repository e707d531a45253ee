// omniprep eval as a user runs it (the built CLI against the OpenAI test server): the JSON report,
// its files, a dry run, needles on samples/demo.mp4, and one-line refusals with exit 2.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { ROOT } from '../helpers/fixtures.js';
import { codedVideo, needleQuestion, needleReply, type NeedleKey } from '../helpers/frame-code.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { ownedTempDirs } from '../helpers/temp.js';

const temp = ownedTempDirs();
const NEEDLES: Array<[number, number]> = [
  [8, 12],
  [18, 22],
  [95, 105],
  [148, 152],
];
let server: OpenAITestServer;
let questions: string;
const key = new Map<string, NeedleKey>();

beforeAll(async () => {
  server = await startOpenAITestServer();
  const video = await codedVideo({ seconds: 20, fps: 10 });
  questions = join(temp('omniprep-eval-cli-'), 'q.jsonl');
  const lines = NEEDLES.map(([a, b], i) => {
    key.set(`${a}-${b}`, { right: 'A', wrong: 'B', rightText: 'KESTREL' });
    return JSON.stringify({ id: `n${i}`, video, question: needleQuestion(a, b), choices: ['KESTREL', 'MARLIN'], answer: 'A' });
  });
  writeFileSync(questions, `${lines.join('\n')}\n`);
}, 240_000);
afterAll(async () => {
  await server?.close();
});
beforeEach(() => server.reset());

const net = (): string[] => ['--base-url', server.baseURL, '--api-key', 'test'];

describe('omniprep eval', () => {
  it('--json prints the report and --out writes its files', async () => {
    server.control.reply = needleReply(key);
    const out = temp('omniprep-eval-cli-out-');
    const r = await cli(
      ['eval', questions, '--every', '1,5', '--mode', 'exact', '--max-side', '256', '--models', 'gpt-5.5', '--out', out, '--json', ...net()],
      {
        timeoutMs: 120_000,
      },
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json)).toEqual(['plans', 'frontier', 'recommended', 'requests', 'total']);
    // every 1 s sees frames 10, 20, 100, 150; every 5 s only 100 and 150.
    expect(json.plans.map((p: { every: number; correct: number; answered: number }) => [p.every, p.correct, p.answered])).toEqual([
      [1, 4, 4],
      [5, 2, 4],
    ]);
    expect(json.requests).toEqual({ sent: 8, cached: 0 });
    expect(json.frontier).toEqual([1, 0]);
    // best 4/4 (interval from 0.51); 2/4 = 0.5 is under it.
    expect(json.recommended).toBe(0);
    for (const f of ['report.json', 'report.csv', 'questions.jsonl', 'chart.svg', 'chart.png']) expect(existsSync(join(out, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toEqual(json);
  }, 180_000);

  it('--dry-run prints the estimate and sends nothing; the text form is a table', async () => {
    const r = await cli(['eval', questions, '--every', '1,5', '--mode', 'exact', '--dry-run', ...net()], { timeoutMs: 120_000 });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(server.stats.total).toBe(0);
    expect(r.stdout).toMatch(/^.*q\.jsonl: 4 questions x 2 plans; estimate \$[0-9.]+ \(\d+ input tokens\)\n/);
    expect(r.stdout).toContain('dry run: nothing was sent');
    expect(r.stdout.split('\n')[2]).toMatch(/^# +model +send +mode +every s +max side +detail +est \$ +frames *$/);
    const json = JSON.parse(
      (await cli(['eval', questions, '--every', '1,5', '--mode', 'exact', '--dry-run', '--json', ...net()], { timeoutMs: 120_000 })).stdout,
    );
    expect(json.requests).toEqual({ sent: 0, cached: 0 });
    expect(json.total.estimatedUsd).toBeCloseTo(json.plans[0].estimatedUsd + json.plans[1].estimatedUsd, 9);
  }, 180_000);

  it('--needles N VIDEO makes the copy, its question set and a report on samples/demo.mp4', async () => {
    const out = temp('omniprep-eval-needles-');
    const r = await cli(['eval', '--needles', '3', join(ROOT, 'samples', 'demo.mp4'), '--every', '2,5', '--out', out, '--json', ...net()], {
      timeoutMs: 180_000,
    });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(existsSync(join(out, 'demo-needles.mp4'))).toBe(true);
    expect(readFileSync(join(out, 'demo-needles.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    const json = JSON.parse(r.stdout);
    expect(json.plans.map((p: { every: number; questions: number; answered: number }) => [p.every, p.questions, p.answered])).toEqual([
      [2, 3, 3],
      [5, 3, 3],
    ]);
    expect(server.stats.total).toBe(6);
    expect(existsSync(join(out, 'chart.png'))).toBe(true);
  }, 240_000);

  it.each([
    [['--every', '0'], 'omniprep: option every: expected a number from 0.001 to 86400, got 0\n'],
    [['--mode', 'fast'], /^omniprep: option mode: expected one of keyframe, exact, scene, got "fast"\n$/],
    [['--models', 'gpt-nope'], /^omniprep: unknown model gpt-nope; known: .* \(add it with --models-file FILE, or say which it follows with --rule MODEL\)\n$/],
  ])(
    'refuses %j in one line with exit 2',
    async (args, message) => {
      const r = await cli(['eval', questions, ...args, ...net()], { timeoutMs: 60_000 });
      expect(r.code).toBe(2);
      if (typeof message === 'string') expect(r.stderr).toBe(message);
      else expect(r.stderr).toMatch(message);
      expect(server.stats.total).toBe(0);
    },
    120_000,
  );

  it("judge questions: --judge-model and --judge-rubric FILE; the judge's dollars apart in the JSON and the text", async () => {
    const dir = temp('omniprep-eval-cli-judge-');
    const judged = join(dir, 'judged.jsonl');
    const lines = readFileSync(questions, 'utf8').trim().split('\n');
    writeFileSync(judged, `${lines.map((l) => JSON.stringify({ ...JSON.parse(l), answer: 'KESTREL', scoring: 'judge' })).join('\n')}\n`);
    const rubric = join(dir, 'rubric.txt');
    writeFileSync(rubric, 'The code word decides.\n');
    const texts: string[] = [];
    const reply = needleReply(key, [], { plain: true });
    server.control.reply = (req) => {
      texts.push(req.text);
      return reply(req);
    };
    const args = ['eval', judged, '--every', '1,5', '--mode', 'exact', '--max-side', '256', '--judge-model', 'gpt-5-mini', '--judge-rubric', rubric];
    const r = await cli([...args, '--cache', join(dir, 'cache'), '--json', ...net()], { timeoutMs: 120_000 });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const json = JSON.parse(r.stdout);
    expect(json.plans.map((p: { correct: number; answered: number }) => [p.correct, p.answered])).toEqual([
      [4, 4],
      [2, 4],
    ]);
    // 8 answers; 6 distinct ones judged (n2 and n3 right for both plans).
    expect([json.requests, server.stats.total]).toEqual([{ sent: 14, cached: 2 }, 14]);
    const judgeTexts = texts.filter((t) => t.startsWith('The code word decides.\n\nQuestion:\n'));
    expect(judgeTexts).toHaveLength(6);
    expect(json.total.judgeUsd).toBeCloseTo(json.plans[0].judgeUsd + json.plans[1].judgeUsd, 12);
    expect(json.total.judgeUsd).toBeGreaterThan(0);
    server.reset();
    const text = await cli([...args, '--cache', join(dir, 'cache'), ...net()], { timeoutMs: 120_000 });
    expect(server.stats.total).toBe(0);
    expect(text.stdout).toMatch(/\njudge: estimated \$[0-9.]+, billed \$[0-9.]+ \(apart from the answers' dollars above\)\n/);
    const missing = await cli([...args.slice(0, -1), join(dir, 'nope.txt'), ...net()], { timeoutMs: 60_000 });
    expect([missing.code, missing.stderr]).toEqual([2, `omniprep: option --judge-rubric: ${join(dir, 'nope.txt')} cannot be read (ENOENT)\n`]);
    expect(server.stats.total).toBe(0);
  }, 240_000);

  it('a bad question file: one line naming the line, exit 2, nothing sent', async () => {
    const bad = join(temp('omniprep-eval-cli-bad-'), 'bad.jsonl');
    writeFileSync(
      bad,
      `${readFileSync(questions, 'utf8').split('\n')[0]}\n{"id": "x", "video": "v.mp4", "question": "q", "choices": ["a", "b"], "answer": "C"}\n`,
    );
    const r = await cli(['eval', bad, ...net()], { timeoutMs: 60_000 });
    expect([r.code, r.stderr]).toEqual([2, `omniprep: ${bad} line 2: answer must be the letter of one of the 2 choices, got "C"\n`]);
    expect(server.stats.total).toBe(0);
  }, 120_000);
});
