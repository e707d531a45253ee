/**
 * The known name nearest a mistyped one, by the rule the CLI's "Did you mean" follows (commander's
 * suggestSimilar: the optimal string alignment distance, at most 3 edits, and at most 60% of the
 * longer name changed), so that a typo reads the same on every surface.
 */
import { OmniprepError } from '../errors.js';

const MAX_DISTANCE = 3;

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > MAX_DISTANCE) return Math.max(a.length, b.length);
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** The known names nearest `word` (ties sorted), or none when nothing is close enough. */
export function nearestNames(word: string, known: Iterable<string>): string[] {
  let best = MAX_DISTANCE;
  let found: string[] = [];
  for (const name of new Set(known)) {
    if (name.length <= 1) continue;
    const distance = editDistance(word, name);
    const length = Math.max(word.length, name.length);
    if ((length - distance) / length <= 0.4) continue;
    if (distance < best) {
      best = distance;
      found = [name];
    } else if (distance === best) found.push(name);
  }
  return found.sort((x, y) => x.localeCompare(y));
}

/** ` (did you mean every?)`, ` (did you mean one of a, b?)`, or '' when nothing is close. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const near = nearestNames(word, known);
  if (!near.length) return '';
  return near.length === 1 ? ` (did you mean ${near[0]}?)` : ` (did you mean one of ${near.join(', ')}?)`;
}

/**
 * The refusal of a key no option has, the same line on every surface (the library, the service's
 * JSON and form fields): `option evry: not an option (did you mean every?)`, or the options
 * allowed when none is near.
 */
export function unknownOption(key: string, known: Iterable<string>, allowed: readonly string[]): OmniprepError {
  const hint = didYouMean(key, known) || ` (allowed: ${allowed.join(', ')})`;
  return new OmniprepError('INVALID_OPTION', `option ${key}: not an option${hint}`, { details: { option: key } });
}
