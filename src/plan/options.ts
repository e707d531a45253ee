/**
 * The sampling and estimate options of one plan, checked against their one description
 * (options/sampling.ts) and resolved with its defaults.
 */
import { checkGroup } from '../options/define.js';
import { checkRelations, ESTIMATE, ESTIMATE_DEFAULTS, SAMPLING, SAMPLING_DEFAULTS } from '../options/sampling.js';
import type { ImageFormat, Mode, SceneDetector } from '../media/formats.js';
import type { Tier } from '../models/constants.js';
import type { PlanOptions } from './types.js';

export { parseGrid, pickSampling, SAMPLING_KEYS } from '../options/sampling.js';

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
  sceneDetector: SceneDetector;
  sceneThreshold: number;
  contentThreshold: number;
  adaptiveThreshold: number;
  minContent: number;
  minGap: number | undefined;
  maxGap: number | undefined;
  grid: { cols: number; rows: number } | undefined;
  sizeSlack: number;
  detail: string | undefined;
  tier: Tier;
  outputTokens: number;
}

export function resolveSampling(o: PlanOptions): ResolvedSampling {
  checkGroup(SAMPLING, o);
  checkGroup(ESTIMATE, o);
  checkRelations(o);
  const d = { ...SAMPLING_DEFAULTS, ...ESTIMATE_DEFAULTS };
  return {
    every: o.every ?? d.every,
    mode: o.mode ?? d.mode,
    start: o.start ?? 0,
    end: o.end,
    maxFrames: o.maxFrames,
    maxSide: o.maxSide,
    format: o.format ?? d.format,
    quality: o.quality ?? d.quality,
    dedup: o.dedup ?? false,
    dedupThreshold: o.dedupThreshold ?? d.dedupThreshold,
    tolerance: o.tolerance,
    sceneDetector: o.sceneDetector ?? d.sceneDetector,
    sceneThreshold: o.sceneThreshold ?? d.sceneThreshold,
    contentThreshold: o.contentThreshold ?? d.contentThreshold,
    adaptiveThreshold: o.adaptiveThreshold ?? d.adaptiveThreshold,
    minContent: o.minContent ?? d.minContent,
    minGap: o.minGap,
    maxGap: o.maxGap,
    grid: o.grid,
    sizeSlack: o.sizeSlack ?? d.sizeSlack,
    detail: o.detail,
    tier: o.tier ?? d.tier,
    // The cap when there is one (what a request may be billed), as src/request/options.ts does.
    outputTokens: o.maxOutputTokens ?? o.outputTokens ?? d.outputTokens,
  };
}
