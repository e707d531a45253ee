/**
 * The body of POST /v1/evals, checked before any video is read: the grid by the library's own
 * grid code (src/eval/grid.ts, its refusals in the library's words), the eval's options by
 * `checkEvalOptions`, the question set by the library's parser (JSONL or Video-MME text, or a
 * list of objects: a bad line is refused in one line naming it), each question's video by name
 * among the body's videos, and the eval's size against EVAL_LIMITS.
 */
import { basename } from 'node:path';
import { invalidOption, OmniprepError } from '../errors.js';
import { checkEvalOptions } from '../eval/evaluate.js';
import { expandGrid, type EvalGrid } from '../eval/grid.js';
import { checkQuestions, parseQuestions, type Question } from '../eval/questions.js';
import { registry } from '../models/registry.js';
import type { EvalSettings } from './eval-task.js';
import { EVAL_LIMITS } from './schemas.js';

export interface VideoRef {
  path?: string | undefined;
  url?: string | undefined;
  upload?: string | undefined;
  name?: string | undefined;
}

export interface EvalBody {
  videos: VideoRef[];
  questions?: string | Array<Record<string, unknown>> | undefined;
  needles?: number | undefined;
  seed?: number | undefined;
  grid?: EvalGrid | undefined;
  budgetUsd?: number | undefined;
  judgeModel?: string | undefined;
  judgeRubric?: string | undefined;
  outputTokens?: number | undefined;
  concurrency?: number | undefined;
  targetAccuracy?: number | undefined;
  dryRun?: boolean | undefined;
}

/** A checked body: the videos by name, the questions (their `video` a video's name), or needles. */
export interface EvalSpec {
  videos: Array<VideoRef & { name: string }>;
  questions: Question[] | null;
  needles: { count: number; seed: number | undefined } | null;
  grid: EvalGrid;
  settings: EvalSettings;
  plans: number;
  warnings: string[];
}

const refused = (message: string): OmniprepError => new OmniprepError('INVALID_OPTION', message, { input: 'questions' });

/** What questions call a video: its `name`, else the file name of its path or URL, else its upload id. */
function videoName(v: VideoRef, i: number): string {
  if (v.name) return v.name;
  if (v.path !== undefined) return basename(v.path);
  if (v.url !== undefined) return basename(v.url.split(/[?#]/)[0]!) || `video ${i + 1}`;
  return v.upload ?? `video ${i + 1}`;
}

function checkVideos(videos: VideoRef[]): Array<VideoRef & { name: string }> {
  const seen = new Set<string>();
  return videos.map((v, i) => {
    const given = [v.path, v.url, v.upload].filter((x) => x !== undefined).length;
    if (given !== 1) throw new OmniprepError('INVALID_OPTION', `videos item ${i + 1}: give exactly one of path, url or upload`, { input: 'videos' });
    const name = videoName(v, i);
    if (seen.has(name))
      throw new OmniprepError('INVALID_OPTION', `videos item ${i + 1}: the name ${JSON.stringify(name)} is used twice (give each a name)`, { input: 'videos' });
    seen.add(name);
    return { ...v, name };
  });
}

/** The question set's own checks (the library's), then each question's video among the eval's by name (with or without its extension). */
function checkQuestionSet(raw: EvalBody['questions'], names: readonly string[]): Question[] {
  let qs: Question[];
  if (typeof raw === 'string') {
    qs = parseQuestions(raw, 'questions', { videoMme: raw.trimStart().startsWith('['), videoOf: (id) => id });
  } else qs = checkQuestions(raw ?? [], 'questions');
  if (qs.length > EVAL_LIMITS.questions) throw refused(`questions: ${qs.length} questions, over the ${EVAL_LIMITS.questions} an eval may ask`);
  const byName = new Map<string, string>();
  for (const n of names) {
    byName.set(n, n);
    const bare = n.replace(/\.[A-Za-z0-9]{1,5}$/, '');
    if (!byName.has(bare)) byName.set(bare, n);
  }
  return qs.map((q) => {
    const name = byName.get(q.video) ?? byName.get(q.video.replace(/\.[A-Za-z0-9]{1,5}$/, ''));
    if (name === undefined) {
      const list = names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
      throw refused(`questions: question ${q.id}: its video ${JSON.stringify(q.video)} is not one of the eval's videos (${list})`);
    }
    return { ...q, video: name };
  });
}

export function checkEvalBody(body: EvalBody): EvalSpec {
  const videos = checkVideos(body.videos);
  const settings: EvalSettings = {
    budget: body.budgetUsd,
    outputTokens: body.outputTokens,
    judgeModel: body.judgeModel,
    judgeRubric: body.judgeRubric,
    targetAccuracy: body.targetAccuracy,
    concurrency: body.concurrency,
  };
  try {
    checkEvalOptions(settings);
  } catch (e) {
    // The body calls the budget budgetUsd.
    if (e instanceof OmniprepError && e.details?.option === 'budget') throw invalidOption('budgetUsd', 'dollars > 0', body.budgetUsd);
    throw e;
  }
  const grid = body.grid ?? {};
  const { plans, warnings } = expandGrid(grid, { registry: registry() });
  if (plans.length > EVAL_LIMITS.plans) throw invalidOption('grid', `at most ${EVAL_LIMITS.plans} plans`, `${plans.length} plans`);
  if ((body.questions === undefined) === (body.needles === undefined))
    throw new OmniprepError('INVALID_OPTION', 'give either questions or needles (a number of code words to burn into the one video)', { input: 'questions' });
  let needles: EvalSpec['needles'] = null;
  let questions: Question[] | null = null;
  if (body.needles !== undefined) {
    const n = body.needles;
    if (!(Number.isInteger(n) && n >= 1 && n <= EVAL_LIMITS.needles)) throw invalidOption('needles', `an integer from 1 to ${EVAL_LIMITS.needles}`, n);
    if (videos.length !== 1) throw invalidOption('needles', 'one video', `${videos.length} videos`);
    needles = { count: n, seed: body.seed };
  } else
    questions = checkQuestionSet(
      body.questions,
      videos.map((v) => v.name),
    );
  const count = questions?.length ?? needles!.count;
  if (count * plans.length > EVAL_LIMITS.asks)
    throw invalidOption('grid', `at most ${EVAL_LIMITS.asks} questions asked over all plans`, `${count} questions x ${plans.length} plans`);
  return { videos, questions, needles, grid, settings, plans: plans.length, warnings };
}
