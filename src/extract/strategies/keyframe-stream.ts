import { annexBCodec } from '../annexb.js';
import type { DecodeFacts, FrameGroup } from '../decode-cost.js';
import type { FrameResult, FrameTask, PlannedTaskFrame, TaskHooks } from '../types.js';
import { decodePacketStream, streamFields } from './packet-stream.js';
import { StrategyMismatch, type DecodeStrategy } from './strategy.js';

/** Every keyframe packet from the group's first keyframe to its last frame (undefined when one has no position or size). */
function keyframeRun(facts: DecodeFacts, g: FrameGroup): FrameTask['keyframeRun'] {
  const run: Array<{ pos: number; size: number }> = [];
  for (let r = g.first; r <= g.last; r++) {
    const p = facts.dec.packet(r);
    if (p.key) run.push({ pos: p.pos, size: p.size });
  }
  return run.every((p) => p.pos >= 0 && p.size > 0) ? run : undefined;
}

/** Keyframe mode on H.264 and HEVC: only the keyframes it keeps are decoded (the others are never sent). */
function runKeyframeStream(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]> {
  const run = task.keyframeRun;
  if (!run) return Promise.reject(new StrategyMismatch('a keyframe of the run has no position in the index'));
  const wanted = new Map(task.frames.map((f) => [f.pos, f]));
  const forwarded: PlannedTaskFrame[] = [];
  const alone = annexBCodec(task.annexB ?? '')?.nonIdrKeyframesAlone ?? true;
  return decodePacketStream(task, hooks, {
    keyframesOnly: true,
    packets: run,
    wanted: (i) => wanted.has(run[i]!.pos),
    forward: (i, unit) => {
      const planned = wanted.get(run[i]!.pos);
      if (planned && !unit.idr && !alone) return 'a keyframe that is not an IDR cannot be decoded without the pictures before it';
      if (planned) forwarded.push(planned);
      return Boolean(planned);
    },
    // an unmatched IDR means the stream and the index disagree; anything else is skipped
    strict: (unit) => unit.idr,
    identify: (k) => forwarded[k],
  });
}

/**
 * Keyframes of H.264/HEVC: their packets alone go to one decoder (read from an MP4/MOV by its
 * index, else copied by a demuxer, which is not counted), one start and the keyframes it keeps.
 */
export const keyframeStream: DecodeStrategy = {
  name: 'keyframe-stream',
  applies: (facts, g) => g.decode === 'keyframes' && facts.streamable,
  cost: (facts, g) => facts.dec.startCost + g.frames.length,
  fill: (facts, g) => ({ ...streamFields(facts), keyframeRun: keyframeRun(facts, g) }),
  run: runKeyframeStream,
};
