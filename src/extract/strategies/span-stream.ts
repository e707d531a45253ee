import { COPY_COST, rangePackets, type DecodeFacts, type FrameGroup } from '../decode-cost.js';
import type { FrameResult, FrameTask, PlannedTaskFrame, TaskHooks } from '../types.js';
import { decodePacketStream, streamFields } from './packet-stream.js';
import { StrategyMismatch, type DecodeStrategy } from './strategy.js';

/**
 * The spans keyframe..frame in one decoder: their packets, every packet of the range copied to
 * the decoder's stream (COPY_COST each), and two process starts (the demuxer, the decoder).
 */
function spansCost(facts: DecodeFacts, g: FrameGroup): number {
  const dec = facts.dec;
  const spans = new Map<number, number>();
  for (const f of g.frames) {
    const r = dec.rankOf(f);
    const k = dec.keyBefore[r]!;
    spans.set(k, Math.max(spans.get(k) ?? k, r));
  }
  let cost = 2 * dec.startCost + rangePackets(g) * COPY_COST;
  for (const [k, to] of spans) cost += to - k + 1;
  return cost;
}

/** Every packet of the group's range, in decode order. */
function packetRun(facts: DecodeFacts, g: FrameGroup): FrameTask['packetRun'] {
  return Array.from({ length: rangePackets(g) }, (_, j) => facts.dec.packet(g.first + j));
}

/**
 * Exact frames on H.264 and HEVC without starting a decoder for each: for each group of pictures holding
 * planned frames, the span from its keyframe to its last planned frame goes to one decoder that
 * runs for the whole task. Each span decodes to its frames in display order; a planned frame is
 * the one whose rank in its span is the number of the span's frames shown before it, so a
 * `select` on the decoder's frame counter keeps exactly the planned ones. Spans must start at an
 * IDR (closed groups of pictures).
 */
function runSpanStream(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]> {
  const packets = task.packetRun;
  if (!packets) return Promise.reject(new StrategyMismatch('the task has no packet run'));
  const byPos = new Map(packets.map((p, i) => [p.pos, i]));
  // Spans: for each planned frame, the keyframe before it in decode order; frames sharing a keyframe share a span.
  const spans: Array<{ from: number; to: number; frames: PlannedTaskFrame[] }> = [];
  for (const f of [...task.frames].sort((a, b) => (byPos.get(a.pos) ?? 0) - (byPos.get(b.pos) ?? 0))) {
    const at = byPos.get(f.pos);
    if (at === undefined) throw new StrategyMismatch(`frame at ${f.timestampSec} s is not in the packet run`);
    let k = at;
    while (k > 0 && !packets[k]!.key) k--;
    if (!packets[k]!.key) throw new StrategyMismatch('no keyframe before a planned frame');
    const last = spans[spans.length - 1];
    if (last && last.from === k) {
      last.to = Math.max(last.to, at);
      last.frames.push(f);
    } else spans.push({ from: k, to: at, frames: [f] });
  }
  // Decoder output index of each planned frame: the frames of earlier spans, then its rank in its span.
  const outputs: Array<{ n: number; frame: PlannedTaskFrame }> = [];
  let decoded = 0;
  for (const s of spans) {
    const times = packets.slice(s.from, s.to + 1).map((p) => p.t);
    for (const f of s.frames) outputs.push({ n: decoded + times.filter((t) => t < f.timestampSec - 1e-6).length, frame: f });
    decoded += times.length;
  }
  outputs.sort((a, b) => a.n - b.n);
  const inSpan = new Uint8Array(packets.length);
  const spanStart = new Uint8Array(packets.length);
  for (const s of spans) {
    spanStart[s.from] = 1;
    inSpan.fill(1, s.from, s.to + 1);
  }
  const last = Math.max(...spans.map((s) => s.to));
  return decodePacketStream(task, hooks, {
    keyframesOnly: false,
    packets: packets.slice(0, last + 1),
    wanted: (i) => inSpan[i] === 1,
    forward: (i, unit) => (spanStart[i] && !unit.idr ? 'a span does not start at an IDR (open group of pictures)' : inSpan[i] === 1),
    strict: () => true,
    select: outputs.map((o) => `eq(n\\,${o.n})`).join('+'),
    identify: (k) => outputs[k]?.frame,
    verify: (log) => (log.decoded === decoded ? undefined : `the decoder made ${log.decoded} frames where the spans hold ${decoded}`),
  });
}

export const spanStream: DecodeStrategy = {
  name: 'span-stream',
  applies: (facts, g) => g.decode === 'exact' && facts.streamable,
  cost: spansCost,
  fill: (facts, g) => ({ ...streamFields(facts), packetRun: packetRun(facts, g) }),
  run: runSpanStream,
};
