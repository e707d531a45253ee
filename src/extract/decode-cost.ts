/**
 * What the decode strategies' costs are counted in: packets decoded, in decode order (the packet
 * index as `DecodeOrder`), plus what a process start costs, and the facts of a video that tell
 * which strategies can read it (`DecodeFacts`). The grouping (src/sample/tasks.ts) forms groups of
 * frames (`FrameGroup`) and asks each strategy of STRATEGIES (src/extract/strategies/registry.ts)
 * whether it applies to a group and what it costs; the cheapest runs.
 */
import { annexBCodec } from './annexb.js';
import { posWindow } from './graph.js';
import type { PacketIndex } from '../probe/types.js';

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

/** Passing a packet on without decoding it (a demuxer's copy, a stream's filler), in packets decoded. */
export const COPY_COST = 0.05;

/** A planned frame as the grouping sees it (src/plan/types.ts PlannedFrame fits it). */
export interface GroupFrame {
  index: number;
  timestampSec: number;
  /** Byte position of the frame's packet (-1 unknown). */
  pos: number;
  keyframe: boolean;
}

/** The index in decode order (file order when positions are known, else time order). */
export class DecodeOrder {
  /** Packet indices (into the index) in decode order. */
  readonly order: Uint32Array;
  /** Decode rank of each packet. */
  readonly rank: Uint32Array;
  /** For each rank, the rank of the keyframe at or before it (0 when none). */
  readonly keyBefore: Uint32Array;
  /** Keyframes before each rank (length n + 1): how many a keyframes-only decode of a range goes through. */
  readonly keysUpTo: Uint32Array;
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
    this.keysUpTo = new Uint32Array(n + 1);
    for (let r = 0; r < n; r++) {
      const key = idx.keyframe[this.order[r]!]!;
      this.keyBefore[r] = key || r === 0 ? r : this.keyBefore[r - 1]!;
      this.keysUpTo[r + 1] = this.keysUpTo[r]! + (key ? 1 : 0);
    }
    this.sortedPos = known ? Float64Array.from(this.order, (i) => idx.pos[i]!) : new Float64Array(0);
    idx.times.forEach((t, i) => this.byTime.set(Math.round(t * 1e6), i));
  }

  /** The decode rank of the planned frame's packet. */
  rankOf(f: { timestampSec: number }): number {
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

/** Frames that one task decodes in one way: keyframes alone, or exact frames from their keyframes. */
export interface FrameGroup<F extends GroupFrame = GroupFrame> {
  decode: 'keyframes' | 'exact';
  frames: F[];
  /** Decode ranks: the first keyframe to decode from and the last planned frame. */
  first: number;
  last: number;
}

/** What the strategies read to tell whether they apply to a video's frames and what they cost. */
export interface DecodeFacts {
  dec: DecodeOrder;
  /** The Annex B stream paths can read these frames: H.264/HEVC in MP4/MOV/Matroska, every frame's position known. */
  streamable: boolean;
  /** A keyframes-only decode costs its keyframes alone (keyframesAlone), or the keyframe IVF path can decode them alone. */
  alone: boolean;
  /** The codec's decoder skips to keyframes (KEYFRAME_SKIP): a keyframes-only range decodes every keyframe in it, not every packet. */
  skip: boolean;
  /** VP8/VP9 whose packets are their frames' bytes in the file (PacketIndex.rawFrames): the IVF four-cc its keyframes go to a decoder alone with. */
  ivf?: 'VP80' | 'VP90' | undefined;
  /** The Annex B codec of the stream paths, when streamable. */
  annexB?: 'h264' | 'hevc' | undefined;
  /** An MP4/MOV track's codec record (the stream paths read packets from the file with it). */
  codecRecord?: Uint8Array | undefined;
}

/** The packets from the group's first keyframe to its last frame, in decode order. */
export function rangePackets(g: FrameGroup): number {
  return g.last - g.first + 1;
}

/** Whether the group's frames lie in more than one group of pictures. */
export function multiGop(g: FrameGroup, dec: DecodeOrder): boolean {
  return dec.keyBefore[g.last]! !== g.first;
}

/** The keyframes from the group's first keyframe to its last frame. */
export function keyframesIn(g: FrameGroup, dec: DecodeOrder): number {
  return dec.keysUpTo[g.last + 1]! - dec.keysUpTo[g.first]!;
}

/**
 * The packets a range decode of the group goes through: for keyframes, every keyframe between its
 * first and last when the decoder skips to them (not only the kept ones: dense keyframes cost
 * their whole run), else every packet; for exact frames, the whole range.
 */
export function rangeDecoded(g: FrameGroup, facts: Pick<DecodeFacts, 'dec' | 'skip' | 'streamable'>): number {
  return g.decode === 'keyframes' && (facts.skip || facts.streamable) ? keyframesIn(g, facts.dec) : rangePackets(g);
}

/** The packets a group's decode goes through: its keyframes when they decode alone, else its whole range. */
export function decodedPackets(g: FrameGroup, alone: boolean): number {
  return g.decode === 'keyframes' && alone ? g.frames.length : rangePackets(g);
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

/** Codecs whose keyframes decode alone from their own bytes (every reference reset), sent as IVF. */
export const IVF_CODECS: Readonly<Record<string, 'VP80' | 'VP90'>> = { vp8: 'VP80', vp9: 'VP90' };

/** Codecs and containers whose packets the Annex B stream paths can copy and match. */
export function annexBStreamable(codec: string, container: string): boolean {
  return annexBCodec(codec) !== undefined && ['mp4', 'mov', 'm4a', 'matroska'].includes(container);
}

/** The facts of a video's frames for the strategies (see DecodeFacts). */
export function decodeFacts(
  video: { codec: string; container: string },
  dec: DecodeOrder,
  frames: readonly GroupFrame[],
  codecRecord?: Uint8Array | undefined,
  rawIndex = false,
): DecodeFacts {
  const known = frames.every((f) => f.pos >= 0);
  const streamable = annexBStreamable(video.codec, video.container) && known;
  const ivf = rawIndex && known && Object.hasOwn(IVF_CODECS, video.codec) ? IVF_CODECS[video.codec] : undefined;
  return {
    dec,
    streamable,
    alone: keyframesAlone(video.codec, streamable) || ivf !== undefined,
    skip: keyframeSkip(video.codec) !== undefined,
    ivf,
    annexB: streamable ? annexBCodec(video.codec)?.format : undefined,
    codecRecord,
  };
}
