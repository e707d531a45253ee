/**
 * What an eval writes to its output folder: `report.json` (the `--json` document), `report.csv`
 * (one row per plan), `questions.jsonl` (one line per question and plan: right or not, the frame
 * times seen, the raw answer), and the chart as `chart.svg` and `chart.png`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OmniprepError } from '../errors.js';
import { svgToPng } from '../cost/chart.js';
import { evalSvg } from './chart.js';
import { questionLines, reportCsv, type EvalFiles, type EvalReport, type Evaluation } from './report.js';

type Total = Evaluation['total'] & { billedUsd?: number; judgeUsd?: number };

/**
 * The report as `--json` prints it: plans, frontier, recommended, requests, and the total: the
 * estimate (the judge's share apart), and after a run the billed dollars of the answers and of the judge.
 */
export function reportJson(e: Evaluation): EvalReport & { total: Total } {
  const sum = (f: (p: Evaluation['plans'][number]) => number): number => Number(e.plans.reduce((a, p) => a + f(p), 0).toFixed(10));
  const total: Total = e.dryRun ? e.total : { ...e.total, billedUsd: sum((p) => p.billedUsd), judgeUsd: sum((p) => p.judgeUsd) };
  return { plans: e.plans, frontier: e.frontier, recommended: e.recommended, requests: e.requests, total };
}

export async function writeEvalOutputs(dir: string, e: Evaluation): Promise<EvalFiles> {
  const out = resolve(dir);
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    throw new OmniprepError('INVALID_OPTION', `option out: ${dir} cannot be made (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      input: dir,
    });
  }
  const files: EvalFiles = {
    json: join(out, 'report.json'),
    csv: join(out, 'report.csv'),
    questions: join(out, 'questions.jsonl'),
    svg: join(out, 'chart.svg'),
    png: join(out, 'chart.png'),
  };
  writeFileSync(files.json, `${JSON.stringify(reportJson(e), null, 2)}\n`);
  writeFileSync(files.csv, reportCsv(e));
  writeFileSync(files.questions, questionLines(e.results));
  const svg = await evalSvg(e);
  writeFileSync(files.svg, svg);
  writeFileSync(files.png, await svgToPng(svg));
  return files;
}
