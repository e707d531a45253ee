/**
 * Runs an eval on a worker (the embedded runner or a BullMQ worker, through JobWorker): the
 * library's `evaluate()` on the stored questions and grid, calling the model with the server's
 * base URL and key, the budget enforced as the library does (it stops before the request that
 * would go over), answers cached in the eval's folder (an attempt after a restart sends only
 * what is not there). Each answer is progress: the bus carries it at once (SSE), the store at most
 * every 250 ms. The evaluation is kept in the eval's folder in the client's names; the record's
 * result is its report (what `omniprep eval --json` prints) and why sending stopped.
 */
import { join } from 'node:path';
import { evaluate } from '../eval/evaluate.js';
import { reportJson } from '../eval/output.js';
import type { QuestionResult } from '../eval/report.js';
import type { ResolvedConfig } from './config.js';
import type { DataDir } from './data.js';
import { EVALUATION, evalRenames, readStoredEval, writeEvalFile } from './eval-files.js';
import { scrubPaths, type Renames } from './paths.js';
import type { Counters, JobProgress, JobRecord } from './store/types.js';

export interface EvalRun {
  result: Record<string, unknown>;
  counters: Partial<Counters>;
}

export async function runEvalJob(
  deps: { config: ResolvedConfig; data: DataDir },
  job: JobRecord,
  signal: AbortSignal,
  report: (p: Partial<JobProgress>, force?: boolean) => void,
  renamed: (r: Renames) => void,
): Promise<EvalRun> {
  const { config, data } = deps;
  const stored = await readStoredEval(job, data);
  const renames = evalRenames(stored);
  renamed(renames);
  const dir = data.abs(job.outputDir);
  let done = 0;
  let spent = 0;
  const onQuestion = (r: QuestionResult): void => {
    done++;
    spent += r.billedUsd + r.judgeUsd;
    const answer = { plan: r.plan, question: r.question, answered: r.answered, correct: r.correct, billedUsd: r.billedUsd };
    report({ stage: 'calling', questionsDone: done, spentUsd: Number(spent.toFixed(10)), answer });
  };
  report({ stage: 'sampling', questionsDone: 0, spentUsd: 0 }, true);
  const e = await evaluate(stored.questions, stored.grid, {
    ...stored.settings,
    limits: config.limits,
    signal,
    cache: join(dir, 'cache'),
    baseURL: config.baseURL,
    apiKey: config.apiKey,
    onQuestion,
  });
  if (signal.aborted) throw signal.reason;
  const evaluation = scrubPaths(e, renames);
  await writeEvalFile(dir, EVALUATION, evaluation);
  const json = reportJson(evaluation);
  const billed = (json.total.billedUsd ?? 0) + (json.total.judgeUsd ?? 0);
  return {
    result: { ...json, stopped: evaluation.stopped, warnings: evaluation.warnings },
    counters: { dollarsSpentTotal: billed, tokensSpentTotal: evaluation.results.reduce((a, r) => a + (r.answered ? r.inputTokens : 0), 0) },
  };
}
