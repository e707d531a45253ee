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

/** The report as `--json` prints it: plans, frontier, recommended, requests (a dry run adds its total). */
export function reportJson(e: Evaluation): EvalReport & { total?: Evaluation['total'] } {
  return { plans: e.plans, frontier: e.frontier, recommended: e.recommended, requests: e.requests, ...(e.dryRun ? { total: e.total } : {}) };
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
