/**
 * From planned frames to decode tasks, each given the cheapest decode strategy by its cost in the
 * packet index (src/extract/decode-cost.ts: packets decoded, plus what a process start costs).
 * This module groups the frames; which strategies there are and what each costs is theirs
 * (STRATEGIES, src/extract/strategies/registry.ts): it names none.
 *
 * - Keyframe frames go in runs to a keyframes-only decode, unless an exact frame of their group
 *   of pictures is planned: then they start its span.
 * - Exact frames are walked in order: a frame joins the current task when decoding on to it from
 *   the task's last frame costs no more than a fresh start at its own keyframe (a process start
 *   plus its keyframe..frame span); else it starts a new task. Dense sampling (frames closer than
 *   a group of pictures or two) so becomes one sequential pass that keeps the planned frames by
 *   their packet positions; sparse frames get a seek each.
 * - Where the Annex B stream paths can read the frames (`streamable`), exact frames that run on
 *   join one task, which may then decode only the spans keyframe..frame in one decoder.
 */
import type { FfmpegRef, FrameTask, DecodePath } from '../extract/types.js';
import { decodedPackets, decodeFacts, DecodeOrder, keyframeSkip, startCost, type DecodeFacts, type FrameGroup } from '../extract/decode-cost.js';
import { cheapest, STRATEGIES } from '../extract/strategies/registry.js';
import type { DecodeStrategy } from '../extract/strategies/strategy.js';
import type { PacketIndex } from '../probe/keyframes.js';
import type { MediaInfo, VideoStreamInfo } from '../probe/types.js';
import type { PlannedFrame } from '../plan/types.js';

export { DecodeOrder, keyframeSkip, keyframesAlone, START_COST, startCost } from '../extract/decode-cost.js';

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
  /** The strategies to choose from (default STRATEGIES). */
  strategies?: readonly DecodeStrategy[] | undefined;
}

type Group = FrameGroup<PlannedFrame>;

/**
 * Frames per task: enough to amortise a process start, few enough that every core gets a few
 * tasks, or one each when every task costs the same per frame (`uniform`: keyframes decoded
 * alone; ten minutes of 720p, 121 keyframes: 4 tasks 1.32 s, 2 tasks 1.21 s). At least 8: a short clip's few frames are one task, as splitting them spends more on
 * process starts than the cores win back (100 clips of 4 s in one process: ~210 -> ~165 ms a
 * clip, and 2.5x less decode CPU, with the 2018 static ffmpeg's ~70 ms start).
 */
export const MIN_TASK_FRAMES = 8;

/**
 * The frames are shared out evenly among as many tasks as hold MIN_TASK_FRAMES each (at most one
 * or two a thread): 9 keyframes are one task of 9, not 8 and a process started for the last one
 * (echo-hereweare.webm every 5 s).
 */
export function taskSize(total: number, threads: number, uniform = false): number {
  const tasks = Math.max(1, Math.min(uniform ? threads : threads * 2, Math.floor(total / MIN_TASK_FRAMES)));
  return Math.max(MIN_TASK_FRAMES, Math.min(96, Math.ceil(total / tasks)));
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

/** The name of the cheapest strategy for a group (of `strategies`, default STRATEGIES). */
export function chooseStrategy(g: Group, dec: DecodeOrder, streamable: boolean, strategies: readonly DecodeStrategy[] = STRATEGIES): DecodePath {
  return cheapest(strategies, { dec, streamable, alone: true, skip: true }, g).name;
}

/**
 * A task alone on the machine decodes with ffmpeg's frame threads (`-threads 0`) when it decodes
 * at least this many packets; below, starting the threads costs more than they win: a 4-s WebM's
 * five keyframes take 40 ms threaded and 30 ms on one thread, flower.mp4's 150 frames 0.24 s
 * threaded and 0.30 s on one (the 2018 static ffmpeg, 2 cores).
 */
export const THREADED_DECODE_PACKETS = 30;

/** The task of one group, decoded by `strategy` (which adds the fields only it reads). */
function frameTask(g: Group, facts: DecodeFacts, ctx: TaskContext, strategy: DecodeStrategy, lone: boolean): FrameTask {
  const dec = facts.dec;
  return {
    kind: 'frames',
    decode: g.decode,
    ...(g.decode === 'keyframes' ? { skipFrame: keyframeSkip(ctx.video.codec) } : {}),
    strategy: strategy.name,
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
    rotation: ctx.video.rotation,
    decodeThreads: lone && decodedPackets(g, facts.alone) >= THREADED_DECODE_PACKETS ? 0 : 1,
    decodeWidth: ctx.video.width,
    decodeHeight: ctx.video.height,
    out: ctx.out,
    hash: ctx.hash,
    ...strategy.fill?.(facts, g),
  };
}

/** The decode tasks for the planned frames of a video. */
export function buildTasks(frames: PlannedFrame[], ctx: TaskContext): FrameTask[] {
  const dec = new DecodeOrder(ctx.idx, startCost(ctx.video.width, ctx.video.height));
  const facts = decodeFacts({ codec: ctx.video.codec, container: ctx.info.container }, dec, frames, ctx.idx.codecRecord, ctx.idx.rawFrames === true);
  const groups = groupFrames(frames, dec, ctx.threads, facts.streamable, facts.alone);
  const strategies = ctx.strategies ?? STRATEGIES;
  return groups.map((g) => frameTask(g, facts, ctx, cheapest(strategies, facts, g), groups.length === 1));
}
