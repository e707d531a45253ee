/**
 * The packet index of the video stream: every frame's presentation time, byte position and
 * keyframe flag, from a demux-only ffprobe pass (nothing is decoded). The keyframe map is its
 * keyframes. Long files are read as time ranges in parallel (both cores), then joined; a range
 * whose seek does not land at or before its start is read again from the previous one's end, so
 * no packet is ever missed. Cached per file (path, size, mtime) when read; an index read with the
 * MediaInfo (probe's) travels with that object (withIndex), not through the cache.
 *
 * Why ffprobe and not `ffmpeg -discard nokey -c copy -f framecrc` (5x faster): older builds' mov
 * demuxers misplace composition offsets when reading from the start of some files (B-pyramids with
 * compressed ctts), so their packet times disagree with the times the same build reports after a
 * seek. The index keeps byte positions, so frames are later selected by position, not by times a
 * decoder may have shifted.
 */
import { availableParallelism } from 'node:os';
import { ffprobeArgs } from '../ffmpeg/args.js';
import { resolveBinary, type BinaryOptions } from '../ffmpeg/binaries.js';
import { start } from '../ffmpeg/runner.js';
import { corruptInput, inputError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { matroskaVideoPackets } from './matroska-probe.js';
import { modelled, type MoovTrack, moovTrack, type Mp4Bounds, Mp4Unsupported, readMoov, trackIndex } from './mp4.js';
import type { FrameIndex, KeyframeMap, MediaInfo } from './types.js';

export interface IndexOptions extends BinaryOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /** Parallel ranges (default: the cores, for files over 10 minutes). */
  parallel?: number | undefined;
  /**
   * Where the index comes from: `auto` (default) reads an MP4/MOV's own tables (src/probe/mp4.ts)
   * and uses ffprobe for everything else and for what that parser refuses; `ffprobe` always
   * reads the packets with ffprobe.
   */
  indexSource?: 'auto' | 'ffprobe' | undefined;
}

export type { PacketIndex } from './types.js';
import type { PacketIndex } from './types.js';

/** Packets as parallel growable columns: an hour of video is ~110,000 of them. */
class Packets {
  t = new Float64Array(4096);
  pos = new Float64Array(4096);
  size = new Float64Array(4096);
  key = new Uint8Array(4096);
  length = 0;
  push(t: number, pos: number, size: number, key: boolean): void {
    if (this.length === this.t.length) {
      const grow = <T extends Float64Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.t = grow(this.t);
      this.pos = grow(this.pos);
      this.size = grow(this.size);
      this.key = grow(this.key);
    }
    this.t[this.length] = t;
    this.pos[this.length] = pos;
    this.size[this.length] = size;
    this.key[this.length] = key ? 1 : 0;
    this.length++;
  }
  min(): number {
    let m = Infinity;
    for (let i = 0; i < this.length; i++) if (this.t[i]! < m) m = this.t[i]!;
    return m;
  }
}

/** A decimal number from ASCII bytes [a, b), or NaN. */
function parseNumber(buf: Uint8Array, a: number, b: number): number {
  let i = a;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
  }
  let int = 0;
  let frac = 0;
  let scale = 1;
  let digits = 0;
  for (; i < b && buf[i] !== 46; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return NaN;
    int = int * 10 + d;
    digits++;
  }
  if (i < b) {
    for (i++; i < b; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) return NaN;
      frac = frac * 10 + d;
      scale *= 10;
      digits++;
    }
  }
  if (!digits) return NaN;
  const v = int + frac / scale;
  return neg ? -v : v;
}

/**
 * Parses `pts_time,size,pos,flags` CSV lines (ffprobe's own field order) into `into`, straight
 * from the bytes: an hour of packets makes no strings. Returns where the last complete line
 * ended. Exported for tests.
 */
export function parsePacketCsv(buf: Uint8Array, into = new Packets()): { packets: Packets; consumed: number } {
  let i = 0;
  let consumed = 0;
  while (i < buf.length) {
    const nl = buf.indexOf(10, i);
    if (nl < 0) break;
    const c1 = buf.indexOf(44, i);
    const c2 = c1 < 0 ? -1 : buf.indexOf(44, c1 + 1);
    let c3 = c2 < 0 ? -1 : buf.indexOf(44, c2 + 1);
    if (c1 > i && c2 > c1 && c2 < nl) {
      if (c3 < 0 || c3 > nl) c3 = nl;
      const t = parseNumber(buf, i, c1);
      let key = false;
      let discard = false;
      for (let k = c3 + 1; k < nl; k++) {
        if (buf[k] === 75) key = true; // K
        if (buf[k] === 68) discard = true; // D: before an edit list's start, never shown
      }
      if (Number.isFinite(t) && !discard) {
        const size = parseNumber(buf, c1 + 1, c2);
        const p = parseNumber(buf, c2 + 1, c3);
        into.push(t, Number.isFinite(p) ? p : -1, Number.isFinite(size) ? size : -1, key);
      }
    }
    i = nl + 1;
    consumed = i;
  }
  return { packets: into, consumed };
}

async function readRange(info: MediaInfo, interval: string | undefined, o: IndexOptions): Promise<Packets> {
  const bin = resolveBinary('ffprobe', o);
  // `-o pipe:1` writes through ffprobe's buffered output; its plain stdout flushes every packet
  // line (108,000 write calls an hour of video, half of ffprobe's time).
  const query = ['-select_streams', String(info.video!.index), '-show_entries', 'packet=pts_time,size,pos,flags', '-of', 'csv=p=0', '-o', 'pipe:1'];
  if (interval) query.push('-read_intervals', interval);
  const proc = start({ command: bin.path, args: ffprobeArgs(info.path, query), input: info.input, signal: o.signal, timeoutMs: o.timeoutMs ?? 120_000 });
  // Parsed as it streams: the text of an hour of packets is never held whole.
  const packets = new Packets();
  let rest: Buffer = Buffer.alloc(0);
  proc.stdout.on('data', (chunk: Buffer) => {
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    const { consumed } = parsePacketCsv(buf, packets);
    rest = Buffer.from(buf.subarray(consumed));
  });
  await proc.done;
  if (rest.length) parsePacketCsv(Buffer.concat([rest, Buffer.from('\n')]), packets);
  return packets;
}

const MOOV_CONTAINERS = new Set(['mp4', 'mov', 'm4a']);

/**
 * An MP4/MOV video track's index from its moov bytes (src/probe/mp4.ts), times relative to the
 * container's start, checked against the file's `bounds`; undefined when that parser does not
 * model the file (Mp4Unsupported): ffprobe then reads the packets. A moov that lies is thrown
 * (CorruptContainer): the caller reports it as CORRUPT (mp4.ts `modelled`), never a fallback.
 */
export function indexFromMoov(
  moov: Buffer,
  streamIndex: number,
  startTimeSec: number,
  o: { parsed?: MoovTrack | undefined; bounds?: Mp4Bounds | undefined } = {},
): PacketIndex | undefined {
  try {
    // A track parsed ahead (probe's, while ffprobe ran) when it is the one asked for.
    const track = o.parsed?.raw.track.streamIndex === streamIndex ? o.parsed : moovTrack(moov, streamIndex, o.bounds);
    const idx = trackIndex(track, startTimeSec);
    const codecRecord = idx.track.avcC ?? idx.track.hvcC;
    return { streamIndex: idx.streamIndex, times: idx.times, pos: idx.pos, size: idx.size, keyframe: idx.keyframe, ...(codecRecord ? { codecRecord } : {}) };
  } catch (e) {
    if (e instanceof Mp4Unsupported) return undefined;
    throw e;
  }
}

/** The index from an MP4/MOV's moov; undefined when that parser does not model the file; CORRUPT when the moov lies. */
async function moovIndex(info: MediaInfo): Promise<PacketIndex | undefined> {
  const read = await readMoov(info.path).catch((e: unknown) => {
    throw corruptInput(info.input, e);
  });
  return read && modelled(info.input, () => indexFromMoov(read.moov, info.video!.index, info.startTimeSec, { bounds: read.bounds }));
}

const MATROSKA_CONTAINERS = new Set(['webm', 'matroska']);

/** The index from a WebM/Matroska file's clusters (src/probe/matroska-probe.ts); undefined when that parser does not model the file. */
async function matroskaIndex(info: MediaInfo): Promise<PacketIndex | undefined> {
  const rows = await matroskaVideoPackets(info.path, info.video!.index, DEFAULT_LIMITS.maxDurationSec).catch((e: unknown) => {
    throw corruptInput(info.input, e);
  });
  const idx = rows && indexOfPackets(info, rows);
  return idx && { ...idx, rawFrames: true };
}

/** Containers whose seeks are index-exact, so ranges can be read in parallel. */
const SEEKABLE = new Set(['mp4', 'mov', 'm4a', 'matroska', 'webm']);

async function readIndex(info: MediaInfo, o: IndexOptions): Promise<PacketIndex> {
  if (!info.video || info.kind !== 'video') throw inputError('NO_VIDEO_STREAM', info.input, 'has no video stream');
  if (o.indexSource !== 'ffprobe' && MOOV_CONTAINERS.has(info.container)) {
    const fromMoov = await moovIndex(info);
    if (fromMoov) return fromMoov;
  }
  if (o.indexSource !== 'ffprobe' && MATROSKA_CONTAINERS.has(info.container)) {
    const fromClusters = await matroskaIndex(info);
    if (fromClusters) return fromClusters;
  }
  const start = info.startTimeSec;
  const d = info.durationSec;
  const parts = SEEKABLE.has(info.container) && d > 600 ? Math.max(1, Math.min(o.parallel ?? availableParallelism(), 8)) : 1;
  let ranges: Packets[];
  if (parts === 1) {
    ranges = [await readRange(info, undefined, o)];
  } else {
    const edges = Array.from({ length: parts + 1 }, (_, i) => start + (d * i) / parts);
    const interval = (i: number, from: number): string => `${i === 0 ? '' : from.toFixed(6)}%${i === parts - 1 ? '' : edges[i + 1]!.toFixed(6)}`;
    ranges = await Promise.all(edges.slice(0, -1).map((a, i) => readRange(info, interval(i, a), o)));
    // Each range after the first must begin at or before its start (a seek to the keyframe before it).
    for (let i = 1; i < ranges.length; i++) {
      if (!(ranges[i]!.min() <= edges[i]! + 1e-6)) ranges[i] = await readRange(info, interval(i, edges[i - 1]!), o);
    }
  }
  return joinRanges(info, info.video.index, ranges);
}

/** One index from ranges of packets: one entry per presentation time (ranges overlap by up to a group of pictures). */
function joinRanges(info: MediaInfo, streamIndex: number, ranges: Packets[]): PacketIndex {
  const start = info.startTimeSec;
  const n = ranges.reduce((a, r) => a + r.length, 0);
  const t = new Float64Array(n);
  const p = new Float64Array(n);
  const z = new Float64Array(n);
  const kf = new Uint8Array(n);
  let at = 0;
  for (const r of ranges) {
    for (let i = 0; i < r.length; i++, at++) {
      t[at] = Math.round((r.t[i]! - start) * 1e6) / 1e6;
      p[at] = r.pos[i]!;
      z[at] = r.size[i]!;
      kf[at] = r.key[i]!;
    }
  }
  const order = new Uint32Array(n).map((_, i) => i).sort((a, b) => t[a]! - t[b]! || a - b);
  const times: number[] = [];
  const pos: number[] = [];
  const size: number[] = [];
  const keyframe: boolean[] = [];
  for (const i of order) {
    const k = kf[i] === 1;
    if (times.length && times[times.length - 1] === t[i]) {
      if (k) keyframe[keyframe.length - 1] = true;
      continue;
    }
    times.push(t[i]!);
    pos.push(p[i]!);
    size.push(z[i]!);
    keyframe.push(k);
  }
  if (!times.length) throw inputError('CORRUPT', info.input, 'the video stream has no readable packets');
  if (!uniquePositions(pos)) pos.fill(-1);
  return { streamIndex, times, pos, size, keyframe };
}

/**
 * Whether every packet has a byte position of its own. Ogg reports the position of the page a
 * packet starts on, so a page's packets share one: such positions cannot name a frame, and the
 * index drops them (frames are then matched by time). Exported for tests.
 */
export function uniquePositions(pos: readonly number[]): boolean {
  const seen = new Set<number>();
  for (const p of pos) {
    if (p < 0) continue;
    if (seen.has(p)) return false;
    seen.add(p);
  }
  return true;
}

/** Where an index comes from (IndexOptions.indexSource). */
type IndexSource = 'auto' | 'ffprobe';

/** The index a MediaInfo carries, and for which sources it stands (a non-enumerable property: not in JSON, not copied). */
const CARRIED = Symbol('omniprep.packetIndex');
interface Carried {
  idx: PacketIndex;
  sources: ReadonlyArray<IndexSource>;
}

/**
 * The MediaInfo with the index that was read with it (probe()'s moov index or packet list, a
 * remote Matroska file's Cues, a planned file's facts): packetIndex() of this object returns it
 * for `sources`. Only the object carries it (nothing else changes; a copy of it carries nothing).
 */
export function withIndex<T extends MediaInfo>(info: T, idx: PacketIndex, sources: ReadonlyArray<IndexSource> = ['auto', 'ffprobe']): T {
  Object.defineProperty(info, CARRIED, { value: { idx, sources } satisfies Carried, enumerable: false, configurable: true, writable: false });
  return info;
}

function carried(info: MediaInfo, source: IndexOptions['indexSource']): PacketIndex | undefined {
  const c = (info as MediaInfo & { [CARRIED]?: Carried })[CARRIED];
  return c?.sources.includes(source ?? 'auto') ? c.idx : undefined;
}

/**
 * The index of packets probe() already listed (a short clip's probe reads every packet in the
 * same ffprobe call): `packets` are the video stream's, in file order, discarded ones left out.
 * Undefined for MP4/MOV (their index is the moov's, whichever packets ffprobe listed) and when
 * there is none.
 */
export function indexOfPackets(info: MediaInfo, packets: ReadonlyArray<{ t: number; pos: number; size: number; key: boolean }>): PacketIndex | undefined {
  if (!info.video || info.kind !== 'video' || !packets.length || MOOV_CONTAINERS.has(info.container)) return undefined;
  const p = new Packets();
  for (const k of packets) p.push(k.t, k.pos, k.size, k.key);
  try {
    return joinRanges(info, info.video.index, [p]);
  } catch {
    return undefined;
  }
}

/** Indexes read by packetIndex(), by file (path, size, modification time) and source: filled on demand. */
const cache = new Map<string, Promise<PacketIndex>>();
const CACHE_MAX = 32;

/** Drops the indexes read of a file (its bytes changed in place). */
export function forgetIndex(path: string): void {
  for (const key of [...cache.keys()]) if (key.startsWith(`${path}\0`)) cache.delete(key);
}

function indexKey(info: MediaInfo, source: IndexOptions['indexSource']): string {
  return `${info.path}\0${info.sizeBytes}\0${info.mtimeMs}\0${source ?? 'auto'}`;
}

/** The packet index of the video stream: the one the MediaInfo carries (withIndex), else read once per file (cached). */
export function packetIndex(info: MediaInfo, options: IndexOptions = {}): Promise<PacketIndex> {
  const given = carried(info, options.indexSource);
  if (given) return Promise.resolve(given);
  const key = indexKey(info, options.indexSource);
  let p = cache.get(key);
  if (!p) {
    p = readIndex(info, options);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as string);
  }
  return p;
}

/** Every keyframe's presentation time, relative to the start of the media, ascending. */
export async function keyframes(info: MediaInfo, options: IndexOptions = {}): Promise<KeyframeMap> {
  const idx = await packetIndex(info, options);
  return { streamIndex: idx.streamIndex, times: idx.times.filter((_, i) => idx.keyframe[i]) };
}

/** Every frame's presentation time (relative to the start of the media), ascending, with keyframe flags. */
export async function frameIndex(info: MediaInfo, options: IndexOptions = {}): Promise<FrameIndex> {
  const idx = await packetIndex(info, options);
  return { streamIndex: idx.streamIndex, times: idx.times, keyframe: idx.keyframe };
}
