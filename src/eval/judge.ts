/**
 * `judge` scoring: an LLM judge with a stated rubric. The judge is asked, in one text-only
 * request built and sent like every other (the provider's adapter writes the body, the eval's
 * sender dispatches it and caches its answer by body hash), whether the model's answer agrees
 * with the reference answer, and answers with a verdict on a fixed last line:
 * `Verdict: CORRECT` or `Verdict: INCORRECT`. Its cost is counted apart from the answers'.
 *
 * The judge model is `judgeModel`, by default the evaluated model itself (the same provider, key
 * and server are then known to work; a cheaper judge is one option away). Pure.
 */
import { OmniprepError } from '../errors.js';
import { buildRequest, type BuildOptions, type BuiltRequest } from '../request/build.js';
import type { Question } from './questions.js';

/** The rubric the judge is given unless `judgeRubric` replaces it. */
export const DEFAULT_RUBRIC = [
  'You grade an answer to a question about a video against the reference answer.',
  'The answer is CORRECT when it states the same fact as the reference answer: wording, case, punctuation, word order and extra explanation do not matter, and a number must be equal (units converted).',
  'The answer is INCORRECT when it contradicts the reference, misses its essential part, hedges between several answers, or says it cannot tell.',
].join('\n');

/** The fixed sections of a judge prompt (a test model server finds the judged answer by them). */
export const JUDGE_SECTIONS = {
  question: 'Question:',
  reference: 'Reference answer:',
  answer: 'Answer to grade:',
  format: 'Reply with one line only: "Verdict: CORRECT" or "Verdict: INCORRECT".',
};

/** Output tokens a verdict is estimated at. */
export const JUDGE_OUTPUT_TOKENS = 16;

/** The judge's prompt: the rubric, the question, the reference, the answer, the verdict format. */
export function judgePrompt(q: Pick<Question, 'question' | 'answer' | 'choices'>, answer: string, rubric = DEFAULT_RUBRIC): string {
  const s = JUDGE_SECTIONS;
  const options = q.choices ? `\n${q.choices.map((c, i) => `${String.fromCharCode(65 + i)}. ${c}`).join('\n')}` : '';
  return `${rubric.trim()}\n\n${s.question}\n${q.question}${options}\n\n${s.reference}\n${q.answer}\n\n${s.answer}\n${answer.trim()}\n\n${s.format}`;
}

export interface JudgeOptions {
  model: string;
  rubric?: string | undefined;
  /** The eval's build options (registry, tier, rule, system is not passed: the rubric is the judge's instruction). */
  build: BuildOptions;
}

/** The judge's request for one answer (`<question>#judge`). */
export function judgeRequest(q: Pick<Question, 'id' | 'question' | 'answer' | 'choices'>, answer: string, o: JudgeOptions): BuiltRequest {
  const build: BuildOptions & { model: string } = {
    ...o.build,
    system: undefined,
    prompt: judgePrompt(q, answer, o.rubric),
    expectedOutputTokens: JUDGE_OUTPUT_TOKENS,
    model: o.model,
    input: `${q.id}`,
  };
  const req = buildRequest({ index: 0, startSec: 0, endSec: 0, frames: [], audio: [] }, build);
  return { ...req, id: `${q.id}#judge` };
}

/**
 * The judge's estimated cost for one question before its answer exists: its request with the
 * reference answer standing in for the answer (an answer of the reference's length).
 */
export function judgeEstimateUsd(q: Pick<Question, 'id' | 'question' | 'answer' | 'choices'>, o: JudgeOptions): number {
  return judgeRequest(q, q.answer, o).estimate.usd;
}

/** The verdict of a judge's reply: its last `Verdict:` line, or undefined when it gives none. */
export function parseVerdict(reply: string): boolean | undefined {
  const all = [...reply.matchAll(/^[\s*_#>-]*verdict\s*[:=]\s*[*_"']*\s*(correct|incorrect)\b/gim)];
  const last = all.at(-1);
  return last ? last[1]!.toLowerCase() === 'correct' : undefined;
}

/** A rubric from the library's option: non-empty text. */
export function checkRubric(rubric: unknown): string | undefined {
  if (rubric === undefined) return undefined;
  if (typeof rubric !== 'string' || !rubric.trim()) {
    throw new OmniprepError('INVALID_OPTION', `option judgeRubric: expected the rubric's text, got ${JSON.stringify(rubric)}`);
  }
  return rubric;
}
