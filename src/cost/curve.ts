/**
 * costCurve(input, options): what a request costs at each sampling interval, for several models
 * and detail levels, and what sparser sampling loses (the share of shots that still get a frame).
 *
 * Every point is a `plan()` (metadata only; plans of one file share its cached packet index), so
 * the curve is the plan: the same frames, tokens and dollars `omniprep plan` prints for that
 * interval. Shots are found once, with plan's own scene mode (a scene scan decodes the clip once,
 * cached per file): a shot is [cut_i, cut_i+1), and it is covered at an interval when a planned
 * frame at that interval lies in it.
 */
import { invalidOption } from '../errors.js';
import { resolveRegistry, TIERS, type ModelRegistry, type Tier } from '../models/registry.js';
import { getModel, modelDetails } from '../models/tokens.js';
import { plan } from '../plan/plan.js';
import { resolveSampling } from '../plan/options.js';
import { detectorRule, detectorThreshold } from '../plan/scenes.js';
import { SENDS, type Mode, type Plan, type PlanOptions, type Send } from '../plan/types.js';
import { probe } from '../probe/probe.js';
import type { MediaInfo } from '../probe/types.js';
import type { SceneDetector } from '../media/formats.js';

export { COST_CURVE_DEFAULTS } from './defaults.js';
import { COST_CURVE_DEFAULTS } from './defaults.js';
import { firstIndex } from '../util/search.js';

export interface CostCurveOptions extends Omit<PlanOptions, 'every' | 'model' | 'detail' | 'budget' | 'maxTokens'> {
  /** Sampling intervals in seconds (default 1, 2, 5, 10, 30). */
  every?: number[] | undefined;
  /** Models to compare (default gpt-5.5). */
  models?: string[] | undefined;
  /** Detail levels (default: each model's `auto`). A level a model does not have is skipped for it, with a warning. */
  details?: string[] | undefined;
  /** How the picture is sent: `frames` (default) and/or `video` (Gemini models: the clip as video); one series per way. */
  sends?: Send[] | undefined;
  /** Find the shots and report their coverage (default true; the scan decodes the clip once). */
  shots?: boolean | undefined;
  /** See COST_CURVE_DEFAULTS.minShotSec. */
  minShotSec?: number | undefined;
}

export interface CostCurvePoint {
  every: number;
  frames: number;
  imageTokens: number;
  /** Tokens of the frames the provider samples from video sent as video (0 for frames). */
  videoTokens: number;
  textTokens: number;
  audioTokens: number;
  inputTokens: number;
  outputTokens: number;
  /** Dollars at the options' tier (standard by default), exactly plan().costUsd. */
  costUsd: number;
  /** Dollars at every tier the model has a price for, exactly plan().costByTier. */
  costByTier: Partial<Record<Tier, number>>;
  /** Shots with at least one frame, and their share (null when shots were not scanned). */
  shotsCovered: number | null;
  coverage: number | null;
  requests: number;
}

export interface CostCurveSeries {
  model: string;
  /** `frames`, or `video` (the clip sent as video, sampled by the provider at 1/every fps). */
  send: Send;
  /** The detail asked (`auto` when none). */
  detail: string;
  /** The detail the model applies (`auto` resolved). */
  detailApplied: string;
  width: number;
  height: number;
  tokensPerFrame: number;
  rule: string;
  points: CostCurvePoint[];
}

export interface CostCurveShots {
  /** Times of the cuts (a shot starts at each), seconds. */
  cuts: number[];
  /** [start, end) of each shot. */
  shots: Array<[number, number]>;
  /** The scene detector that found the cuts, its threshold, and its rule in words. */
  detector: SceneDetector;
  threshold: number;
  rule: string;
  minShotSec: number;
  /** Per interval: shots covered and the shots that got no frame. */
  byInterval: Array<{ every: number; frames: number; covered: number; missed: Array<[number, number]> }>;
}

export interface CostCurve {
  input: string;
  durationSec: number;
  startSec: number;
  endSec: number;
  width: number;
  height: number;
  mode: Mode;
  tier: Tier;
  /** Tiers present in at least one series, in TIERS order. */
  tiers: Tier[];
  intervals: number[];
  outputTokens: number;
  prompt: string;
  series: CostCurveSeries[];
  shots: CostCurveShots | null;
  registryVersion: string;
  warnings: string[];
  /** Milliseconds the whole curve took (plans and the shot scan). */
  ms: number;
}

const EPS = 1e-6;

function intervalsOf(every: number[] | undefined): number[] {
  const list = every ?? COST_CURVE_DEFAULTS.every;
  if (!Array.isArray(list) || !list.length) throw invalidOption('every', 'at least one interval in seconds', list);
  for (const e of list) if (!(typeof e === 'number' && Number.isFinite(e) && e > 0)) throw invalidOption('every', 'intervals in seconds > 0', e);
  return [...new Set(list)].sort((a, b) => a - b);
}

/** Shots as [start, end) between the window's start, the cuts and its end. */
export function shotsFromCuts(cuts: readonly number[], start: number, end: number): Array<[number, number]> {
  const bounds = [start, ...cuts.filter((c) => c > start + EPS && c < end - EPS), end];
  const out: Array<[number, number]> = [];
  for (let i = 0; i + 1 < bounds.length; i++) out.push([bounds[i]!, bounds[i + 1]!]);
  return out;
}

/** Which shots hold at least one of the frame times. */
export function coveredShots(shots: ReadonlyArray<readonly [number, number]>, times: readonly number[]): boolean[] {
  const sorted = [...times].sort((a, b) => a - b);
  return shots.map(([a, b]) => {
    const lo = firstIndex(sorted.length, (i) => sorted[i]! >= a - EPS);
    return lo < sorted.length && sorted[lo]! < b - EPS;
  });
}

/** Times the picture is seen: the frames' timestamps, or the provider's samples of each video window. */
export function seenTimes(p: Plan): number[] {
  if (!p.video) return p.frames.map((f) => f.timestampSec);
  const fps = p.video.fps;
  return p.video.windows.flatMap((w) => Array.from({ length: w.frames }, (_, k) => w.startSec + k / fps));
}

function point(p: Plan, shots: Array<[number, number]> | null): CostCurvePoint {
  const covered = shots ? coveredShots(shots, seenTimes(p)).filter(Boolean).length : null;
  return {
    every: p.every,
    frames: p.video ? p.video.frames : p.frames.length,
    imageTokens: p.imageTokens,
    videoTokens: p.videoTokens,
    textTokens: p.textTokens,
    audioTokens: p.audioTokens,
    inputTokens: p.inputTokens,
    outputTokens: p.outputTokens,
    costUsd: p.costUsd,
    costByTier: p.costByTier,
    shotsCovered: covered,
    coverage: covered === null || !shots!.length ? null : Math.round((covered / shots!.length) * 1e4) / 1e4,
    requests: p.requests,
  };
}

/** Which (model, detail) pairs: every model must be known; a detail it lacks is skipped for it (said in `warnings`). */
export function modelDetailPairs(
  models: readonly string[],
  details: readonly string[] | undefined,
  registry: ModelRegistry,
  rule: string | undefined,
  warnings: string[],
): Array<{ model: string; detail: string | undefined }> {
  const pairs: Array<{ model: string; detail: string | undefined }> = [];
  for (const name of models) {
    const m = getModel(name, { registry, rule });
    if (!details?.length) {
      pairs.push({ model: name, detail: undefined });
      continue;
    }
    const levels = modelDetails(m);
    const ok = details.filter((d) => levels.includes(d));
    const missing = details.filter((x) => !levels.includes(x));
    if (!ok.length) {
      // A model without any of the levels asked (Claude, Gemini 2.x: auto only) is planned at auto.
      warnings.push(`${name} has no detail ${missing.join(' or ')} (it has ${levels.join(', ')}): planned at auto`);
      pairs.push({ model: name, detail: undefined });
      continue;
    }
    if (missing.length) warnings.push(`${name} has no detail ${missing.join(' or ')} (it has ${levels.join(', ')}): skipped for it`);
    for (const d of ok) pairs.push({ model: name, detail: d });
  }
  return pairs;
}

/** Cost and shot coverage at each sampling interval, for each model and detail level. */
export async function costCurve(input: string | MediaInfo, options: CostCurveOptions = {}): Promise<CostCurve> {
  const started = performance.now();
  const { every: everyList, models: modelList, details, shots: wantShots, minShotSec: minShotOpt, sends: sendList, ...rest } = options;
  const sends: Send[] = [...new Set<Send>(sendList ?? ['frames'])];
  for (const s of sends) if (!(SENDS as readonly string[]).includes(s)) throw invalidOption('sends', SENDS.join(', '), s);
  const intervals = intervalsOf(everyList);
  const models = modelList ?? COST_CURVE_DEFAULTS.models;
  if (!Array.isArray(models) || !models.length) throw invalidOption('models', 'at least one model name', models);
  const minShotSec = minShotOpt ?? COST_CURVE_DEFAULTS.minShotSec;
  if (!(typeof minShotSec === 'number' && minShotSec >= 0 && Number.isFinite(minShotSec))) throw invalidOption('minShotSec', 'seconds >= 0', minShotSec);
  const registry = resolveRegistry({ registry: rest.registry, modelsFile: rest.modelsFile });
  const base: PlanOptions = { ...rest, registry, modelsFile: undefined };

  const warnings: string[] = [];
  const pairs = modelDetailPairs(models, details, registry, rest.rule, warnings);

  const info = typeof input === 'string' ? await probe(input, { limits: rest.limits, signal: rest.signal, ffprobePath: rest.ffprobePath }) : input;

  // Shots, once, with plan's scene mode: no max-gap fills, cuts at least minShotSec apart.
  let shotInfo: CostCurveShots | null = null;
  let shotList: Array<[number, number]> | null = null;
  if (wantShots !== false && info.kind === 'video') {
    const scene = await plan(info, {
      ...base,
      model: pairs[0]!.model,
      detail: pairs[0]!.detail,
      mode: 'scene',
      every: intervals[0],
      minGap: minShotSec,
      maxGap: 1e9,
      maxFrames: undefined,
      grid: undefined,
      audio: false,
    });
    const cuts = scene.frames.filter((f, i) => i > 0 && f.source === 'scene').map((f) => f.timestampSec);
    shotList = shotsFromCuts(cuts, scene.startSec, scene.endSec);
    const d = resolveSampling(rest);
    shotInfo = { cuts, shots: shotList, detector: d.sceneDetector, threshold: detectorThreshold(d), rule: detectorRule(d), minShotSec, byInterval: [] };
  }

  const series: CostCurveSeries[] = [];
  let first: Plan | undefined;
  const runs: Array<{ model: string; detail: string | undefined; send: Send }> = [];
  for (const pair of pairs) {
    for (const send of sends) {
      if (send === 'video' && !getModel(pair.model, { registry, rule: rest.rule }).video) {
        if (!warnings.some((w) => w.startsWith(`${pair.model} takes no video`))) warnings.push(`${pair.model} takes no video input: no video series for it`);
        continue;
      }
      runs.push({ ...pair, send });
    }
  }
  if (!runs.length) throw invalidOption('sends', 'a way at least one of the models takes', sends.join(','));
  for (const { model, detail, send } of runs) {
    const points: CostCurvePoint[] = [];
    let last: Plan | undefined;
    for (const every of intervals) {
      const p = await plan(info, { ...base, model, detail, every, send });
      first ??= p;
      last = p;
      points.push(point(p, shotList));
      if (shotInfo && series.length === 0) {
        const cov = coveredShots(
          shotList!,
          p.frames.map((f) => f.timestampSec),
        );
        shotInfo.byInterval.push({ every, frames: p.frames.length, covered: cov.filter(Boolean).length, missed: shotList!.filter((_, i) => !cov[i]) });
      }
    }
    series.push({
      model,
      send,
      detail: detail ?? 'auto',
      detailApplied: last!.detailApplied,
      width: last!.width,
      height: last!.height,
      tokensPerFrame: last!.tokensPerFrame,
      rule: last!.rules.image,
      points,
    });
  }
  const p0 = first!;
  const tiers = TIERS.filter((t) => series.some((s) => s.points.some((pt) => pt.costByTier[t] !== undefined)));
  return {
    input: info.input,
    durationSec: info.durationSec,
    startSec: p0.startSec,
    endSec: p0.endSec,
    width: p0.media.width,
    height: p0.media.height,
    mode: p0.mode,
    tier: p0.tier,
    tiers,
    intervals,
    outputTokens: p0.outputTokens,
    prompt: rest.prompt ?? '',
    series,
    shots: shotInfo,
    registryVersion: p0.rules.registryVersion,
    warnings,
    ms: Math.round(performance.now() - started),
  };
}

/** The text table: one row per model, detail and interval. */
export function costCurveTable(curve: CostCurve): Array<Array<string | number>> {
  const usd = (x: number | undefined): string => (x === undefined ? '-' : `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`);
  const head = [
    'model',
    'detail',
    'every s',
    'frames',
    'image tok',
    'input tok',
    ...curve.tiers.map((t) => `${t} $`),
    ...(curve.shots ? ['shots covered'] : []),
  ];
  const rows: Array<Array<string | number>> = [head];
  for (const s of curve.series) {
    for (const p of s.points) {
      rows.push([
        s.send === 'video' ? `${s.model} (video)` : s.model,
        s.detail === s.detailApplied ? s.detail : `${s.detail} (${s.detailApplied})`,
        p.every,
        p.frames,
        p.imageTokens + p.videoTokens,
        p.inputTokens,
        ...curve.tiers.map((t) => usd(p.costByTier[t])),
        ...(curve.shots ? [`${p.shotsCovered}/${curve.shots.shots.length} (${Math.round((p.coverage ?? 0) * 100)}%)`] : []),
      ]);
    }
  }
  return rows;
}
