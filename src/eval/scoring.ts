/**
 * What a question asks and how its answer is scored: the prompt (the question, its lettered
 * choices, a fixed answer format) and the scorers, pure. `choice` reads a letter however it is
 * written ("B", "(B)", "Answer: B", "b)") or the option's own words; `exact` compares normalised
 * text; `number` allows the question's tolerance. `judge` asks an LLM judge (./judge.ts): the
 * answer is asked for in one line and graded by the judge's verdict, not here.
 */
import { OmniprepError } from '../errors.js';
import type { Question } from './questions.js';

export const ANSWER_FORMAT = {
  choice: 'Answer with the letter of the right option only, on one line: "Answer: X".',
  exact: 'Answer with the answer only, on one line: "Answer: ...".',
  number: 'Answer with a number only, on one line: "Answer: N".',
  judge: 'Answer briefly, on one line: "Answer: ...".',
};

const letterOf = (i: number): string => String.fromCharCode(65 + i);

/** The prompt of a question: its text, its choices lettered A, B, ..., and the answer format. */
export function questionPrompt(q: Question): string {
  const scoring = q.scoring ?? 'exact';
  const choices = q.choices ? `\n\nOptions:\n${q.choices.map((c, i) => `${letterOf(i)}. ${c}`).join('\n')}` : '';
  return `${q.question}${choices}\n\n${ANSWER_FORMAT[scoring]}`;
}

/** Lower case, no accents, punctuation or articles, single spaces. */
export function normalise(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s.-]/gu, ' ')
    .replace(/(^|\s)(a|an|the)(?=\s)/g, ' ')
    .replace(/\.(?=\s|$)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** What follows "Answer:" when the reply has it, else the whole reply. */
function answerPart(reply: string): string {
  const m = /answer\s*(?:is)?\s*[:=]?\s*(.+)/i.exec(reply);
  return (m ? m[1]! : reply).trim();
}

/** The letter a reply chooses, or undefined when it names none (or several). */
export function chosenLetter(reply: string, choices: readonly string[]): string | undefined {
  const part = answerPart(reply);
  const letters = choices.map((_, i) => letterOf(i));
  const alone = /^\(?\s*([A-Za-z])\s*\)?\s*[.):]?\s*$/.exec(part) ?? /^\(?([A-Z])\)?(?:[.):]|\s|$)/.exec(part);
  if (alone && letters.includes(alone[1]!.toUpperCase())) return alone[1]!.toUpperCase();
  // The option's own words: the one option whose text the reply contains.
  const said = normalise(part);
  const named = choices.flatMap((c, i) => (normalise(c) && said.includes(normalise(c)) ? [letterOf(i)] : []));
  return named.length === 1 ? named[0] : undefined;
}

/** Whether a reply answers the question right (`judge`: the judge's verdict decides, see ./judge.ts). */
export function isCorrect(q: Question, reply: string): boolean {
  switch (q.scoring ?? 'exact') {
    case 'choice':
      return chosenLetter(reply, q.choices ?? []) === q.answer;
    case 'number': {
      const m = /-?\d+(?:\.\d+)?(?:e-?\d+)?/i.exec(answerPart(reply).replace(/,(?=\d{3})/g, ''));
      return m !== null && Math.abs(Number(m[0]) - Number(q.answer)) <= (q.tolerance ?? 0) + 1e-9;
    }
    case 'exact':
      return normalise(answerPart(reply)) === normalise(q.answer);
    default:
      throw new OmniprepError('INVALID_OPTION', `question ${q.id}: scoring ${q.scoring} is graded by the judge's verdict, not by text`, { input: q.id });
  }
}
