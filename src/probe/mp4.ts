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
 * minimum (dts_shift). What it does not model is refused (`undefined` from parseMoov): fragmented
 * files (moof), several non-empty edits, edit rates other than 1, stz2 tables. Callers then use
 * ffprobe.
 */
import { open } from 'node:fs/promises';
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
  /** Where each mdat box is (payload start and end). */
  mdat: Array<{ offset: number; end: number }>;
  /** moov before the first mdat (a "fast start" file). */
  moovFirst: boolean;
}

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
    if (size < header) throw new Mp4Unsupported(`a ${JSON.stringify(type)} box of ${size} bytes at ${at}`);
    if (!TOP_LEVEL.has(type) && !/^[\x20-\x7e]{4}$/.test(type)) throw new Mp4Unsupported(`an unreadable box at ${at}`);
    if (type === 'moof') throw new Mp4Unsupported('a fragmented MP4 (moof boxes)');
    if (type === 'moov' && !moov) moov = { offset: at, size };
    if (type === 'mdat') mdat.push({ offset: at + header, end: Math.min(src.size, at + size) });
    at += size;
  }
  if (!moov) throw new Mp4Unsupported('no moov box');
  if (moov.size > MAX_MOOV_BYTES) throw new Mp4Unsupported(`a moov of ${moov.size} bytes`);
  if (moov.offset + moov.size > src.size) throw new Mp4Unsupported('the moov box is cut short (a truncated file)');
  return { moov, mdat, moovFirst: !mdat.length || moov.offset < mdat[0]!.offset };
}

interface Box {
  type: string;
  /** Payload start and end in the buffer. */
  start: number;
  end: number;
}

function* children(buf: Buffer, start: number, end: number): Generator<Box> {
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
    if (size < header || at + size > end) throw new Mp4Unsupported(`a ${JSON.stringify(type)} box overruns its parent`);
    yield { type, start: at + header, end: at + size };
    at += size;
  }
}

function child(buf: Buffer, parent: Box, type: string): Box | undefined {
  for (const b of children(buf, parent.start, parent.end)) if (b.type === type) return b;
  return undefined;
}

function path(buf: Buffer, parent: Box, ...types: string[]): Box | undefined {
  let b: Box | undefined = parent;
  for (const t of types) {
    b = b && child(buf, b, t);
    if (!b) return undefined;
  }
  return b;
}

/** Bounds-checked reads: a table whose count overruns its box is corrupt, not a crash. */
function need(box: Box, at: number, bytes: number, what: string): void {
  if (at + bytes > box.end) throw new Mp4Unsupported(`the ${what} table is cut short`);
}

export interface RawTrack {
  track: Mp4Track;
  dts: Float64Array;
  cts: Int32Array;
  size: Float64Array;
  pos: Float64Array;
  key: Uint8Array;
  edits: Array<{ duration: number; mediaTime: number; rate: number }>;
}

function readTrack(buf: Buffer, trak: Box, streamIndex: number, movieTimescale: number): RawTrack | undefined {
  const mdia = child(buf, trak, 'mdia');
  const mdhd = mdia && child(buf, mdia, 'mdhd');
  const hdlr = mdia && child(buf, mdia, 'hdlr');
  const stbl = mdia && path(buf, mdia, 'minf', 'stbl');
  if (!mdia || !mdhd || !hdlr || !stbl) return undefined;
  const version = buf[mdhd.start]!;
  const timescale = buf.readUInt32BE(mdhd.start + (version === 1 ? 20 : 12));
  const handler = buf.toString('latin1', hdlr.start + 8, hdlr.start + 12);
  if (!timescale) throw new Mp4Unsupported('a track with timescale 0');

  const stsd = child(buf, stbl, 'stsd');
  let codec = '';
  let avcC: Buffer | undefined;
  let hvcC: Buffer | undefined;
  if (stsd && stsd.start + 16 <= stsd.end) {
    const entrySize = buf.readUInt32BE(stsd.start + 8);
    codec = buf.toString('latin1', stsd.start + 12, stsd.start + 16);
    const entryEnd = Math.min(stsd.end, stsd.start + 8 + entrySize);
    // A visual sample entry: 8 bytes of header, 78 bytes of fields, then its boxes.
    if (handler === 'vide' && stsd.start + 8 + 86 <= entryEnd) {
      for (const b of children(buf, stsd.start + 8 + 86, entryEnd)) {
        if (b.type === 'avcC') avcC = Buffer.from(buf.subarray(b.start, b.end));
        if (b.type === 'hvcC') hvcC = Buffer.from(buf.subarray(b.start, b.end));
      }
    }
  }

  // stsz
  const stsz = child(buf, stbl, 'stsz');
  if (!stsz) {
    if (child(buf, stbl, 'stz2')) throw new Mp4Unsupported('an stz2 sample size table');
    return undefined;
  }
  need(stsz, stsz.start, 12, 'stsz');
  const fixed = buf.readUInt32BE(stsz.start + 4);
  const n = buf.readUInt32BE(stsz.start + 8);
  if (!fixed) need(stsz, stsz.start + 12, n * 4, 'stsz');
  const size = new Float64Array(n);
  for (let i = 0; i < n; i++) size[i] = fixed || buf.readUInt32BE(stsz.start + 12 + i * 4);

  // stts -> dts
  const dts = new Float64Array(n);
  const stts = child(buf, stbl, 'stts');
  if (!stts) throw new Mp4Unsupported('no stts table');
  {
    need(stts, stts.start, 8, 'stts');
    const entries = buf.readUInt32BE(stts.start + 4);
    need(stts, stts.start + 8, entries * 8, 'stts');
    let i = 0;
    let t = 0;
    for (let e = 0; e < entries && i < n; e++) {
      const count = buf.readUInt32BE(stts.start + 8 + e * 8);
      const delta = buf.readUInt32BE(stts.start + 12 + e * 8);
      for (let k = 0; k < count && i < n; k++, i++) {
        dts[i] = t;
        t += delta;
      }
    }
    if (i < n) throw new Mp4Unsupported('the stts table covers fewer samples than stsz');
  }

  // ctts (read as signed, like ffmpeg)
  const cts = new Int32Array(n);
  const ctts = child(buf, stbl, 'ctts');
  if (ctts) {
    need(ctts, ctts.start, 8, 'ctts');
    const entries = buf.readUInt32BE(ctts.start + 4);
    need(ctts, ctts.start + 8, entries * 8, 'ctts');
    let i = 0;
    for (let e = 0; e < entries && i < n; e++) {
      const count = buf.readUInt32BE(ctts.start + 8 + e * 8);
      const offset = buf.readInt32BE(ctts.start + 12 + e * 8);
      for (let k = 0; k < count && i < n; k++, i++) cts[i] = offset;
    }
  }

  // stss (absent: every sample is a keyframe)
  const key = new Uint8Array(n);
  const stss = child(buf, stbl, 'stss');
  if (stss) {
    need(stss, stss.start, 8, 'stss');
    const entries = buf.readUInt32BE(stss.start + 4);
    need(stss, stss.start + 8, entries * 4, 'stss');
    for (let e = 0; e < entries; e++) {
      const s = buf.readUInt32BE(stss.start + 8 + e * 4);
      if (s >= 1 && s <= n) key[s - 1] = 1;
    }
  } else key.fill(1);

  // stsc + stco/co64 -> byte positions
  const pos = new Float64Array(n);
  const stsc = child(buf, stbl, 'stsc');
  const stco = child(buf, stbl, 'stco');
  const co64 = child(buf, stbl, 'co64');
  const co = stco ?? co64;
  if (!stsc || !co) throw new Mp4Unsupported('no stsc or chunk offset table');
  {
    need(co, co.start, 8, 'chunk offset');
    const chunks = buf.readUInt32BE(co.start + 4);
    const wide = co === co64;
    need(co, co.start + 8, chunks * (wide ? 8 : 4), 'chunk offset');
    const chunkOffset = (c: number): number => (wide ? Number(buf.readBigUInt64BE(co.start + 8 + c * 8)) : buf.readUInt32BE(co.start + 8 + c * 4));
    need(stsc, stsc.start, 8, 'stsc');
    const entries = buf.readUInt32BE(stsc.start + 4);
    need(stsc, stsc.start + 8, entries * 12, 'stsc');
    let i = 0;
    for (let e = 0; e < entries && i < n; e++) {
      const first = buf.readUInt32BE(stsc.start + 8 + e * 12) - 1;
      const perChunk = buf.readUInt32BE(stsc.start + 12 + e * 12);
      const nextFirst = e + 1 < entries ? buf.readUInt32BE(stsc.start + 8 + (e + 1) * 12) - 1 : chunks;
      for (let c = first; c < nextFirst && c < chunks && i < n; c++) {
        let at = chunkOffset(c);
        for (let k = 0; k < perChunk && i < n; k++, i++) {
          pos[i] = at;
          at += size[i]!;
        }
      }
    }
    if (i < n) throw new Mp4Unsupported('the chunk tables cover fewer samples than stsz');
  }

  // elst
  const edits: RawTrack['edits'] = [];
  const elst = path(buf, trak, 'edts', 'elst');
  if (elst) {
    need(elst, elst.start, 8, 'elst');
    const v = buf[elst.start]!;
    const entries = buf.readUInt32BE(elst.start + 4);
    const w = v === 1 ? 20 : 12;
    need(elst, elst.start + 8, entries * w, 'elst');
    for (let e = 0; e < entries; e++) {
      const at = elst.start + 8 + e * w;
      const duration = v === 1 ? Number(buf.readBigUInt64BE(at)) : buf.readUInt32BE(at);
      const mediaTime = v === 1 ? Number(buf.readBigInt64BE(at + 8)) : buf.readInt32BE(at + 4);
      const rate = buf.readInt32BE(at + (v === 1 ? 16 : 8)) / 65536;
      // Durations are in the movie's timescale; ffmpeg rescales them to the track's.
      edits.push({ duration: Math.round((duration * timescale) / movieTimescale), mediaTime, rate });
    }
  }
  return { track: { streamIndex, handler, codec, timescale, avcC, hvcC, samples: n }, dts, cts, size, pos, key, edits };
}

/** ffprobe prints `pts * (1/timescale)` with %f; keyframes.ts parses that text. The same number, here. */
function printedSeconds(ticks: number, timescale: number): number {
  const x = ticks * (1 / timescale);
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

/** Parses a moov box's video track (`streamIndex`, default the first video track). Throws Mp4Unsupported. */
export function moovTrack(moov: Buffer, streamIndex?: number): MoovTrack {
  const root: Box = { type: 'root', start: 0, end: moov.length };
  const top = child(moov, root, 'moov');
  if (!top) throw new Mp4Unsupported('no moov box');
  if (child(moov, top, 'mvex')) throw new Mp4Unsupported('a fragmented MP4 (mvex)');
  const mvhd = child(moov, top, 'mvhd');
  if (!mvhd) throw new Mp4Unsupported('no mvhd box');
  const movieTimescale = moov.readUInt32BE(mvhd.start + (moov[mvhd.start] === 1 ? 20 : 12)) || 1;
  let index = 0;
  let chosen: RawTrack | undefined;
  for (const b of children(moov, top.start, top.end)) {
    if (b.type !== 'trak') continue;
    const i = index++;
    if (streamIndex !== undefined ? i !== streamIndex : chosen) continue;
    const t = readTrack(moov, b, i, movieTimescale);
    if (t && t.track.handler === 'vide') chosen = t;
    else if (streamIndex !== undefined) throw new Mp4Unsupported(`stream ${i} is not a video track`);
  }
  if (!chosen) throw new Mp4Unsupported('no video track');
  const t = chosen;
  const pts = presentation(t);
  const n = t.dts.length;
  const printed = new Float64Array(n);
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    printed[i] = Number.isNaN(pts[i]!) ? NaN : printedSeconds(pts[i]!, t.track.timescale);
    if (!Number.isNaN(printed[i]!)) order.push(i);
  }
  // Decode order is presentation order but for B-frame reordering: an insertion sort is near
  // linear. Ties keep decode order. (Times relative to a start printed to the microsecond sort
  // the same way: the subtraction is exact once rounded to the microsecond.)
  for (let i = 1; i < order.length; i++) {
    const x = order[i]!;
    let j = i - 1;
    while (j >= 0 && (printed[order[j]!]! > printed[x]! || (printed[order[j]!]! === printed[x]! && order[j]! > x))) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = x;
  }
  return { raw: t, printed, order };
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

/** Parses a moov box's bytes into the video track's packet index. Throws Mp4Unsupported. */
export function parseMoov(moov: Buffer, o: ParseOptions = {}): Mp4Index {
  return trackIndex(moovTrack(moov, o.streamIndex), o.startTimeSec);
}

/** Every sample's byte position and size, in decode order, of any track (stream index as ffmpeg numbers them). */
export function trackSamples(moov: Buffer, streamIndex: number): { handler: string; pos: number[]; size: number[] } {
  const root: Box = { type: 'root', start: 0, end: moov.length };
  const top = child(moov, root, 'moov');
  const mvhd = top && child(moov, top, 'mvhd');
  if (!top || !mvhd) throw new Mp4Unsupported('no moov box');
  const movieTimescale = moov.readUInt32BE(mvhd.start + (moov[mvhd.start] === 1 ? 20 : 12)) || 1;
  let index = 0;
  for (const b of children(moov, top.start, top.end)) {
    if (b.type !== 'trak') continue;
    if (index++ !== streamIndex) continue;
    const t = readTrack(moov, b, streamIndex, movieTimescale);
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

/**
 * A local file's moov bytes, or undefined when parseMoov would refuse the file for its layout
 * (fragmented, no moov, cut short) or it cannot be read. The caller parses them (parseMoov).
 */
export async function readMoov(path: string): Promise<Buffer | undefined> {
  const src = await fileSource(path).catch(() => undefined);
  if (!src) return undefined;
  try {
    return await moovBytes(src, await mp4Layout(src));
  } catch {
    return undefined; // refused or unreadable: ffprobe then reads the file and says what is wrong
  } finally {
    await src.close();
  }
}

/** Reads moov from a source and parses it. Throws Mp4Unsupported when the file is not one parseMoov handles. */
export async function mp4Index(src: ByteSource, o: ParseOptions & { layout?: Mp4Layout } = {}): Promise<Mp4Index & { layout: Mp4Layout }> {
  const layout = o.layout ?? (await mp4Layout(src));
  return { ...parseMoov(await moovBytes(src, layout), o), layout };
}
