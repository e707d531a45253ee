/** Validation of sampling and plan options, up front, with errors that name the option and the allowed values. */
import { invalidOption } from '../errors.js';
import { TIERS, type Tier } from '../models/registry.js';
import { DEFAULT_SAMPLING, FORMATS, MODES, type ImageFormat, type Mode, type PlanOptions, type SamplingOptions } from './types.js';

export interface ResolvedSampling {
  every: number;
  mode: Mode;
  start: number;
  end: number | undefined;
  maxFrames: number | undefined;
  maxSide: number | undefined;
  format: ImageFormat;
  quality: number;
  dedup: boolean;
  dedupThreshold: number;
  tolerance: number | undefined;
  sceneThreshold: number;
  minGap: number | undefined;
  maxGap: number | undefined;
  grid: { cols: number; rows: number } | undefined;
  sizeSlack: number;
  detail: string | undefined;
  tier: Tier;
  outputTokens: number;
}

function positive(name: string, v: number | undefined, o: { integer?: boolean; min?: number; max?: number } = {}): void {
  if (v === undefined) return;
  const min = o.min ?? 0;
  const ok = typeof v === 'number' && Number.isFinite(v) && (o.min === undefined ? v > 0 : v >= min) && (o.max === undefined || v <= o.max) && (!o.integer || Number.isInteger(v));
  if (!ok) {
    const range = o.max !== undefined ? ` from ${o.min ?? '>0'} to ${o.max}` : o.min !== undefined ? ` >= ${o.min}` : ' > 0';
    throw invalidOption(name, `${o.integer ? 'a whole number' : 'a number'}${range}`, v);
  }
}

export function resolveSampling(o: PlanOptions): ResolvedSampling {
  positive('every', o.every);
  if (o.mode !== undefined && !MODES.includes(o.mode)) throw invalidOption('mode', MODES.join(', '), o.mode);
  if (o.format !== undefined && !FORMATS.includes(o.format)) throw invalidOption('format', FORMATS.join(', '), o.format);
  positive('start', o.start, { min: 0 });
  positive('end', o.end);
  if (o.start !== undefined && o.end !== undefined && o.end <= o.start) throw invalidOption('end', `a time after start (${o.start})`, o.end);
  positive('maxFrames', o.maxFrames, { integer: true, min: 1 });
  positive('maxSide', o.maxSide, { integer: true, min: 16 });
  positive('quality', o.quality, { integer: true, min: 1, max: 100 });
  positive('dedupThreshold', o.dedupThreshold, { integer: true, min: 0, max: 128 });
  positive('tolerance', o.tolerance, { min: 0 });
  positive('sceneThreshold', o.sceneThreshold, { min: 0, max: 1 });
  positive('minGap', o.minGap, { min: 0 });
  positive('maxGap', o.maxGap);
  positive('sizeSlack', o.sizeSlack, { min: 0, max: 0.5 });
  positive('outputTokens', o.outputTokens, { integer: true, min: 0 });
  positive('budget', o.budget);
  positive('windowSec', o.windowSec);
  positive('maxTokens', o.maxTokens, { integer: true, min: 1 });
  if (o.grid) {
    positive('grid columns', o.grid.cols, { integer: true, min: 1, max: 8 });
    positive('grid rows', o.grid.rows, { integer: true, min: 1, max: 8 });
    if (o.grid.cols * o.grid.rows < 2) throw invalidOption('grid', 'at least two cells, e.g. 2x2', `${o.grid.cols}x${o.grid.rows}`);
  }
  if (o.tier !== undefined && !TIERS.includes(o.tier)) throw invalidOption('tier', TIERS.join(', '), o.tier);
  return {
    every: o.every ?? DEFAULT_SAMPLING.every,
    mode: o.mode ?? DEFAULT_SAMPLING.mode,
    start: o.start ?? 0,
    end: o.end,
    maxFrames: o.maxFrames,
    maxSide: o.maxSide,
    format: o.format ?? DEFAULT_SAMPLING.format,
    quality: o.quality ?? DEFAULT_SAMPLING.quality,
    dedup: o.dedup ?? false,
    dedupThreshold: o.dedupThreshold ?? DEFAULT_SAMPLING.dedupThreshold,
    tolerance: o.tolerance,
    sceneThreshold: o.sceneThreshold ?? DEFAULT_SAMPLING.sceneThreshold,
    minGap: o.minGap,
    maxGap: o.maxGap,
    grid: o.grid,
    sizeSlack: o.sizeSlack ?? DEFAULT_SAMPLING.sizeSlack,
    detail: o.detail,
    tier: o.tier ?? DEFAULT_SAMPLING.tier,
    outputTokens: o.outputTokens ?? DEFAULT_SAMPLING.outputTokens,
  };
}

/** `3x2` -> { cols: 3, rows: 2 }. */
export function parseGrid(text: string): { cols: number; rows: number } {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  if (!m) throw invalidOption('grid', 'COLSxROWS, e.g. 2x2 or 3x2', text);
  return { cols: Number(m[1]), rows: Number(m[2]) };
}

/** The sampling options' names, once: callers that translate option objects pick these. */
export const SAMPLING_KEYS = [
  'every', 'mode', 'start', 'end', 'maxFrames', 'maxSide', 'format', 'quality', 'dedup', 'dedupThreshold',
  'tolerance', 'sceneThreshold', 'minGap', 'maxGap', 'grid', 'sizeSlack',
] as const satisfies ReadonlyArray<keyof SamplingOptions>;

/** The sampling options of an object that carries others too (CLI flags, a job's JSON). */
export function pickSampling<T extends Partial<Record<(typeof SAMPLING_KEYS)[number], unknown>>>(o: T): Pick<T, (typeof SAMPLING_KEYS)[number]> {
  const out: Partial<T> = {};
  for (const k of SAMPLING_KEYS) if (o[k] !== undefined) out[k] = o[k];
  return out as Pick<T, (typeof SAMPLING_KEYS)[number]>;
}
