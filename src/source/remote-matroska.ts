/**
 * Matroska/WebM by byte ranges: the part of src/source/remote.ts for EBML files. The layout and
 * the Cues come from a few range reads (src/probe/matroska.ts); the keyframe index is the video
 * track's cue points (their times are the keyframes' packet times). What is fetched:
 *
 * - to probe: the clusters at the start up to the probe's first packets, the clusters from a cue
 *   before the probe's tail to the end, the Cues and what the SeekHead names (the demuxer reads
 *   them when it opens the file);
 * - to sample in keyframe mode: for each keyframe kept, its cluster's header and what precedes the
 *   block in the cluster (the cluster timecode the block's time counts from), and the block.
 *
 * The demuxers read the sparse local copy, which must stay a well-formed Matroska file: every
 * stretch never fetched starts with an EBML Void element that covers it (inside a cluster, to the
 * cluster's end; between clusters, to the next cluster a cue names or the next fetched byte), so a
 * demuxer passes over it as it passes over padding, and a seek to any cue lands on an element.
 * Exact frames need the packets between keyframes, which the Cues do not list: those plans read
 * the file whole (remote.ts).
 */
import {
  children,
  cueBlock,
  MATROSKA_ID,
  MatroskaUnsupported,
  matroskaLayout,
  parseBlock,
  readHeader,
  SEGMENT_ELEMENTS,
  type MatroskaCue,
  type MatroskaLayout,
} from '../probe/matroska.js';
import { PROBE_HEAD_PACKETS, PROBE_TAIL_SEC } from '../probe/probe.js';
import type { MediaInfo, PacketIndex } from '../probe/types.js';
import type { ByteSource } from '../probe/mp4.js';
import type { ByteRange, RemoteFile } from './range.js';

/** An element header is at most 4 bytes of ID and 8 of size; a block's own header adds 4 to 11. */
const HEADER_BYTES = 12;
const BLOCK_HEAD_BYTES = 48;
/** What is fetched from a cluster's start to find a block a cue does not place (audio blocks may come first). */
const WALK_BYTES = 4096;
/** Elements a Segment holds, and a Cluster (the walk over fetched bytes checks it stands on one). */
const LEVEL1 = new Set<number>([...SEGMENT_ELEMENTS, MATROSKA_ID.Void, MATROSKA_ID.CRC32]);
const LEVEL2 = new Set<number>([
  MATROSKA_ID.Timecode,
  MATROSKA_ID.SimpleBlock,
  MATROSKA_ID.BlockGroup,
  0xa7, // Position
  0xab, // PrevSize
  0x5854, // SilentTracks
  MATROSKA_ID.Void,
  MATROSKA_ID.CRC32,
]);
/** Cues before the probe's tail that the tail also fetches (a seek may land on the cue before). */
const TAIL_EXTRA_CUES = 1;

/** The Void element covering `n` bytes (n >= 2): its ID and size, the rest is whatever is there. */
export function voidHeader(n: number): Buffer {
  if (n < 2) throw new MatroskaUnsupported(`would need a Void element in a ${n}-byte gap`);
  // A one-byte size up to 126 (127 would read as unknown), else an eight-byte one.
  if (n - 2 <= 126) return Buffer.from([MATROSKA_ID.Void, 0x80 | (n - 2)]);
  const size = n - 9;
  const b = Buffer.alloc(9);
  b[0] = MATROSKA_ID.Void;
  b[1] = 0x01; // an eight-byte size: the marker, then 56 bits
  b.writeUIntBE(Math.floor(size / 2 ** 32), 2, 3);
  b.writeUInt32BE(size % 2 ** 32, 5);
  return b;
}

/**
 * A ByteSource over the remote copy that keeps the last run of fetched bytes it read
 * (RemoteFile.readBlock): a walk over many small elements costs one file read, and at most one
 * request, per block. Reads stop at `end` (a cluster's walk stays in its cluster).
 */
function blockSource(file: RemoteFile, end = file.size): ByteSource {
  let at = 0;
  let run: Buffer = Buffer.alloc(0);
  return {
    size: file.size,
    async read(offset: number, length: number): Promise<Buffer> {
      const n = Math.max(0, Math.min(length, file.size - offset));
      if (offset < at || offset + n > at + run.length) {
        run = await file.readBlock(offset, n, end);
        at = offset;
      }
      return Buffer.from(run.subarray(offset - at, offset - at + n));
    },
  };
}

/** The index of the first value above `x` in ascending `sorted` (its length when none). */
function firstAbove(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What prepareTasks reads of a decode task (src/extract/types.ts's FrameTask fits it). */
export interface MatroskaTask {
  decode: 'keyframes' | 'exact';
  streamIndex: number;
  /** The media's start time: frame times count from it, cue times from zero. */
  startTimeSec: number;
  frames: ReadonlyArray<{ timestampSec: number }>;
}

/** A cluster whose header was read: [start, end), and where its data starts. */
interface Cluster {
  start: number;
  data: number;
  end: number;
}

export class MatroskaRanges {
  /** Clusters whose headers were read, by start. */
  private readonly clusters = new Map<number, Cluster>();
  /** Every cue's cluster start, ascending (Void elements begin there too). */
  private readonly cueClusters: number[];

  private constructor(
    private readonly file: RemoteFile,
    readonly layout: MatroskaLayout,
  ) {
    this.cueClusters = [...new Set([...layout.cues.values()].flat().map((c) => c.cluster))].sort((a, b) => a - b);
  }

  /** Reads the layout and the Cues, then what probing reads; throws MatroskaUnsupported for what it does not model. */
  static async open(file: RemoteFile): Promise<MatroskaRanges> {
    // Header reads come from a block fetched from where they start: a run of small elements
    // (Void padding before the first Cluster) costs one request per block, not one per element.
    const layout = await matroskaLayout(blockSource(file));
    if (!layout.cues.size) throw new MatroskaUnsupported('has empty Cues');
    const m = new MatroskaRanges(file, layout);
    await m.fetchForProbe();
    return m;
  }

  /** The cue points of the track ffmpeg numbers `streamIndex`, which must be a video track. */
  private cuesOf(streamIndex: number): MatroskaCue[] {
    const track = this.layout.tracks[streamIndex];
    if (track?.type !== 1) throw new MatroskaUnsupported(`has no video track as stream ${streamIndex}`);
    const cues = this.layout.cues.get(track.number) ?? [];
    if (!cues.length) throw new MatroskaUnsupported(`has no cue for video track ${track.number}`);
    return cues;
  }

  /**
   * The keyframe part of the packet index: one entry per cue point of the video track, at the time
   * ffmpeg gives its packet (relative to the media's start). Positions are left unknown (-1): the
   * blocks are found when they are fetched, and the frames selected by time.
   */
  keyframeIndex(info: MediaInfo): PacketIndex {
    const streamIndex = info.video!.index;
    const times = [...new Set(this.cuesOf(streamIndex).map((c) => Math.round((c.timeSec - info.startTimeSec) * 1e6) / 1e6))].sort((a, b) => a - b);
    return { streamIndex, times, pos: times.map(() => -1), size: times.map(() => -1), keyframe: times.map(() => true), keyframesOnly: true };
  }

  /** The cluster at `at` (its header read, fetched when missing). */
  private async cluster(at: number): Promise<Cluster> {
    const known = this.clusters.get(at);
    if (known) return known;
    const h = readHeader(await this.file.readExact(at, HEADER_BYTES), 0, at);
    if (!h || h.id !== MATROSKA_ID.Cluster) throw new MatroskaUnsupported(`has no Cluster at byte ${at}, where a cue points`);
    if (h.size < 0) throw new MatroskaUnsupported('has a Cluster of unknown size (a live recording?)');
    const c = { start: at, data: h.data, end: h.data + h.size };
    this.clusters.set(at, c);
    return c;
  }

  /** Video blocks in a fetched cluster. */
  private async videoBlocks(c: Cluster, track: number): Promise<number> {
    let n = 0;
    const b = await this.file.readExact(c.data, c.end - c.data);
    for (const e of children(b, c.data)) {
      if (e.id !== MATROSKA_ID.SimpleBlock && e.id !== MATROSKA_ID.BlockGroup) continue;
      const block = parseBlock(b.subarray(e.offset - c.data, e.data - c.data + e.size), e.offset);
      if (block?.track === track) n++;
    }
    return n;
  }

  /**
   * What probing reads, fetched: whole clusters from the first one until the probe's first packets
   * (and at least past the first block the reader fetched), the clusters from a cue before its tail
   * to the end of the file, and what the SeekHead names.
   */
  private async fetchForProbe(): Promise<void> {
    const { layout, file } = this;
    const video = layout.tracks.find((t) => t.type === 1);
    if (!video) throw new MatroskaUnsupported('has no video track');
    const firstGap = file.missing(layout.firstCluster)[0]?.[0] ?? file.size;
    const cues = layout.cues.get(video.number) ?? [];
    // With a frame duration, the clusters up to the probe's first packets in one request (the cue after them).
    if (video.defaultDurationNs && cues.length) {
      const until = cues[0]!.timeSec + (PROBE_HEAD_PACKETS * video.defaultDurationNs) / 1e9;
      const after = cues.find((c) => c.timeSec > until && c.cluster > layout.firstCluster);
      if (after) await file.fetch([{ offset: layout.firstCluster, length: after.cluster + HEADER_BYTES - layout.firstCluster }], 0);
    }
    let packets = 0;
    for (let at = layout.firstCluster; at < layout.segment.end; ) {
      const c = await this.cluster(at);
      if (packets >= PROBE_HEAD_PACKETS && c.start >= firstGap) break;
      // The cluster and the next one's header, in one request.
      await file.readExact(c.start, Math.min(file.size, c.end + HEADER_BYTES) - c.start);
      packets += await this.videoBlocks(c, video.number);
      at = c.end;
      const next = readHeader(await file.readExact(at, Math.min(HEADER_BYTES, file.size - at)), 0, at);
      if (!next || next.id !== MATROSKA_ID.Cluster) break;
    }
    const duration = layout.durationSec ?? cues[cues.length - 1]?.timeSec ?? 0;
    let k = cues.findLastIndex((c) => c.timeSec <= duration - PROBE_TAIL_SEC);
    k = Math.max(0, k - TAIL_EXTRA_CUES);
    const tail = cues[k]?.cluster ?? layout.firstCluster;
    await file.fetch([{ offset: tail, length: file.size - tail }], 0);
    // The elements the SeekHead names, whole (Cues, Tags, Chapters, Attachments, ...).
    for (const s of layout.seeks) {
      if (s.id === MATROSKA_ID.Cluster || s.offset >= file.size) continue;
      const h = readHeader(await file.readExact(s.offset, Math.min(HEADER_BYTES, file.size - s.offset)), 0, s.offset);
      if (h && h.size >= 0) await file.fetch([{ offset: s.offset, length: h.data + h.size - s.offset }], 0);
    }
    await this.fillGaps();
  }

  /**
   * Fetches the kept keyframes of keyframe tasks: each one's cluster header, what precedes its
   * block there, and the block. Returns a reason when the tasks need more than cues give (exact
   * frames, a frame at no cue's time): the caller then reads the file whole.
   */
  async prepareTasks(tasks: ReadonlyArray<MatroskaTask>): Promise<string | undefined> {
    if (tasks.some((t) => t.decode !== 'keyframes')) return 'exact frames need the packets between keyframes, which the Cues do not list';
    const kept: Array<{ cue: MatroskaCue; track: number }> = [];
    for (const t of tasks) {
      const byTime = new Map(this.cuesOf(t.streamIndex).map((c) => [Math.round((c.timeSec - t.startTimeSec) * 1e6), c]));
      for (const f of t.frames) {
        const cue = byTime.get(Math.round(f.timestampSec * 1e6));
        if (!cue) return `a planned frame (${f.timestampSec} s) is at no cue point`;
        kept.push({ cue, track: this.layout.tracks[t.streamIndex]!.number });
      }
    }
    // The cluster headers, what precedes the blocks and the blocks' own headers, in one pass (a cue
    // without a relative position: the start of its cluster, walked on from there when short).
    await this.file.fetch(kept.map(({ cue }) => ({ offset: cue.cluster, length: HEADER_BYTES + (cue.relative ?? WALK_BYTES) + BLOCK_HEAD_BYTES })));
    const starts: number[] = [];
    const blocks: ByteRange[] = [];
    for (const { cue, track } of kept) {
      const cl = await this.cluster(cue.cluster);
      // The walk to a block a cue does not place reads its cluster's elements a block at a time.
      const at = (await cueBlock(blockSource(this.file, cl.end), cue, track, this.layout.timecodeScale)).at;
      starts.push(at);
      const head = await this.file.readExact(at, Math.min(BLOCK_HEAD_BYTES, cl.end - at));
      const h = readHeader(head, 0, at);
      if (!h || h.size < 0 || h.data + h.size > cl.end) throw new MatroskaUnsupported(`has no block at byte ${at}, where a cue points`);
      // A BlockGroup is fetched whole; its Block comes first (parseBlock checks it when read).
      blocks.push({ offset: cl.start, length: h.data + h.size - cl.start });
    }
    await this.file.fetch(blocks);
    for (const at of starts) {
      const h = readHeader(await this.file.readExact(at, HEADER_BYTES), 0, at)!;
      const block = parseBlock(await this.file.readExact(at, h.data + h.size - at), at);
      if (!block?.keyframe) throw new MatroskaUnsupported(`has a cue pointing to a block that is not a keyframe (byte ${at})`);
    }
    await this.fillGaps();
    return undefined;
  }

  /**
   * Walks the elements of [start, end) over what was fetched, and completes every element a fetch
   * ended inside of (a fixed-size read may stop in the middle of one), so that each stretch never
   * fetched starts where an element ends, and a Void may go there. Clusters met are remembered and
   * walked in turn. Every fetch starts where an element starts (a cluster, a block a cue points
   * to, an element the SeekHead names), so the walk resumes after a stretch on an element.
   */
  private async repair(start: number, end: number, top: boolean): Promise<void> {
    const src = blockSource(this.file);
    for (let at = start; at < end; ) {
      const gap = this.file.missing(at, end - at)[0];
      if (gap && gap[0] === at) {
        at = gap[1];
        continue;
      }
      // The header from what is local when it fits there (a read past it would fetch more).
      const local = (gap ? gap[0] : end) - at;
      const h =
        readHeader(await src.read(at, Math.min(HEADER_BYTES, local)), 0, at) ??
        readHeader(await this.file.readExact(at, Math.min(HEADER_BYTES, end - at)), 0, at);
      const known = top ? LEVEL1 : LEVEL2;
      if (!h || h.size < 0 || h.data + h.size > end || !known.has(h.id))
        throw new MatroskaUnsupported(`has no ${top ? 'top-level' : 'cluster'} element at byte ${at}, where one should start`);
      const stop = h.data + h.size;
      const whole = this.file.coverage(at, stop - at) === 'all';
      if (top && h.id === MATROSKA_ID.Cluster) {
        if (!this.clusters.has(at)) this.clusters.set(at, { start: at, data: h.data, end: stop });
        if (!whole) await this.repair(h.data, stop, false);
      } else if (!whole) await this.file.readExact(at, stop - at);
      at = stop;
    }
  }

  /** Writes a Void element at the start of every stretch never fetched (see the file's comment). */
  private async fillGaps(): Promise<void> {
    await this.repair(this.layout.segment.start, this.layout.segment.end, true);
    const clusters = [...this.clusters.values()].sort((a, b) => a.start - b.start);
    const inside = (at: number): Cluster | undefined => {
      let lo = 0;
      let hi = clusters.length - 1;
      let found: Cluster | undefined;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (clusters[mid]!.start < at) {
          found = clusters[mid];
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return found && at < found.end ? found : undefined;
    };
    const cuePoints = this.cueClusters;
    for (const [a, b] of this.file.missing()) {
      let at = a;
      while (at < b) {
        const c = inside(at);
        let end = b;
        if (c) end = Math.min(b, c.end);
        else {
          // Between clusters: to the next cue's cluster (a seek may land there), or the gap's end.
          const next = cuePoints[firstAbove(cuePoints, at)];
          if (next !== undefined && next < b) end = next;
        }
        await this.file.writeUnfetched(at, voidHeader(end - at));
        at = end;
      }
    }
  }
}
