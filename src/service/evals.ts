/**
 * An eval as a service job: the body checked (eval-spec.ts), its videos made local files in its
 * folder (eval-files.ts), its estimate made on a planning thread (eval-task.ts: the library's
 * `evaluate` with `dryRun`, the needles' copy first), then a record of kind `eval` in the job
 * store, queued like a job; a worker runs it (eval-runner.ts). What clients see of it: `evalView`
 * and `evalResults`.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Evaluation } from '../eval/report.js';
import { enqueue, type RouteContext } from './context.js';
import { extensionOf } from './data.js';
import { evalDir, evalRenames, SPEC, writeEvalFile, type StoredEval } from './eval-files.js';
import type { EvalSpec } from './eval-spec.js';
import type { EvalEstimate } from './eval-task.js';
import { scrubError, scrubPaths } from './paths.js';
import { queuedRecord, type JobRecord } from './store/types.js';
import { recordHead } from './view.js';
import { planLabel } from '../eval/chart.js';

/** What an eval's record keeps in its `plan`: the estimate and what was asked. */
export interface EvalRecordPlan {
  inputTokens: number;
  costUsd: number;
  estimate: EvalEstimate;
  grid: EvalSpec['grid'];
  settings: Record<string, unknown>;
  videos: string[];
  questions: number;
  plans: number;
  warnings: string[];
}

/** The videos as files in the eval's folder, the questions pointing at them, and the estimate. */
async function prepare(
  svc: RouteContext,
  spec: EvalSpec,
  dir: string,
  signal: AbortSignal,
): Promise<{ stored: StoredEval; estimate: EvalEstimate; bytes: number }> {
  await mkdir(join(dir, 'videos'), { recursive: true });
  const files = new Map<string, string>();
  let bytes = 0;
  for (const [i, v] of spec.videos.entries()) {
    const file = join(dir, 'videos', `${i + 1}.${extensionOf(v.path ?? v.upload ?? v.url?.split(/[?#]/)[0])}`);
    bytes += await svc.inputs.localVideo(v, file, signal);
    files.set(v.name, file);
  }
  const names: Array<[string, string]> = [...files].map(([name, file]) => [file, name]);
  const questions = spec.questions?.map((q) => ({ ...q, video: files.get(q.video)! })) ?? null;
  const video = files.get(spec.videos[0]!.name)!;
  const needles = spec.needles ? { video, count: spec.needles.count, seed: spec.needles.seed, out: join(dir, 'needles') } : undefined;
  try {
    const out = await svc.inputs.estimateEval({ questions, needles, grid: spec.grid, settings: spec.settings, limits: svc.config.limits }, signal);
    // The needles' copy is called by its file name.
    const copy = needles ? out.questions[0]?.video : undefined;
    if (copy) names.push([copy, basename(copy)]);
    return { stored: { questions: out.questions, grid: spec.grid, settings: spec.settings, names }, estimate: out.estimate, bytes };
  } catch (e) {
    // Any other file of the eval's folder (the needles' copy) is the eval's.
    throw scrubError(e, [...names, [dir, 'the eval']], 'the eval');
  }
}

/** A dry run: the estimate as `omniprep eval --dry-run --json` prints it; nothing is kept. */
export async function estimateOnly(svc: RouteContext, spec: EvalSpec, signal: AbortSignal): Promise<EvalEstimate> {
  const dir = svc.data.tmpFile();
  try {
    return (await prepare(svc, spec, dir, signal)).estimate;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Prepares the eval, stores its record (queued) and queues it; the queue place is the caller's. */
export async function submitEval(svc: RouteContext, spec: EvalSpec, signal: AbortSignal): Promise<JobRecord> {
  const id = randomUUID();
  const dir = evalDir(svc.data, id);
  try {
    const { stored, estimate, bytes } = await prepare(svc, spec, dir, signal);
    await writeEvalFile(dir, SPEC, stored);
    const now = Date.now();
    const { judgeRubric: _r, budget, ...settings } = spec.settings;
    const plan: EvalRecordPlan = {
      inputTokens: estimate.total.estimatedInputTokens,
      costUsd: estimate.total.estimatedUsd,
      estimate,
      grid: spec.grid,
      settings: { ...settings, budgetUsd: budget, needles: spec.needles?.count },
      videos: spec.videos.map((v) => v.name),
      questions: stored.questions.length,
      plans: spec.plans,
      warnings: spec.warnings,
    };
    const job: JobRecord = {
      ...queuedRecord(id, now),
      kind: 'eval',
      input: { kind: 'path', name: `eval ${id}`, file: '', bytes },
      options: {},
      plan: plan as unknown as Record<string, unknown>,
      progress: { stage: 'queued', framesDone: 0, framesTotal: 0, questionsDone: 0, questionsTotal: plan.questions * plan.plans, spentUsd: 0 },
      result: null,
      error: null,
      outputDir: svc.data.rel(dir),
    };
    await svc.store.create(job);
    await enqueue(svc, id);
    return job;
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

export function evalView(j: JobRecord): Record<string, unknown> {
  const p = j.plan as unknown as EvalRecordPlan;
  const base = `/v1/evals/${j.id}`;
  return {
    ...recordHead(j),
    progress: j.progress,
    estimate: p.estimate,
    spentUsd: j.progress.spentUsd ?? 0,
    videos: p.videos,
    questions: p.questions,
    plans: p.plans,
    grid: p.grid,
    settings: p.settings,
    warnings: p.warnings,
    summary: j.result,
    error: j.error,
    links: {
      self: base,
      events: `${base}/events`,
      cancel: `${base}/cancel`,
      results: `${base}/results`,
      csv: `${base}/results.csv`,
      chart: `${base}/chart`,
    },
  };
}

/** GET /v1/evals/:id/results: each plan with its frontier and recommended flags, and per question what each plan saw and answered. */
export function evalResults(id: string, e: Evaluation, stored: StoredEval): Record<string, unknown> {
  const names = evalRenames(stored);
  const byQuestion = new Map<string, Evaluation['results']>();
  for (const r of e.results) byQuestion.set(r.question, [...(byQuestion.get(r.question) ?? []), r]);
  return {
    id,
    plans: e.plans.map((p, i) => ({ ...p, index: i, label: planLabel(p, e.plans), onFrontier: e.frontier.includes(i), recommended: e.recommended === i })),
    frontier: e.frontier,
    recommended: e.recommended,
    requests: e.requests,
    total: e.total,
    stopped: e.stopped,
    warnings: e.warnings,
    questions: stored.questions.map((q) => ({
      id: q.id,
      video: scrubPaths(q.video, names),
      question: q.question,
      expected: q.answer,
      plans: (byQuestion.get(q.id) ?? [])
        .sort((a, b) => a.plan - b.plan)
        .map((r) => ({
          plan: r.plan,
          answered: r.answered,
          correct: r.correct,
          answer: r.answer,
          frameTimes: r.frameTimes,
          ...(r.error ? { error: r.error } : {}),
          billedUsd: r.billedUsd,
        })),
    })),
  };
}
