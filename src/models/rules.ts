/**
 * Image token rules: pure functions from (rule parameters, width, height, detail) to the size
 * the provider resizes to and the tokens it bills. One function per rule family; the parameters
 * are data from the registry.
 */
import { invalidOption } from '../errors.js';

/**
 * How a rule turns a scaled, fractional side into whole pixels: `floor` truncates (OpenAI's
 * cookbook example uses int()), `round` takes the nearest integer (what measured bills near tile
 * boundaries suggest for the tile rule: see registry.json). It moves a side across a tile or patch
 * edge only near a boundary; `calibrate` sends sizes that straddle one to tell them apart.
 */
export type Rounding = 'floor' | 'round';

export interface TileRule {
  type: 'tile';
  fitBox: number;
  shortSide: number;
  tile: number;
  base: number;
  perTile: number;
  rounding: Rounding;
  auto: string;
  source: string;
  date: string;
}

export interface PatchLevel {
  maxDim: number;
  budget: number;
}

export interface PatchRule {
  type: 'patch';
  patch: number;
  multiplier: number;
  levels: Record<string, PatchLevel>;
  /** Whole pixels after scaling (steps 0 and 2; default floor, as the docs' algorithm writes it). */
  rounding?: Rounding | undefined;
  auto: string;
  source: string;
  date: string;
}

export interface ClaudeRule {
  type: 'claude';
  patch: number;
  maxLongEdge: number;
  maxTokens: number;
  source: string;
  date: string;
}

export interface ClaudeLegacyRule {
  type: 'claude-legacy';
  divisor: number;
  maxLongEdge: number;
  source: string;
  date: string;
}

export interface GeminiTilesRule {
  type: 'gemini-tiles';
  smallSide: number;
  tokensPerTile: number;
  unitDivisor: number;
  minUnit: number;
  maxUnit: number;
  videoTokensPerFrame?: number;
  source: string;
  date: string;
}

export interface GeminiFixedRule {
  type: 'gemini-fixed';
  levels: Record<string, { tokens: number; maxSide: number }>;
  auto: string;
  videoTokensPerFrame?: Record<string, number>;
  source: string;
  date: string;
}

export type ImageRule = TileRule | PatchRule | ClaudeRule | ClaudeLegacyRule | GeminiTilesRule | GeminiFixedRule;

export interface RuleResult {
  tokens: number;
  resizedWidth: number;
  resizedHeight: number;
  /** The detail level the rule applied (`auto` resolved). */
  detail: string;
  /** Side of the unit the rule counts in (tile, patch), for size optimisation. */
  unit: number;
  /** Largest side the provider keeps at this detail, for size optimisation. */
  maxSide: number;
}

/** The detail levels a rule accepts (`auto` always included). */
export function detailLevels(rule: ImageRule): string[] {
  switch (rule.type) {
    case 'tile':
      return ['low', 'high', 'auto'];
    case 'patch':
      return [...Object.keys(rule.levels), 'auto'];
    case 'gemini-fixed':
      return [...Object.keys(rule.levels), 'auto'];
    default:
      return ['auto'];
  }
}

export function resolveDetail(rule: ImageRule, detail: string | undefined, ruleName: string = rule.type): string {
  const d = detail ?? 'auto';
  const levels = detailLevels(rule);
  if (!levels.includes(d)) throw invalidOption('detail', `one of ${levels.join(', ')} for ${ruleName}`, d);
  if (d !== 'auto') return d;
  return 'auto' in rule && typeof rule.auto === 'string' ? rule.auto : 'auto';
}

/** Scales (w, h) down to fit a box, keeping the aspect ratio; never enlarges. */
export function fitWithin(w: number, h: number, boxW: number, boxH: number, rounding: 'floor' | 'round' = 'floor'): [number, number] {
  if (w <= boxW && h <= boxH) return [w, h];
  const r = Math.min(boxW / w, boxH / h);
  const f = rounding === 'floor' ? Math.floor : Math.round;
  // The binding side lands exactly on the box; the other side is rounded.
  if (boxW / w <= boxH / h) return [boxW, Math.max(1, f(h * r))];
  return [Math.max(1, f(w * r)), boxH];
}

function tileTokens(rule: TileRule, w: number, h: number, detail: string): RuleResult {
  const f = rule.rounding === 'floor' ? Math.floor : Math.round;
  if (detail === 'low') {
    const [lw, lh] = fitWithin(w, h, rule.tile, rule.tile, rule.rounding);
    return { tokens: rule.base, resizedWidth: lw, resizedHeight: lh, detail, unit: rule.tile, maxSide: rule.tile };
  }
  // 1. fit inside fitBox x fitBox (int() as in OpenAI's worked example)
  let [rw, rh] = fitWithin(w, h, rule.fitBox, rule.fitBox, rule.rounding);
  // 2. shortest side down to shortSide
  if (rw >= rh && rh > rule.shortSide) {
    rw = f((rule.shortSide / rh) * rw);
    rh = rule.shortSide;
  } else if (rh > rw && rw > rule.shortSide) {
    rh = f((rule.shortSide / rw) * rh);
    rw = rule.shortSide;
  }
  const tiles = Math.ceil(rw / rule.tile) * Math.ceil(rh / rule.tile);
  return { tokens: rule.base + tiles * rule.perTile, resizedWidth: rw, resizedHeight: rh, detail, unit: rule.tile, maxSide: rule.fitBox };
}

/** Patch count and the resized size for the patch rule (steps 0-2 of the documented algorithm). */
export function patchResize(
  w: number,
  h: number,
  patch: number,
  level: PatchLevel,
  rounding: Rounding = 'floor',
): { width: number; height: number; patches: number } {
  const f = rounding === 'floor' ? Math.floor : Math.round;
  // 0. fit within the level's maximum dimension, without enlarging
  let [rw, rh] = fitWithin(w, h, level.maxDim, level.maxDim, rounding);
  let patches = Math.ceil(rw / patch) * Math.ceil(rh / patch);
  // 2. shrink to the patch budget
  if (patches > level.budget) {
    let r = Math.sqrt((patch * patch * level.budget) / (rw * rh));
    const pw = (rw * r) / patch;
    const ph = (rh * r) / patch;
    r *= Math.min(Math.floor(pw) / pw, Math.floor(ph) / ph);
    rw = Math.max(1, f(rw * r));
    rh = Math.max(1, f(rh * r));
    patches = Math.ceil(rw / patch) * Math.ceil(rh / patch);
  }
  return { width: rw, height: rh, patches };
}

function patchTokens(rule: PatchRule, w: number, h: number, detail: string): RuleResult {
  const level = rule.levels[detail];
  if (!level) throw invalidOption('detail', Object.keys(rule.levels).join(', '), detail);
  const r = patchResize(w, h, rule.patch, level, rule.rounding);
  // 3. billed = ceil(patches * multiplier); a tiny epsilon keeps 1024 * 1.2 from becoming 1229.0000001 -> 1230
  const tokens = Math.ceil(r.patches * rule.multiplier - 1e-9);
  return { tokens, resizedWidth: r.width, resizedHeight: r.height, detail, unit: rule.patch, maxSide: level.maxDim };
}

/** Rounds half to even (banker's rounding), as Anthropic documents for the short edge. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (Math.abs(diff - 0.5) < 1e-9) return f % 2 === 0 ? f : f + 1;
  return Math.round(x);
}

function claudeTokens(rule: ClaudeRule, w: number, h: number): RuleResult {
  const count = (a: number, b: number): number => Math.ceil(a / rule.patch) * Math.ceil(b / rule.patch);
  const long = Math.max(w, h);
  const short = Math.min(w, h);
  let rLong = long;
  let rShort = short;
  if (long > rule.maxLongEdge || count(w, h) > rule.maxTokens) {
    // The largest aspect-preserving size that meets both limits.
    rLong = Math.min(long, rule.maxLongEdge);
    for (; rLong > 1; rLong--) {
      rShort = Math.max(1, roundHalfEven((rLong * short) / long));
      if (count(rLong, rShort) <= rule.maxTokens) break;
    }
    rShort = Math.max(1, roundHalfEven((rLong * short) / long));
  }
  const [rw, rh] = w >= h ? [rLong, rShort] : [rShort, rLong];
  return { tokens: count(rw, rh), resizedWidth: rw, resizedHeight: rh, detail: 'auto', unit: rule.patch, maxSide: rule.maxLongEdge };
}

function claudeLegacyTokens(rule: ClaudeLegacyRule, w: number, h: number): RuleResult {
  const [rw, rh] = fitWithin(w, h, rule.maxLongEdge, rule.maxLongEdge, 'round');
  return { tokens: Math.ceil((rw * rh) / rule.divisor), resizedWidth: rw, resizedHeight: rh, detail: 'auto', unit: 1, maxSide: rule.maxLongEdge };
}

function geminiTilesTokens(rule: GeminiTilesRule, w: number, h: number): RuleResult {
  if (w <= rule.smallSide && h <= rule.smallSide) {
    return { tokens: rule.tokensPerTile, resizedWidth: w, resizedHeight: h, detail: 'auto', unit: rule.smallSide, maxSide: rule.smallSide };
  }
  const unit = Math.min(rule.maxUnit, Math.max(rule.minUnit, Math.floor(Math.min(w, h) / rule.unitDivisor)));
  const tiles = Math.ceil(w / unit) * Math.ceil(h / unit);
  return { tokens: tiles * rule.tokensPerTile, resizedWidth: w, resizedHeight: h, detail: 'auto', unit, maxSide: Math.max(w, h) };
}

function geminiFixedTokens(rule: GeminiFixedRule, w: number, h: number, detail: string): RuleResult {
  const level = rule.levels[detail];
  if (!level) throw invalidOption('detail', Object.keys(rule.levels).join(', '), detail);
  const [rw, rh] = fitWithin(w, h, level.maxSide, level.maxSide, 'floor');
  return { tokens: level.tokens, resizedWidth: rw, resizedHeight: rh, detail, unit: level.maxSide, maxSide: level.maxSide };
}

/** Tokens for one image of w x h under a rule, with the detail already resolved. */
export function applyRule(rule: ImageRule, w: number, h: number, detail: string): RuleResult {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) {
    throw invalidOption('width/height', 'positive whole numbers of pixels', `${w}x${h}`);
  }
  switch (rule.type) {
    case 'tile':
      return tileTokens(rule, w, h, detail);
    case 'patch':
      return patchTokens(rule, w, h, detail);
    case 'claude':
      return claudeTokens(rule, w, h);
    case 'claude-legacy':
      return claudeLegacyTokens(rule, w, h);
    case 'gemini-tiles':
      return geminiTilesTokens(rule, w, h);
    case 'gemini-fixed':
      return geminiFixedTokens(rule, w, h, detail);
  }
}
