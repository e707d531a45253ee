/**
 * omniprep cost-curve <input> --every 1,2,5,10,30 [--models gpt-5.5,gpt-5-mini] [--detail low,high]
 *   [--mode keyframe|exact|scene] --out curve.svg [--png curve.png] [--json]
 *
 * Here `--models` lists the models to compare (DESIGN.md's contract for this command); a registry
 * override file is `--models-file FILE` (or OMNIPREP_MODELS), as `--models FILE` is elsewhere.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { OmniprepError } from '../../errors.js';
import { TIERS, type Tier } from '../../models/registry.js';
import { parseGrid } from '../../plan/options.js';
import { MODES, SENDS, type Mode, type Send } from '../../plan/types.js';
import { action, choiceArg, numberArg, table } from '../util.js';

interface CostCurveCliOptions {
  every: number[];
  models?: string[];
  model?: string[];
  detail?: string[];
  mode?: Mode;
  start?: number;
  end?: number;
  maxFrames?: number;
  maxSide?: number;
  tolerance?: number;
  sceneThreshold?: number;
  minGap?: number;
  maxGap?: number;
  grid?: string;
  sizeSlack?: number;
  prompt?: string;
  audio?: boolean;
  outputTokens?: number;
  tier?: Tier;
  modelsFile?: string;
  rule?: string;
  minShot?: number;
  shots: boolean;
  out?: string;
  png?: string;
  spec?: string;
  width?: number;
  send?: Send[];
}

function numberList(name: string) {
  return (value: string): number[] => {
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
    const out = items.map(Number);
    if (!items.length || out.some((n) => !Number.isFinite(n) || n <= 0)) throw new InvalidArgumentError(`${name} must be a comma-separated list of seconds > 0, got "${value}"`);
    return out;
  };
}

function nameList(name: string) {
  return (value: string, previous: string[] | undefined): string[] => {
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
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
    throw new OmniprepError('INVALID_OPTION', `option ${option}: cannot write ${file} (${code === 'ENOENT' ? 'no such directory' : code ?? (e as Error).message})`, { input: file, details: { option } });
  }
  return path;
}

export function register(program: Command): void {
  program
    .command('cost-curve <input>')
    .description('token cost against sampling interval: a table (frames, tokens, dollars per tier, shots covered) and a chart (SVG, PNG)')
    .option('--every <list>', 'sampling intervals in seconds', numberList('--every'), [1, 2, 5, 10, 30])
    .option('--models <list>', 'models to compare, e.g. gpt-5.5,gpt-5-mini (default gpt-5.5)', nameList('--models'))
    .option('--model <list>', 'same as --models', nameList('--model'))
    .option('--detail <list>', 'detail levels, e.g. low,high (default: each model\'s auto)', nameList('--detail'))
    // Issue 14: frames and/or Gemini's native video, one series each, so the cheaper way shows.
    .option('--send <list>', 'frames (default), video (Gemini: the clip as video at 1/every fps), or frames,video', (v: string, prev: Send[] | undefined) => {
      const items = nameList('--send')(v, prev);
      const bad = items.find((x) => !(SENDS as readonly string[]).includes(x));
      if (bad) throw new InvalidArgumentError(`--send must be frames, video or both, got "${bad}"`);
      return items as Send[];
    })
    .addOption(new Option('--mode <mode>', 'keyframe (default), exact or scene').argParser(choiceArg('--mode', MODES)))
    .option('--start <sec>', 'clip window start', numberArg('--start', { min: 0 }))
    .option('--end <sec>', 'clip window end', numberArg('--end', { min: 0.001 }))
    .option('--max-frames <n>', 'thin evenly to at most n frames', numberArg('--max-frames', { min: 1, integer: true }))
    .option('--max-side <px>', 'largest side of the images', numberArg('--max-side', { min: 16, integer: true }))
    .option('--tolerance <sec>', 'keyframe mode: window half-width around each target (default every/2)', numberArg('--tolerance', { min: 0 }))
    .option('--scene-threshold <s>', 'scene score 0-1 that counts as a cut, for shots and scene mode (default 0.3)', numberArg('--scene-threshold', { min: 0, max: 1 }))
    .option('--min-gap <sec>', 'scene mode: no two frames closer (default every/5)', numberArg('--min-gap', { min: 0 }))
    .option('--max-gap <sec>', 'scene mode: a frame at least this often (default 4 x every)', numberArg('--max-gap', { min: 0.001 }))
    .option('--grid <CxR>', 'tile consecutive frames into grids, e.g. 2x2')
    .option('--size-slack <f>', 'how far below the model size the size search may go (0-0.5, default 0.1)', numberArg('--size-slack', { min: 0, max: 0.5 }))
    .option('--prompt <text>', 'the prompt (its tokens count)', '')
    .option('--audio', 'include the audio track')
    .option('--output-tokens <n>', 'expected output tokens per run (default 1000)', numberArg('--output-tokens', { min: 0, integer: true }))
    .addOption(new Option('--tier <tier>', 'price tier of costUsd (every tier is in the table)').argParser(choiceArg('--tier', TIERS)))
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
          throw new OmniprepError('INVALID_OPTION', `option --models: ${asFile} looks like a file; cost-curve's --models lists models (gpt-5.5,gpt-5-mini), a registry file is --models-file FILE`, { details: { option: '--models' } });
        }
        const { costCurve, costCurveTable } = await import('../../cost/curve.js');
        const curve = await costCurve(input, {
          every: o.every,
          models: models.length ? [...new Set(models)] : undefined,
          details: o.detail,
          sends: o.send,
          mode: o.mode,
          start: o.start,
          end: o.end,
          maxFrames: o.maxFrames,
          maxSide: o.maxSide,
          tolerance: o.tolerance,
          sceneThreshold: o.sceneThreshold,
          minGap: o.minGap,
          maxGap: o.maxGap,
          grid: o.grid ? parseGrid(o.grid) : undefined,
          sizeSlack: o.sizeSlack,
          prompt: o.prompt,
          audio: o.audio,
          outputTokens: o.outputTokens,
          tier: o.tier,
          modelsFile: o.modelsFile,
          rule: o.rule,
          minShotSec: o.minShot,
          shots: o.shots,
        }).catch((e: unknown) => {
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
            ? [`shots: ${shots.shots.length} (scene score >= ${shots.threshold}, cuts at least ${shots.minShotSec} s apart)${shots.cuts.length ? `; cuts at ${shots.cuts.map((c) => `${c} s`).join(', ')}` : ''}`]
            : []),
          ...curve.warnings.map((w) => `warning: ${w}`),
          ...Object.entries(files).map(([k, v]) => `wrote ${k === 'out' ? 'SVG' : k === 'png' ? 'PNG' : 'spec'}: ${v}`),
        ];
        return { json: { ...curve, files }, text: text.join('\n') };
      }),
    );
}
