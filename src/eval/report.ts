/**
 * The eval's report, pure: per plan the questions, answers, accuracy with its Wilson 95%
 * interval, estimated and billed dollars, input tokens, frames and latency percentiles; the
 * Pareto frontier of accuracy against estimated dollars; the recommendation (the cheapest plan
 * whose accuracy is within the best plan's interval, or at least the target accuracy); and the
 * CSV and per-question JSONL forms.
 */
import type { PlanSpec } from './grid.js';

/** One question asked with one plan. */
export interface QuestionResult {
  plan: number;
  question: string;
  video: string;
  /** Whether an answer came back (from the model or the cache). */
  answered: boolean;
  correct: boolean;
  /** The times (seconds) of the frames the model saw. */
  frameTimes: number[];
  answer: string | null;
  /** Why there is no answer (budget, error, cancelled). */
  error?: string | undefined;
  estimatedUsd: number;
  billedUsd: number;
  inputTokens: number;
  latencyMs: number | null;
  cached: boolean;
  /** What the judge's call cost (`judge` scoring; 0 otherwise), apart from `billedUsd`. */
  judgeUsd: number;
  /** The judge's reply (`judge` scoring), or null when the judge did not answer. */
  verdict?: string | null | undefined;
}

export interface PlanReport extends PlanSpec {
  questions: number;
  answered: number;
  correct: number;
  /** correct / answered (0 when nothing was answered). */
  accuracy: number;
  ci95: [number, number];
  estimatedUsd: number;
  billedUsd: number;
  /** The judge's estimated and billed dollars (`judge` questions), apart from the answers' (not in `estimatedUsd`, `billedUsd` or the frontier). */
  estimatedJudgeUsd: number;
  judgeUsd: number;
  inputTokens: number;
  /** Frames sent over all its questions. */
  frames: number;
  latencyMs: { p50: number | null; p95: number | null };
}

export interface EvalReport {
  plans: PlanReport[];
  /** Indices of the plans on the frontier, cheapest first. */
  frontier: number[];
  recommended: number | null;
  requests: { sent: number; cached: number };
}

/** What evaluate() returns: the report, the estimate made before sending, and each question's result. */
export interface Evaluation extends EvalReport {
  /** The estimate of the whole eval, before anything was sent. */
  total: { estimatedUsd: number; estimatedInputTokens: number; estimatedJudgeUsd: number };
  dryRun: boolean;
  /** Per question and plan (empty for a dry run). */
  results: QuestionResult[];
  /** Sampling passes run (one per video and image size). */
  samplingPasses: number;
  /** The most distinct images held in memory at once (the frames of at most three videos, however many questions). */
  imagesHeldPeak: number;
  /** Why sending stopped (the budget), when it did. */
  stopped: string | null;
  warnings: string[];
  /** The files written to `out`. */
  files?: EvalFiles | undefined;
}

/** The files an eval writes to its output folder. */
export interface EvalFiles {
  json: string;
  csv: string;
  questions: string;
  svg: string;
  png: string;
}

const round = (x: number, digits = 10): number => Number(x.toFixed(digits));

/** Wilson score interval at 95% (z = 1.96) for `k` of `n`. */
export function wilson(k: number, n: number, z = 1.959963984540054): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [round(Math.max(0, centre - half), 6), round(Math.min(1, centre + half), 6)];
}

/** The q-quantile (nearest rank) of the values, or null when there are none. */
export function percentile(values: readonly number[], q: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A plan's line of the report from its question results. */
export function planReport(spec: PlanSpec, results: readonly QuestionResult[], frames: number, estimatedJudgeUsd = 0): PlanReport {
  const answered = results.filter((r) => r.answered);
  const correct = answered.filter((r) => r.correct).length;
  const latencies = answered.flatMap((r) => (r.latencyMs === null ? [] : [r.latencyMs]));
  return {
    ...spec,
    questions: results.length,
    answered: answered.length,
    correct,
    accuracy: answered.length ? round(correct / answered.length, 6) : 0,
    ci95: wilson(correct, answered.length),
    estimatedUsd: round(results.reduce((a, r) => a + r.estimatedUsd, 0)),
    billedUsd: round(results.reduce((a, r) => a + r.billedUsd, 0)),
    estimatedJudgeUsd: round(estimatedJudgeUsd),
    judgeUsd: round(results.reduce((a, r) => a + r.judgeUsd, 0)),
    inputTokens: results.reduce((a, r) => a + r.inputTokens, 0),
    frames,
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
  };
}

/** Plans no other plan beats (as accurate or more for as few dollars or fewer, better in one), cheapest first. */
export function frontier(plans: ReadonlyArray<Pick<PlanReport, 'accuracy' | 'estimatedUsd' | 'answered'>>): number[] {
  const idx = plans.map((_, i) => i).filter((i) => plans[i]!.answered > 0);
  const beats = (j: number, i: number): boolean => {
    const a = plans[j]!;
    const b = plans[i]!;
    return a.estimatedUsd <= b.estimatedUsd && a.accuracy >= b.accuracy && (a.estimatedUsd < b.estimatedUsd || a.accuracy > b.accuracy);
  };
  const on = idx.filter((i) => !idx.some((j) => j !== i && beats(j, i)));
  // Equal plans (same dollars and accuracy): the first stands for them.
  const kept = on.filter((i) => !on.some((j) => j < i && plans[j]!.estimatedUsd === plans[i]!.estimatedUsd && plans[j]!.accuracy === plans[i]!.accuracy));
  return kept.sort((a, b) => plans[a]!.estimatedUsd - plans[b]!.estimatedUsd || a - b);
}

/**
 * The cheapest plan whose accuracy is at least `target`, or, without a target, at least the lower
 * end of the best plan's interval (the best: most accurate, then cheapest). Null when none.
 */
export function recommend(plans: ReadonlyArray<Pick<PlanReport, 'accuracy' | 'estimatedUsd' | 'ci95' | 'answered'>>, target?: number): number | null {
  const idx = plans.map((_, i) => i).filter((i) => plans[i]!.answered > 0);
  if (!idx.length) return null;
  const cheapest = (a: number, b: number): number => plans[a]!.estimatedUsd - plans[b]!.estimatedUsd || plans[b]!.accuracy - plans[a]!.accuracy || a - b;
  let floor: number;
  if (target !== undefined) floor = target;
  else {
    const best = [...idx].sort((a, b) => plans[b]!.accuracy - plans[a]!.accuracy || cheapest(a, b))[0]!;
    floor = plans[best]!.ci95[0];
  }
  const ok = idx.filter((i) => plans[i]!.accuracy >= floor - 1e-12).sort(cheapest);
  return ok[0] ?? null;
}

const CSV_COLUMNS = [
  'every',
  'mode',
  'model',
  'detail',
  'send',
  'maxSide',
  'questions',
  'answered',
  'correct',
  'accuracy',
  'ci95Low',
  'ci95High',
  'estimatedUsd',
  'billedUsd',
  'estimatedJudgeUsd',
  'judgeUsd',
  'inputTokens',
  'frames',
  'latencyP50Ms',
  'latencyP95Ms',
  'frontier',
  'recommended',
] as const;

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per plan, with a header. */
export function reportCsv(r: EvalReport): string {
  const rows = r.plans.map((p, i) =>
    [
      p.every,
      p.mode,
      p.model,
      p.detail,
      p.send,
      p.maxSide,
      p.questions,
      p.answered,
      p.correct,
      p.accuracy,
      p.ci95[0],
      p.ci95[1],
      p.estimatedUsd,
      p.billedUsd,
      p.estimatedJudgeUsd,
      p.judgeUsd,
      p.inputTokens,
      p.frames,
      p.latencyMs.p50,
      p.latencyMs.p95,
      r.frontier.includes(i),
      r.recommended === i,
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}

/** One JSON line per question and plan: which plan, which question, right or not, the frame times seen, the raw answer. */
export function questionLines(results: readonly QuestionResult[]): string {
  return results
    .map((r) =>
      JSON.stringify({
        plan: r.plan,
        question: r.question,
        video: r.video,
        correct: r.correct,
        answered: r.answered,
        frameTimes: r.frameTimes,
        answer: r.answer,
        ...(r.verdict !== undefined ? { verdict: r.verdict } : {}),
        ...(r.error ? { error: r.error } : {}),
        estimatedUsd: r.estimatedUsd,
        billedUsd: r.billedUsd,
        judgeUsd: r.judgeUsd,
        cached: r.cached,
      }),
    )
    .join('\n')
    .concat(results.length ? '\n' : '');
}

/** The text table: one row per plan (a dry run: what it would cost, no answers). */
export function reportTable(r: EvalReport, o: { dryRun?: boolean } = {}): Array<Array<string | number>> {
  const usd = (x: number): string => `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`;
  const head = ['#', 'model', 'send', 'mode', 'every s', 'max side', 'detail', 'correct', 'accuracy (95% CI)', 'est $', 'billed $', 'frames', 'p50 ms', ''];
  const rows = r.plans.map((p, i) => [
    i,
    p.model,
    p.send,
    p.mode,
    p.every,
    p.maxSide ?? '-',
    p.detail,
    `${p.correct}/${p.answered}`,
    `${(p.accuracy * 100).toFixed(1)}% (${(p.ci95[0] * 100).toFixed(0)}-${(p.ci95[1] * 100).toFixed(0)})`,
    usd(p.estimatedUsd),
    usd(p.billedUsd),
    p.frames,
    p.latencyMs.p50 ?? '-',
    [r.frontier.includes(i) ? 'frontier' : '', r.recommended === i ? 'recommended' : ''].filter(Boolean).join(', '),
  ]);
  // A dry run has no answers: the columns of answers, bills and latency go.
  const keep = (_: unknown, c: number): boolean => !o.dryRun || ![7, 8, 10, 12, 13].includes(c);
  return [head, ...rows].map((row) => row.filter(keep));
}
