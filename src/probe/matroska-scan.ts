/**
 * A walk over a Matroska file's clusters, block by block, for the facts a demuxer gives of its
 * packets (src/probe/matroska-probe.ts): each block's track, time, byte position, size, keyframe
 * flag and duration. Only element headers and a block's first bytes are read, through one window
 * of WINDOW_BYTES: nothing is allocated from a size field, and a block's frame is never read.
 *
 * Sizes are untrusted: a cluster's child must end inside its cluster, a BlockGroup's children
 * inside it, integers have at most 8 bytes, a block is at least its own header; what breaks these
 * is a lie (CorruptContainer). A file cut short ends the walk where its bytes end (a truncated
 * upload: the caller's duration check says so). Unknown sizes are followed only where the
 * specification allows them (a Cluster: it ends where a top-level element begins).
 */
import { CorruptContainer } from '../errors.js';
import { MATROSKA_ID, MatroskaUnsupported, readHeader, readVint, SEGMENT_ELEMENTS, type ElementHeader } from './matroska.js';
import type { ByteSource } from './mp4.js';

/** One block as the demuxer makes it a packet. */
export interface ScannedBlock {
  track: number;
  /** Its time in timecode units (cluster timecode plus the block's own). */
  ticks: number;
  /** Where ffmpeg says its packet is: the block's data, which starts with the track number. */
  pos: number;
  /** The frame's bytes (the block's data after its 3 to 11 bytes of header). */
  size: number;
  key: boolean;
  /** BlockDuration, when its BlockGroup states one (timecode units). */
  durationTicks?: number | undefined;
  laced: boolean;
  /** The frame's first byte (a VP8 or VP9 frame tells its profile there). */
  firstByte?: number | undefined;
}

/** The bytes read at a time; a header needs at most 12, a block's own header 11 more. */
const WINDOW_BYTES = 1 << 20;
const HEADER_BYTES = 12;
const BLOCK_HEAD_BYTES = 16;

/** Reads through one window of the file. */
class Window {
  private at = 0;
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly src: ByteSource) {}
  /** Up to `n` bytes from `offset` (fewer at the file's end). */
  async bytes(offset: number, n: number): Promise<Buffer> {
    return this.held(offset, n) ?? (await this.fill(offset, n));
  }
  /** The bytes when the window holds them (or all the file has there): no await per element on the way. */
  held(offset: number, n: number): Buffer | undefined {
    const end = Math.min(offset + n, this.src.size);
    if (offset < this.at || end > this.at + this.buf.length) return undefined;
    return this.buf.subarray(offset - this.at, end - this.at);
  }
  private async fill(offset: number, n: number): Promise<Buffer> {
    if (offset >= this.src.size) return Buffer.alloc(0);
    this.buf = await this.src.read(offset, Math.min(WINDOW_BYTES, this.src.size - offset));
    this.at = offset;
    return this.buf.subarray(0, Math.min(n, this.buf.length));
  }
}

function uintOf(b: Buffer, what: string): number {
  if (b.length > 8) throw new CorruptContainer(`${what} element`, `is ${b.length} bytes long (an integer has at most 8)`);
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

export interface ScanRange {
  /** Where the walk starts: a Cluster (or another top-level element) at the Segment's level. */
  from: number;
  /** The Segment's end (the file's, when cut short). */
  end: number;
}

/** The block a SimpleBlock or a Block element holds (its header bytes read from the window). */
function blockAt(head: Buffer, h: ElementHeader, clusterTime: number, simple: boolean): ScannedBlock | undefined {
  const track = readVint(head, 0);
  if (!track || head.length < track.length + 3) return undefined; // cut short
  const size = h.size - track.length - 3;
  if (size < 0) throw new CorruptContainer('block element', `at byte ${h.offset} is ${h.size} bytes long, shorter than its own header`);
  const flags = head[track.length + 2]!;
  return {
    track: track.value,
    ticks: clusterTime + head.readInt16BE(track.length),
    pos: h.data,
    size,
    key: simple ? (flags & 0x80) !== 0 : true,
    laced: (flags & 0x06) !== 0,
    firstByte: head[track.length + 3],
  };
}

/** A BlockGroup's Block, with its duration and keyframe flag (no ReferenceBlock). */
async function groupAt(w: Window, g: ElementHeader, clusterTime: number): Promise<ScannedBlock | undefined> {
  const end = g.data + g.size;
  let block: ScannedBlock | undefined;
  let referenced = false;
  let durationTicks: number | undefined;
  for (let at = g.data; at < end; ) {
    const h = readHeader(await w.bytes(at, HEADER_BYTES), 0, at);
    if (!h || h.size < 0 || h.data + h.size > end)
      throw new CorruptContainer('BlockGroup element', `at byte ${g.offset} has a child at byte ${at} that runs past its end (byte ${end})`);
    if (h.id === MATROSKA_ID.Block) block = blockAt(await w.bytes(h.data, BLOCK_HEAD_BYTES), h, clusterTime, false);
    else if (h.id === MATROSKA_ID.ReferenceBlock) referenced = true;
    else if (h.id === MATROSKA_ID.BlockDuration) durationTicks = uintOf(await w.bytes(h.data, Math.min(h.size, 9)), 'BlockDuration');
    at = h.data + h.size;
  }
  return block && { ...block, key: !referenced, durationTicks };
}

/**
 * Walks the clusters of `range`, calling `onBlock` for each block in file order until it returns
 * false. Returns whether the walk reached the range's end (false: stopped, or the file is cut short).
 */
export async function scanClusters(src: ByteSource, range: ScanRange, onBlock: (b: ScannedBlock) => boolean | undefined): Promise<boolean> {
  const w = new Window(src);
  let cluster: { end: number; declaredEnd: number; unknown: boolean; time?: number | undefined } | undefined;
  for (let at = range.from; at < range.end; ) {
    const h = readHeader(w.held(at, HEADER_BYTES) ?? (await w.bytes(at, HEADER_BYTES)), 0, at);
    if (!h) return false;
    if (cluster && (at >= cluster.end || (cluster.unknown && SEGMENT_ELEMENTS.has(h.id)))) cluster = undefined;
    if (!cluster) {
      if (h.id === MATROSKA_ID.Cluster) {
        const declaredEnd = h.size < 0 ? range.end : h.data + h.size;
        cluster = { end: Math.min(range.end, declaredEnd), declaredEnd, unknown: h.size < 0 };
        at = h.data;
        continue;
      }
      if (h.size < 0) throw new MatroskaUnsupported('has a top-level element of unknown size after its first Cluster');
      at = h.data + h.size;
      continue;
    }
    if (h.size < 0) throw new CorruptContainer('Cluster element', `has a child of unknown size at byte ${at}`);
    if (!cluster.unknown && h.data + h.size > cluster.declaredEnd)
      throw new CorruptContainer('Cluster element', `has a child of ${h.size} bytes at byte ${at}, past its end (byte ${cluster.declaredEnd})`);
    if (h.data + h.size > range.end) return false; // cut short
    if (h.id === MATROSKA_ID.Timecode) cluster.time = uintOf(await w.bytes(h.data, Math.min(h.size, 9)), 'Timecode');
    else if (h.id === MATROSKA_ID.SimpleBlock || h.id === MATROSKA_ID.BlockGroup) {
      if (cluster.time === undefined) throw new MatroskaUnsupported(`has a block before its cluster's timecode (byte ${at})`);
      const b =
        h.id === MATROSKA_ID.SimpleBlock
          ? blockAt(w.held(h.data, BLOCK_HEAD_BYTES) ?? (await w.bytes(h.data, BLOCK_HEAD_BYTES)), h, cluster.time, true)
          : await groupAt(w, h, cluster.time);
      if (b && onBlock(b) === false) return false;
    }
    at = h.data + h.size;
  }
  return true;
}
