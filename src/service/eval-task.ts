/**
 * What a planning thread does for an eval (workers/plan.ts runs it; src/service/planner.ts sends
 * it): with `needles`, burn the code words into a copy of the one video and write their questions
 * (as `omniprep eval --needles` does); then price every plan of the grid with the library's
 * `evaluate(..., { dryRun: true })`. The videos' containers are parsed here, never on the
 * service's event loop. The answer is the estimate as `omniprep eval --dry-run --json` prints it.
 */
import { corruptInput, isOmniprepError, type OmniprepError } from '../errors.js';
import { evaluate } from '../eval/evaluate.js';
import type { EvalGrid } from '../eval/grid.js';
import { makeNeedles } from '../eval/needles.js';
import { reportJson } from '../eval/output.js';
import { loadQuestions, type Question } from '../eval/questions.js';
import type { Limits } from '../limits.js';
import { ModelRegistry } from '../models/registry.js';

/** The eval's settings that its estimate and its run share (the body's, checked). */
export interface EvalSettings {
  budget?: number | undefined;
  outputTokens?: number | undefined;
  judgeModel?: string | undefined;
  judgeRubric?: string | undefined;
  targetAccuracy?: number | undefined;
  concurrency?: number | undefined;
}

export interface EvalTask {
  kind: 'eval';
  /** The questions, their videos as local files; or null with `needles`. */
  questions: Question[] | null;
  needles?: { video: string; count: number; seed?: number | undefined; out: string } | undefined;
  grid: EvalGrid;
  settings: EvalSettings;
  limits: Partial<Limits>;
  registry: { key: number; json: ReturnType<ModelRegistry['toJSON']> };
}

export type EvalEstimate = ReturnType<typeof reportJson>;

export type EvalTaskOutcome =
  | { ok: true; estimate: EvalEstimate; warnings: string[]; questions: Question[] }
  | { ok: false; error: ReturnType<OmniprepError['toJSON']> };

export async function estimateEval(t: EvalTask, signal?: AbortSignal): Promise<EvalTaskOutcome> {
  try {
    let questions = t.questions;
    if (t.needles) {
      const n = t.needles;
      const made = await makeNeedles(n.video, { count: n.count, seed: n.seed, out: n.out, limits: t.limits, signal });
      questions = loadQuestions(made.questions);
    }
    const registry = ModelRegistry.fromJson(t.registry.json, 'the service registry');
    const e = await evaluate(questions!, t.grid, { ...t.settings, limits: t.limits, registry, signal, dryRun: true });
    return { ok: true, estimate: reportJson(e), warnings: e.warnings, questions: questions! };
  } catch (e) {
    return { ok: false, error: (isOmniprepError(e) ? e : corruptInput(t.needles?.video ?? 'the eval', e)).toJSON() };
  }
}
