// Question files: JSONL and Video-MME's layout; every bad line refused with its file and line
// number before anything is planned or sent.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.js';
import { loadQuestions, parseQuestions } from '../../src/eval/questions.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { ownedTempDirs } from '../helpers/temp.js';

const temp = ownedTempDirs();
let dir: string;
let server: OpenAITestServer;

beforeAll(async () => {
  dir = temp('omniprep-questions-');
  server = await startOpenAITestServer();
});
afterAll(async () => {
  await server?.close();
});

const file = (name: string, lines: unknown[] | string): string => {
  const path = join(dir, name);
  writeFileSync(path, typeof lines === 'string' ? lines : lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'));
  return path;
};

const good = { id: 'q1', video: 'clip.mp4', question: 'What colour?', choices: ['red', 'blue'], answer: 'b' };

describe('question files', () => {
  it('reads JSONL: choices default to choice scoring, letters upper-cased, videos resolved from the file folder', () => {
    const path = file('good.jsonl', [
      good,
      '',
      { id: 'q2', video: '/abs/v.mp4', question: 'How many?', answer: 3, scoring: 'number', tolerance: 1, start: 2, end: 9 },
    ]);
    expect(loadQuestions(path)).toEqual([
      { id: 'q1', video: join(dir, 'clip.mp4'), question: 'What colour?', choices: ['red', 'blue'], answer: 'B', scoring: 'choice' },
      { id: 'q2', video: '/abs/v.mp4', question: 'How many?', answer: '3', scoring: 'number', tolerance: 1, start: 2, end: 9 },
    ]);
  });

  it('reads the Video-MME layout with a videos folder, the letters taken off the options', () => {
    const path = file(
      'mme.json',
      JSON.stringify([{ video_id: 'abc', questions: [{ question_id: 'abc-1', question: 'Who?', options: ['A. Ann', 'B. Bob'], answer: 'A' }] }]),
    );
    expect(loadQuestions(path, { videos: '/videos' })).toEqual([
      { id: 'abc-1', video: '/videos/abc.mp4', question: 'Who?', choices: ['Ann', 'Bob'], answer: 'A', scoring: 'choice' },
    ]);
    expect(() => loadQuestions(path)).toThrow(`${path}: a Video-MME question file needs the folder of its videos (--videos DIR)`);
    // Not an array: one line, not a TypeError.
    const obj = file('obj.json', '{"video_id": "abc"}');
    expect(() => loadQuestions(obj, { videos: '/videos' })).toThrow(`${obj}: expected a Video-MME JSON array of {video_id, questions: [...]}`);
  });

  it('parseQuestions reads a question set given as text; Video-MME ids name videos through videoOf', () => {
    const mme = JSON.stringify([{ video_id: 'abc', questions: [{ question_id: 'abc-1', question: 'Who?', options: ['A. Ann', 'B. Bob'], answer: 'B' }] }]);
    expect(parseQuestions(mme, 'questions', { videoMme: true, videoOf: (id) => `${id}.mkv` })).toEqual([
      { id: 'abc-1', video: 'abc.mkv', question: 'Who?', choices: ['Ann', 'Bob'], answer: 'B', scoring: 'choice' },
    ]);
    expect(parseQuestions(`${JSON.stringify(good)}\n`, 'questions')[0]!.video).toBe('clip.mp4');
    expect(() => parseQuestions('\n\n', 'questions')).toThrow('questions: no questions');
  });

  it.each([
    ['not JSON', [good, '{"id": "q2",'], 'line 2: not JSON ('],
    ['no answer', ['', { ...good, answer: undefined }], 'line 2: answer must be a non-empty string, got nothing'],
    ['a letter past the choices', [good, { ...good, id: 'q2', answer: 'C' }], 'line 2: answer must be the letter of one of the 2 choices, got "C"'],
    ['an id twice', [good, good], 'line 2: id "q1" is used twice'],
    ['an unknown scoring', [{ ...good, scoring: 'vibes' }], 'line 1: scoring must be one of choice, exact, number, judge, got "vibes"'],
    ['end before start', [{ ...good, start: 5, end: 2 }], 'line 1: end (2) must be after start (5)'],
    ['a list, not an object', [[1, 2]], 'line 1: expected a JSON object'],
    ['one choice', [{ ...good, choices: ['red'] }], 'line 1: choices must be a list of 2 to 26 strings'],
    [
      'a number that is not',
      [{ id: 'n', video: 'v', question: 'q', answer: 'many', scoring: 'number' }],
      'line 1: answer must be a number for scoring number, got "many"',
    ],
  ])('refuses %s with its line, in one line', (name, lines, message) => {
    const path = file(`${name.replace(/\W+/g, '-')}.jsonl`, lines as unknown[]);
    let err: unknown;
    try {
      loadQuestions(path);
    } catch (e) {
      err = e;
    }
    expect((err as Error).name).toBe('OmniprepError');
    expect((err as Error).message).toContain(`${path} ${message}`);
    expect((err as Error).message).not.toContain('\n');
  });

  it('an empty or missing file is refused; evaluate sends nothing for a bad file', async () => {
    expect(() => loadQuestions(file('empty.jsonl', '\n\n'))).toThrow(`${join(dir, 'empty.jsonl')}: no questions`);
    expect(() => loadQuestions(join(dir, 'nope.jsonl'))).toThrow(`${join(dir, 'nope.jsonl')}: cannot read the question file (ENOENT)`);
    const bad = file('bad.jsonl', [good, { ...good, id: 'q2', answer: 'Z' }]);
    await expect(evaluate(bad, {}, { apiKey: 'test', baseURL: server.baseURL })).rejects.toThrow(`${bad} line 2: answer must be the letter`);
    await expect(evaluate([{ ...good, scoring: 'judge' }], {}, { apiKey: 'test', baseURL: server.baseURL, judgeModel: 'no-such-judge' })).rejects.toThrow(
      /no-such-judge/,
    );
    expect(server.stats.total).toBe(0);
  });
});
