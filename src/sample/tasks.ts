/**
 * From planned frames to decode tasks, choosing each task's strategy by its cost in the packet
 * index: how many packets each way decodes, plus what a process start costs.
 *
 * - Keyframe frames go in runs to the keyframe stream (Annex B codecs: H.264, HEVC) or a keyframes-only range,
 *   unless an exact frame of their group of pictures is planned: then they start its span.
 * - Exact frames are walked in order: a frame joins the current task when decoding on to it from
 *   the task's last frame costs no more than a fresh start at its own keyframe (a process start
 *   plus its keyframe..frame span); else it starts a new task. Dense sampling (frames closer than
 *   a group of pictures or two) so becomes one sequential pass that keeps the planned frames by
 *   their packet positions; sparse frames get a seek each.
 * - On Annex B codecs a task may instead decode only the spans keyframe..frame in one decoder
 *   (span stream), when the spans hold fewer packets than the pass, counting its second process.
 */
import type { FfmpegRef, FrameTask, DecodePath } from '../extract/types.js';
import { posWindow } from '../extract/graph.js';
import { annexBCodec } from '../extract/annexb.js';
import { annexBStreamable } from '../extract/strategies/packet-stream.js';
import type { PacketIndex } from '../probe/keyframes.js';
import type { MediaInfo, VideoStreamInfo } from '../probe/types.js';
import type { PlannedFrame } from '../plan/types.js';

/** A process start (spawn, open, probe the stream), in packets decoded: the least it is counted as. */
export const START_COST = 30;
/**
 * A process start from Node, in milliseconds: about 40 (spawn ~12 ms from a 100 MB process,
 * ffmpeg's open ~30 ms), counted at half because the cores run tasks side by side. Measured on
 * 2 cores: 4-s clips, keyframes 30-36 packets apart, are faster as one task each (100 clips
 * one after another); echo-hereweare.webm's keyframes every 5 s, 70-150 packets apart, faster
 * each on its own (0.73 s against 0.95 s as 4 ranges).
 */
const START_MS = 20;
/**
 * Decoding time per pixel of a frame, in nanoseconds (2018 ffmpeg, one thread: 480x270 VP8 0.28 ms,
 * 320x240 H.264 0.13 ms, 1280x720 H.264 ~3 ms a frame).
 */
const NS_PER_PIXEL = 2.5;

/**
 * A process start in packets of this frame size: small frames decode so fast that a start costs
 * the decode of many (62 packets at 480x270; 30, the least, from about 690x390 up).
 */
export function startCost(width: number, height: number): number {
  return Math.max(START_COST, Math.round((START_MS * 1e6) / (NS_PER_PIXEL * Math.max(1, width * height))));
}
/** Copying a packet to the span decoder's stream without decoding it, in packets decoded. */
const COPY_COST = 0.05;

export interface TaskContext {
  info: MediaInfo;
  video: VideoStreamInfo;
  idx: PacketIndex;
  ffmpeg: FfmpegRef;
  threads: number;
  maxPixels: number;
  timeoutMs: number;
  out: FrameTask['out'];
  hash: boolean;
}

/** The index in decode order (file order when positions are known, else time order). */
export class DecodeOrder {
  /** Packet indices (into the index) in decode order. */
  readonly order: Uint32Array;
  /** Decode rank of each packet. */
  readonly rank: Uint32Array;
  /** For each rank, the rank of the keyframe at or before it (0 when none). */
  readonly keyBefore: Uint32Array;
  /** Sorted byte positions (for the float-window neighbours), when known. */
  private readonly sortedPos: Float64Array;
  private readonly byTime = new Map<number, number>();

  /** @param startCost a process start, in packets (startCost()) */
  constructor(
    readonly idx: PacketIndex,
    readonly startCost = START_COST,
  ) {
    const n = idx.times.length;
    const known = idx.pos.every((p) => p >= 0);
    this.order = Uint32Array.from({ length: n }, (_, i) => i);
    if (known) this.order.sort((a, b) => idx.pos[a]! - idx.pos[b]!);
    this.rank = new Uint32Array(n);
    this.order.forEach((i, r) => (this.rank[i] = r));
    this.keyBefore = new Uint32Array(n);
    for (let r = 0; r < n; r++) this.keyBefore[r] = idx.keyframe[this.order[r]!] || r === 0 ? r : this.keyBefore[r - 1]!;
    this.sortedPos = known ? Float64Array.from(this.order, (i) => idx.pos[i]!) : new Float64Array(0);
    idx.times.forEach((t, i) => this.byTime.set(Math.round(t * 1e6), i));
  }

  /** The decode rank of the planned frame's packet. */
  rankOf(f: PlannedFrame): number {
    const i = this.byTime.get(Math.round(f.timestampSec * 1e6));
    return i === undefined ? 0 : this.rank[i]!;
  }

  /** Packets (other than this one) whose positions the float position filter cannot tell from it, plus one. */
  neighbours(pos: number): number {
    if (pos < 0 || !this.sortedPos.length) return 1;
    const w = posWindow(pos);
    let lo = 0;
    let hi = this.sortedPos.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sortedPos[mid]! < pos - w) lo = mid + 1;
      else hi = mid;
    }
    let n = 0;
    for (let i = lo; i < this.sortedPos.length && this.sortedPos[i]! <= pos + w; i++) n++;
    return Math.max(1, n);
  }

  packet(r: number): { pos: number; size: number; t: number; key: boolean } {
    const i = this.order[r]!;
    return { pos: this.idx.pos[i]!, size: this.idx.size[i]!, t: this.idx.times[i]!, key: this.idx.keyframe[i]! };
  }
}

interface Group {
  decode: 'keyframes' | 'exact';
  frames: PlannedFrame[];
  /** Decode ranks: the first keyframe to decode from and the last planned frame. */
  first: number;
  last: number;
}

/**
 * Frames per task: enough to amortise a process start, few enough that every core gets a few
 * tasks, or one each when every task costs the same per frame (`uniform`: keyframes decoded
 * alone; ten minutes of 720p, 121 keyframes: 4 tasks 1.32 s, 2 tasks 1.21 s). At least 8: a short clip's few frames are one task, as splitting them spends more on
 * process starts than the cores win back (100 clips of 4 s in one process: ~210 -> ~165 ms a
 * clip, and 2.5x less decode CPU, with the 2018 static ffmpeg's ~70 ms start).
 */
export const MIN_TASK_FRAMES = 8;

export function taskSize(total: number, threads: number, uniform = false): number {
  return Math.max(MIN_TASK_FRAMES, Math.min(96, Math.ceil(total / (uniform ? threads : threads * 2))));
}

/**
 * How each decoder skips to keyframes (`-skip_frame`), so that a keyframes-only range decode
 * costs its keyframes alone. H.264 and its kin honour `nointra` (not `nokey`: some decoders would
 * skip intra frames the container marks as keys, non-IDR I-frames); VP8 honours only `nokey`, and
 * its keyframes reset every reference, so they decode alone to the same pixels (framemd5-equal on
 * echo-hereweare.webm). Measured with the 2018 ffmpeg: H.264 0.01 s against 0.24 s for the whole
 * 60-s 320x240 fixture; VP8 0.17 s against 0.41 s for echo-hereweare.webm (123 of 836 frames).
 * VP9 and AV1 decode everything under either; Theora's `nokey` stops after the first frame.
 */
const KEYFRAME_SKIP: Readonly<Record<string, 'nointra' | 'nokey'>> = {
  h264: 'nointra',
  hevc: 'nointra',
  mpeg1video: 'nointra',
  mpeg2video: 'nointra',
  mpeg4: 'nointra',
  vp8: 'nokey',
};

/** The `-skip_frame` value that makes the codec's decoder decode keyframes alone, if any. */
export function keyframeSkip(codec: string): 'nointra' | 'nokey' | undefined {
  return Object.hasOwn(KEYFRAME_SKIP, codec) ? KEYFRAME_SKIP[codec] : undefined;
}

/** Whether a keyframes-only decode of a range costs its keyframes alone (see KEYFRAME_SKIP). */
export function keyframesAlone(codec: string, streamable: boolean): boolean {
  return streamable || keyframeSkip(codec) !== undefined;
}

/**
 * Splits planned frames into tasks (see the file's comment). Exported for tests. `alone`: a
 * keyframes task decodes only its keyframes (keyframesAlone); else it decodes every packet from
 * one to the next, and a keyframe joins the task only when that costs no more than a start of its own.
 */
export function groupFrames(frames: PlannedFrame[], dec: DecodeOrder, threads: number, streamable: boolean, alone = true): Group[] {
  const cap = taskSize(frames.length, threads, alone && frames.every((f) => f.source === 'keyframe'));
  const groups: Group[] = [];
  // A keyframe that starts the span of an exact frame is decoded with it (the span decodes it anyway).
  const spanStarts = new Set(frames.filter((f) => f.source !== 'keyframe').map((f) => dec.keyBefore[dec.rankOf(f)]!));
  // The group each kind of decode is filling: keyframe and exact frames that alternate (keyframe
  // mode on long groups of pictures, where a window without a keyframe takes an exact frame) fill
  // one task of each kind, not a task per switch. Their frames then interleave (sample.ts puts
  // them back in order).
  const open: Partial<Record<Group['decode'], Group>> = {};
  let previous: Group | undefined;
  for (const f of frames) {
    const r = dec.rankOf(f);
    const decode = f.source === 'keyframe' && !spanStarts.has(r) ? 'keyframes' : 'exact';
    const k = dec.keyBefore[r]!;
    const g = open[decode];
    // A frame in a group of pictures the task already decodes always joins it (a second task
    // would decode that group again); otherwise the task must have room and be the cheaper way.
    // Exact spans read from an Annex B stream cost their own packets alone, but only while the
    // frames run on: across the other kind's frames the cost rule decides, as a span task that
    // falls back to a range decode (an HEVC CRA keyframe) decodes everything from its first frame.
    const shared = g !== undefined && decode === 'exact' && k <= g.last;
    const cheaper =
      g !== undefined && (decode === 'keyframes' ? alone || r - g.last <= 1 + dec.startCost : (streamable && previous === g) || joins(g, r, k, dec.startCost));
    if (g && (shared || (g.frames.length < cap && cheaper))) {
      g.frames.push(f);
      g.first = Math.min(g.first, k);
      g.last = Math.max(g.last, r);
      previous = g;
    } else {
      const fresh: Group = { decode, frames: [f], first: k, last: r };
      groups.push(fresh);
      open[decode] = fresh;
      previous = fresh;
    }
  }
  return groups;
}

/** Whether decoding on from the group's last frame to rank r costs no more than a fresh start at its keyframe k. */
function joins(g: Group, r: number, k: number, start: number): boolean {
  if (k <= g.last) return true;
  return r - g.last <= r - k + 1 + start;
}

/** The cheapest strategy for an exact group: one pass, or (Annex B codecs) spans in one decoder. */
export function chooseStrategy(g: Group, dec: DecodeOrder, streamable: boolean): DecodePath {
  const pass = g.last - g.first + 1 + dec.startCost;
  const multiGop = dec.keyBefore[g.last]! !== g.first;
  if (!streamable) return multiGop ? 'one-pass' : 'range';
  const spans = new Map<number, number>();
  for (const f of g.frames) {
    const r = dec.rankOf(f);
    const k = dec.keyBefore[r]!;
    spans.set(k, Math.max(spans.get(k) ?? k, r));
  }
  let span = 2 * dec.startCost + (g.last - g.first + 1) * COPY_COST;
  for (const [k, to] of spans) span += to - k + 1;
  return span < pass ? 'span-stream' : multiGop ? 'one-pass' : 'range';
}

function keyframeRun(g: Group, dec: DecodeOrder): FrameTask['keyframeRun'] {
  const run: Array<{ pos: number; size: number }> = [];
  for (let r = g.first; r <= g.last; r++) {
    const p = dec.packet(r);
    if (p.key) run.push({ pos: p.pos, size: p.size });
  }
  return run.every((p) => p.pos >= 0 && p.size > 0) ? run : undefined;
}

function packetRun(g: Group, dec: DecodeOrder): FrameTask['packetRun'] {
  return Array.from({ length: g.last - g.first + 1 }, (_, j) => dec.packet(g.first + j));
}

/**
 * A task alone on the machine decodes with ffmpeg's frame threads (`-threads 0`) when it decodes
 * at least this many packets; below, starting the threads costs more than they win: a 4-s WebM's
 * five keyframes take 40 ms threaded and 30 ms on one thread, flower.mp4's 150 frames 0.24 s
 * threaded and 0.30 s on one (the 2018 static ffmpeg, 2 cores).
 */
export const THREADED_DECODE_PACKETS = 30;

/** The packets a group's decode goes through: its keyframes when they decode alone, else its whole range. */
function decodedPackets(g: Group, alone: boolean): number {
  return g.decode === 'keyframes' && alone ? g.frames.length : g.last - g.first + 1;
}

/** The decode tasks for the planned frames of a video. */
export function buildTasks(frames: PlannedFrame[], ctx: TaskContext): FrameTask[] {
  const dec = new DecodeOrder(ctx.idx, startCost(ctx.video.width, ctx.video.height));
  const streamable = annexBStreamable(ctx.video.codec, ctx.info.container) && frames.every((f) => f.pos >= 0);
  const groups = groupFrames(frames, dec, ctx.threads, streamable, keyframesAlone(ctx.video.codec, streamable));
  return groups.map((g): FrameTask => {
    const strategy: DecodePath = g.decode === 'keyframes' ? (streamable ? 'keyframe-stream' : 'range') : chooseStrategy(g, dec, streamable);
    return {
      kind: 'frames',
      decode: g.decode,
      ...(g.decode === 'keyframes' ? { skipFrame: keyframeSkip(ctx.video.codec) } : {}),
      strategy,
      path: ctx.info.path,
      input: ctx.info.input,
      ffmpeg: ctx.ffmpeg,
      streamIndex: ctx.video.index,
      startTimeSec: ctx.info.startTimeSec,
      maxPixels: ctx.maxPixels,
      timeoutMs: ctx.timeoutMs,
      // Exactly onto the keyframe the decode starts from: demuxers without an index (MPEG-TS)
      // seek to the nearest keyframe, not the one before.
      seekSec: Math.max(0, dec.packet(g.first).t),
      container: ctx.info.container,
      frames: g.frames.map((f) => ({ index: f.index, timestampSec: f.timestampSec, pos: f.pos, keyframe: f.keyframe })),
      expectedOutputs: g.frames.reduce((a, f) => a + (g.decode === 'keyframes' ? 1 : dec.neighbours(f.pos)), 0),
      annexB: streamable ? annexBCodec(ctx.video.codec)?.format : undefined,
      keyframeRun: streamable && g.decode === 'keyframes' ? keyframeRun(g, dec) : undefined,
      codecRecord: streamable && (g.decode === 'keyframes' || strategy === 'span-stream') ? ctx.idx.codecRecord : undefined,
      packetRun: strategy === 'span-stream' ? packetRun(g, dec) : undefined,
      rotation: ctx.video.rotation,
      decodeThreads: groups.length === 1 && decodedPackets(g, keyframesAlone(ctx.video.codec, streamable)) >= THREADED_DECODE_PACKETS ? 0 : 1,
      decodeWidth: ctx.video.width,
      decodeHeight: ctx.video.height,
      out: ctx.out,
      hash: ctx.hash,
    };
  });
}
