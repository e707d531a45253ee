/**
 * The sampling and estimate options, described once (see define.ts): plan(), sample(),
 * prepare(), run(), the CLI flags of every command that samples, cost-curve, and the service's
 * job options all come from these definitions.
 */
import { z } from 'zod';
import { invalidOption } from '../errors.js';
import { DEFAULT_MODEL, TIERS } from '../models/constants.js';
import { FORMATS, MODES, modeTraits, SCENE_DETECTORS } from '../media/formats.js';
import { groupDefaults, option, type GroupInput } from './define.js';

export { FORMATS, MODES, SCENE_DETECTORS, type ImageFormat, type Mode, type SceneDetector } from '../media/formats.js';

/** Most target times one plan may hold (checked from the span and `every`, before any list is built). */
export const MAX_TARGETS = 100_000;
/** Most request windows one plan may hold (span / windowSec). */
export const MAX_WINDOWS = 10_000;
/** Longest prompt or system text, in characters. */
export const MAX_TEXT_CHARS = 100_000;

/** `3x2` -> { cols: 3, rows: 2 } (the text is checked by the grid option's schema afterwards). */
export function parseGrid(text: string): { cols: number; rows: number } | string {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  return m ? { cols: Number(m[1]), rows: Number(m[2]) } : text;
}

const seconds = z.number().finite();
const cell = z.number().int().min(1).max(8);

export const SAMPLING = {
  every: option(seconds.min(0.001).max(86_400), { help: 'seconds between frames', default: 5 }),
  mode: option(z.enum(MODES), { help: 'keyframe (fast), exact, or scene (decodes everything)', default: 'keyframe' }),
  start: option(seconds.min(0), { help: 'clip window start, seconds' }),
  end: option(seconds.gt(0), { help: 'clip window end, seconds' }),
  maxFrames: option(z.number().int().min(1).max(MAX_TARGETS), { help: 'thin evenly to at most n frames' }),
  maxSide: option(z.number().int().min(16).max(16_384), { help: 'largest side of the images, pixels' }),
  format: option(z.enum(FORMATS), { help: 'image format: jpeg, webp or png', default: 'jpeg' }),
  quality: option(z.number().int().min(1).max(100), { help: 'jpeg/webp quality 1-100', default: 80 }),
  dedup: option(z.boolean(), { help: 'drop frames that repeat the last kept one (perceptual hash)' }),
  dedupThreshold: option(z.number().int().min(0).max(128), { help: 'hash bits (of 128) that may differ in a repeat', default: 6 }),
  tolerance: option(seconds.min(0), { help: 'keyframe mode: window half-width around each target', defaultText: 'every/2' }),
  sceneDetector: option(z.enum(SCENE_DETECTORS), {
    help: "scene mode: how cuts are found: adaptive (a frame's HSV difference from the one before, against its neighbours': finds low-contrast cuts), content (that difference alone, as PySceneDetect's), ffmpeg (ffmpeg's scene score)",
    default: 'adaptive',
  }),
  sceneThreshold: option(z.number().min(0).max(1), { help: 'scene mode, ffmpeg detector: scene score 0-1 that counts as a cut', default: 0.3 }),
  contentThreshold: option(z.number().min(0).max(255), {
    help: 'scene mode, content detector: mean HSV difference 0-255 from the frame before that counts as a cut',
    default: 27,
  }),
  adaptiveThreshold: option(z.number().min(1).max(255), {
    help: "scene mode, adaptive detector: how many times its neighbours' mean difference a frame's HSV difference must be to count as a cut",
    default: 3,
  }),
  minContent: option(z.number().min(0).max(255), { help: 'scene mode, adaptive detector: the least HSV difference 0-255 a cut has', default: 8 }),
  minGap: option(seconds.min(0), { help: 'scene mode: no two frames closer, seconds', defaultText: 'every/5' }),
  maxGap: option(seconds.min(0.001), { help: 'scene mode: a frame at least this often, seconds', defaultText: '4 x every' }),
  grid: option(z.strictObject({ cols: cell, rows: cell }), {
    help: 'tile consecutive frames into grids of COLSxROWS (e.g. 2x2) with timestamps drawn on them',
    allowed: 'COLSxROWS with 1 to 8 of each, e.g. 2x2 or 3x2',
    cli: { arg: 'CxR', parse: parseGrid },
  }),
  sizeSlack: option(z.number().min(0).max(0.5), { help: 'how far below the model size the size search may go (0-0.5)', default: 0.1 }),
  detail: option(z.string().min(1).max(40), { help: 'image detail: low, high, original, auto (what the model accepts)', defaultText: 'auto' }),
};

/** How the picture goes to the model: sampled frames (images), or the clip itself (Gemini's native video). */
export const SENDS = ['frames', 'video'] as const;
export type Send = (typeof SENDS)[number];

export const ESTIMATE = {
  model: option(z.string().min(1).max(200), { help: 'target model (see the registry)', default: DEFAULT_MODEL }),
  send: option(z.enum(SENDS), { help: 'frames, or video: the clip uploaded once, sampled by the provider at 1/every fps (Gemini)', default: 'frames' }),
  prompt: option(z.string().max(MAX_TEXT_CHARS), { help: 'the prompt (its tokens count)' }),
  audio: option(z.boolean(), { help: 'include the audio track' }),
  tier: option(z.enum(TIERS), { help: 'price tier: standard, batch, flex, priority', default: 'standard' }),
  budget: option(z.number().finite().gt(0), { help: 'choose the densest plan that costs at most this many dollars' }),
  maxTokens: option(z.number().int().min(1), { help: 'choose the densest plan with at most this many input tokens' }),
  outputTokens: option(z.number().int().min(0).max(10_000_000), { help: 'expected output tokens in the estimate', default: 1000 }),
  windowSec: option(seconds.min(1), { help: 'one request per window of this many seconds', cli: { flag: '--window' } }),
  allowRetired: option(z.boolean(), { help: 'plan and build requests for a model its provider has retired (refused otherwise)' }),
};

export type SamplingOptions = GroupInput<typeof SAMPLING>;
export type EstimateOptions = GroupInput<typeof ESTIMATE>;
export const SAMPLING_DEFAULTS = groupDefaults(SAMPLING);
export const ESTIMATE_DEFAULTS = groupDefaults(ESTIMATE);

/** The sampling options' names, once: callers that translate option objects pick these. */
export const SAMPLING_KEYS = Object.keys(SAMPLING) as Array<keyof typeof SAMPLING>;

/** The sampling options of an object that carries others too (CLI flags, a job's JSON). */
export function pickSampling(o: object): SamplingOptions {
  const from = o as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of SAMPLING_KEYS) if (from[k] !== undefined) out[k] = from[k];
  return out as SamplingOptions;
}

/** The checks that relate two options (the same on every surface). */
export function checkRelations(o: SamplingOptions & EstimateOptions): void {
  if (o.start !== undefined && o.end !== undefined && o.end <= o.start) throw invalidOption('end', `a time after start (${o.start})`, o.end);
  if (o.grid && o.grid.cols * o.grid.rows < 2) throw invalidOption('grid', 'at least two cells, e.g. 2x2', `${o.grid.cols}x${o.grid.rows}`);
}

/**
 * The work a plan would do, bounded in O(1) before any list is built: target times over the clip
 * window, and request windows. Refuses with the option, its value and the limit.
 */
export function checkWorkBounds(span: number, o: { every: number; windowSec?: number | undefined; maxGap?: number | undefined; mode: string }): void {
  const targets = span / o.every;
  if (targets > MAX_TARGETS) {
    throw invalidOption(
      'every',
      `at least ${(span / MAX_TARGETS).toPrecision(3)} s here (${span.toFixed(3)} s of media; at most ${MAX_TARGETS} target times per plan)`,
      o.every,
    );
  }
  if (modeTraits(o.mode)?.fillsGaps && o.maxGap !== undefined && span / o.maxGap > MAX_TARGETS) {
    throw invalidOption('maxGap', `at least ${(span / MAX_TARGETS).toPrecision(3)} s here (at most ${MAX_TARGETS} gap frames per plan)`, o.maxGap);
  }
  if (o.windowSec !== undefined && span / o.windowSec > MAX_WINDOWS) {
    throw invalidOption('windowSec', `at least ${(span / MAX_WINDOWS).toPrecision(3)} s here (at most ${MAX_WINDOWS} request windows per plan)`, o.windowSec);
  }
}
