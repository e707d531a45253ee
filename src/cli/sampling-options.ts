/** The sampling and estimate options of DESIGN.md, shared by plan, sample, request, batch, run and cost-curve. */
import { Option, type Command } from 'commander';
import { TIERS, type Tier } from '../models/registry.js';
import { parseGrid, pickSampling } from '../plan/options.js';
import { FORMATS, MODES, type PlanOptions, type SamplingOptions } from '../plan/types.js';
import { choiceArg, numberArg } from './util.js';
import { modelOptions, withModelOptions, type ModelCliOptions } from './model-options.js';

/** The sampling options as commander parses them (--grid is still text there). */
export interface SamplingCliOptions extends ModelCliOptions, Omit<SamplingOptions, 'grid'> {
  grid?: string;
  detail?: string;
}

export interface EstimateCliOptions extends SamplingCliOptions {
  prompt?: string;
  audio?: boolean;
  tier?: Tier;
  budget?: number;
  maxTokens?: number;
  outputTokens?: number;
  allowPrivateUrls?: boolean;
}

export function withSamplingOptions(cmd: Command): Command {
  return withModelOptions(cmd)
    .option('--every <sec>', 'seconds between frames (default 5)', numberArg('--every', { min: 0.001 }))
    .addOption(new Option('--mode <mode>', 'keyframe (fast, default), exact, or scene (decodes everything)').argParser(choiceArg('--mode', MODES)))
    .option('--start <sec>', 'clip window start', numberArg('--start', { min: 0 }))
    .option('--end <sec>', 'clip window end', numberArg('--end', { min: 0.001 }))
    .option('--max-frames <n>', 'thin evenly to at most n frames', numberArg('--max-frames', { min: 1, integer: true }))
    .option('--max-side <px>', 'largest side of the images', numberArg('--max-side', { min: 16, integer: true }))
    .addOption(new Option('--format <fmt>', 'jpeg (default), webp or png').argParser(choiceArg('--format', FORMATS)))
    .option('--quality <q>', 'jpeg/webp quality 1-100 (default 80)', numberArg('--quality', { min: 1, max: 100, integer: true }))
    .option('--dedup', 'drop frames that repeat the last kept one (perceptual hash)')
    .option('--dedup-threshold <bits>', 'hash bits that may differ in a repeat (default 6 of 128)', numberArg('--dedup-threshold', { min: 0, max: 128, integer: true }))
    .option('--tolerance <sec>', 'keyframe mode: window half-width around each target (default every/2)', numberArg('--tolerance', { min: 0 }))
    .option('--scene-threshold <s>', 'scene mode: scene score 0-1 that counts as a cut (default 0.3)', numberArg('--scene-threshold', { min: 0, max: 1 }))
    .option('--min-gap <sec>', 'scene mode: no two frames closer (default every/5)', numberArg('--min-gap', { min: 0 }))
    .option('--max-gap <sec>', 'scene mode: a frame at least this often (default 4 x every)', numberArg('--max-gap', { min: 0.001 }))
    .option('--grid <CxR>', 'tile consecutive frames into grids, e.g. 2x2, with timestamps drawn on them')
    .option('--size-slack <f>', 'how far below the model size the size search may go (0-0.5, default 0.1)', numberArg('--size-slack', { min: 0, max: 0.5 }))
    .option('--detail <level>', 'image detail: low, high, original, auto (what the model accepts)');
}

export function withEstimateOptions(cmd: Command): Command {
  return withSamplingOptions(cmd)
    .option('--prompt <text>', 'the prompt (its tokens count)', '')
    .option('--audio', 'include the audio track')
    .addOption(new Option('--tier <tier>', 'price tier: standard, batch, flex, priority').argParser(choiceArg('--tier', TIERS)))
    .option('--budget <usd>', 'choose the densest plan that costs at most this', numberArg('--budget', { min: 0.000001 }))
    .option('--max-tokens <n>', 'choose the densest plan with at most this many input tokens', numberArg('--max-tokens', { min: 1, integer: true }))
    .option('--output-tokens <n>', 'expected output tokens in the estimate (default 1000)', numberArg('--output-tokens', { min: 0, integer: true }))
    .option('--allow-private-urls', 'let an http(s) input reach loopback, private and link-local addresses (trusted networks only)');
}

export function planOptionsFromCli(o: EstimateCliOptions): PlanOptions {
  return {
    ...modelOptions(o),
    ...pickSampling(o),
    grid: o.grid ? parseGrid(o.grid) : undefined,
    model: o.model,
    detail: o.detail,
    prompt: o.prompt,
    audio: o.audio,
    tier: o.tier,
    budget: o.budget,
    maxTokens: o.maxTokens,
    outputTokens: o.outputTokens,
    ...(o.allowPrivateUrls ? { remote: { allowPrivate: true } } : {}),
  };
}
