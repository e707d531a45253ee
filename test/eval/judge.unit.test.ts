import { describe, expect, it } from 'vitest';
import { DEFAULT_RUBRIC, checkRubric, judgeEstimateUsd, judgePrompt, judgeRequest, parseVerdict } from '../../src/eval/judge.js';
import { builtinRegistry } from '../../src/models/registry.js';

const q = { id: 'q7', question: 'What is the cat doing?', answer: 'sleeping on a sofa' };

describe('judge', () => {
  it('states the rubric, the question, the reference and the answer, then the verdict format', () => {
    expect(judgePrompt(q, ' Answer: it naps on the couch \n')).toBe(
      `${DEFAULT_RUBRIC}\n\nQuestion:\nWhat is the cat doing?\n\nReference answer:\nsleeping on a sofa\n\nAnswer to grade:\nAnswer: it naps on the couch\n\nReply with one line only: "Verdict: CORRECT" or "Verdict: INCORRECT".`,
    );
    expect(judgePrompt(q, 'x', '  Be strict.\n').startsWith('Be strict.\n\nQuestion:\n')).toBe(true);
  });

  it('reads the last verdict line, however it is decorated; none when there is none', () => {
    expect(parseVerdict('Verdict: CORRECT')).toBe(true);
    expect(parseVerdict('verdict: incorrect')).toBe(false);
    expect(parseVerdict('The answer matches.\n**Verdict:** CORRECT')).toBe(true);
    expect(parseVerdict('**Verdict: CORRECT**')).toBe(true);
    expect(parseVerdict('Verdict: INCORRECT\nOn reflection:\nVerdict: CORRECT')).toBe(true);
    expect(parseVerdict('Verdict: CORRECTLY stated? no')).toBeUndefined();
    expect(parseVerdict('CORRECT')).toBeUndefined();
    expect(parseVerdict('The verdict: maybe')).toBeUndefined();
    expect(parseVerdict('')).toBeUndefined();
  });

  it('builds a text-only request through the adapter of the judge model, named <question>#judge, priced', () => {
    const build = { prompt: 'unused', registry: builtinRegistry() };
    const openai = judgeRequest(q, 'Answer: asleep', { model: 'gpt-5.5', build });
    expect([openai.id, openai.provider, openai.model, openai.segment.frames]).toEqual(['q7#judge', 'openai', 'gpt-5.5', 0]);
    expect(JSON.stringify(openai.body)).toContain('Answer to grade:\\nAnswer: asleep');
    const claude = judgeRequest(q, 'Answer: asleep', { model: 'claude-haiku-4.5', build });
    expect([claude.provider, claude.model]).toEqual(['anthropic', 'claude-haiku-4.5']);
    expect(openai.estimate.usd).toBeGreaterThan(0);
    // The estimate before the answer exists stands the reference in for it.
    expect(judgeEstimateUsd(q, { model: 'gpt-5.5', build })).toBe(judgeRequest(q, q.answer, { model: 'gpt-5.5', build }).estimate.usd);
  });

  it('refuses an empty rubric in one line', () => {
    expect(() => checkRubric('  ')).toThrow('option judgeRubric: expected the rubric\'s text, got "  "');
    expect(() => checkRubric(3)).toThrow("option judgeRubric: expected the rubric's text, got 3");
    expect(checkRubric(undefined)).toBeUndefined();
  });
});
