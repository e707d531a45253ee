/**
 * evaluate(questions, grid, options): what each sampling plan buys. Every question is asked with
 * the frames of every plan of the grid, in one request where the model's limits allow (as `run`
 * does; the parts of a split request are combined by one reduce call), and scored; the report
 * gives each plan's accuracy against its dollars, the frontier and a recommendation.
 *
 *     const r = await evaluate('questions.jsonl', { every: [1, 5, 10], mode: ['exact'] }, { dryRun: true });
 *
 * Nothing is sent before every question is checked and every plan is priced by the planner
 * (`dryRun` stops there); a `budget` below the estimate refuses to start, and the eval stops
 * before the request whose cost would take the spend over it. Facts are gathered once per video
 * and mode (a few videos probed at once), frames sampled once per video and size (./frames.ts;
 * the first video is sampled while the rest are still being estimated, the next ones while
 * earlier ones are asked about, at most VIDEOS_HELD videos' frames held), questions asked by
 * ./ask.ts, answers cached by body hash (./send.ts).
 */
import pLimit from 'p-limit';
import { OmniprepError, invalidOption } from '../errors.js';
import { Clients } from '../dispatch/client.js';
import type { DispatchOptions } from '../dispatch/dispatch.js';
import { resolveRegistry, type ModelRegistry } from '../models/registry.js';
import { getModel } from '../models/tokens.js';
import { gatherFacts, planFromFacts, type PlanFacts } from '../plan/plan.js';
import type { Plan, PlanOptions } from '../plan/types.js';
import { probe } from '../probe/probe.js';
import { askOne, judgeOf, OUTPUT_TOKENS, withUploads } from './ask.js';
import { Frames, VIDEOS_HELD } from './frames.js';
import { expandGrid, specOptions, type EvalGrid, type PlanSpec } from './grid.js';
import { checkRubric, judgeEstimateUsd } from './judge.js';
import { checkQuestions, loadQuestions, type Question } from './questions.js';
import { frontier, planReport, recommend, type Evaluation, type QuestionResult } from './report.js';

export type { Evaluation } from './report.js';
import { questionPrompt } from './scoring.js';
import { Sender } from './send.js';

export interface EvaluateOptions
  extends Pick<PlanOptions, 'format' | 'quality' | 'tier' | 'limits' | 'ffmpegPath' | 'ffprobePath' | 'modelsFile' | 'rule' | 'registry'>,
    Omit<DispatchOptions, 'budgetUsd' | 'alreadySpentUsd' | 'concurrency' | 'onResult' | 'onProgress' | 'registry' | 'modelsFile' | 'rule'> {
  /** Video-MME question files: the folder of the videos. */
  videos?: string | undefined;
  /** Dollars the whole eval may spend: refused at start when the estimate is over, stopped before the request that would go over. */
  budget?: number | undefined;
  /** Keep answers here, keyed by the request body's SHA-256 (a rerun sends only what is not there). */
  cache?: string | undefined;
  /** Questions in flight at once (default 8). */
  concurrency?: number | undefined;
  /** Price every plan and send nothing. */
  dryRun?: boolean | undefined;
  /** Recommend the cheapest plan with at least this accuracy (0-1), instead of the best plan's interval. */
  targetAccuracy?: number | undefined;
  /** Output tokens each answer is estimated at (default 100). */
  outputTokens?: number | undefined;
  maxOutputTokens?: number | undefined;
  system?: string | undefined;
  /** The model that grades `judge` questions (default: the evaluated model of each plan). */
  judgeModel?: string | undefined;
  /** The judge's rubric, as text (default: ./judge.ts DEFAULT_RUBRIC; the CLI's --judge-rubric reads it from a file). */
  judgeRubric?: string | undefined;
  /** Called with each question's result as it ends. */
  onQuestion?: ((r: QuestionResult) => void) | undefined;
  /** Write report.json, report.csv, questions.jsonl, chart.svg and chart.png here. */
  out?: string | undefined;
}

export const EVAL_DEFAULTS = { concurrency: 8, outputTokens: OUTPUT_TOKENS };

interface Ctx {
  o: EvaluateOptions;
  registry: ModelRegistry;
  specs: PlanSpec[];
  prompts: Map<string, string>;
  facts: Map<string, PlanFacts>;
  /** The plans the estimate made, per video, kept for the run (not for a dry run): each is made once. */
  plans: Map<string, Plan[][]>;
}

/** The eval's own options (budget, concurrency, target accuracy, judge), checked before anything is read. */
export function checkEvalOptions(o: EvaluateOptions): void {
  if (o.budget !== undefined && !(typeof o.budget === 'number' && o.budget > 0 && Number.isFinite(o.budget)))
    throw invalidOption('budget', 'dollars > 0', o.budget);
  const c = o.concurrency;
  if (c !== undefined && !(Number.isInteger(c) && c >= 1 && c <= 256)) throw invalidOption('concurrency', 'an integer from 1 to 256', c);
  const t = o.targetAccuracy;
  if (t !== undefined && !(typeof t === 'number' && t >= 0 && t <= 1)) throw invalidOption('targetAccuracy', 'a share from 0 to 1', t);
  if (o.judgeModel !== undefined && (typeof o.judgeModel !== 'string' || !o.judgeModel)) throw invalidOption('judgeModel', 'a model name', o.judgeModel);
  checkRubric(o.judgeRubric);
}

/** Videos probed at once while the eval is estimated. */
const PROBES = 4;

/** The facts of one video for each mode of the grid: one probe, the packet index read once. */
async function gatherVideo(ctx: Ctx, video: string, signal: AbortSignal): Promise<void> {
  const modes = [...new Set(ctx.specs.map((s) => s.mode))];
  const info = await probe(video, { limits: ctx.o.limits, signal, ffprobePath: ctx.o.ffprobePath });
  for (const mode of modes) ctx.facts.set(`${video}|${mode}`, await gatherFacts(info, { ...base(ctx), mode, limits: ctx.o.limits, signal }));
}

function base(ctx: Ctx): PlanOptions {
  const o = ctx.o;
  return {
    registry: ctx.registry,
    rule: o.rule,
    format: o.format,
    quality: o.quality,
    tier: o.tier,
    outputTokens: o.outputTokens ?? EVAL_DEFAULTS.outputTokens,
    maxOutputTokens: o.maxOutputTokens,
    ffmpegPath: o.ffmpegPath,
    ffprobePath: o.ffprobePath,
  };
}

/** The plan of one question with one spec (pure: the facts are gathered). */
function planOf(ctx: Ctx, q: Question, spec: PlanSpec): Plan {
  const facts = ctx.facts.get(`${q.video}|${spec.mode}`)!;
  try {
    return planFromFacts(facts, { ...base(ctx), ...specOptions(spec), start: q.start, end: q.end, prompt: ctx.prompts.get(q.id)! });
  } catch (e) {
    if (e instanceof OmniprepError) throw new OmniprepError(e.code, `question ${q.id}: ${e.message}`, { input: q.id, cause: e });
    throw e;
  }
}

/** Questions grouped by video, in the order they first appear. */
function byVideo(questions: readonly Question[]): Map<string, Question[]> {
  const m = new Map<string, Question[]>();
  for (const q of questions) {
    const list = m.get(q.video);
    if (list) list.push(q);
    else m.set(q.video, [q]);
  }
  return m;
}

interface Estimate {
  perPlan: Array<{ usd: number; tokens: number; frames: number; judgeUsd: number }>;
  usd: number;
  tokens: number;
  /** The judge's share (`judge` questions), apart from `usd`. */
  judgeUsd: number;
}

/**
 * The whole eval's estimate, per plan and in total: what a dry run returns. The videos are probed
 * a few at a time and each one's questions planned, in order, as soon as its facts exist;
 * `ready` is told of each video planned (the run samples the first one while the rest are
 * estimated; nothing is sent before the whole estimate is made and checked against the budget).
 */
async function estimate(ctx: Ctx, groups: Map<string, Question[]>, ready?: (video: string) => void): Promise<Estimate> {
  for (const video of groups.keys())
    if (/^https?:/i.test(video)) throw new OmniprepError('INVALID_OPTION', `${video}: eval reads local videos only (download it first)`, { input: video });
  const stop = new AbortController();
  const signal = ctx.o.signal ? AbortSignal.any([ctx.o.signal, stop.signal]) : stop.signal;
  const limit = pLimit(PROBES);
  const gathered = [...groups.keys()].map((video) => limit(() => gatherVideo(ctx, video, signal)));
  for (const g of gathered) g.catch(() => {}); // awaited in order below
  try {
    return await planAll(ctx, groups, gathered, ready);
  } catch (e) {
    stop.abort();
    limit.clearQueue();
    await Promise.allSettled(gathered);
    throw e;
  }
}

async function planAll(ctx: Ctx, groups: Map<string, Question[]>, gathered: Array<Promise<void>>, ready?: (video: string) => void): Promise<Estimate> {
  const perPlan = ctx.specs.map(() => ({ usd: 0, tokens: 0, frames: 0, judgeUsd: 0 }));
  let vi = 0;
  for (const [video, qs] of groups) {
    await gathered[vi++];
    const plans = qs.map((q) => ctx.specs.map((spec) => planOf(ctx, q, spec)));
    plans.forEach((row, qi) => {
      const q = qs[qi]!;
      row.forEach((p, i) => {
        perPlan[i]!.usd += p.costUsd;
        perPlan[i]!.tokens += p.inputTokens;
        perPlan[i]!.frames += p.video ? p.video.frames : p.frames.length;
        if (q.scoring === 'judge') perPlan[i]!.judgeUsd += judgeEstimateUsd(q, judgeOf(ctx, q, p.model));
      });
    });
    if (!ctx.o.dryRun) ctx.plans.set(video, plans);
    ready?.(video);
    // Let the first video's sampling go on between videos.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const sum = (f: (p: Estimate['perPlan'][number]) => number): number => perPlan.reduce((a, p) => a + f(p), 0);
  return { perPlan, usd: sum((p) => p.usd), tokens: sum((p) => p.tokens), judgeUsd: sum((p) => p.judgeUsd) };
}

export async function evaluate(questions: string | readonly Question[], grid: EvalGrid = {}, o: EvaluateOptions = {}): Promise<Evaluation> {
  checkEvalOptions(o);
  const qs = typeof questions === 'string' ? loadQuestions(questions, { videos: o.videos }) : checkQuestions(questions);
  const prompts = new Map(qs.map((q) => [q.id, questionPrompt(q)]));
  const registry = resolveRegistry({ registry: o.registry, modelsFile: o.modelsFile });
  const { plans: specs, warnings } = expandGrid(grid, { registry, rule: o.rule });
  // The judge model is looked up before any video is read (UNKNOWN_MODEL in one line).
  if (o.judgeModel !== undefined && qs.some((q) => q.scoring === 'judge')) getModel(o.judgeModel, { registry, rule: o.rule });
  const ctx: Ctx = { o, registry, specs, prompts, facts: new Map(), plans: new Map() };
  const groups = byVideo(qs);
  const frames = new Frames(ctx);
  let est: Estimate;
  try {
    // A run samples its first video while the others are probed and planned; nothing is sent before the budget is checked.
    est = await estimate(ctx, groups, o.dryRun ? undefined : (video) => frames.prefetch(video));
    checkBudget(est, o.budget);
  } catch (e) {
    await frames.cancel();
    throw e;
  }
  const total = { estimatedUsd: Number(est.usd.toFixed(10)), estimatedInputTokens: est.tokens, estimatedJudgeUsd: Number(est.judgeUsd.toFixed(10)) };
  const common = { total, warnings, samplingPasses: 0, stopped: null, requests: { sent: 0, cached: 0 }, imagesHeldPeak: 0 };
  if (o.dryRun) {
    const plans = specs.map((s, i) => ({
      ...planReport(s, [], est.perPlan[i]!.frames, est.perPlan[i]!.judgeUsd),
      questions: qs.length,
      estimatedUsd: Number(est.perPlan[i]!.usd.toFixed(10)),
      inputTokens: est.perPlan[i]!.tokens,
    }));
    return written({ ...common, plans, frontier: [], recommended: null, dryRun: true, results: [] }, o.out);
  }
  return written(await runEval(ctx, groups, common, est, frames), o.out);
}

function checkBudget(est: Estimate, budget: number | undefined): void {
  const all = est.usd + est.judgeUsd;
  if (budget === undefined || all <= budget) return;
  const judge = est.judgeUsd > 0 ? ` (the judge's $${est.judgeUsd.toFixed(6)} included)` : '';
  throw new OmniprepError(
    'BUDGET_EXCEEDED',
    `eval: its estimate of $${all.toFixed(6)}${judge} is over the budget of $${budget} (nothing was sent; --dry-run shows each plan's share)`,
  );
}

async function written(e: Evaluation, out: string | undefined): Promise<Evaluation> {
  if (!out) return e;
  const { writeEvalOutputs } = await import('./output.js');
  return { ...e, files: await writeEvalOutputs(out, e) };
}

async function runEval(
  ctx: Ctx,
  groups: Map<string, Question[]>,
  common: Pick<Evaluation, 'total' | 'warnings'>,
  est: Estimate,
  frames: Frames,
): Promise<Evaluation> {
  const o = ctx.o;
  const clients = new Clients(o);
  const uploads = new Map<string, Promise<string>>();
  const sender = new Sender({
    cache: o.cache,
    budgetUsd: o.budget,
    dispatch: { ...o, registry: ctx.registry, signal: o.signal, clients },
    finalize: (req) => withUploads(req, uploads, clients, o.signal),
  });
  const limit = pLimit(o.concurrency ?? EVAL_DEFAULTS.concurrency);
  // Videos are sampled ahead of the questions being asked, at most VIDEOS_HELD videos' frames held at once.
  const perVideo: Array<Promise<QuestionResult[]>> = [];
  for (const [video, qs] of groups) {
    if (perVideo.length >= VIDEOS_HELD) await perVideo[perVideo.length - VIDEOS_HELD];
    const store = await frames.load(video);
    const plans = ctx.plans.get(video)!;
    ctx.plans.delete(video);
    const tasks = qs.flatMap((q, qi) =>
      ctx.specs.map((_, si) =>
        limit(async () => {
          const r = await askOne(ctx, q, si, plans[qi]![si]!, store, sender);
          o.onQuestion?.(r);
          return r;
        }),
      ),
    );
    const done = Promise.all(tasks).finally(() => frames.clear(store));
    done.catch(() => {}); // awaited below; handled now so that a failure while the next video is sampled is not unhandled
    perVideo.push(done);
  }
  const results = (await Promise.all(perVideo)).flat();
  const planResults = ctx.specs.map((_, i) => results.filter((r) => r.plan === i));
  const framesOf = (i: number): number => planResults[i]!.reduce((a, r) => a + r.frameTimes.length, 0);
  const plans = ctx.specs.map((s, i) => planReport(s, planResults[i]!, framesOf(i), est.perPlan[i]!.judgeUsd));
  return {
    ...common,
    plans,
    frontier: frontier(plans),
    recommended: recommend(plans, o.targetAccuracy),
    requests: { sent: sender.sent, cached: sender.cached },
    dryRun: false,
    results,
    samplingPasses: frames.passes,
    imagesHeldPeak: frames.peak,
    stopped: sender.stopped ?? null,
  };
}
