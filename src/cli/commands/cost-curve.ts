/**
 * omniprep cost-curve <input> --every 1,2,5,10,30 [--models gpt-5.5,gpt-5-mini] [--detail low,high]
 *   [--mode keyframe|exact|scene] --out curve.svg [--png curve.png] [--json]
 *
 * Here `--models` lists the models to compare (the README's contract for this command); a registry
 * override file is `--models-file FILE` (or OMNIPREP_MODELS), as `--models FILE` is elsewhere.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { OmniprepError } from '../../errors.js';
import { ESTIMATE, pickSampling, SAMPLING, type EstimateOptions, type SamplingOptions } from '../../options/sampling.js';
import { addFlags } from '../flags.js';
import { COST_CURVE_DEFAULTS } from '../../cost/defaults.js';
import { flagParser } from '../../options/define.js';
import { SENDS, type Send } from '../../plan/types.js';
import { action, numberArg, table } from '../util.js';
import { createProgress } from '../progress.js';

interface CostCurveCliOptions extends Omit<SamplingOptions, 'every' | 'detail'>, Omit<EstimateOptions, 'model' | 'send'> {
  send?: Send[];
  every: number[];
  models?: string[];
  model?: string[];
  detail?: string[];
  modelsFile?: string;
  rule?: string;
  minShot?: number;
  shots: boolean;
  out?: string;
  png?: string;
  spec?: string;
  width?: number;
}

/** A comma-separated list of intervals, each checked as --every is everywhere else. */
/** The first cut times (a 10-minute file can have hundreds: --json lists them all). */
const CUTS_SHOWN = 12;
export function cutList(cuts: readonly number[]): string {
  if (!cuts.length) return '';
  const shown = cuts.slice(0, CUTS_SHOWN).map((c) => `${c} s`);
  return `; cuts at ${shown.join(', ')}${cuts.length > CUTS_SHOWN ? ` and ${cuts.length - CUTS_SHOWN} more (--json lists them all)` : ''}`;
}

function numberList(name: string) {
  const one = flagParser('every', SAMPLING.every);
  return (value: string): number[] => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!items.length) throw new InvalidArgumentError(`option ${name}: expected a comma-separated list of seconds, got "${value}"`);
    return items.map((i) => one(i) as number);
  };
}

function nameList(name: string) {
  return (value: string, previous: string[] | undefined): string[] => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!items.length) throw new InvalidArgumentError(`${name} needs at least one value`);
    return [...(previous ?? []), ...items];
  };
}

function write(file: string, data: string | Buffer, option: string): string {
  const path = resolve(file);
  try {
    writeFileSync(path, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OmniprepError(
      'INVALID_OPTION',
      `option ${option}: cannot write ${file} (${code === 'ENOENT' ? 'no such directory' : (code ?? (e as Error).message)})`,
      { input: file, details: { option } },
    );
  }
  return path;
}

export function register(program: Command): void {
  const cmd = program
    .command('cost-curve <input>')
    .description('token cost against sampling interval: a table (frames, tokens, dollars per tier, shots covered) and a chart (SVG, PNG)')
    .option('--every <list>', 'sampling intervals in seconds', numberList('--every'), COST_CURVE_DEFAULTS.every)
    .option('--models <list>', `models to compare, e.g. gpt-5.5,gpt-5-mini (default ${COST_CURVE_DEFAULTS.models.join(',')})`, nameList('--models'))
    .option('--model <list>', 'same as --models', nameList('--model'))
    .option('--detail <list>', "detail levels, e.g. low,high (default: each model's auto)", nameList('--detail'))
    // Frames and/or Gemini's native video, one series each, so the cheaper way shows.
    .option('--send <list>', 'frames (default), video (Gemini: the clip as video at 1/every fps), or frames,video', (v: string, prev: Send[] | undefined) => {
      const items = nameList('--send')(v, prev);
      const bad = items.find((x) => !(SENDS as readonly string[]).includes(x));
      if (bad) throw new InvalidArgumentError(`option --send: expected frames, video or both, got "${bad}"`);
      return items as Send[];
    });
  addFlags(cmd, SAMPLING, {
    omit: ['every', 'detail', 'format', 'quality', 'dedup', 'dedupThreshold'],
    help: {
      sceneDetector: 'how cuts are found, for shots and scene mode: adaptive, content or ffmpeg (default adaptive)',
      sceneThreshold: 'ffmpeg detector: scene score 0-1 that counts as a cut, for shots and scene mode (default 0.3)',
    },
  });
  addFlags(cmd, ESTIMATE, {
    omit: ['model', 'send', 'budget', 'maxTokens', 'windowSec'],
    help: { tier: 'price tier of costUsd (every tier is in the table)' },
  });
  cmd
    .option('--models-file <file>', 'a JSON file of models and rules that add to or override the registry (also OMNIPREP_MODELS)')
    .option('--rule <model>', 'for a model the registry does not know: the known model whose rules it follows')
    .option('--min-shot <sec>', 'cuts closer than this to the one before are not new shots (default 0.5)', numberArg('--min-shot', { min: 0 }))
    .option('--no-shots', 'skip the shot scan (it decodes the clip once) and the coverage column')
    .option('--out <file.svg>', 'write the chart as SVG')
    .option('--png <file.png>', 'write the chart as PNG')
    .option('--spec <file.json>', 'write the vega-lite spec of the chart')
    .option('--width <px>', 'width of the plot area (default 560)', numberArg('--width', { min: 200, max: 4000, integer: true }))
    .action(
      action(async (input: string, o: CostCurveCliOptions) => {
        const models = [...(o.models ?? []), ...(o.model ?? [])];
        const asFile = models.find((m) => /\.json$/i.test(m));
        if (asFile) {
          throw new OmniprepError(
            'INVALID_OPTION',
            `option --models: ${asFile} looks like a file; cost-curve's --models lists models (gpt-5.5,gpt-5-mini), a registry file is --models-file FILE`,
            { details: { option: '--models' } },
          );
        }
        const { costCurve, costCurveTable } = await import('../../cost/curve.js');
        // The long part is the scene scan (shots, or scene mode): its seconds scanned, on a TTY.
        const bar = createProgress({ total: 0, label: 's scanned for cuts', enabled: !program.opts().json });
        const curve = await costCurve(input, {
          ...pickSampling({ ...o, every: undefined, detail: undefined }),
          every: o.every,
          models: models.length ? [...new Set(models)] : undefined,
          details: o.detail,
          sends: o.send,
          prompt: o.prompt,
          audio: o.audio,
          outputTokens: o.outputTokens,
          tier: o.tier,
          modelsFile: o.modelsFile,
          rule: o.rule,
          minShotSec: o.minShot,
          shots: o.shots,
          onScanProgress: (done, total) => bar.update(Math.round(done), Math.round(total)),
        })
          .finally(() => bar.done())
          .catch((e: unknown) => {
            // The registry's hint names --models FILE, which is --models-file FILE here.
            if (e instanceof OmniprepError && e.code === 'UNKNOWN_MODEL') {
              throw new OmniprepError(e.code, e.message.replace('--models FILE', '--models-file FILE'), { input: e.input, details: e.details });
            }
            throw e;
          });
        const files: { out?: string; png?: string; spec?: string } = {};
        if (o.out || o.png || o.spec) {
          const { costCurveSpec, costCurveSvg, svgToPng } = await import('../../cost/chart.js');
          const chart = { width: o.width };
          if (o.spec) files.spec = write(o.spec, `${JSON.stringify(costCurveSpec(curve, chart), null, 2)}\n`, '--spec');
          if (o.out || o.png) {
            const svg = await costCurveSvg(curve, chart);
            if (o.out) files.out = write(o.out, svg, '--out');
            if (o.png) files.png = write(o.png, await svgToPng(svg), '--png');
          }
        }
        const shots = curve.shots;
        const text = [
          `${curve.input}: ${curve.durationSec.toFixed(2)} s, ${curve.width}x${curve.height}; ${curve.mode} mode; each run includes ${curve.outputTokens} expected output tokens (--output-tokens)`,
          '',
          table(costCurveTable(curve)),
          '',
          ...(shots
            ? [`shots: ${shots.shots.length} (${shots.detector} detector: ${shots.rule}, cuts at least ${shots.minShotSec} s apart)${cutList(shots.cuts)}`]
            : []),
          ...curve.warnings.map((w) => `warning: ${w}`),
          ...Object.entries(files).map(([k, v]) => `wrote ${k === 'out' ? 'SVG' : k === 'png' ? 'PNG' : 'spec'}: ${v}`),
        ];
        return { json: { ...curve, files }, text: text.join('\n') };
      }),
    );
}
