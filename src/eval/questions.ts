/**
 * Question sets for `evaluate()`: JSONL lines `{id, video, question, choices?, answer, scoring?,
 * tolerance?, start?, end?}`, or Video-MME's JSON layout (`[{video_id, questions: [{question_id,
 * question, options|choices, answer}]}]`) with a videos directory. Every line is checked before
 * anything is planned or sent; a bad one is refused naming its file and line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { OmniprepError } from '../errors.js';

export const SCORINGS = ['choice', 'exact', 'number', 'judge'] as const;
export type Scoring = (typeof SCORINGS)[number];

export interface Question {
  id: string;
  /** A local path (relative paths are read from the question file's folder). */
  video: string;
  question: string;
  /** Options of a multiple-choice question, without their letters. */
  choices?: string[] | undefined;
  /** The right letter (choice), text (exact) or number (number). */
  answer: string;
  /** Default: `choice` when there are choices, else `exact`. */
  scoring?: Scoring | undefined;
  /** Largest difference a `number` answer may have (default 0). */
  tolerance?: number | undefined;
  /** The part of the video the question is about (seconds). */
  start?: number | undefined;
  end?: number | undefined;
}

export interface LoadOptions {
  /** Video-MME layout: the folder of the videos (`<video_id>.mp4`, `.mkv` or `.webm`). */
  videos?: string | undefined;
}

export interface ParseOptions extends LoadOptions {
  /** The body is Video-MME's JSON (default: JSONL). */
  videoMme?: boolean | undefined;
  /** Video-MME layout without a folder: the video a `video_id` names (the service's videos by name). */
  videoOf?: ((videoId: string) => string) | undefined;
}

const bad = (where: string, cause: string): OmniprepError => new OmniprepError('INVALID_OPTION', `${where}: ${cause}`, { input: where.split(' line ')[0] });

/** Video-MME options carry their letter ("A. text"); the letter is the position. */
const stripLetter = (s: string): string => s.replace(/^\s*\(?[A-Z][.):]\s+/, '');

function num(v: unknown, name: string, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(where, `${name} must be a number of seconds >= 0, got ${JSON.stringify(v)}`);
  return v;
}

function text(v: unknown, name: string, where: string): string {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || !v.trim()) throw bad(where, `${name} must be a non-empty string, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

/** Checks one question object (a parsed line); `where` names the file and line. */
export function checkQuestion(raw: unknown, where: string): Question {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(where, 'expected a JSON object');
  const r = raw as Record<string, unknown>;
  const choices = r.choices ?? r.options;
  if (choices !== undefined && !(Array.isArray(choices) && choices.length >= 2 && choices.length <= 26 && choices.every((c) => typeof c === 'string'))) {
    throw bad(where, 'choices must be a list of 2 to 26 strings');
  }
  const scoring = (r.scoring ?? (choices ? 'choice' : 'exact')) as Scoring;
  if (!SCORINGS.includes(scoring)) throw bad(where, `scoring must be one of ${SCORINGS.join(', ')}, got ${JSON.stringify(r.scoring)}`);
  const q: Question = {
    id: text(r.id, 'id', where),
    video: text(r.video, 'video', where),
    question: text(r.question, 'question', where),
    answer: text(r.answer, 'answer', where).trim(),
    scoring,
    ...(choices ? { choices: (choices as string[]).map(stripLetter) } : {}),
  };
  if (scoring === 'choice') {
    if (!q.choices) throw bad(where, 'scoring choice needs choices');
    const letter = q.answer.toUpperCase();
    if (!/^[A-Z]$/.test(letter) || letter.charCodeAt(0) - 65 >= q.choices.length) {
      throw bad(where, `answer must be the letter of one of the ${q.choices.length} choices, got ${JSON.stringify(r.answer)}`);
    }
    q.answer = letter;
  }
  if (scoring === 'number' && !Number.isFinite(Number(q.answer)))
    throw bad(where, `answer must be a number for scoring number, got ${JSON.stringify(r.answer)}`);
  const tolerance = num(r.tolerance, 'tolerance', where);
  const start = num(r.start, 'start', where);
  const end = num(r.end, 'end', where);
  if (start !== undefined && end !== undefined && !(end > start)) throw bad(where, `end (${end}) must be after start (${start})`);
  return { ...q, ...(tolerance !== undefined ? { tolerance } : {}), ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) };
}

/** Checks a list of questions (the library's input): ids are unique, each is valid. */
export function checkQuestions(list: readonly unknown[], name = 'questions'): Question[] {
  if (!Array.isArray(list) || !list.length) throw new OmniprepError('INVALID_OPTION', `${name}: no questions`, { input: name });
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const where = `${name} line ${i + 1}`;
    const q = checkQuestion(raw, where);
    if (seen.has(q.id)) throw bad(where, `id ${JSON.stringify(q.id)} is used twice`);
    seen.add(q.id);
    return q;
  });
}

function parseJsonl(body: string, file: string): unknown[] {
  const out: unknown[] = [];
  body.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      throw bad(`${file} line ${i + 1}`, `not JSON (${(e as Error).message.split('\n')[0]})`);
    }
  });
  return out;
}

/** The line numbers of a JSONL body's non-blank lines (errors name the file's own lines). */
function lineNumbers(body: string): number[] {
  return body.split('\n').flatMap((l, i) => (l.trim() ? [i + 1] : []));
}

/** A Video-MME video in its folder: `<video_id>.mp4`, `.mkv` or `.webm`. */
const inFolder =
  (videos: string) =>
  (id: string): string => {
    const base = join(videos, id);
    return ['.mp4', '.mkv', '.webm'].map((x) => base + x).find((p) => existsSync(p)) ?? `${base}.mp4`;
  };

function videoMme(items: unknown, file: string, o: ParseOptions): unknown[] {
  if (!o.videos && !o.videoOf) throw bad(file, 'a Video-MME question file needs the folder of its videos (--videos DIR)');
  if (!Array.isArray(items)) throw bad(file, 'expected a Video-MME JSON array of {video_id, questions: [...]}');
  const videoOf = o.videoOf ?? inFolder(o.videos!);
  return items.flatMap((item, i) => {
    const v = item as { video_id?: unknown; questions?: unknown };
    if (typeof v?.video_id !== 'string' || !Array.isArray(v.questions)) throw bad(`${file} item ${i + 1}`, 'expected {video_id, questions: [...]}');
    const video = videoOf(v.video_id);
    return (v.questions as Array<Record<string, unknown>>).map((q) => ({ ...q, id: q?.question_id, video }));
  });
}

function jsonlFile(body: string, file: string): { list: unknown[]; wheres: string[] } {
  return { list: parseJsonl(body, file), wheres: lineNumbers(body).map((n) => `${file} line ${n}`) };
}

function videoMmeFile(body: string, file: string, o: ParseOptions): { list: unknown[]; wheres: string[] } {
  let items: unknown;
  try {
    items = JSON.parse(body);
  } catch (e) {
    throw bad(file, `not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const list = videoMme(items, file, o);
  return { list, wheres: list.map((_, i) => `${file} question ${i + 1}`) };
}

/**
 * Checks a question set given as text, JSONL or (`videoMme`) Video-MME's JSON; `name` is what its
 * refusals call it (a file, or the service's `questions`). Video paths are left as written.
 */
export function parseQuestions(body: string, name: string, o: ParseOptions = {}): Question[] {
  const { list, wheres } = o.videoMme ? videoMmeFile(body, name, o) : jsonlFile(body, name);
  const seen = new Set<string>();
  const questions = list.map((raw, i) => {
    const q = checkQuestion(raw, wheres[i]!);
    if (seen.has(q.id)) throw bad(wheres[i]!, `id ${JSON.stringify(q.id)} is used twice`);
    seen.add(q.id);
    return q;
  });
  if (!questions.length) throw bad(name, 'no questions');
  return questions;
}

/** Reads a question file: JSONL, or (a `.json` file) a Video-MME JSON array with `videos`. Video paths are resolved. */
export function loadQuestions(file: string, o: LoadOptions = {}): Question[] {
  let body: string;
  try {
    body = readFileSync(file, 'utf8');
  } catch (e) {
    throw new OmniprepError('NOT_FOUND', `${file}: cannot read the question file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      input: file,
    });
  }
  const questions = parseQuestions(body, file, { ...o, videoMme: /\.json$/i.test(file) });
  const folder = dirname(resolve(file));
  return questions.map((q) => (isAbsolute(q.video) || /^https?:/i.test(q.video) ? q : { ...q, video: join(folder, q.video) }));
}
