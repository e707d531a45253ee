/**
 * The output size of an image for a model: the size that keeps the most detail for the fewest
 * tokens. Start from the size the provider itself would resize to (nothing larger is worth
 * sending; nothing is ever enlarged), capped by `maxSide`; then look at every size down to
 * `1 - slack` of it (default 10%) and take the one with the fewest tokens per pixel kept. That
 * drops a needless extra 512 px tile (1030x768 -> 1024x764: 4 tiles, not 6) or a row of
 * half-empty patches, and leaves a size alone when shrinking buys nothing.
 */
import { invalidOption } from '../errors.js';
import { applyRule, fitWithin, resolveDetail } from './rules.js';
import { getModel, type ModelOptions } from './tokens.js';
import type { ModelEntry } from './registry.js';

export interface SizeOptions extends ModelOptions {
  detail?: string | undefined;
  /** Largest side of the output, in pixels. */
  maxSide?: number | undefined;
  /** How much smaller than the provider's own size the search may go (0..0.5, default 0.1). */
  slack?: number | undefined;
}

export interface SizeChoice {
  width: number;
  height: number;
  tokens: number;
  /** The detail level applied (`auto` resolved). */
  detail: string;
}

/** Aspect-preserving size with `long` pixels on the long side. */
function sizeAt(long: number, srcW: number, srcH: number): [number, number] {
  return srcW >= srcH ? [long, Math.max(1, Math.round((long * srcH) / srcW))] : [Math.max(1, Math.round((long * srcW) / srcH)), long];
}

export function chooseSize(model: string | ModelEntry, srcW: number, srcH: number, o: SizeOptions = {}): SizeChoice {
  const m = getModel(model, o);
  const slack = o.slack ?? 0.1;
  if (!(slack >= 0 && slack <= 0.5)) throw invalidOption('slack', 'a number from 0 to 0.5', slack);
  if (o.maxSide !== undefined && !(Number.isInteger(o.maxSide) && o.maxSide >= 16)) throw invalidOption('maxSide', 'a whole number of pixels >= 16', o.maxSide);
  if (!m.image) throw invalidOption('model', 'a model that takes images', m.name);
  const rule = m.image;
  const detail = resolveDetail(rule, o.detail, `${m.name} (${rule.name})`);
  const first = applyRule(rule, srcW, srcH, detail);
  let [w0, h0] = [first.resizedWidth, first.resizedHeight];
  // The provider's resize may round differently from ours; never exceed the source.
  w0 = Math.min(w0, srcW);
  h0 = Math.min(h0, srcH);
  if (o.maxSide !== undefined) [w0, h0] = fitWithin(w0, h0, o.maxSide, o.maxSide, 'round');
  let best: SizeChoice = { width: w0, height: h0, tokens: applyRule(rule, w0, h0, detail).tokens, detail };
  let bestCost = best.tokens / (w0 * h0);
  const long0 = Math.max(w0, h0);
  const floor = Math.max(1, Math.ceil(long0 * (1 - slack)));
  for (let long = long0 - 1; long >= floor; long--) {
    const [w, h] = sizeAt(long, srcW, srcH);
    if (w > w0 || h > h0) continue;
    const tokens = applyRule(rule, w, h, detail).tokens;
    const cost = tokens / (w * h);
    if (cost < bestCost - 1e-12) {
      best = { width: w, height: h, tokens, detail };
      bestCost = cost;
    }
  }
  return best;
}
