/**
 * Runs an eval on a worker (the embedded runner or a BullMQ worker, through JobWorker): the
 * library's `evaluate()` on the stored questions and grid, calling each model (and the judge)
 * through its provider's server and key from the config, the budget enforced as the library does (it stops before the request that
 * would go over), answers cached in the eval's folder (an attempt after a restart sends only
 * what is not there). Each answer is progress: the bus carries it at once (SSE), the store at most
 * every 250 ms. The evaluation is kept in the eval's folder in the client's names; the record's
 * result is its report (what `omniprep eval --json` prints) and why sending stopped.
 */
import { join } from 'node:path';
import { evaluate } from '../eval/evaluate.js';
import { expandGrid, type EvalGrid } from '../eval/grid.js';
import { registry } from '../models/registry.js';
import { getModel } from '../models/tokens.js';
import { CLIENT_DEFAULTS } from '../providers/openai/client.js';
import { adapterOf, providerOf, type Provider } from '../providers/registry.js';
import type { ClientOptions } from '../providers/types.js';
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
    ...(await evalClients(config, stored.grid, stored.settings.judgeModel)),
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

/** The option each provider's SDK client is given as (ClientOptions). */
const CLIENT_KEY: Record<Provider, 'client' | 'anthropicClient' | 'geminiClient'> = {
  openai: 'client',
  local: 'client',
  anthropic: 'anthropicClient',
  gemini: 'geminiClient',
};

/**
 * The SDK clients of the providers the grid's models (and the judge) use, each made with that
 * provider's server and key from the config, since one eval may ask models of several providers.
 */
async function evalClients(config: ResolvedConfig, grid: EvalGrid, judgeModel: string | undefined): Promise<ClientOptions> {
  const reg = registry();
  const models = new Set(expandGrid(grid, { registry: reg }).plans.map((p) => p.model));
  if (judgeModel) models.add(judgeModel);
  const providers = new Set([...models].map((m) => providerOf(getModel(m, { registry: reg }))));
  const o: Record<string, unknown> = {};
  for (const p of providers) {
    const { baseURL, apiKey } = config.providers[p];
    o[CLIENT_KEY[p]] = await adapterOf(p).createClient({ baseURL, apiKey, timeoutMs: CLIENT_DEFAULTS.timeoutMs });
  }
  return o as ClientOptions;
}
