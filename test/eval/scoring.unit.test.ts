import { describe, expect, it } from 'vitest';
import type { Question } from '../../src/eval/questions.js';
import { chosenLetter, isCorrect, normalise, questionPrompt } from '../../src/eval/scoring.js';

const CHOICES = ['a red car', 'the blue boat', 'A green bus', 'yellow plane'];
const choice: Question = { id: 'q', video: 'v.mp4', question: 'What passes?', choices: CHOICES, answer: 'B', scoring: 'choice' };

describe('scoring', () => {
  it('puts the lettered choices and a fixed answer format in the prompt', () => {
    expect(questionPrompt(choice)).toBe(
      'What passes?\n\nOptions:\nA. a red car\nB. the blue boat\nC. A green bus\nD. yellow plane\n\nAnswer with the letter of the right option only, on one line: "Answer: X".',
    );
    expect(questionPrompt({ ...choice, choices: undefined, scoring: 'number', answer: '3' })).toBe(
      'What passes?\n\nAnswer with a number only, on one line: "Answer: N".',
    );
  });

  it('reads a chosen letter however it is written, or the option words', () => {
    for (const reply of [
      'B',
      '(B)',
      'Answer: B',
      'answer: (b)',
      'B.',
      'B) the blue boat',
      'The answer is B',
      'Blue boat.',
      'It is the blue boat.',
      'Answer: B\n',
    ]) {
      expect([reply, chosenLetter(reply, CHOICES)]).toEqual([reply, 'B']);
    }
    for (const reply of ['', 'I cannot tell', 'Answer: E', 'a red car or the blue boat'])
      expect([reply, chosenLetter(reply, CHOICES)]).toEqual([reply, undefined]);
    expect(isCorrect(choice, 'Answer: A')).toBe(false);
    expect(isCorrect(choice, '(B)')).toBe(true);
  });

  it('compares exact answers normalised and numbers within the tolerance', () => {
    expect(normalise('  The Ünicorn,  runs!  ')).toBe('unicorn runs');
    const exact: Question = { id: 'e', video: 'v', question: 'Who?', answer: 'The Unicorn', scoring: 'exact' };
    expect(isCorrect(exact, 'Answer: unicorn')).toBe(true);
    expect(isCorrect(exact, 'Answer: a unicorn horn')).toBe(false);
    const num: Question = { id: 'n', video: 'v', question: 'How many?', answer: '12', scoring: 'number', tolerance: 0.5 };
    expect(isCorrect(num, 'Answer: 12.4')).toBe(true);
    expect(isCorrect(num, 'Answer: 12.6')).toBe(false);
    expect(isCorrect(num, 'Answer: 1,012')).toBe(false);
    expect(isCorrect({ ...num, answer: '1012' }, 'Answer: 1,012')).toBe(true);
    expect(isCorrect(num, 'none')).toBe(false);
  });

  it('asks a judge question for a one-line answer, and leaves its grading to the judge', () => {
    const judged: Question = { id: 'j', video: 'v', question: 'What is the cat doing?', answer: 'sleeping on a sofa', scoring: 'judge' };
    expect(questionPrompt(judged)).toBe('What is the cat doing?\n\nAnswer briefly, on one line: "Answer: ...".');
    expect(() => isCorrect(judged, 'Answer: sleeping')).toThrow("question j: scoring judge is graded by the judge's verdict, not by text");
  });
});
