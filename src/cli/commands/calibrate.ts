/**
 * omniprep calibrate --model M [--base-url URL] [--api-key K] [--api chat|responses] [--sizes WxH,...]
 *   [--details high,low] [--save FILE] [--json]
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { action, numberArg, table } from '../util.js';
import { DEFAULT_MODEL, modelOptions, withModelOptions, type ModelCliOptions } from '../model-options.js';
import type { CalibrationReport } from '../../calibrate/calibrate.js';
import { OPENAI_API_NAMES, type OpenAIApi } from '../../providers/openai/render.js';

interface CalibrateCliOptions extends ModelCliOptions {
  baseUrl?: string;
  apiKey?: string;
  api?: 'chat' | 'responses';
  sizes?: string[];
  details?: string[];
  text?: string;
  save?: string;
  tolerance?: number;
  concurrency?: number;
}

function list(name: string) {
  return (value: string): string[] => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!items.length) throw new InvalidArgumentError(`${name} needs at least one value`);
    return items;
  };
}

function sizeList(value: string): string[] {
  const items = list('--sizes')(value);
  for (const s of items) if (!/^\d+x\d+$/i.test(s)) throw new InvalidArgumentError(`--sizes must be WIDTHxHEIGHT,... e.g. 512x512,1030x768, got "${s}"`);
  return items;
}

export function describeCalibration(r: CalibrationReport): string {
  const num = (x: number | null): string => (x === null ? '-' : String(x));
  const rows: Array<Array<string | number>> = [['image', 'detail', 'bytes', 'input tok', 'image tok', 'fit', 'resid', 'registry', 'resid']];
  for (const i of r.images)
    rows.push([
      `${i.width}x${i.height}`,
      i.detail,
      i.bytes,
      i.inputTokens,
      i.imageTokens,
      num(i.predicted),
      num(i.residual),
      num(i.registryPredicted),
      num(i.registryResidual),
    ]);
  const ranges = r.fit.ranges;
  const rangeText = ranges
    ? `  bills the same with: multiplier in (${ranges.multiplier[0].toFixed(4)}, ${ranges.multiplier[1].toFixed(4)}]; ${Object.entries(ranges.levels)
        .map(([d, l]) => `${d} budget ${l.budget[0]}${l.budget[1] === null ? ' or more' : `-${l.budget[1]}`} at max ${l.maxDim.join(' or ')} px`)
        .join('; ')}`
    : undefined;
  const fitLine = r.fit.explained
    ? `explained by: ${r.fit.description} (${r.fit.origin === 'registry' ? `registry rule ${r.fit.name}` : 'fitted'}; every bill ${r.fit.maxAbsResidual === 0 ? 'exact' : `within ${r.fit.maxAbsResidual} tokens`})`
    : `no rule explains every bill; nearest: ${r.fit.description}, off by up to ${r.fit.maxAbsResidual} tokens`;
  const reg = r.registry;
  const regLine =
    reg.rule === null
      ? `the registry has no image rule for ${r.model}`
      : reg.explained
        ? `registry rule ${reg.rule}: explains every bill`
        : `registry rule ${reg.rule}: off by up to ${reg.maxAbsResidual ?? '?'} tokens${reg.maxAbsResidual === null ? ' (it lacks a detail level sent)' : ''}`;
  return [
    `calibrate ${r.model} at ${r.baseURL} (${OPENAI_API_NAMES[r.api as OpenAIApi].label}, ${OPENAI_API_NAMES[r.api as OpenAIApi].inputTokens}), ${r.date}`,
    `text alone: ${r.baselineTokens} input tokens ("${r.text}")`,
    '',
    table(rows),
    '',
    fitLine,
    ...(r.fit.sameAs.length ? [`  the same bills as registry rule${r.fit.sameAs.length > 1 ? 's' : ''} ${r.fit.sameAs.join(', ')}`] : []),
    ...(rangeText ? [rangeText] : []),
    regLine,
    `spent: ${r.usage.requests} requests, ${r.usage.inputTokens} input and ${r.usage.outputTokens} output tokens, $${r.usage.costUsd.toFixed(6)}`,
    ...(r.keptLevels.length
      ? [
          `the override keeps the registry's max size and budget for ${r.keptLevels.join(', ')} (not measured; send --details ${r.keptLevels.join(',')} with --api responses to measure)`,
        ]
      : []),
    r.saved ? `saved the override to ${r.saved}: use it with --models ${r.saved} or OMNIPREP_MODELS=${r.saved}` : 'not saved (--save FILE writes the override)',
  ].join('\n');
}

export function register(program: Command): void {
  withModelOptions(
    program
      .command('calibrate')
      .description('send generated images to a server, read the tokens it bills, and find the image rule that explains them; --save writes a registry override')
      .option('--base-url <url>', 'an OpenAI-compatible server (default OPENAI_BASE_URL, else OpenAI)')
      .option('--api-key <key>', 'API key (default OPENAI_API_KEY)')
      .addOption(new Option('--api <api>', 'chat (default) or responses').choices(['chat', 'responses']))
      .option('--sizes <list>', 'image sizes, e.g. 512x512,1030x768 (default 512x512,1024x1024,1030x768,2048x2048,1800x2400,300x200)', sizeList)
      .option('--details <list>', 'detail levels to send each size at (default high,low)', list('--details'))
      .option('--text <text>', 'the fixed text sent with every image and alone once')
      .option('--tolerance <tokens>', 'largest residual still counted as explained (default 0)', numberArg('--tolerance', { min: 0, integer: true }))
      .option('--concurrency <n>', 'requests in flight at once (default 4)', numberArg('--concurrency', { min: 1, max: 64, integer: true }))
      .option('--save <file>', 'write the registry override (merged into FILE when it holds overrides already)'),
  ).action(
    action(async (o: CalibrateCliOptions) => {
      const [{ calibrate }, { parseSize }] = await Promise.all([import('../../calibrate/calibrate.js'), import('../../calibrate/images.js')]);
      const r = await calibrate({
        ...modelOptions(o),
        model: o.model ?? DEFAULT_MODEL,
        baseURL: o.baseUrl,
        apiKey: o.apiKey,
        api: o.api,
        sizes: o.sizes?.map(parseSize),
        details: o.details,
        text: o.text,
        tolerance: o.tolerance,
        concurrency: o.concurrency,
        save: o.save,
      });
      return { json: r, text: describeCalibration(r) };
    }),
  );
}
