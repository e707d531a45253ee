/**
 * omniprep eval QUESTIONS --every 1,2,5,10 [--mode ...] [--max-side ...] [--detail ...]
 *   [--models a,b] [--send frames,video] [--budget USD] [--cache DIR] [--concurrency N]
 *   [--dry-run] [--out DIR] [--json] [--target-accuracy X]
 * omniprep eval --needles N VIDEO ...: burns N code words into a copy of VIDEO, writes their
 *   question set, and runs the grid on it.
 *
 * The grid's lists are read by src/eval/grid.ts (one place for the eval's option handling).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { OmniprepError } from '../../errors.js';
import { action, numberArg, table } from '../util.js';

interface EvalCliOptions {
  every?: string;
  mode?: string;
  maxSide?: string;
  detail?: string;
  models?: string;
  send?: string;
  videos?: string;
  budget?: number;
  cache?: string;
  concurrency?: number;
  dryRun?: boolean;
  out?: string;
  targetAccuracy?: number;
  needles?: number;
  seed?: number;
  outputTokens?: number;
  modelsFile?: string;
  rule?: string;
  baseUrl?: string;
  apiKey?: string;
  timeout?: number;
  retries?: number;
  judgeModel?: string;
  judgeRubric?: string;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const usd = (x: number): string => `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`;

export function register(program: Command): void {
  program
    .command('eval <questions>')
    .description('what each sampling plan buys: every question asked with every plan of the grid, accuracy against dollars, the frontier and a recommendation')
    .option('--every <list>', 'seconds between frames, e.g. 1,2,5,10 (default 5)')
    .option('--mode <list>', 'sampling modes: keyframe, exact, scene (default keyframe)')
    .option('--max-side <list>', "largest image sides in px, e.g. 512,768 (default the model's size)")
    .option('--detail <list>', "detail levels, e.g. low,high (default each model's auto)")
    .option('--models <list>', 'models, e.g. gpt-5.5,claude-sonnet-4.5,gemini-2.5-flash (default gpt-5.5)')
    .option('--send <list>', 'frames (default), video (Gemini: the clip as video), or frames,video')
    .option('--videos <dir>', 'Video-MME question files (.json): the folder of their videos (<video_id>.mp4)')
    .option(
      '--needles <n>',
      'QUESTIONS is a video: burn N code words into a copy, write their questions, and run the grid on it',
      numberArg('--needles', { min: 1, max: 1000, integer: true }),
    )
    .option('--seed <n>', 'seed of the needles (default 1)', numberArg('--seed', { min: 0, integer: true }))
    .option('--budget <usd>', 'refuse to start when the estimate is over, stop before the request that would go over', numberArg('--budget', { min: 0 }))
    .option('--cache <dir>', 'keep answers here by request hash; a rerun sends only what is not there')
    .option('--concurrency <n>', 'questions in flight at once (default 8)', numberArg('--concurrency', { min: 1, max: 256, integer: true }))
    .option('--dry-run', 'price every plan and send nothing')
    .option(
      '--out <dir>',
      'write report.json, report.csv, questions.jsonl, chart.svg and chart.png here (with --needles also the copy and its questions; default ./omniprep-eval there)',
    )
    .option('--target-accuracy <share>', 'recommend the cheapest plan with at least this accuracy (0-1)', numberArg('--target-accuracy', { min: 0, max: 1 }))
    .option('--judge-model <model>', "the model that grades questions with scoring judge (default each plan's model)")
    .option('--judge-rubric <file>', "a text file with the judge's rubric (default: the stated rubric in the README)")
    .option('--output-tokens <n>', 'output tokens each answer is estimated at (default 100)', numberArg('--output-tokens', { min: 1, integer: true }))
    .option('--models-file <file>', 'a JSON file of models and rules that add to or override the registry (also OMNIPREP_MODELS)')
    .option('--rule <model>', 'for a model the registry does not know: the known model whose rules it follows')
    .option('--base-url <url>', "the provider's server (default its environment variable, else the provider)")
    .option('--api-key <key>', "API key (default the provider's environment variable)")
    .option('--timeout <sec>', 'per attempt (default 120)', numberArg('--timeout', { min: 1 }))
    .option('--retries <n>', 'retries on 429, 5xx and timeouts (default 4)', numberArg('--retries', { min: 0, integer: true }))
    .action(
      action(async (questions: string, o: EvalCliOptions) => {
        const { gridFromFlags } = await import('../../eval/grid.js');
        const grid = gridFromFlags({ every: o.every, mode: o.mode, maxSide: o.maxSide, detail: o.detail, models: o.models, send: o.send });
        let file = questions;
        let out = o.out;
        if (o.needles !== undefined) {
          const { makeNeedles } = await import('../../eval/needles.js');
          out ??= 'omniprep-eval';
          file = (await makeNeedles(questions, { count: o.needles, seed: o.seed, out })).questions;
        }
        const { evaluate } = await import('../../eval/evaluate.js');
        const { reportJson } = await import('../../eval/output.js');
        const e = await evaluate(file, grid, {
          videos: o.videos,
          budget: o.budget,
          cache: o.cache,
          concurrency: o.concurrency,
          dryRun: o.dryRun,
          out,
          targetAccuracy: o.targetAccuracy,
          outputTokens: o.outputTokens,
          modelsFile: o.modelsFile,
          rule: o.rule,
          baseURL: o.baseUrl,
          apiKey: o.apiKey,
          timeoutMs: o.timeout === undefined ? undefined : o.timeout * 1000,
          maxRetries: o.retries,
          judgeModel: o.judgeModel,
          judgeRubric: o.judgeRubric === undefined ? undefined : readRubric(o.judgeRubric),
        }).catch((err: unknown) => {
          // The registry's hint names --models FILE, which is --models-file FILE here.
          if (err instanceof OmniprepError && err.code === 'UNKNOWN_MODEL') {
            throw new OmniprepError(err.code, err.message.replace('--models FILE', '--models-file FILE'), { input: err.input, details: err.details });
          }
          throw err;
        });
        return { json: reportJson(e), text: await evalText(e, file) };
      }),
    );
}

function readRubric(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new OmniprepError('INVALID_OPTION', `option --judge-rubric: ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      input: file,
    });
  }
}

/** The judge's share, when the eval has judge questions: estimated, and billed after a run. */
function judgeLine(e: import('../../eval/report.js').Evaluation): string[] {
  if (!e.total.estimatedJudgeUsd) return [];
  const billed = e.dryRun ? '' : `, billed ${usd(e.plans.reduce((a, p) => a + p.judgeUsd, 0))}`;
  return [`judge: estimated ${usd(e.total.estimatedJudgeUsd)}${billed} (apart from the answers' dollars above)`];
}

async function evalText(e: import('../../eval/report.js').Evaluation, file: string): Promise<string> {
  const { reportTable } = await import('../../eval/report.js');
  const { planLabel } = await import('../../eval/chart.js');
  const rec = e.recommended === null ? null : e.plans[e.recommended]!;
  const lines = [
    `${file}: ${plural(e.plans[0]?.questions ?? 0, 'question')} x ${plural(e.plans.length, 'plan')}; estimate ${usd(e.total.estimatedUsd)} (${e.total.estimatedInputTokens} input tokens)`,
    '',
    table(reportTable(e, { dryRun: e.dryRun })),
    '',
    e.dryRun
      ? 'dry run: nothing was sent'
      : `requests: ${e.requests.sent} sent, ${e.requests.cached} from the cache${e.stopped ? `; stopped: ${e.stopped}` : ''}`,
    ...(e.dryRun
      ? []
      : [
          rec
            ? `recommended: #${e.recommended} (${planLabel(rec, e.plans)}, ${(rec.accuracy * 100).toFixed(1)}% for ${usd(rec.estimatedUsd)})`
            : 'recommended: none',
        ]),
    ...judgeLine(e),
    ...e.warnings.map((w) => `warning: ${w}`),
    ...(e.files ? [`wrote ${Object.values(e.files).join(', ')}`] : []),
  ];
  return lines.join('\n');
}
