/**
 * Every decode strategy, in one list. The grouping takes the cheapest that applies to a group
 * (ties go to the earlier one); a task whose strategy finds the file does not suit it falls back
 * to FALLBACK, the range decode, which every file can take.
 */
import type { DecodeFacts, FrameGroup } from '../decode-cost.js';
import type { FrameTask } from '../types.js';
import { keyframeIvf } from './keyframe-ivf.js';
import { keyframeStream } from './keyframe-stream.js';
import { onePass } from './one-pass.js';
import { range } from './range.js';
import { spanStream } from './span-stream.js';
import type { DecodeStrategy } from './strategy.js';

export const STRATEGIES: readonly DecodeStrategy[] = [keyframeStream, keyframeIvf, onePass, range, spanStream];

/** The strategy every task can fall back to. */
export const FALLBACK: DecodeStrategy = range;

/** The cheapest of `strategies` that applies to the group (the fallback when none does). */
export function cheapest(strategies: readonly DecodeStrategy[], facts: DecodeFacts, g: FrameGroup): DecodeStrategy {
  let best: { s: DecodeStrategy; cost: number } | undefined;
  for (const s of strategies) {
    if (!s.applies(facts, g)) continue;
    const cost = s.cost(facts, g);
    if (!best || cost < best.cost) best = { s, cost };
  }
  return best?.s ?? FALLBACK;
}

/** The strategies a task tries, in order: the one the grouping chose, then the fallback. */
export function strategiesFor(task: Pick<FrameTask, 'strategy'>): DecodeStrategy[] {
  const chosen = STRATEGIES.find((s) => s.name === task.strategy) ?? FALLBACK;
  return chosen === FALLBACK ? [FALLBACK] : [chosen, FALLBACK];
}
