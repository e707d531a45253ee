import { annexBCodec } from '../annexb.js';
import type { FrameResult, FrameTask, PlannedTaskFrame, TaskHooks } from '../types.js';
import { decodePacketStream } from './packet-stream.js';
import type { DecodeStrategy } from './strategy.js';

/** Keyframe mode on H.264 and HEVC: only the keyframes it keeps are decoded (the others are never sent). */
function runKeyframeStream(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]> {
  const run = task.keyframeRun!;
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

export const keyframeStream: DecodeStrategy = {
  name: 'keyframe-stream',
  applies: (task) => task.decode === 'keyframes' && task.keyframeRun !== undefined && task.frames.every((f) => f.pos >= 0),
  run: runKeyframeStream,
};
