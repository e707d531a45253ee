/**
 * MP4/MOV probed in JS: the facts probe() reads from ffprobe's `-show_format -show_streams` (format
 * and streams) from the moov's own boxes, in ffprobe's JSON shape, so that probe() derives the
 * MediaInfo exactly as from ffprobe's answer; the packets come from the moov's sample tables
 * (src/probe/mp4.ts) as before. test/probe/mp4-probe.test.ts compares the two on every MP4/MOV
 * fixture and shared medium. The values follow ffmpeg's mov demuxer: the format's duration is
 * mvhd's, a stream's is its edit's (else mdhd's), its bit rate its bytes over its stts duration,
 * its average rate its samples over that duration, its base rate the timescale over a constant
 * stts delta; the picture size, profile and pixel format come from the H.264 SPS (avcC) or the
 * hvcC record, the rotation from tkhd's matrix, the sample aspect ratio from pasp else the SPS.
 *
 * What is not modelled, or malformed outside the video track's tables (which src/probe/mp4.ts has
 * checked), gives undefined (probe then asks ffprobe): codecs other than H.264 (8-bit, no scaling
 * matrices), HEVC (Main, Main 10), AAC LC and Opus of one or two channels; several video tracks,
 * tracks other than video and audio, cover art; a video stts that is not constant (a variable
 * frame rate: ffmpeg estimates its base rate from the packets); empty edits or several edits; a
 * movie matrix other than the identity; audio-only files.
 */
import { open } from 'node:fs/promises';
import { CorruptContainer } from '../errors.js';
import { type Box, child, children, editList, movie, type MoovTrack, Mp4Unsupported, need, path, printedSeconds, trackHead } from './mp4.js';
import type { RawFormat, RawStream } from './raw.js';
import { avcFacts, hevcFacts, type PictureFacts } from './mp4-codecs.js';

const LAYOUTS = ['', 'mono', 'stereo'];
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

const gcd = (a: bigint, b: bigint): bigint => (b ? gcd(b, a % b) : a);

/** `a/b` reduced, as av_reduce prints a rational ("0/0" for 0/0). */
function ratio(a: number, b: number): string {
  if (!a || !b) return '0/0';
  const g = gcd(BigInt(a), BigInt(b));
  return `${BigInt(a) / g}/${BigInt(b) / g}`;
}

/** a*b/c in integers, truncated (as mov_read_header computes a stream's bit rate). */
function scaled(a: number, b: number, c: number): number {
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** A track's own tables summed: its sample count, bytes and stts duration. */
function totals(buf: Buffer, stbl: Box): { n: number; bytes: number; ticks: number; deltas: Array<[number, number]> } {
  const stsz = child(buf, stbl, 'stsz');
  const stts = child(buf, stbl, 'stts');
  if (!stsz || !stts) throw new Mp4Unsupported('a track without stsz or stts');
  need(stsz, 12);
  const fixed = buf.readUInt32BE(stsz.start + 4);
  const n = buf.readUInt32BE(stsz.start + 8);
  let bytes = fixed * n;
  // mp4.ts has checked these counts against their boxes (moovTrack ran first for the video track; the audio's are bounded here).
  if (!fixed) {
    if (12 + n * 4 > stsz.end - stsz.start) throw new Mp4Unsupported('an stsz table longer than its box');
    for (let i = 0; i < n; i++) bytes += buf.readUInt32BE(stsz.start + 12 + i * 4);
  }
  need(stts, 8);
  const entries = buf.readUInt32BE(stts.start + 4);
  if (8 + entries * 8 > stts.end - stts.start) throw new Mp4Unsupported('an stts table longer than its box');
  const deltas: Array<[number, number]> = [];
  let ticks = 0;
  for (let e = 0; e < entries; e++) {
    const count = buf.readUInt32BE(stts.start + 8 + e * 8);
    const delta = buf.readUInt32BE(stts.start + 12 + e * 8);
    deltas.push([count, delta]);
    ticks += count * delta;
  }
  return { n, bytes, ticks, deltas };
}

/** tkhd: whether the track is enabled (ffmpeg's `default` disposition) and its rotation (av_display_rotation_get of its matrix). */
function trackHeader(buf: Buffer, trak: Box): { enabled: boolean; rotation: number | undefined } {
  const tkhd = child(buf, trak, 'tkhd');
  if (!tkhd) throw new Mp4Unsupported('a track without tkhd');
  need(tkhd, 4);
  const at = tkhd.start + (buf[tkhd.start] === 1 ? 52 : 40);
  need(tkhd, at - tkhd.start + 36);
  const [a, b, , c, d] = [0, 1, 2, 3, 4].map((i) => buf.readInt32BE(at + i * 4) / 65536) as [number, number, number, number, number];
  const identity = a === 1 && b === 0 && c === 0 && d === 1;
  const rotation = identity ? undefined : -((Math.atan2(b / Math.hypot(b, d), a / Math.hypot(a, c)) * 180) / Math.PI) || 0;
  return { enabled: (buf[tkhd.start + 3]! & 1) === 1, rotation };
}

/** mdhd's duration, in the track's timescale. */
function mediaDuration(buf: Buffer, trak: Box): number {
  const mdhd = path(buf, trak, 'mdia', 'mdhd');
  if (!mdhd) throw new Mp4Unsupported('a track without mdhd');
  const v1 = buf[mdhd.start] === 1;
  need(mdhd, v1 ? 32 : 20);
  return v1 ? Number(buf.readBigUInt64BE(mdhd.start + 24)) : buf.readUInt32BE(mdhd.start + 16);
}

/**
 * The stream's duration in its timescale: one edit at most (none empty): the edit's duration, but
 * no more than mdhd's (ffmpeg's index ends with the media).
 */
function editSpan(buf: Buffer, trak: Box, timescale: number, movieTimescale: number): number {
  const edits = editList(buf, trak, timescale, movieTimescale).filter((e, i, all) => !(i === all.length - 1 && e.duration === 0 && e.mediaTime === -1));
  const media = mediaDuration(buf, trak);
  if (!edits.length) return media;
  const [edit] = edits;
  if (edits.length > 1 || edit!.mediaTime < 0 || edit!.rate !== 1) throw new Mp4Unsupported('an edit list not modelled');
  return edit!.duration ? Math.min(edit!.duration, media) : media;
}

/** The first sample entry: its four-cc and its box bounds. */
function firstEntry(buf: Buffer, stbl: Box): { codec: string; start: number; end: number } {
  const stsd = child(buf, stbl, 'stsd');
  if (!stsd || stsd.start + 16 > stsd.end) throw new Mp4Unsupported('no sample entry');
  if (buf.readUInt32BE(stsd.start + 4) !== 1) throw new Mp4Unsupported('several sample entries');
  const size = buf.readUInt32BE(stsd.start + 8);
  if (size < 8 || stsd.start + 8 + size > stsd.end) throw new Mp4Unsupported('a sample entry past its stsd');
  return { codec: buf.toString('latin1', stsd.start + 12, stsd.start + 16), start: stsd.start + 16, end: stsd.start + 8 + size };
}

/** The boxes inside a sample entry, after its `skip` bytes of fields, by type. */
function entryBoxes(buf: Buffer, entry: { start: number; end: number }, skip: number): Map<string, Box> {
  const out = new Map<string, Box>();
  if (entry.start + skip > entry.end) throw new Mp4Unsupported('a sample entry too short for its fields');
  for (const b of children(buf, entry.start + skip, entry.end)) if (!out.has(b.type)) out.set(b.type, b);
  return out;
}

/** A video sample entry's codec facts (H.264 from its SPS, HEVC from its hvcC), its pasp aspect applied. */
function videoEntry(buf: Buffer, stbl: Box): PictureFacts {
  const entry = firstEntry(buf, stbl);
  const boxes = entryBoxes(buf, entry, 78);
  const record = (t: string): Buffer => {
    const b = boxes.get(t);
    if (!b) throw new Mp4Unsupported(`a ${entry.codec} entry without ${t}`);
    return buf.subarray(b.start, b.end);
  };
  const facts =
    entry.codec === 'avc1' || entry.codec === 'avc3'
      ? avcFacts(record('avcC'))
      : entry.codec === 'hvc1' || entry.codec === 'hev1'
        ? hevcFacts(record('hvcC'), buf.readUInt16BE(entry.start + 24), buf.readUInt16BE(entry.start + 26))
        : undefined;
  if (!facts) throw new Mp4Unsupported(`a ${entry.codec} video track`);
  const pasp = boxes.get('pasp');
  if (pasp && pasp.end - pasp.start >= 8) {
    const [h, v] = [buf.readUInt32BE(pasp.start), buf.readUInt32BE(pasp.start + 4)];
    if (h && v) facts.sample_aspect_ratio = ratio(h, v).replace('/', ':');
  }
  return facts;
}

/**
 * An esds's AAC facts: the descriptors walked to the DecoderConfigDescriptor and its
 * AudioSpecificConfig. (MP3 is not modelled: ffmpeg takes its channels from the first frame, which
 * the sample entry's count need not match.)
 */
function esdsFacts(esds: Buffer): Pick<RawStream, 'codec_name' | 'sample_rate' | 'channels'> {
  let at = 4;
  const descriptor = (): { tag: number; end: number } => {
    const tag = esds[at++];
    let len = 0;
    for (let k = 0; k < 4; k++) {
      const b = esds[at++];
      if (b === undefined) throw new Mp4Unsupported('an esds cut short');
      len = (len << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    if (tag === undefined || at + len > esds.length) throw new Mp4Unsupported('an esds descriptor past its box');
    return { tag, end: at + len };
  };
  if (descriptor().tag !== 3) throw new Mp4Unsupported('an esds without ES_Descriptor');
  const flags = esds[at + 2] ?? 0;
  at += 3 + (flags & 0x80 ? 2 : 0) + (flags & 0x20 ? 1 + (esds[at + 3] ?? 0) : 0) + (flags & 0x40 ? 2 : 0);
  if (descriptor().tag !== 4) throw new Mp4Unsupported('an esds without DecoderConfigDescriptor');
  const oti = esds[at];
  at += 13;
  if (oti !== 0x40 || descriptor().tag !== 5 || at + 2 > esds.length) throw new Mp4Unsupported(`an esds of object type ${oti}`);
  const asc = esds.readUInt16BE(at);
  const rate = AAC_RATES[(asc >> 7) & 15];
  if (asc >> 11 !== 2 || !rate) throw new Mp4Unsupported('an AAC track other than LC');
  return { codec_name: 'aac', sample_rate: String(rate), channels: (asc >> 3) & 15 };
}

/** An audio sample entry's facts (AAC LC, Opus; one or two channels). */
function audioEntry(buf: Buffer, stbl: Box): Pick<RawStream, 'codec_name' | 'sample_rate' | 'channels' | 'channel_layout'> {
  const entry = firstEntry(buf, stbl);
  // QuickTime's version 1 adds 16 bytes of fields (samples and bytes a packet); version 2 is not modelled.
  const version = entry.start + 28 <= entry.end ? buf.readUInt16BE(entry.start + 8) : 2;
  if (version > 1) throw new Mp4Unsupported('a sound sample entry of version 2');
  const boxes = entryBoxes(buf, entry, version ? 44 : 28);
  // QuickTime keeps the esds inside a `wave` box.
  const wave = boxes.get('wave');
  const esds = boxes.get('esds') ?? (wave && child(buf, wave, 'esds'));
  const dops = boxes.get('dOps');
  const facts =
    entry.codec === 'mp4a' && esds
      ? esdsFacts(buf.subarray(esds.start, esds.end))
      : entry.codec === 'Opus' && dops && dops.end - dops.start > 2
        ? { codec_name: 'opus', sample_rate: '48000', channels: buf[dops.start + 1]! }
        : undefined;
  if (!facts || !LAYOUTS[facts.channels ?? 0]) throw new Mp4Unsupported(`a ${entry.codec} audio track not modelled`);
  return { ...facts, channel_layout: LAYOUTS[facts.channels!] };
}

/** One trak as ffprobe shows it. */
function streamRow(buf: Buffer, trak: Box, index: number, movieTimescale: number): RawStream {
  const head = trackHead(buf, trak);
  if (!head || (head.handler !== 'vide' && head.handler !== 'soun')) throw new Mp4Unsupported(`a ${head?.handler ?? 'bare'} track`);
  const { enabled, rotation } = trackHeader(buf, trak);
  const t = totals(buf, head.stbl);
  const duration = editSpan(buf, trak, head.timescale, movieTimescale);
  const common = {
    index,
    disposition: { default: enabled ? 1 : 0, attached_pic: 0 },
    nb_frames: String(t.n),
    duration: String(printedSeconds(duration, head.timescale)),
    start_time: '0',
    ...(t.ticks > 0 ? { bit_rate: String(scaled(t.bytes, head.timescale * 8, t.ticks)) } : {}),
  };
  if (head.handler === 'soun') return { ...common, codec_type: 'audio', ...audioEntry(buf, head.stbl) };
  const [first, second] = t.deltas;
  if (!first || t.deltas.length > 2 || (second && second[0] !== 1)) throw new Mp4Unsupported('a variable frame rate');
  return {
    ...common,
    codec_type: 'video',
    ...videoEntry(buf, head.stbl),
    r_frame_rate: ratio(head.timescale, first[1]),
    avg_frame_rate: ratio(head.timescale * t.n, t.ticks),
    ...(rotation === undefined ? {} : { side_data_list: [{ side_data_type: 'Display Matrix', rotation }] }),
  };
}

/** mvhd: a movie matrix other than the identity (ffmpeg applies it to every track's) is not modelled. */
function movieHeader(moov: Buffer, top: Box): void {
  const mvhd = child(moov, top, 'mvhd')!;
  const v1 = moov[mvhd.start] === 1;
  need(mvhd, v1 ? 112 : 100);
  const timescale = moov.readUInt32BE(mvhd.start + (v1 ? 20 : 12));
  const m = mvhd.start + (v1 ? 48 : 36);
  const identity = [0x10000, 0, 0, 0, 0x10000].every((x, i) => moov.readInt32BE(m + i * 4) === x);
  if (!identity || !timescale) throw new Mp4Unsupported('a movie matrix or timescale not modelled');
}

/**
 * An MP4/MOV's format and streams in ffprobe's shape from its moov, or undefined when not modelled.
 * `moov` is the box's bytes (header included), `major` the ftyp brand, `sizeBytes` the file's size.
 */
export function mp4Facts(moov: Buffer, major: string, sizeBytes: number): { format: RawFormat; streams: RawStream[] } | undefined {
  try {
    const { top, movieTimescale } = movie(moov);
    if (child(moov, top, 'mvex') || moov.includes('covr')) throw new Mp4Unsupported('a fragmented file or cover art');
    movieHeader(moov, top);
    const streams: RawStream[] = [];
    for (const b of children(moov, top.start, top.end)) if (b.type === 'trak') streams.push(streamRow(moov, b, streams.length, movieTimescale));
    if (streams.filter((s) => s.codec_type === 'video').length !== 1) throw new Mp4Unsupported('not one video track');
    return { format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', size: String(sizeBytes), tags: { major_brand: major } }, streams };
  } catch (e) {
    // The video track's tables were checked by moovTrack (a lie there is CORRUPT); a box the facts
    // need that is malformed elsewhere is left to ffprobe, as before these facts were read in JS.
    if (e instanceof Mp4Unsupported || e instanceof CorruptContainer) return undefined;
    throw e;
  }
}

/** The ftyp's major brand (ffprobe's `major_brand` tag), or undefined when the file does not start with one. */
export async function majorBrand(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(12);
    const { bytesRead } = await fh.read(head, 0, 12, 0);
    return bytesRead === 12 && head.toString('latin1', 4, 8) === 'ftyp' ? head.toString('latin1', 8, 12) : undefined;
  } finally {
    await fh.close();
  }
}

/**
 * The facts with the video stream's start (its first presentation time, as the moov's index gives
 * it) and the format's start and duration as avformat derives them (update_stream_timings): from
 * the earliest start to the latest end of the streams, in microseconds; its bit rate the file's
 * bits over that duration.
 */
export function withVideoStart(facts: { format: RawFormat; streams: RawStream[] }, track: MoovTrack): { format: RawFormat; streams: RawStream[] } {
  let first = Infinity;
  for (const t of track.printed) if (t < first) first = t;
  const streams = facts.streams.map((s) => (s.index === track.raw.track.streamIndex && Number.isFinite(first) ? { ...s, start_time: String(first) } : s));
  const us = (x: number): number => Math.round(x * 1e6);
  const start = Math.min(...streams.map((s) => us(Number(s.start_time))));
  const end = Math.max(...streams.map((s) => us(Number(s.start_time) + Number(s.duration))));
  const size = Number(facts.format.size);
  const timing = end > start ? { duration: String((end - start) / 1e6), bit_rate: String(Math.trunc((size * 8 * 1e6) / (end - start))) } : {};
  return { format: { ...facts.format, start_time: String(start / 1e6), ...timing }, streams };
}
