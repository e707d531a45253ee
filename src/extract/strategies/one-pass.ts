/**
 * One pass: dense sampling (planned frames closer than a group of pictures or two) decoded by one
 * sequential pass from the first frame's keyframe to the last frame, keeping the planned frames
 * by their packet positions, instead of a seek and a decoder per group of pictures. The decode is
 * the range decoder's; what makes it one pass is the task the cost model gives it (see
 * src/sample/tasks.ts): a run across many groups of pictures that every frame of is decoded once.
 */
import { multiGop, rangePackets } from '../decode-cost.js';
import { decodeThrough } from './range.js';
import type { DecodeStrategy } from './strategy.js';

/** Exact frames across groups of pictures: every packet from the first keyframe to the last frame, one start. */
export const onePass: DecodeStrategy = {
  name: 'one-pass',
  applies: (facts, g) => g.decode === 'exact' && multiGop(g, facts.dec),
  cost: (facts, g) => rangePackets(g) + facts.dec.startCost,
  run: decodeThrough,
};
