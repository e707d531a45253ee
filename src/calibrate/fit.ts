/**
 * Which image rule explains a bill: given images (size, detail) and the tokens a server billed for
 * each, find the rule family and parameters that reproduce every bill. Pure.
 *
 * Candidates:
 * - every tile and patch rule of the registry, as it is;
 * - a fitted tile rule (the registry's tile geometry; base and per-tile tokens by least squares,
 *   rounded to whole tokens);
 * - a fitted patch rule: for each detail level, every (max dimension, patch budget) pair, with
 *   the max dimensions the registry knows and budgets from 1 to twice the largest it knows,
 *   grouped by the patch counts they give the images; each group bounds the multiplier
 *   (billed = ceil(patches x multiplier)), and the groups of all levels must agree on one.
 *   Within what the images cannot tell apart, the choice prefers the model's current values,
 *   then values the registry knows, then round numbers; the ranges that bill the same are
 *   reported, so nobody mistakes a choice for a measurement.
 * The best candidate has the smallest largest residual, then the smallest total.
 */
import type { ModelRegistry } from '../models/registry.js';
import { applyRule, detailLevels, patchResize, type ImageRule, type PatchLevel, type PatchRule, type TileRule } from '../models/rules.js';

export interface Observation {
  width: number;
  height: number;
  detail: string;
  /** Image tokens billed (the request's input tokens minus the text-only baseline). */
  tokens: number;
}

export type FittedRule = (Omit<TileRule, 'source' | 'date'> | Omit<PatchRule, 'source' | 'date'>) & { source?: string; date?: string };

export interface RuleFit {
  family: 'tile' | 'patch';
  /** `registry`: a registry rule as it is; `fitted`: parameters found from the bills. */
  origin: 'registry' | 'fitted';
  /** The registry rule's name (origin registry). */
  name?: string;
  rule: FittedRule;
  /** One line: the family and its parameters. */
  description: string;
  predicted: Array<number | null>;
  /** Billed minus predicted (null where the rule has no such detail level). */
  residuals: Array<number | null>;
  maxAbsResidual: number;
  totalAbsResidual: number;
  /** Registry rules that predict the same bills for these images. */
  sameAs: string[];
  /** Fitted patch rules: every value that bills these images the same (budget upper end null: unbounded). */
  ranges?: { multiplier: [number, number]; levels: Record<string, { maxDim: number[]; budget: [number, number | null] }> };
}

export interface FitResult {
  best: RuleFit;
  /** True when the best candidate's residuals are all within the tolerance. */
  explained: boolean;
  /** Every candidate, best first. */
  candidates: RuleFit[];
}

export interface FitOptions {
  registry: ModelRegistry;
  /** The model's current rule, preferred among equals. */
  current?: (ImageRule & { name: string }) | undefined;
  /** Largest residual still counted as explained (default 0: every bill exactly). */
  tolerance?: number | undefined;
}

function evaluate(rule: FittedRule, obs: readonly Observation[]): Pick<RuleFit, 'predicted' | 'residuals' | 'maxAbsResidual' | 'totalAbsResidual'> {
  const levels = detailLevels(rule as ImageRule);
  const predicted = obs.map((o) =>
    levels.includes(o.detail) && o.detail !== 'auto' ? applyRule(rule as ImageRule, o.width, o.height, o.detail).tokens : null,
  );
  const residuals = obs.map((o, i) => (predicted[i] === null ? null : o.tokens - predicted[i]!));
  const abs = residuals.map((r) => (r === null ? Infinity : Math.abs(r)));
  return { predicted, residuals, maxAbsResidual: Math.max(0, ...abs), totalAbsResidual: abs.reduce((a, b) => a + b, 0) };
}

export function describeRule(rule: FittedRule): string {
  if (rule.type === 'tile')
    return `tile rule: ${rule.base} + ${rule.perTile} per ${rule.tile} px tile (fit ${rule.fitBox} px, short side ${rule.shortSide} px); low = ${rule.base}`;
  const levels = Object.entries(rule.levels)
    .map(([name, l]) => `${name} ${l.maxDim} px / ${l.budget} patches`)
    .join(', ');
  return `patch rule: ceil(${rule.patch} px patches x ${rule.multiplier}); ${levels}`;
}

const sameBills = (a: ReadonlyArray<number | null>, b: ReadonlyArray<number | null>): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

// ---------------------------------------------------------------------------------------------
// tile

function fitTile(obs: readonly Observation[], known: TileRule[]): FittedRule[] {
  if (obs.some((o) => o.detail !== 'low' && o.detail !== 'high')) return [];
  const geometries = new Map<string, TileRule>();
  // Each known geometry with both roundings: sizes that straddle a tile edge tell them apart.
  for (const r of known)
    for (const rounding of ['floor', 'round'] as const) geometries.set(`${r.fitBox}/${r.shortSide}/${r.tile}/${rounding}`, { ...r, rounding });
  const out: FittedRule[] = [];
  for (const g of geometries.values()) {
    const unit: TileRule = { ...g, base: 0, perTile: 1 };
    const n = obs.map((o) => (o.detail === 'low' ? 0 : applyRule(unit, o.width, o.height, 'high').tokens));
    // least squares for tokens = base + n * perTile
    const k = obs.length;
    const sx = n.reduce((a, b) => a + b, 0);
    const sy = obs.reduce((a, o) => a + o.tokens, 0);
    const sxx = n.reduce((a, b) => a + b * b, 0);
    const sxy = n.reduce((a, x, i) => a + x * obs[i]!.tokens, 0);
    const det = k * sxx - sx * sx;
    if (Math.abs(det) < 1e-9) continue;
    const perTile = Math.round((k * sxy - sx * sy) / det);
    const base = Math.round((sy - perTile * sx) / k);
    if (base < 0 || perTile < 0) continue;
    out.push({ type: 'tile', fitBox: g.fitBox, shortSide: g.shortSide, tile: g.tile, base, perTile, rounding: g.rounding, auto: 'high' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// patch

interface Group {
  patches: number[];
  /** (maxDim, budget range) pairs that give these patch counts. */
  configs: Array<{ maxDim: number; lo: number; hi: number }>;
  /** Multiplier interval (lo, hi]. */
  mLo: number;
  mHi: number;
}

function levelGroups(obs: readonly Observation[], patch: number, maxDims: number[], maxBudget: number, tol: number): Group[] {
  const groups = new Map<string, Group>();
  for (const maxDim of maxDims) {
    let lastKey = '';
    let run: { maxDim: number; lo: number; hi: number } | undefined;
    for (let budget = 1; budget <= maxBudget; budget++) {
      const level: PatchLevel = { maxDim, budget };
      const patches = obs.map((o) => patchResize(o.width, o.height, patch, level).patches);
      const key = patches.join(',');
      if (key === lastKey && run) {
        run.hi = budget;
        continue;
      }
      lastKey = key;
      let g = groups.get(key);
      if (!g) {
        let mLo = 0;
        let mHi = Infinity;
        obs.forEach((o, i) => {
          const p = patches[i]!;
          mLo = Math.max(mLo, (o.tokens - 1 - tol + 1e-9) / p);
          mHi = Math.min(mHi, (o.tokens + tol + 1e-9) / p);
        });
        g = { patches, configs: [], mLo, mHi };
        groups.set(key, g);
      }
      run = { maxDim, lo: budget, hi: budget };
      g.configs.push(run);
    }
  }
  return [...groups.values()].filter((g) => g.mLo < g.mHi && g.mHi > 0);
}

/** The roundest whole number in [lo, hi]. */
function roundest(lo: number, hi: number): number {
  for (const step of [10000, 5000, 1000, 500, 256, 100, 64, 50, 10, 5, 2, 1]) {
    const m = Math.ceil(lo / step) * step;
    if (m <= hi) return m;
  }
  return lo;
}

/** A multiplier in (lo, hi]: the current one, a known one, else the shortest decimal nearest the middle. */
function pickMultiplier(lo: number, hi: number, current: number | undefined, known: number[]): { value: number; score: number } | undefined {
  if (current !== undefined && current > lo && current <= hi) return { value: current, score: 0 };
  for (const m of known) if (m > lo && m <= hi) return { value: m, score: 1 };
  const mid = (lo + hi) / 2;
  for (let digits = 0; digits <= 4; digits++) {
    const f = 10 ** digits;
    const a = Math.floor(mid * f) / f;
    const b = Math.ceil(mid * f) / f;
    const inside = [a, b].filter((m) => m > lo && m <= hi && m > 0).sort((x, y) => Math.abs(x - mid) - Math.abs(y - mid));
    if (inside.length) return { value: Number(inside[0]!.toFixed(digits)), score: 2 };
  }
  return undefined;
}

interface LevelChoice {
  level: PatchLevel;
  score: number;
  group: Group;
}

function chooseConfig(g: Group, name: string, current: PatchRule | undefined, known: Array<{ name: string; level: PatchLevel }>): LevelChoice {
  const holds = (l: PatchLevel): boolean => g.configs.some((c) => c.maxDim === l.maxDim && l.budget >= c.lo && l.budget <= c.hi);
  const cur = current?.levels[name];
  if (cur && holds(cur)) return { level: { ...cur }, score: 0, group: g };
  const sameName = known.filter((k) => k.name === name && holds(k.level));
  if (sameName.length) return { level: { ...sameName[0]!.level }, score: 1, group: g };
  const any = known.filter((k) => holds(k.level));
  if (any.length) return { level: { ...any[0]!.level }, score: 2, group: g };
  // A max dimension the registry uses for this level name, else the largest run's.
  const preferredDims = [cur?.maxDim, ...known.filter((k) => k.name === name).map((k) => k.level.maxDim)].filter((d): d is number => d !== undefined);
  const byDim = (d: number): { maxDim: number; lo: number; hi: number } | undefined =>
    g.configs.filter((c) => c.maxDim === d).sort((a, b) => b.hi - b.lo - (a.hi - a.lo))[0];
  const c = preferredDims.map(byDim).find(Boolean) ?? [...g.configs].sort((a, b) => b.hi - b.lo - (a.hi - a.lo))[0]!;
  return { level: { maxDim: c.maxDim, budget: roundest(c.lo, c.hi) }, score: 3, group: g };
}

function fitPatch(
  obs: readonly Observation[],
  known: Array<PatchRule & { name: string }>,
  current: PatchRule | undefined,
  tol: number,
): FittedRule | undefined {
  if (!known.length) return undefined;
  const patch = current?.patch ?? known[0]!.patch;
  const knownLevels = known.flatMap((r) => Object.entries(r.levels).map(([name, level]) => ({ name, level })));
  const maxDims = [...new Set(knownLevels.map((k) => k.level.maxDim))].sort((a, b) => a - b);
  const maxBudget = 2 * Math.max(...knownLevels.map((k) => k.level.budget));
  const multipliers = [...new Set(known.map((r) => r.multiplier))];
  const details = [...new Set(obs.map((o) => o.detail))];
  const perLevel: LevelChoice[][] = [];
  for (const d of details) {
    const sub = obs.filter((o) => o.detail === d);
    const groups = levelGroups(sub, patch, maxDims, maxBudget, tol);
    if (!groups.length) return undefined;
    perLevel.push(
      groups
        .map((g) => chooseConfig(g, d, current, knownLevels))
        .sort((a, b) => a.score - b.score)
        .slice(0, 50),
    );
  }
  let best: { choice: LevelChoice[]; m: number; score: number; lo: number; hi: number } | undefined;
  const walk = (i: number, chosen: LevelChoice[], lo: number, hi: number): void => {
    if (lo >= hi) return;
    if (i === perLevel.length) {
      const m = pickMultiplier(lo, hi, current?.multiplier, multipliers);
      if (!m) return;
      const score = m.score + chosen.reduce((a, c) => a + c.score, 0);
      if (!best || score < best.score) best = { choice: [...chosen], m: m.value, score, lo, hi };
      return;
    }
    for (const c of perLevel[i]!) walk(i + 1, [...chosen, c], Math.max(lo, c.group.mLo), Math.min(hi, c.group.mHi));
  };
  walk(0, [], 0, Infinity);
  if (!best) return undefined;
  const b = best;
  const levels: Record<string, PatchLevel> = {};
  const ranges: NonNullable<RuleFit['ranges']> = { multiplier: [b.lo, b.hi], levels: {} };
  details.forEach((d, i) => {
    const c = b.choice[i]!;
    levels[d] = c.level;
    const sameDim = c.group.configs.filter((x) => x.maxDim === c.level.maxDim);
    const top = Math.max(...sameDim.map((x) => x.hi));
    // null: no image reached the budget, so any larger one bills the same
    const budget: [number, number | null] = [Math.min(...sameDim.map((x) => x.lo)), top >= maxBudget ? null : top];
    ranges.levels[d] = { maxDim: [...new Set(c.group.configs.map((x) => x.maxDim))], budget };
  });
  const auto = details.includes('high') ? 'high' : details[0]!;
  return Object.assign({ type: 'patch' as const, patch, multiplier: b.m, levels, auto }, { ranges });
}

// ---------------------------------------------------------------------------------------------

export function fitImageRule(obs: readonly Observation[], o: FitOptions): FitResult {
  const tol = o.tolerance ?? 0;
  const rules = Object.entries(o.registry.toJSON().rules).map(([name, r]) => ({ ...r, name }));
  const tiles = rules.filter((r): r is TileRule & { name: string } => r.type === 'tile');
  const patches = rules.filter((r): r is PatchRule & { name: string } => r.type === 'patch');
  const current = o.current && (o.current.type === 'tile' || o.current.type === 'patch') ? o.current : undefined;

  const fits: RuleFit[] = [];
  const registryFits: RuleFit[] = [];
  for (const r of [...(current ? [current] : []), ...tiles, ...patches]) {
    if (registryFits.some((f) => f.name === r.name)) continue;
    const { name, ...rule } = r;
    registryFits.push({
      family: r.type as 'tile' | 'patch',
      origin: 'registry',
      name,
      rule: rule as FittedRule,
      description: describeRule(rule as FittedRule),
      ...evaluate(rule as FittedRule, obs),
      sameAs: [],
    });
  }
  for (const rule of fitTile(obs, tiles))
    fits.push({ family: 'tile', origin: 'fitted', rule, description: describeRule(rule), ...evaluate(rule, obs), sameAs: [] });
  const patchFit = fitPatch(obs, patches, current?.type === 'patch' ? current : undefined, tol);
  if (patchFit) {
    const { ranges, ...rule } = patchFit as FittedRule & { ranges: RuleFit['ranges'] };
    fits.push({ family: 'patch', origin: 'fitted', rule, description: describeRule(rule), ...evaluate(rule, obs), sameAs: [], ...(ranges ? { ranges } : {}) });
  }
  for (const f of [...fits, ...registryFits]) {
    f.sameAs = registryFits.filter((r) => r !== f && sameBills(r.predicted, f.predicted)).map((r) => r.name!);
  }
  // Best first: smallest largest residual, then total; among equals the model's current rule,
  // then a fitted rule (its parameters were chosen to prefer known values), then other registry rules.
  const rank = (f: RuleFit): number => (f.origin === 'registry' && f.name === current?.name ? 0 : f.origin === 'fitted' ? 1 : 2);
  const candidates = [...fits, ...registryFits].sort(
    (a, b) => a.maxAbsResidual - b.maxAbsResidual || a.totalAbsResidual - b.totalAbsResidual || rank(a) - rank(b),
  );
  const best = candidates[0]!;
  return { best, explained: best.maxAbsResidual <= tol, candidates };
}
