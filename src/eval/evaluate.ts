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
 * and mode, frames sampled once per video and size (./frames.ts), answers cached by body hash
 * (./send.ts).
 */
import pLimit from 'p-limit';
import { OmniprepError, invalidOption } from '../errors.js';
import { Clients } from '../dispatch/client.js';
import type { DispatchOptions } from '../dispatch/dispatch.js';
import { buildReduceRequest } from '../dispatch/reduce.js';
import { resolveRegistry, type ModelRegistry } from '../models/registry.js';
import { gatherFacts, planFromFacts, videoAssets, type PlanFacts } from '../plan/plan.js';
import type { Plan, PlanOptions } from '../plan/types.js';
import { probe } from '../probe/probe.js';
import { uploadGeminiVideo } from '../providers/gemini/client.js';
import { buildRequests, type BuildOptions, type BuiltRequest } from '../request/build.js';
import type { Segment } from '../request/types.js';
import { seenTimes } from '../cost/curve.js';
import { FrameStore } from './frames.js';
import { expandGrid, specOptions, type EvalGrid, type PlanSpec } from './grid.js';
import { checkQuestions, loadQuestions, type Question } from './questions.js';
import { frontier, planReport, recommend, type Evaluation, type QuestionResult } from './report.js';

export type { Evaluation } from './report.js';
import { isCorrect, questionPrompt } from './scoring.js';
import { Sender, type Outcome } from './send.js';

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
  /** Called with each question's result as it ends. */
  onQuestion?: ((r: QuestionResult) => void) | undefined;
  /** Write report.json, report.csv, questions.jsonl, chart.svg and chart.png here. */
  out?: string | undefined;
}

export const EVAL_DEFAULTS = { concurrency: 8, outputTokens: 100 };

interface Ctx {
  o: EvaluateOptions;
  registry: ModelRegistry;
  specs: PlanSpec[];
  prompts: Map<string, string>;
  facts: Map<string, PlanFacts>;
  /** The plans the estimate made, per video, kept for the run (not for a dry run): each is made once. */
  plans: Map<string, Plan[][]>;
}

function checkOptions(o: EvaluateOptions): void {
  if (o.budget !== undefined && !(typeof o.budget === 'number' && o.budget > 0 && Number.isFinite(o.budget)))
    throw invalidOption('budget', 'dollars > 0', o.budget);
  const c = o.concurrency;
  if (c !== undefined && !(Number.isInteger(c) && c >= 1 && c <= 256)) throw invalidOption('concurrency', 'an integer from 1 to 256', c);
  const t = o.targetAccuracy;
  if (t !== undefined && !(typeof t === 'number' && t >= 0 && t <= 1)) throw invalidOption('targetAccuracy', 'a share from 0 to 1', t);
}

/** The facts of each video for each mode of the grid: one probe per video, the packet index read once. */
async function gatherAll(ctx: Ctx, videos: readonly string[]): Promise<void> {
  const modes = [...new Set(ctx.specs.map((s) => s.mode))];
  for (const video of videos) {
    if (/^https?:/i.test(video)) throw new OmniprepError('INVALID_OPTION', `${video}: eval reads local videos only (download it first)`, { input: video });
    const info = await probe(video, { limits: ctx.o.limits, signal: ctx.o.signal, ffprobePath: ctx.o.ffprobePath });
    for (const mode of modes) ctx.facts.set(`${video}|${mode}`, await gatherFacts(info, { ...base(ctx), mode, limits: ctx.o.limits, signal: ctx.o.signal }));
  }
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
  for (const q of questions) m.set(q.video, [...(m.get(q.video) ?? []), q]);
  return m;
}

/** The whole eval's estimate, per plan and in total: what a dry run returns. */
function estimate(ctx: Ctx, groups: Map<string, Question[]>): { perPlan: Array<{ usd: number; tokens: number; frames: number }>; usd: number; tokens: number } {
  const perPlan = ctx.specs.map(() => ({ usd: 0, tokens: 0, frames: 0 }));
  for (const [video, qs] of groups) {
    const plans = qs.map((q) => ctx.specs.map((spec) => planOf(ctx, q, spec)));
    for (const row of plans) {
      row.forEach((p, i) => {
        perPlan[i]!.usd += p.costUsd;
        perPlan[i]!.tokens += p.inputTokens;
        perPlan[i]!.frames += p.video ? p.video.frames : p.frames.length;
      });
    }
    if (!ctx.o.dryRun) ctx.plans.set(video, plans);
  }
  return { perPlan, usd: perPlan.reduce((a, p) => a + p.usd, 0), tokens: perPlan.reduce((a, p) => a + p.tokens, 0) };
}

export async function evaluate(questions: string | readonly Question[], grid: EvalGrid = {}, o: EvaluateOptions = {}): Promise<Evaluation> {
  checkOptions(o);
  const qs = typeof questions === 'string' ? loadQuestions(questions, { videos: o.videos }) : checkQuestions(questions);
  const prompts = new Map(qs.map((q) => [q.id, questionPrompt(q)]));
  const registry = resolveRegistry({ registry: o.registry, modelsFile: o.modelsFile });
  const { plans: specs, warnings } = expandGrid(grid, { registry, rule: o.rule });
  const ctx: Ctx = { o, registry, specs, prompts, facts: new Map(), plans: new Map() };
  const groups = byVideo(qs);
  await gatherAll(ctx, [...groups.keys()]);
  const est = estimate(ctx, groups);
  const total = { estimatedUsd: Number(est.usd.toFixed(10)), estimatedInputTokens: est.tokens };
  const common = { total, warnings, samplingPasses: 0, stopped: null, requests: { sent: 0, cached: 0 } };
  if (o.dryRun) {
    const plans = specs.map((s, i) => ({
      ...planReport(s, [], est.perPlan[i]!.frames),
      questions: qs.length,
      estimatedUsd: Number(est.perPlan[i]!.usd.toFixed(10)),
      inputTokens: est.perPlan[i]!.tokens,
    }));
    return written({ ...common, plans, frontier: [], recommended: null, dryRun: true, results: [] }, o.out);
  }
  if (o.budget !== undefined && est.usd > o.budget) {
    throw new OmniprepError(
      'BUDGET_EXCEEDED',
      `eval: its estimate of $${est.usd.toFixed(6)} is over the budget of $${o.budget} (nothing was sent; --dry-run shows each plan's share)`,
    );
  }
  return written(await runEval(ctx, groups, common), o.out);
}

async function written(e: Evaluation, out: string | undefined): Promise<Evaluation> {
  if (!out) return e;
  const { writeEvalOutputs } = await import('./output.js');
  return { ...e, files: await writeEvalOutputs(out, e) };
}

async function runEval(ctx: Ctx, groups: Map<string, Question[]>, common: Pick<Evaluation, 'total' | 'warnings'>): Promise<Evaluation> {
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
  // One video's questions are asked while the next video is sampled (at most two videos' frames held).
  const perVideo: Array<Promise<QuestionResult[]>> = [];
  let passes = 0;
  let previous: Promise<unknown> = Promise.resolve();
  for (const [video, qs] of groups) {
    const store = new FrameStore();
    const plans = ctx.plans.get(video)!;
    ctx.plans.delete(video);
    await store.load(video, plans.flat(), (p) => ctx.facts.get(`${video}|${p.mode}`)!, { limits: o.limits, signal: o.signal, ffmpegPath: o.ffmpegPath });
    passes += store.passes;
    const tasks = qs.flatMap((q, qi) =>
      ctx.specs.map((_, si) =>
        limit(async () => {
          const r = await askOne(ctx, q, si, plans[qi]![si]!, store, sender);
          o.onQuestion?.(r);
          return r;
        }),
      ),
    );
    const done = Promise.all(tasks).finally(() => store.clear());
    done.catch(() => {}); // awaited below; handled now so that a failure while the next video is sampled is not unhandled
    perVideo.push(done);
    await previous;
    previous = done;
  }
  const results = (await Promise.all(perVideo)).flat();
  const planResults = ctx.specs.map((_, i) => results.filter((r) => r.plan === i));
  const framesOf = (i: number): number => planResults[i]!.reduce((a, r) => a + r.frameTimes.length, 0);
  const plans = ctx.specs.map((s, i) => planReport(s, planResults[i]!, framesOf(i)));
  return {
    ...common,
    plans,
    frontier: frontier(plans),
    recommended: recommend(plans, o.targetAccuracy),
    requests: { sent: sender.sent, cached: sender.cached },
    dryRun: false,
    results,
    samplingPasses: passes,
    stopped: sender.stopped ?? null,
  };
}

/** The placeholder a video request carries until it is sent (so its body hash does not depend on an upload). */
const videoPlaceholder = (video: string): string => `omniprep-eval-video:${encodeURIComponent(video)}`;

/** Uploads a video the first time a request needing it is sent, and puts its URI in the body. */
async function withUploads(req: BuiltRequest, uploads: Map<string, Promise<string>>, clients: Clients, signal: AbortSignal | undefined): Promise<BuiltRequest> {
  const text = JSON.stringify(req.body);
  const m = /omniprep-eval-video:([^"\\]+)/.exec(text);
  if (!m) return req;
  const video = decodeURIComponent(m[1]!);
  let uri = uploads.get(video);
  if (!uri) {
    uri = clients.gemini().then(async (c) => (await uploadGeminiVideo(c, video, 'video/mp4', { signal })).uri);
    uploads.set(video, uri);
  }
  const real = await uri;
  return { ...req, body: JSON.parse(text.split(videoPlaceholder(video)).join(real)) as BuiltRequest['body'] };
}

/** The requests of one question with one plan. */
function requestsOf(ctx: Ctx, q: Question, p: Plan, store: FrameStore): { requests: BuiltRequest[]; times: number[]; build: BuildOptions } {
  const build: BuildOptions = {
    prompt: ctx.prompts.get(q.id)!,
    system: ctx.o.system,
    maxOutputTokens: ctx.o.maxOutputTokens,
    expectedOutputTokens: ctx.o.outputTokens ?? EVAL_DEFAULTS.outputTokens,
    tier: ctx.o.tier,
    registry: ctx.registry,
    rule: ctx.o.rule,
    input: `${q.id}`,
  };
  let segments: Segment[];
  let times: number[];
  if (p.video) {
    segments = videoAssets(p, videoPlaceholder(q.video)).map((v) => ({
      index: v.index,
      startSec: v.startSec,
      endSec: v.endSec,
      frames: [],
      audio: [],
      video: [v],
    }));
    times = seenTimes(p);
  } else {
    const frames = store.assets(p);
    segments = [{ index: 0, startSec: p.startSec, endSec: p.endSec, frames, audio: [] }];
    times = frames.map((f) => f.timestampSec);
  }
  const media = { input: q.video, model: p.model, durationSec: p.media.durationSec, segments };
  return { requests: buildRequests(media, build), times, build };
}

/** Asks one question with one plan: its requests (and the reduce call when they were split), scored. */
async function askOne(ctx: Ctx, q: Question, plan: number, p: Plan, store: FrameStore, sender: Sender): Promise<QuestionResult> {
  const { requests, times, build } = requestsOf(ctx, q, p, store);
  const base = { plan, question: q.id, video: q.video, frameTimes: times, estimatedUsd: p.costUsd };
  const outs: Outcome[] = [];
  for (const r of requests) outs.push(await sender.send(r));
  let final: Outcome | undefined = outs.find((x) => !x.ok);
  if (!final && outs.length > 1) {
    const answers = outs.map((x, i) => ({ startSec: requests[i]!.segment.startSec, endSec: requests[i]!.segment.endSec, text: x.ok ? x.answer.text : '' }));
    final = await sender.send(buildReduceRequest(answers, { ...build, model: p.model }));
    outs.push(final);
  }
  final ??= outs[0]!;
  const sum = (f: (a: Extract<Outcome, { ok: true }>['answer']) => number): number => outs.reduce((a, x) => a + (x.ok ? f(x.answer) : 0), 0);
  const billed = { billedUsd: sum((a) => a.costUsd), inputTokens: sum((a) => a.inputTokens), latencyMs: sum((a) => a.latencyMs) };
  if (!final.ok) return { ...base, ...billed, answered: false, correct: false, answer: null, error: final.message, latencyMs: null, cached: false };
  const text = final.answer.text;
  return { ...base, ...billed, answered: true, correct: isCorrect(q, text), answer: text, cached: outs.every((x) => x.ok && x.answer.cached) };
}
