/**
 * Stitches per-chunk texts (transcripts, descriptions) back into one text on the source timeline,
 * dropping what an overlap made the model say twice. Pure.
 *
 * At each junction the previous chunk ends at `a.endSec` and the next starts at `b.startSec`;
 * when `b.startSec < a.endSec` the span between is the overlap, heard twice. Three methods, the
 * first that applies wins:
 *
 * 1. `timing`: both chunks give word times (relative to their chunk's start, as transcription APIs
 *    return them). The junction is the middle of the overlap: the previous chunk keeps its words
 *    whose middle lies before it, the next chunk its words from it on. Words map to the text's
 *    whitespace-separated tokens one to one (punctuation stays attached).
 * 2. `match`: text only. The longest run of words (compared in lower case, without punctuation)
 *    that ends the previous text and starts the next one, looked for among the last and first
 *    words the overlap can hold (2x the overlap's share of the next chunk's words, plus 4), at
 *    least 2 words long (1 when the overlap holds 2 words or fewer). Of runs of one length, the one
 *    nearest the junction. The run is kept once: the previous text stops after it, the next text
 *    resumes after it.
 * 3. `proportion`: no run found. The next text loses as many leading words as the overlap's share
 *    of its duration (rounded).
 *
 * No overlap: the texts are joined as they are (`none`).
 */
import { invalidOption } from '../errors.js';

export interface TimedWord {
  word: string;
  startSec: number;
  endSec: number;
}

export interface ChunkText {
  /** The chunk's bounds on the source timeline (from the audio manifest). */
  startSec: number;
  endSec: number;
  text: string;
  /** Word times, relative to the chunk's start unless `wordsAbsolute` is set. */
  words?: readonly TimedWord[] | undefined;
}

export interface StitchOptions {
  /** Word times are already on the source timeline (default false: relative to each chunk). */
  wordsAbsolute?: boolean | undefined;
}

export type JunctionMethod = 'none' | 'timing' | 'match' | 'proportion';

export interface StitchResult {
  text: string;
  /** Every kept word on the source timeline, when every chunk gave word times. */
  words?: TimedWord[];
  /** One entry per junction (between chunk index-1 and index): how the overlap was removed and how many words were dropped. */
  junctions: Array<{ index: number; overlapSec: number; method: JunctionMethod; droppedWords: number }>;
}

const norm = (w: string): string =>
  w
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}']+/gu, '');

interface Piece {
  start: number;
  end: number;
  tokens: string[];
  words?: TimedWord[];
}

/**
 * The longest run (>= min) shared by the end of `a` (last `reach` tokens) and the start of `b`
 * (first `reach`): indices after it in a and in b. Among runs of one length, the one closest to
 * the junction (fewest words of a after it plus words of b before it).
 */
function sharedRun(a: string[], b: string[], reach: number, min: number): { aCut: number; bFrom: number; length: number; edge: number } | undefined {
  const na = a.map(norm);
  const nb = b.map(norm);
  const aFrom = Math.max(0, a.length - reach);
  const bTo = Math.min(b.length, reach);
  let best: { aCut: number; bFrom: number; length: number; edge: number } | undefined;
  for (let i = aFrom; i < a.length; i++) {
    for (let j = 0; j < bTo; j++) {
      let k = 0;
      while (i + k < a.length && j + k < bTo && na[i + k] !== '' && na[i + k] === nb[j + k]) k++;
      const edge = a.length - (i + k) + j;
      if (k >= min && (!best || k > best.length || (k === best.length && edge < best.edge))) best = { aCut: i + k, bFrom: j + k, length: k, edge };
    }
  }
  return best;
}

export function stitchTranscripts(chunks: readonly ChunkText[], options: StitchOptions = {}): StitchResult {
  const sorted = [...chunks].sort((x, y) => x.startSec - y.startSec);
  for (const c of sorted) {
    if (!(c.endSec >= c.startSec)) throw invalidOption('chunks[].endSec', 'a time at or after startSec', c.endSec);
  }
  const allTimed = sorted.length > 0 && sorted.every((c) => c.words !== undefined);
  const pieces: Piece[] = sorted.map((c) => ({
    start: c.startSec,
    end: c.endSec,
    tokens: c.text.trim().split(/\s+/).filter(Boolean),
    ...(c.words
      ? { words: c.words.map((w) => (options.wordsAbsolute ? { ...w } : { word: w.word, startSec: w.startSec + c.startSec, endSec: w.endSec + c.startSec })) }
      : {}),
  }));
  const junctions: StitchResult['junctions'] = [];
  for (let i = 1; i < pieces.length; i++) {
    const a = pieces[i - 1]!;
    const b = pieces[i]!;
    const overlapSec = Math.max(0, a.end - b.start);
    if (overlapSec <= 0) {
      junctions.push({ index: i, overlapSec: 0, method: 'none', droppedWords: 0 });
      continue;
    }
    if (a.words && b.words) {
      const mid = (b.start + a.end) / 2;
      const center = (w: TimedWord): number => (w.startSec + w.endSec) / 2;
      const keepA = a.words.filter((w) => center(w) < mid).length;
      const dropB = b.words.filter((w) => center(w) < mid).length;
      const droppedA = a.words.length - keepA;
      a.words = a.words.slice(0, keepA);
      b.words = b.words.slice(dropB);
      a.tokens = a.tokens.slice(0, Math.max(0, a.tokens.length - droppedA));
      b.tokens = b.tokens.slice(dropB);
      junctions.push({ index: i, overlapSec, method: 'timing', droppedWords: droppedA + dropB });
      continue;
    }
    const duration = Math.max(1e-9, b.end - b.start);
    const expected = Math.round((b.tokens.length * overlapSec) / duration);
    const run = sharedRun(a.tokens, b.tokens, 2 * expected + 4, expected <= 2 ? 1 : 2);
    if (run) {
      const droppedA = a.tokens.length - run.aCut;
      a.tokens = a.tokens.slice(0, run.aCut);
      b.tokens = b.tokens.slice(run.bFrom);
      junctions.push({ index: i, overlapSec, method: 'match', droppedWords: droppedA + run.bFrom });
    } else {
      const drop = Math.min(b.tokens.length, expected);
      b.tokens = b.tokens.slice(drop);
      junctions.push({ index: i, overlapSec, method: 'proportion', droppedWords: drop });
    }
  }
  const text = pieces
    .map((p) => p.tokens.join(' '))
    .filter(Boolean)
    .join(' ');
  return allTimed ? { text, words: pieces.flatMap((p) => p.words ?? []), junctions } : { text, junctions };
}
