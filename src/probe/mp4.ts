/**
 * The packet index of an MP4/MOV video track from the container's own tables (`moov`), without
 * reading a packet: the same index src/probe/keyframes.ts builds from an ffprobe pass over every
 * packet (presentation times, sizes, byte positions, keyframe flags), for a fraction of the cost,
 * and for remote files (src/source/range.ts) from the `moov` bytes alone.
 *
 * Tables read: mvhd, tkhd, mdhd, hdlr, stsd (avcC, hvcC), stts, ctts, stss, stsz, stsc, stco/co64, elst.
 * Times follow ffmpeg's mov demuxer (mov_fix_index): with an edit list, the first packet shown
 * gets the edit's start, packets before the edit's media time are dropped (ffprobe flags them D),
 * and the first presentation time is moved to zero; negative composition offsets shift by their
 * minimum (dts_shift). What it does not model is refused with Mp4Unsupported: fragmented files
 * (moof), several non-empty edits, edit rates other than 1, stz2 tables. Callers then use ffprobe.
 *
 * The moov is untrusted: every count and size read from it is checked, before anything is
 * allocated for it, against what its box and the file (Mp4Bounds) can hold. A count that cannot
 * fit is a lie, refused with CorruptContainer (the caller reports CORRUPT, never a fallback): a
 * table cannot have more entries than its box has bytes; a fixed-size stsz cannot declare more
 * samples than the mdat boxes hold at that size (nor more than the file has bytes); stts, ctts,
 * stss and stsc cannot cover more samples than stsz declares; no chunk lies past the end of the
 * file; a video track has at most MAX_FPS frames a second of its duration (itself capped at the
 * duration limit). So the arrays a parse makes are never longer than the file has bytes, and its
 * time is linear in the moov and the sample count.
 */
import { open } from 'node:fs/promises';
import { CorruptContainer, corruptInput } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { PacketIndex } from './types.js';

/** Random access to a file's bytes: a local file or a remote one (src/source/range.ts). */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

export interface Mp4Track {
  /** Stream index as ffmpeg numbers it (the track's order in moov). */
  streamIndex: number;
  handler: string;
  /** Sample entry four-cc: avc1, avc3, hvc1, mp4a, ... */
  codec: string;
  timescale: number;
  /** AVCDecoderConfigurationRecord (avcC) payload, for H.264 tracks. */
  avcC?: Buffer | undefined;
  /** HEVCDecoderConfigurationRecord (hvcC) payload, for HEVC tracks. */
  hvcC?: Buffer | undefined;
  /** Samples in decode order. */
  samples: number;
}

export interface Mp4Layout {
  /** Where moov is and how long. */
  moov: { offset: number; size: number };
  /** Where each mdat box is (payload start and end, the end cut at the file's end). */
  mdat: Array<{ offset: number; end: number }>;
  /** The payload bytes the mdat boxes declare (past the file's end when it is cut short). */
  mdatBytes: number;
  /** Where the top-level boxes end, as declared (past the file's end when it is cut short). */
  end: number;
  /** moov before the first mdat (a "fast start" file). */
  moovFirst: boolean;
}

/**
 * What a moov's counts are checked against (see the top of this file). Without it (the moov bytes
 * alone) only the frame-rate bound applies: callers that know the file pass it (layoutBounds).
 */
export interface Mp4Bounds {
  /** The file's size in bytes (a local file's, or a remote file's length). */
  fileBytes: number;
  /** The payload bytes its mdat boxes declare (Mp4Layout.mdatBytes); absent: the file's size. */
  mdatBytes?: number | undefined;
  /** Where its boxes end as declared (Mp4Layout.end: a file cut short keeps its chunks); absent: the file's size. */
  end?: number | undefined;
  /** The longest media accepted (limits.maxDurationSec; default DEFAULT_LIMITS'). */
  maxDurationSec?: number | undefined;
}

/** The bounds of a file of `fileBytes` bytes with this layout. */
export function layoutBounds(fileBytes: number, layout: Mp4Layout, maxDurationSec?: number): Mp4Bounds {
  return { fileBytes, mdatBytes: layout.mdat.length ? layout.mdatBytes : undefined, end: Math.max(fileBytes, layout.end), maxDurationSec };
}

/** A video track has at most this many frames a second of its duration (high-speed cameras film at 960). */
export const MAX_FPS = 1000;

export interface Mp4Index extends PacketIndex {
  track: Mp4Track;
  /** Packets in decode (file) order: for byte ranges. */
  decodeOrder: { pos: number[]; size: number[]; keyframe: boolean[] };
}

/** The largest moov read (a corrupt size field must not make us allocate gigabytes). */
export const MAX_MOOV_BYTES = 512 * 1024 * 1024;

export class Mp4Unsupported extends Error {}

/** A local file as a ByteSource (the caller closes it). */
export async function fileSource(path: string): Promise<ByteSource & { close(): Promise<void> }> {
  const fh = await open(path, 'r');
  const st = await fh.stat();
  return {
    size: st.size,
    async read(offset: number, length: number): Promise<Buffer> {
      const n = Math.max(0, Math.min(length, st.size - offset));
      const buf = Buffer.alloc(n);
      let done = 0;
      while (done < n) {
        const r = await fh.read(buf, done, n - done, offset + done);
        if (!r.bytesRead) break;
        done += r.bytesRead;
      }
      return done === n ? buf : buf.subarray(0, done);
    },
    close: () => fh.close(),
  };
}

const TOP_LEVEL = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid', 'meta', 'styp', 'sidx', 'moof', 'mfra', 'pdin', 'prft', 'emsg']);

/**
 * Walks the top-level boxes (a header read per box, never a payload) to find moov and the mdat
 * boxes. `head` is the file's first bytes when the caller has them already.
 */
export async function mp4Layout(src: ByteSource, head?: Buffer): Promise<Mp4Layout> {
  let at = 0;
  let moov: Mp4Layout['moov'] | undefined;
  const mdat: Mp4Layout['mdat'] = [];
  let mdatBytes = 0;
  for (let boxes = 0; at + 8 <= src.size; boxes++) {
    if (boxes > 10_000) throw new Mp4Unsupported('too many top-level boxes');
    const h = head && at + 16 <= head.length ? head.subarray(at, at + 16) : await src.read(at, 16);
    if (h.length < 8) break;
    let size = h.readUInt32BE(0);
    const type = h.toString('latin1', 4, 8);
    let header = 8;
    if (size === 1) {
      if (h.length < 16) break;
      size = Number(h.readBigUInt64BE(8));
      header = 16;
    } else if (size === 0) size = src.size - at;
    if (!TOP_LEVEL.has(type) && !/^[\x20-\x7e]{4}$/.test(type)) throw new Mp4Unsupported(`an unreadable box at ${at}`);
    if (size < header) throw new CorruptContainer(`${type} box`, `at byte ${at} declares ${size} bytes, less than its ${header}-byte header`);
    if (type === 'moof') throw new Mp4Unsupported('a fragmented MP4 (moof boxes)');
    if (type === 'moov' && !moov) moov = { offset: at, size };
    if (type === 'mdat') {
      mdat.push({ offset: at + header, end: Math.min(src.size, at + size) });
      mdatBytes += size - header;
    }
    at += size;
  }
  if (!moov) throw new Mp4Unsupported('no moov box');
  if (moov.size > MAX_MOOV_BYTES) throw new Mp4Unsupported(`a moov of ${moov.size} bytes`);
  if (moov.offset + moov.size > src.size) throw new Mp4Unsupported('the moov box is cut short (a truncated file)');
  return { moov, mdat, mdatBytes, end: at, moovFirst: !mdat.length || moov.offset < mdat[0]!.offset };
}

export interface Box {
  type: string;
  /** Payload start and end in the buffer. */
  start: number;
  end: number;
}

export function* children(buf: Buffer, start: number, end: number): Generator<Box> {
  let at = start;
  while (at + 8 <= end) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) return;
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = end - at;
    if (size < header || at + size > end) {
      throw new CorruptContainer(
        `${printable(type)} box`,
        `at byte ${at} of the moov declares ${size} bytes, ${size < header ? `less than its ${header}-byte header` : `past the end of its parent (byte ${end})`}`,
      );
    }
    yield { type, start: at + header, end: at + size };
    at += size;
  }
}

export function child(buf: Buffer, parent: Box, type: string): Box | undefined {
  for (const b of children(buf, parent.start, parent.end)) if (b.type === type) return b;
  return undefined;
}

export function path(buf: Buffer, parent: Box, ...types: string[]): Box | undefined {
  let b: Box | undefined = parent;
  for (const t of types) {
    b = b && child(buf, b, t);
    if (!b) return undefined;
  }
  return b;
}

/** A box type for a message: its four characters, or their hex when they are not printable. */
function printable(type: string): string {
  return /^[\x20-\x7e]{4}$/.test(type) ? type : Buffer.from(type, 'latin1').toString('hex');
}

/** A box's payload must hold its fixed fields (`bytes` from its start): a shorter one is corrupt, not a crash. */
export function need(box: Box, bytes: number): void {
  const has = box.end - box.start;
  if (has < bytes) throw new CorruptContainer(`${printable(box.type)} box`, `is ${has} bytes long, too short for its ${bytes} bytes of fields`);
}

/** A table's entry count (the uint32 at `countAt` of the payload, entries right after it), checked against its box's bytes. */
function entryCount(buf: Buffer, box: Box, width: number, countAt = 4): number {
  need(box, countAt + 4);
  const count = buf.readUInt32BE(box.start + countAt);
  const room = box.end - box.start - countAt - 4;
  if (count * width > room) throw new CorruptContainer(`${box.type} box`, `declares ${count} entries of ${width} bytes, more than its ${room} bytes hold`);
  return count;
}

/** A table that cannot cover more samples than stsz declares. */
function notMoreThan(box: Box, count: number, n: number, what: string): void {
  if (count > n) throw new CorruptContainer(`${box.type} box`, `declares ${count} ${what}, more than the ${n} samples of its stsz`);
}

const bytes = (n: number): string => n.toLocaleString('en-US');

export interface RawTrack {
  track: Mp4Track;
  dts: Float64Array;
  cts: Int32Array;
  size: Float64Array;
  pos: Float64Array;
  key: Uint8Array;
  edits: Array<{ duration: number; mediaTime: number; rate: number }>;
}

/** A track's handler ('vide', 'soun', ...), timescale and sample table box; undefined when it has none. */
export interface TrackHead {
  handler: string;
  timescale: number;
  stbl: Box;
}

export function trackHead(buf: Buffer, trak: Box): TrackHead | undefined {
  const mdia = child(buf, trak, 'mdia');
  const mdhd = mdia && child(buf, mdia, 'mdhd');
  const hdlr = mdia && child(buf, mdia, 'hdlr');
  const stbl = mdia && path(buf, mdia, 'minf', 'stbl');
  if (!mdia || !mdhd || !hdlr || !stbl) return undefined;
  need(mdhd, 4);
  const v1 = buf[mdhd.start] === 1;
  need(mdhd, v1 ? 24 : 16);
  need(hdlr, 12);
  const timescale = buf.readUInt32BE(mdhd.start + (v1 ? 20 : 12));
  if (!timescale) throw new Mp4Unsupported('a track with timescale 0');
  return { handler: buf.toString('latin1', hdlr.start + 8, hdlr.start + 12), timescale, stbl };
}

/** The first sample entry's four-cc and, for a video track, its codec record (avcC, hvcC). */
function sampleEntry(buf: Buffer, stbl: Box, handler: string): Pick<Mp4Track, 'codec' | 'avcC' | 'hvcC'> {
  const stsd = child(buf, stbl, 'stsd');
  const entry: Pick<Mp4Track, 'codec' | 'avcC' | 'hvcC'> = { codec: '', avcC: undefined, hvcC: undefined };
  if (!stsd || stsd.start + 16 > stsd.end) return entry;
  const entrySize = buf.readUInt32BE(stsd.start + 8);
  entry.codec = buf.toString('latin1', stsd.start + 12, stsd.start + 16);
  const entryEnd = Math.min(stsd.end, stsd.start + 8 + entrySize);
  // A visual sample entry: 8 bytes of header, 78 bytes of fields, then its boxes.
  if (handler === 'vide' && stsd.start + 8 + 86 <= entryEnd) {
    for (const b of children(buf, stsd.start + 8 + 86, entryEnd)) {
      if (b.type === 'avcC') entry.avcC = Buffer.from(buf.subarray(b.start, b.end));
      if (b.type === 'hvcC') entry.hvcC = Buffer.from(buf.subarray(b.start, b.end));
    }
  }
  return entry;
}

/** stsz: the sample count and the fixed sample size (0: a table of sizes), checked against the box and the file. */
function sampleCount(buf: Buffer, stsz: Box, bounds: Mp4Bounds | undefined): { n: number; fixed: number } {
  need(stsz, 12);
  const fixed = buf.readUInt32BE(stsz.start + 4);
  if (!fixed) return { n: entryCount(buf, stsz, 4, 8), fixed };
  const n = buf.readUInt32BE(stsz.start + 8);
  if (bounds) {
    const mdat = bounds.mdatBytes ?? bounds.fileBytes;
    const holder = bounds.mdatBytes === undefined ? 'the file' : 'its mdat boxes';
    if (n * fixed > mdat)
      throw new CorruptContainer('stsz box', `declares ${n} samples of ${fixed} bytes, more than the ${bytes(mdat)} bytes of ${holder} hold`);
    if (n > bounds.fileBytes) throw new CorruptContainer('stsz box', `declares ${n} samples, more than the ${bytes(bounds.fileBytes)} bytes of the file hold`);
  }
  return { n, fixed };
}

/** stts: the ticks its samples last. It covers exactly the n samples of stsz (more: a lie; fewer: not modelled). */
function sttsTicks(buf: Buffer, stts: Box, n: number): number {
  const entries = entryCount(buf, stts, 8);
  notMoreThan(stts, entries, n, 'entries');
  let covered = 0;
  let ticks = 0;
  for (let e = 0; e < entries; e++) {
    const count = buf.readUInt32BE(stts.start + 8 + e * 8);
    ticks += count * buf.readUInt32BE(stts.start + 12 + e * 8);
    covered += count;
  }
  notMoreThan(stts, covered, n, 'sample durations');
  if (covered < n) throw new Mp4Unsupported('the stts table covers fewer samples than stsz');
  return ticks;
}

/** A video track's sample count against its duration: at most MAX_FPS frames a second of it (at least 1 s, at most the duration limit). */
function frameRateBound(n: number, seconds: number, maxDurationSec: number): void {
  if (n <= MAX_FPS * Math.max(1, Math.min(seconds, maxDurationSec))) return;
  const limit = seconds > maxDurationSec ? ` of the ${maxDurationSec} s limit` : '';
  throw new CorruptContainer('stsz box', `declares ${n} video samples in ${Number(seconds.toFixed(3))} s (stts), more than ${MAX_FPS} frames a second${limit}`);
}

/** Decode times from stts (sttsTicks checked that it covers exactly n samples). */
function decodeTimes(buf: Buffer, stts: Box, n: number): Float64Array {
  const dts = new Float64Array(n);
  const entries = buf.readUInt32BE(stts.start + 4);
  let i = 0;
  let t = 0;
  for (let e = 0; e < entries; e++) {
    const count = buf.readUInt32BE(stts.start + 8 + e * 8);
    const delta = buf.readUInt32BE(stts.start + 12 + e * 8);
    for (let k = 0; k < count; k++, i++) {
      dts[i] = t;
      t += delta;
    }
  }
  return dts;
}

/** ctts, read as signed like ffmpeg (absent: zero); it covers at most the n samples of stsz. */
function compositionOffsets(buf: Buffer, ctts: Box | undefined, n: number): Int32Array {
  const cts = new Int32Array(n);
  if (!ctts) return cts;
  const entries = entryCount(buf, ctts, 8);
  notMoreThan(ctts, entries, n, 'entries');
  let i = 0;
  for (let e = 0; e < entries; e++) {
    const count = buf.readUInt32BE(ctts.start + 8 + e * 8);
    notMoreThan(ctts, i + count, n, 'composition offsets');
    cts.fill(buf.readInt32BE(ctts.start + 12 + e * 8), i, i + count);
    i += count;
  }
  return cts;
}

/** stss: the keyframes (absent: every sample is one). */
function syncSamples(buf: Buffer, stss: Box | undefined, n: number): Uint8Array {
  const key = new Uint8Array(n);
  if (!stss) return key.fill(1);
  const entries = entryCount(buf, stss, 4);
  notMoreThan(stss, entries, n, 'sync samples');
  for (let e = 0; e < entries; e++) {
    const s = buf.readUInt32BE(stss.start + 8 + e * 4);
    if (s >= 1 && s <= n) key[s - 1] = 1;
  }
  return key;
}

/** The samples stsc puts in its chunks (runs of chunks from each entry's first chunk to the next's). */
function chunkedSamples(buf: Buffer, stsc: Box, entries: number, chunks: number): number {
  let total = 0;
  for (let e = 0; e < entries; e++) {
    const first = Math.max(0, buf.readUInt32BE(stsc.start + 8 + e * 12) - 1);
    const next = e + 1 < entries ? buf.readUInt32BE(stsc.start + 8 + (e + 1) * 12) - 1 : chunks;
    total += Math.max(0, Math.min(next, chunks) - first) * buf.readUInt32BE(stsc.start + 12 + e * 12);
  }
  return total;
}

/** stsc + stco/co64: each sample's byte position. No chunk may end past the end of the file. */
function samplePositions(buf: Buffer, stbl: Box, size: Float64Array, bounds: Mp4Bounds | undefined): Float64Array {
  const n = size.length;
  const stsc = child(buf, stbl, 'stsc');
  const co = child(buf, stbl, 'stco') ?? child(buf, stbl, 'co64');
  if (!stsc || !co) throw new Mp4Unsupported('no stsc or chunk offset table');
  const wide = co.type === 'co64';
  const chunks = entryCount(buf, co, wide ? 8 : 4);
  notMoreThan(co, chunks, n, 'chunks');
  const entries = entryCount(buf, stsc, 12);
  if (entries > chunks) throw new CorruptContainer('stsc box', `declares ${entries} entries, more than the ${chunks} chunks of its ${co.type}`);
  notMoreThan(stsc, chunkedSamples(buf, stsc, entries, chunks), n, 'samples in its chunks');
  const chunkOffset = (c: number): number => (wide ? Number(buf.readBigUInt64BE(co.start + 8 + c * 8)) : buf.readUInt32BE(co.start + 8 + c * 4));
  const end = bounds ? (bounds.end ?? bounds.fileBytes) : Infinity;
  const pos = new Float64Array(n);
  let i = 0;
  for (let e = 0; e < entries && i < n; e++) {
    const first = Math.max(0, buf.readUInt32BE(stsc.start + 8 + e * 12) - 1);
    const perChunk = buf.readUInt32BE(stsc.start + 12 + e * 12);
    const nextFirst = e + 1 < entries ? buf.readUInt32BE(stsc.start + 8 + (e + 1) * 12) - 1 : chunks;
    for (let c = first; c < nextFirst && c < chunks && i < n; c++) {
      let at = chunkOffset(c);
      for (let k = 0; k < perChunk && i < n; k++, i++) {
        pos[i] = at;
        at += size[i]!;
      }
      if (at > end)
        throw new CorruptContainer(
          `${co.type} box`,
          `places chunk ${c + 1} at byte ${chunkOffset(c)}, its samples ending at byte ${at}, past the end of the file (${bytes(end)} bytes)`,
        );
    }
  }
  if (i < n) throw new Mp4Unsupported('the chunk tables cover fewer samples than stsz');
  return pos;
}

/** elst: the edits, durations rescaled from the movie's timescale to the track's (as ffmpeg does). */
export function editList(buf: Buffer, trak: Box, timescale: number, movieTimescale: number): RawTrack['edits'] {
  const edits: RawTrack['edits'] = [];
  const elst = path(buf, trak, 'edts', 'elst');
  if (!elst) return edits;
  need(elst, 4);
  const v1 = buf[elst.start] === 1;
  const w = v1 ? 20 : 12;
  const entries = entryCount(buf, elst, w);
  for (let e = 0; e < entries; e++) {
    const at = elst.start + 8 + e * w;
    const duration = v1 ? Number(buf.readBigUInt64BE(at)) : buf.readUInt32BE(at);
    const mediaTime = v1 ? Number(buf.readBigInt64BE(at + 8)) : buf.readInt32BE(at + 4);
    const rate = buf.readInt32BE(at + (v1 ? 16 : 8)) / 65536;
    edits.push({ duration: Math.round((duration * timescale) / movieTimescale), mediaTime, rate });
  }
  return edits;
}

/**
 * A track's sample tables. Every count is checked (against its box, the other tables, the file and,
 * for video, the frame-rate bound) before the arrays, at most n long, are made.
 */
function readTrack(buf: Buffer, trak: Box, streamIndex: number, movieTimescale: number, bounds?: Mp4Bounds, head = trackHead(buf, trak)): RawTrack | undefined {
  if (!head) return undefined;
  const { handler, timescale, stbl } = head;
  const stsz = child(buf, stbl, 'stsz');
  if (!stsz) {
    if (child(buf, stbl, 'stz2')) throw new Mp4Unsupported('an stz2 sample size table');
    return undefined;
  }
  const stts = child(buf, stbl, 'stts');
  if (!stts) throw new Mp4Unsupported('no stts table');
  const { n, fixed } = sampleCount(buf, stsz, bounds);
  const ticks = sttsTicks(buf, stts, n);
  if (handler === 'vide') frameRateBound(n, ticks / timescale, bounds?.maxDurationSec ?? DEFAULT_LIMITS.maxDurationSec);
  const size = new Float64Array(n);
  if (fixed) size.fill(fixed);
  else for (let i = 0; i < n; i++) size[i] = buf.readUInt32BE(stsz.start + 12 + i * 4);
  const dts = decodeTimes(buf, stts, n);
  const cts = compositionOffsets(buf, child(buf, stbl, 'ctts'), n);
  const key = syncSamples(buf, child(buf, stbl, 'stss'), n);
  const pos = samplePositions(buf, stbl, size, bounds);
  const edits = editList(buf, trak, timescale, movieTimescale);
  return { track: { streamIndex, handler, ...sampleEntry(buf, stbl, handler), timescale, samples: n }, dts, cts, size, pos, key, edits };
}

/** ffprobe prints `pts * (num/timescale)` (its time base as a double) with %f; keyframes.ts parses that text. The same number, here. */
export function printedSeconds(ticks: number, timescale: number, num = 1): number {
  const x = ticks * (num / timescale);
  // The decimal rounding toFixed does, without its string, away from ties (the float error of
  // x * 1e6 is far below 0.001 of a microsecond for any media length).
  const scaled = Math.abs(x) * 1e6;
  const k = Math.round(scaled);
  if (Math.abs(scaled - Math.trunc(scaled) - 0.5) > 1e-3 && k < 2 ** 52) {
    const v = Math.floor(k / 1e6) + (k % 1e6) / 10 ** 6;
    return x < 0 ? -v : v;
  }
  const text = x.toFixed(6);
  const neg = text.startsWith('-');
  const [int, frac = ''] = (neg ? text.slice(1) : text).split('.');
  const v = Number(int) + Number(frac) / 10 ** frac.length;
  return neg ? -v : v;
}

/** Presentation ticks of each sample as ffmpeg's mov demuxer gives them, or NaN for dropped ones. */
function presentation(t: RawTrack): Float64Array {
  const n = t.dts.length;
  let minCts = 0;
  for (let i = 0; i < n; i++) if (t.cts[i]! < minCts) minCts = t.cts[i]!;
  const dtsShift = -minCts;
  const pts = new Float64Array(n);
  const edits = t.edits.filter((e, i) => !(i === t.edits.length - 1 && e.duration === 0 && e.mediaTime === -1));
  let empty = 0;
  let k = 0;
  while (k < edits.length && edits[k]!.mediaTime === -1) empty += edits[k++]!.duration;
  const rest = edits.slice(k);
  if (!rest.length) {
    if (edits.length && !t.edits.some((e) => e.mediaTime >= 0)) throw new Mp4Unsupported('an edit list of empty edits only');
    for (let i = 0; i < n; i++) pts[i] = t.dts[i]! + dtsShift + t.cts[i]!;
    return pts;
  }
  if (rest.length > 1) throw new Mp4Unsupported('an edit list with several edits');
  const edit = rest[0]!;
  if (edit.rate !== 1) throw new Mp4Unsupported(`an edit rate of ${edit.rate}`);
  const m = edit.mediaTime;
  const end = edit.duration > 0 ? m + edit.duration : Infinity;
  // The keyframe at or before the edit's start (by presentation time) begins the index.
  let from = -1;
  for (let i = 0; i < n; i++) if (t.key[i] && t.dts[i]! + dtsShift + t.cts[i]! <= m) from = i;
  if (from < 0) throw new Mp4Unsupported('no keyframe at the start of the edit');
  // The first sample shown (in decode order) takes the edit's start; the others follow at their stts spacing.
  let first = -1;
  for (let i = from; i < n; i++) {
    if (t.dts[i]! + dtsShift + t.cts[i]! >= m) {
      first = i;
      break;
    }
  }
  if (first < 0) throw new Mp4Unsupported('no sample inside the edit');
  pts.fill(NaN);
  let minPts = Infinity;
  let lastKept = n - 1;
  let keyAfterEnd = 0;
  for (let i = from; i < n; i++) {
    const cts = t.dts[i]! + dtsShift + t.cts[i]!;
    if (cts >= end && t.key[i] && i > from) {
      // ffmpeg stops at the first keyframe after the edit's end (the second one when there are composition offsets).
      if (t.cts.some((c) => c !== 0) && keyAfterEnd === 0) keyAfterEnd = 1;
      else {
        lastKept = i;
        break;
      }
    }
    if (cts < m) continue; // shown before the edit: flagged discard, not in the index
    const p = empty + (t.dts[i]! - t.dts[first]!) + dtsShift + t.cts[i]!;
    pts[i] = p;
    if (p < minPts) minPts = p;
  }
  for (let i = lastKept + 1; i < n; i++) pts[i] = NaN;
  const shift = Math.max(0, minPts - empty);
  if (shift) for (let i = 0; i < n; i++) pts[i] = pts[i]! - shift;
  return pts;
}

export interface ParseOptions {
  /** The stream to index (default: the first video track). */
  streamIndex?: number | undefined;
  /** The container's start time (ffprobe's format start_time): times are relative to it. */
  startTimeSec?: number | undefined;
  /** What the file holds (layoutBounds): the moov's counts are checked against it. */
  bounds?: Mp4Bounds | undefined;
}

/**
 * A video track's tables, each sample's presentation time as ffprobe prints it (NaN: not shown)
 * and the samples in presentation order: the costly part of an index, which does not depend on
 * the container's start time (probe parses it while ffprobe runs). Throws Mp4Unsupported.
 */
export interface MoovTrack {
  readonly raw: RawTrack;
  readonly printed: Float64Array;
  readonly order: number[];
}

/** The moov box in `moov` (its bytes, header included) and the movie's timescale (mvhd). */
export function movie(moov: Buffer): { top: Box; movieTimescale: number } {
  const top = child(moov, { type: 'root', start: 0, end: moov.length }, 'moov');
  const mvhd = top && child(moov, top, 'mvhd');
  if (!top || !mvhd) throw new Mp4Unsupported(top ? 'no mvhd box' : 'no moov box');
  need(mvhd, 4);
  const v1 = moov[mvhd.start] === 1;
  need(mvhd, v1 ? 24 : 16);
  return { top, movieTimescale: moov.readUInt32BE(mvhd.start + (v1 ? 20 : 12)) || 1 };
}

/** Parses a moov box's video track (`streamIndex`, default the first video track). Throws Mp4Unsupported or CorruptContainer. */
export function moovTrack(moov: Buffer, streamIndex?: number, bounds?: Mp4Bounds): MoovTrack {
  const { top, movieTimescale } = movie(moov);
  if (child(moov, top, 'mvex')) throw new Mp4Unsupported('a fragmented MP4 (mvex)');
  let index = 0;
  let chosen: RawTrack | undefined;
  for (const b of children(moov, top.start, top.end)) {
    if (b.type !== 'trak') continue;
    const i = index++;
    if (streamIndex !== undefined ? i !== streamIndex : chosen) continue;
    const head = trackHead(moov, b);
    // The first video track: the tables of the tracks before it are not read.
    const t = head?.handler === 'vide' ? readTrack(moov, b, i, movieTimescale, bounds, head) : undefined;
    if (t) chosen = t;
    else if (streamIndex !== undefined) throw new Mp4Unsupported(`stream ${i} is not a video track`);
  }
  if (!chosen) throw new Mp4Unsupported('no video track');
  const t = chosen;
  const pts = presentation(t);
  const n = t.dts.length;
  const printed = new Float64Array(n);
  for (let i = 0; i < n; i++) printed[i] = Number.isNaN(pts[i]!) ? NaN : printedSeconds(pts[i]!, t.track.timescale);
  return { raw: t, printed, order: presentationOrder(printed) };
}

/**
 * The samples shown, in presentation order; ties keep decode order. (Times relative to a start
 * printed to the microsecond sort the same way: the subtraction is exact once rounded.) Decode
 * order is presentation order but for B-frame reordering, so an insertion sort is near linear;
 * a table that reorders more than that (a few dozen moves a sample) is sorted in n log n.
 */
function presentationOrder(printed: Float64Array): number[] {
  const order: number[] = [];
  for (let i = 0; i < printed.length; i++) if (!Number.isNaN(printed[i]!)) order.push(i);
  let budget = 64 * order.length;
  for (let i = 1; i < order.length; i++) {
    const x = order[i]!;
    let j = i - 1;
    while (j >= 0 && (printed[order[j]!]! > printed[x]! || (printed[order[j]!]! === printed[x]! && order[j]! > x))) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = x;
    budget -= i - 1 - j;
    if (budget < 0) return order.sort((a, b) => printed[a]! - printed[b]! || a - b);
  }
  return order;
}

/** The packet index of a parsed track, times relative to `startTimeSec` (ffprobe's format start_time). */
export function trackIndex(m: MoovTrack, startTimeSec = 0): Mp4Index {
  const { raw: t, printed, order } = m;
  // Join like keyframes.ts: ascending presentation time, one entry per time. (Arrays made at their
  // length and filled: growing or Array.from-ing 100,000 entries costs several times more.)
  const times = new Array<number>(order.length);
  const pos = new Array<number>(order.length);
  const size = new Array<number>(order.length);
  const keyframe = new Array<boolean>(order.length);
  let n = 0;
  for (const i of order) {
    const rel = Math.round((printed[i]! - startTimeSec) * 1e6) / 1e6;
    if (n && times[n - 1] === rel) {
      if (t.key[i]) keyframe[n - 1] = true;
      continue;
    }
    times[n] = rel;
    pos[n] = t.pos[i]!;
    size[n] = t.size[i]!;
    keyframe[n++] = t.key[i] === 1;
  }
  if (!n) throw new Mp4Unsupported('the video track has no samples');
  for (const a of [times, pos, size, keyframe]) a.length = n;
  const decodeOrder = { pos: listOf(t.pos), size: listOf(t.size), keyframe: listOf(t.key, (k) => k === 1) };
  return { streamIndex: t.track.streamIndex, times, pos, size, keyframe, track: t.track, decodeOrder };
}

function listOf(a: Float64Array): number[];
function listOf<T>(a: Uint8Array, f: (v: number) => T): T[];
function listOf<T>(a: Float64Array | Uint8Array, f?: (v: number) => T): Array<T | number> {
  const out = new Array<T | number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f ? f(a[i]!) : a[i]!;
  return out;
}

/** Parses a moov box's bytes into the video track's packet index. Throws Mp4Unsupported or CorruptContainer. */
export function parseMoov(moov: Buffer, o: ParseOptions = {}): Mp4Index {
  return trackIndex(moovTrack(moov, o.streamIndex, o.bounds), o.startTimeSec);
}

/**
 * Every sample's byte position and size, in decode order, of any track (stream index as ffmpeg
 * numbers them). Throws Mp4Unsupported or CorruptContainer (checked against `bounds` when given).
 */
export function trackSamples(moov: Buffer, streamIndex: number, bounds?: Mp4Bounds): { handler: string; pos: number[]; size: number[] } {
  const { top, movieTimescale } = movie(moov);
  let index = 0;
  for (const b of children(moov, top.start, top.end)) {
    if (b.type !== 'trak') continue;
    if (index++ !== streamIndex) continue;
    const t = readTrack(moov, b, streamIndex, movieTimescale, bounds);
    if (!t) throw new Mp4Unsupported(`stream ${streamIndex} has no sample tables`);
    return { handler: t.track.handler, pos: Array.from(t.pos), size: Array.from(t.size) };
  }
  throw new Mp4Unsupported(`no stream ${streamIndex}`);
}

/** The moov box's bytes where the layout says it is. Throws Mp4Unsupported when they are cut short. */
async function moovBytes(src: ByteSource, layout: Mp4Layout): Promise<Buffer> {
  const moov = await src.read(layout.moov.offset, layout.moov.size);
  if (moov.length !== layout.moov.size) throw new Mp4Unsupported('the moov box is cut short');
  return moov;
}

/** A local file's moov bytes and what its counts are checked against (parseMoov's `bounds`). */
export interface LocalMoov {
  moov: Buffer;
  bounds: Mp4Bounds;
}

/**
 * A local file's moov, or undefined when parseMoov would refuse the file for its layout
 * (fragmented, no moov, cut short) or it cannot be read: ffprobe then reads the file and says what
 * is wrong. A layout that lies (CorruptContainer) is thrown: the caller reports it as CORRUPT.
 */
export async function readMoov(path: string, maxDurationSec?: number): Promise<LocalMoov | undefined> {
  const src = await fileSource(path).catch(() => undefined);
  if (!src) return undefined;
  try {
    const layout = await mp4Layout(src);
    return { moov: await moovBytes(src, layout), bounds: layoutBounds(src.size, layout, maxDurationSec) };
  } catch (e) {
    if (e instanceof CorruptContainer) throw e;
    return undefined;
  } finally {
    await src.close();
  }
}

/**
 * A moov parse for `input`: its result; undefined when the parser does not model the file
 * (Mp4Unsupported: the caller reads it another way); CORRUPT naming the input when the moov lies
 * (CorruptContainer), and for anything else the parser throws (never a raw RangeError).
 */
export function modelled<T>(input: string, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (e instanceof Mp4Unsupported) return undefined;
    throw corruptInput(input, e);
  }
}

/** Reads moov from a source and parses it (bounded by the source's size). Throws Mp4Unsupported or CorruptContainer. */
export async function mp4Index(src: ByteSource, o: ParseOptions & { layout?: Mp4Layout } = {}): Promise<Mp4Index & { layout: Mp4Layout }> {
  const layout = o.layout ?? (await mp4Layout(src));
  return { ...parseMoov(await moovBytes(src, layout), { ...o, bounds: o.bounds ?? layoutBounds(src.size, layout) }), layout };
}
