/**
 * A Matroska/WebM file's own index, read from its elements by a few range reads and never from a
 * cluster's packets: the EBML header, the Segment, its SeekHead, Info (timecode scale, duration),
 * Tracks and Cues. For remote files (src/source/remote.ts) this is the keyframe part of the packet
 * index: each cue point of the video track gives a keyframe's presentation time (what ffprobe
 * reports for its packet) and where its cluster and block are, so the blocks a plan keeps can be
 * fetched alone.
 *
 * Elements follow the Matroska specification (RFC 9559): variable-size integers, unknown sizes
 * (only a Segment or Cluster may have one), SeekHead positions and cue cluster positions relative
 * to the Segment's data. What this reader does not model is refused with MatroskaUnsupported:
 * no Cues, a Segment of unknown size without Cues before its first Cluster, tracks other than
 * video and audio, content encodings (compression, encryption), laced keyframe blocks.
 *
 * Sizes are untrusted: an element read whole is at most MAX_ELEMENT_BYTES and must be in the file;
 * inside SeekHead, Info, Tracks and Cues every child must end inside its parent and have a known
 * size, integers are at most 8 bytes, a top-level element ends inside its Segment and a cue points
 * inside it. What breaks these is a lie, refused with CorruptContainer (the caller reports
 * CORRUPT). Nesting is as deep as the specification's elements, never followed further; at most
 * MAX_TOP_LEVEL elements are walked before the first Cluster.
 */
import { CorruptContainer } from '../errors.js';
import type { ByteSource } from './mp4.js';

export class MatroskaUnsupported extends Error {}

export const MATROSKA_ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Seek: 0x4dbb,
  SeekID: 0x53ab,
  SeekPosition: 0x53ac,
  Info: 0x1549a966,
  TimecodeScale: 0x2ad7b1,
  Duration: 0x4489,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  DefaultDuration: 0x23e383,
  ContentEncodings: 0x6d80,
  FlagDefault: 0x88,
  CodecPrivate: 0x63a2,
  CodecDelay: 0x56aa,
  TrackTimecodeScale: 0x23314f,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  PixelCropBottom: 0x54aa,
  PixelCropTop: 0x54bb,
  PixelCropLeft: 0x54cc,
  PixelCropRight: 0x54dd,
  DisplayWidth: 0x54b0,
  DisplayHeight: 0x54ba,
  DisplayUnit: 0x54b2,
  Projection: 0x7670,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  Attachments: 0x1941a469,
  BlockDuration: 0x9b,
  Cluster: 0x1f43b675,
  Timecode: 0xe7,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
  ReferenceBlock: 0xfb,
  Cues: 0x1c53bb6b,
  CuePoint: 0xbb,
  CueTime: 0xb3,
  CueTrackPositions: 0xb7,
  CueTrack: 0xf7,
  CueClusterPosition: 0xf1,
  CueRelativePosition: 0xf0,
  Void: 0xec,
  CRC32: 0xbf,
} as const;

/** The elements a Segment holds (besides Void and CRC-32): inside a Cluster of unknown size, one of these ends it. */
export const SEGMENT_ELEMENTS: ReadonlySet<number> = new Set<number>([
  MATROSKA_ID.SeekHead,
  MATROSKA_ID.Info,
  MATROSKA_ID.Tracks,
  MATROSKA_ID.Cluster,
  MATROSKA_ID.Cues,
  MATROSKA_ID.Attachments,
  0x1254c367, // Tags
  0x1043a770, // Chapters
]);

/** An element's header: its ID (with the length marker, as the specification writes IDs) and size. */
export interface ElementHeader {
  id: number;
  /** Where the element starts (its ID). */
  offset: number;
  /** Where its data starts. */
  data: number;
  /** Its data size; -1 when unknown (a live Segment or Cluster). */
  size: number;
}

export interface MatroskaTrack {
  /** Stream index as ffmpeg numbers it (the track's order in Tracks). */
  streamIndex: number;
  number: number;
  /** 1 video, 2 audio (Matroska track types). */
  type: number;
  codec: string;
  /** Nanoseconds per frame, when the track states it. */
  defaultDurationNs?: number | undefined;
  /** FlagDefault (default 1): ffmpeg's `default` disposition. */
  flagDefault?: boolean | undefined;
  /** The first bytes of CodecPrivate (at most CODEC_PRIVATE_KEPT: the codec records' fixed fields). */
  codecPrivate?: Buffer | undefined;
  /** CodecDelay in nanoseconds (Opus): ffmpeg moves the track's times back by it. */
  codecDelayNs?: number | undefined;
  /** The Video element's fields (pixels; display size in DisplayUnit). */
  video?: MatroskaVideo | undefined;
  /** The Audio element's fields. */
  audio?: { sampleRate: number; channels: number } | undefined;
  /** What the track has that the facts of src/probe/matroska-probe.ts do not model (a crop, a projection, a track time scale). */
  unmodelled?: string | undefined;
}

export interface MatroskaVideo {
  pixelWidth: number;
  pixelHeight: number;
  displayWidth?: number | undefined;
  displayHeight?: number | undefined;
  displayUnit: number;
}

/** The CodecPrivate bytes a track keeps: an av1C's or OpusHead's fixed fields. */
const CODEC_PRIVATE_KEPT = 32;

export interface MatroskaCue {
  /** Presentation time in seconds (the cue time times the timecode scale). */
  timeSec: number;
  /** Where the cluster holding the keyframe starts (absolute). */
  cluster: number;
  /** Where its block starts, counted from the cluster's data (CueRelativePosition), when the cue says. */
  relative?: number | undefined;
}

export interface MatroskaLayout {
  docType: string;
  /** The Segment's data: [start, end). */
  segment: { start: number; end: number };
  /** Nanoseconds per timecode unit. */
  timecodeScale: number;
  durationSec?: number | undefined;
  tracks: MatroskaTrack[];
  /** Where the first Cluster starts. */
  firstCluster: number;
  /** Where the Cues element is (header included); size 0 when the file has none (only with `cues: 'optional'`). */
  cuesAt: { offset: number; size: number };
  /** The file has an Attachments element (ffmpeg makes attached pictures of images there). */
  attachments?: boolean | undefined;
  /** Every cue point, per track number, in time order. */
  cues: Map<number, MatroskaCue[]>;
  /** What the SeekHead points to (a demuxer reads these when it opens the file): IDs and absolute offsets. */
  seeks: Array<{ id: number; offset: number }>;
}

/** The largest header element read whole (SeekHead, Info, Tracks, Cues). */
const MAX_ELEMENT_BYTES = 64 * 1024 * 1024;
/**
 * The most top-level elements before the first Cluster. A file has a handful (SeekHead, Void,
 * Info, Tracks, Tags...), but Void padding may legally be split into many tiny elements: their
 * headers come from blocks already read (a remote file's block cache), so walking 200,000 costs
 * a fraction of a second and a few requests, where refusing them would mean a whole download.
 */
const MAX_TOP_LEVEL = 200_000;
/** An element header is at most 4 bytes of ID and 8 of size. */
const HEADER_BYTES = 12;

/** A variable-size integer at `at`: its value without the marker, its length, and whether every value bit is set (unknown size). */
export function readVint(b: Buffer, at: number): { value: number; length: number; allOnes: boolean } | undefined {
  const first = b[at];
  if (first === undefined || first === 0) return undefined;
  let length = 1;
  while (!(first & (0x80 >> (length - 1)))) length++;
  if (at + length > b.length) return undefined;
  let value = first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + b[at + i]!;
    if (b[at + i] !== 0xff) allOnes = false;
  }
  return { value, length, allOnes };
}

/** The element header at `at` of `b` (b's first byte is at file offset `base`), or undefined when cut short. */
export function readHeader(b: Buffer, at: number, base = 0): ElementHeader | undefined {
  const first = b[at];
  if (first === undefined || first < 0x10) return undefined; // IDs are 1 to 4 bytes long
  let idLength = 1;
  while (!(first & (0x80 >> (idLength - 1)))) idLength++;
  if (at + idLength > b.length) return undefined;
  let id = 0;
  for (let i = 0; i < idLength; i++) id = id * 256 + b[at + i]!;
  const size = readVint(b, at + idLength);
  if (!size) return undefined;
  return { id, offset: base + at, data: base + at + idLength + size.length, size: size.allOnes ? -1 : size.value };
}

/**
 * The children of an element's data (`b` holds exactly that data, starting at file offset `base`).
 * A child that cannot be read, has an unknown size or runs past the data ends the walk; with
 * `parent` (its name) it is a CorruptContainer instead.
 */
export function* children(b: Buffer, base: number, parent?: string): Generator<ElementHeader & { body: Buffer }> {
  let at = 0;
  while (at < b.length) {
    const h = readHeader(b, at, base);
    if (!h || h.size < 0 || h.data - base + h.size > b.length) {
      if (parent === undefined) return;
      const what = !h ? 'an unreadable element header' : h.size < 0 ? 'a child of unknown size' : `a child of ${h.size} bytes`;
      throw new CorruptContainer(`${parent} element`, `has ${what} at byte ${base + at}, past its end (byte ${base + b.length})`);
    }
    yield { ...h, body: b.subarray(h.data - base, h.data - base + h.size) };
    at = h.data - base + h.size;
  }
}

/** An unsigned integer element has at most 8 bytes (RFC 9559): a longer one is a lie. */
function intSize(size: number, what: string): number {
  if (size > 8) throw new CorruptContainer(`${what} element`, `is ${size} bytes long (an integer has at most 8)`);
  return size;
}

/** An unsigned integer element's value. */
function uint(b: Buffer, what = 'integer'): number {
  intSize(b.length, what);
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

function float(b: Buffer): number | undefined {
  if (b.length === 4) return b.readFloatBE(0);
  if (b.length === 8) return b.readDoubleBE(0);
  return undefined;
}

async function headerAt(src: ByteSource, at: number): Promise<ElementHeader> {
  const h = readHeader(await src.read(at, HEADER_BYTES), 0, at);
  if (!h) throw new MatroskaUnsupported(`has no element header at byte ${at}`);
  return h;
}

async function body(src: ByteSource, h: ElementHeader, what: string): Promise<Buffer> {
  if (h.size < 0 || h.size > MAX_ELEMENT_BYTES) throw new MatroskaUnsupported(`has a ${what} element of ${h.size < 0 ? 'unknown size' : `${h.size} bytes`}`);
  // Past the file's end: cut short (nothing read, nothing allocated for it).
  const b = h.data + h.size <= src.size ? await src.read(h.data, h.size) : undefined;
  if (b?.length !== h.size) throw new MatroskaUnsupported(`has a ${what} element cut short`);
  return b;
}

/** A Video element's fields; a crop or a projection is noted as unmodelled. */
function parseVideo(e: ElementHeader & { body: Buffer }, t: MatroskaTrack): void {
  const v: MatroskaVideo = { pixelWidth: 0, pixelHeight: 0, displayUnit: 0 };
  for (const f of children(e.body, e.data, 'Video')) {
    if (f.id === MATROSKA_ID.PixelWidth) v.pixelWidth = uint(f.body, 'PixelWidth');
    else if (f.id === MATROSKA_ID.PixelHeight) v.pixelHeight = uint(f.body, 'PixelHeight');
    else if (f.id === MATROSKA_ID.DisplayWidth) v.displayWidth = uint(f.body, 'DisplayWidth');
    else if (f.id === MATROSKA_ID.DisplayHeight) v.displayHeight = uint(f.body, 'DisplayHeight');
    else if (f.id === MATROSKA_ID.DisplayUnit) v.displayUnit = uint(f.body, 'DisplayUnit');
    else if (f.id === MATROSKA_ID.Projection) t.unmodelled = 'a projection';
    else if (CROPS.has(f.id) && uint(f.body, 'PixelCrop')) t.unmodelled = 'a pixel crop';
  }
  t.video = v;
}

const CROPS = new Set<number>([MATROSKA_ID.PixelCropBottom, MATROSKA_ID.PixelCropTop, MATROSKA_ID.PixelCropLeft, MATROSKA_ID.PixelCropRight]);

/** An Audio element's fields (RFC 9559 defaults: 8000 Hz, one channel). */
function parseAudio(e: ElementHeader & { body: Buffer }): { sampleRate: number; channels: number } {
  const a = { sampleRate: 8000, channels: 1 };
  for (const f of children(e.body, e.data, 'Audio')) {
    if (f.id === MATROSKA_ID.SamplingFrequency) a.sampleRate = float(f.body) ?? a.sampleRate;
    else if (f.id === MATROSKA_ID.Channels) a.channels = uint(f.body, 'Channels');
  }
  return a;
}

/** One TrackEntry's fields into `t`. */
function trackField(f: ElementHeader & { body: Buffer }, t: MatroskaTrack, n: number): void {
  if (f.id === MATROSKA_ID.TrackNumber) t.number = uint(f.body, 'TrackNumber');
  else if (f.id === MATROSKA_ID.TrackType) t.type = uint(f.body, 'TrackType');
  else if (f.id === MATROSKA_ID.CodecID) t.codec = f.body.toString('latin1').replace(/\0+$/, '');
  else if (f.id === MATROSKA_ID.DefaultDuration) t.defaultDurationNs = uint(f.body, 'DefaultDuration');
  else if (f.id === MATROSKA_ID.FlagDefault) t.flagDefault = uint(f.body, 'FlagDefault') !== 0;
  else if (f.id === MATROSKA_ID.CodecPrivate) t.codecPrivate = Buffer.from(f.body.subarray(0, CODEC_PRIVATE_KEPT));
  else if (f.id === MATROSKA_ID.CodecDelay) t.codecDelayNs = uint(f.body, 'CodecDelay');
  else if (f.id === MATROSKA_ID.TrackTimecodeScale) t.unmodelled = 'a track time scale';
  else if (f.id === MATROSKA_ID.Video) parseVideo(f, t);
  else if (f.id === MATROSKA_ID.Audio) t.audio = parseAudio(f);
  else if (f.id === MATROSKA_ID.ContentEncodings) throw new MatroskaUnsupported(`has content encodings on track ${t.number || n} (compression or encryption)`);
}

function parseTracks(b: Buffer, base: number): MatroskaTrack[] {
  const out: MatroskaTrack[] = [];
  for (const e of children(b, base, 'Tracks')) {
    if (e.id !== MATROSKA_ID.TrackEntry) continue;
    const t: MatroskaTrack = { streamIndex: out.length, number: 0, type: 0, codec: '' };
    for (const f of children(e.body, e.data, 'TrackEntry')) trackField(f, t, out.length + 1);
    // ffmpeg numbers streams in track order; tracks it would skip or add would shift that numbering.
    if (t.type !== 1 && t.type !== 2) throw new MatroskaUnsupported(`has a track of type ${t.type} (only video and audio tracks are modelled)`);
    out.push(t);
  }
  return out;
}

/** A CuePoint's time and positions (track, cluster relative to the Segment's data, block relative to the cluster's). */
function cuePoint(p: ElementHeader & { body: Buffer }): { time?: number; positions: Array<{ track: number; cluster?: number; relative?: number }> } {
  let time: number | undefined;
  const positions: Array<{ track: number; cluster?: number; relative?: number }> = [];
  for (const f of children(p.body, p.data, 'CuePoint')) {
    if (f.id === MATROSKA_ID.CueTime) time = uint(f.body, 'CueTime');
    else if (f.id === MATROSKA_ID.CueTrackPositions) {
      const at: { track: number; cluster?: number; relative?: number } = { track: 0 };
      for (const g of children(f.body, f.data, 'CueTrackPositions')) {
        if (g.id === MATROSKA_ID.CueTrack) at.track = uint(g.body, 'CueTrack');
        else if (g.id === MATROSKA_ID.CueClusterPosition) at.cluster = uint(g.body, 'CueClusterPosition');
        else if (g.id === MATROSKA_ID.CueRelativePosition) at.relative = uint(g.body, 'CueRelativePosition');
      }
      positions.push(at);
    }
  }
  return { ...(time === undefined ? {} : { time }), positions };
}

/** Every cue point, per track; a cue's cluster must be inside the Segment (`segment.start` to its declared `end`). */
function parseCues(b: Buffer, base: number, segment: { start: number; end: number }, scale: number): Map<number, MatroskaCue[]> {
  const out = new Map<number, MatroskaCue[]>();
  for (const p of children(b, base, 'Cues')) {
    if (p.id !== MATROSKA_ID.CuePoint) continue;
    const { time, positions } = cuePoint(p);
    if (time === undefined) continue;
    for (const at of positions) {
      if (at.cluster === undefined) continue;
      const cluster = segment.start + at.cluster;
      if (cluster >= segment.end)
        throw new CorruptContainer('Cues element', `has a cue point at byte ${cluster}, past the end of its Segment (byte ${segment.end})`);
      const list = out.get(at.track) ?? [];
      list.push({ timeSec: (time * scale) / 1e9, cluster, ...(at.relative !== undefined ? { relative: at.relative } : {}) });
      out.set(at.track, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.timeSec - b.timeSec || a.cluster - b.cluster);
  return out;
}

/** The EBML header's document type and the Segment: its data's start, its end (cut at the file's) and its declared end. */
async function segmentOf(src: ByteSource): Promise<{ docType: string; segment: MatroskaLayout['segment']; declaredEnd: number }> {
  const ebml = readHeader(await src.read(0, HEADER_BYTES), 0, 0);
  if (ebml?.id !== MATROSKA_ID.EBML) throw new MatroskaUnsupported('does not start with an EBML header');
  let docType = 'matroska';
  for (const e of children(await body(src, ebml, 'EBML header'), ebml.data, 'EBML header'))
    if (e.id === MATROSKA_ID.DocType) docType = e.body.toString('latin1');
  if (docType !== 'matroska' && docType !== 'webm') throw new MatroskaUnsupported(`is of document type ${docType}`);
  const seg = await headerAt(src, ebml.data + ebml.size);
  if (seg.id !== MATROSKA_ID.Segment) throw new MatroskaUnsupported('has no Segment after its EBML header');
  const declaredEnd = seg.size < 0 ? src.size : seg.data + seg.size;
  return { docType, segment: { start: seg.data, end: Math.min(src.size, declaredEnd) }, declaredEnd };
}

/** A SeekHead's entries into `seeks` (ID -> absolute offset; the first one for an ID wins). */
async function readSeekHead(src: ByteSource, h: ElementHeader, segmentStart: number, seeks: Map<number, number>): Promise<void> {
  for (const s of children(await body(src, h, 'SeekHead'), h.data, 'SeekHead')) {
    if (s.id !== MATROSKA_ID.Seek) continue;
    let id: number | undefined;
    let pos: number | undefined;
    for (const f of children(s.body, s.data, 'Seek')) {
      if (f.id === MATROSKA_ID.SeekID) id = uint(f.body, 'SeekID');
      else if (f.id === MATROSKA_ID.SeekPosition) pos = uint(f.body, 'SeekPosition');
    }
    if (id !== undefined && pos !== undefined && !seeks.has(id)) seeks.set(id, segmentStart + pos);
  }
}

/**
 * The top level up to the first Cluster (where it starts): every element met into `found`, the
 * SeekHeads read into `seeks`. An element must end inside the Segment's declared size.
 */
async function walkTopLevel(
  src: ByteSource,
  segment: MatroskaLayout['segment'],
  declaredEnd: number,
  found: Map<number, ElementHeader>,
  seeks: Map<number, number>,
): Promise<number> {
  for (let at = segment.start, n = 0; at < segment.end; n++) {
    if (n >= MAX_TOP_LEVEL) throw new MatroskaUnsupported(`has more than ${MAX_TOP_LEVEL} top-level elements before its first Cluster`);
    const h = await headerAt(src, at);
    if (h.id === MATROSKA_ID.Cluster) return at;
    if (h.size < 0) throw new MatroskaUnsupported('has a top-level element of unknown size before its first Cluster');
    if (h.data + h.size > declaredEnd)
      throw new CorruptContainer('Segment', `has an element of ${h.size} bytes at byte ${at}, past its end (byte ${declaredEnd})`);
    if (!found.has(h.id)) found.set(h.id, h);
    if (h.id === MATROSKA_ID.SeekHead) await readSeekHead(src, h, segment.start, seeks);
    at = h.data + h.size;
  }
  throw new MatroskaUnsupported('has no Cluster');
}

/**
 * Reads the layout and the cues: the first block (EBML header, Segment, and usually SeekHead,
 * Info and Tracks), then what the SeekHead points to that was not met before the first Cluster
 * (Cues, at the end of most files). Throws MatroskaUnsupported for what it does not model,
 * CorruptContainer for sizes and counts that lie.
 */
export async function matroskaLayout(src: ByteSource, o: { cues?: 'required' | 'optional' } = {}): Promise<MatroskaLayout> {
  const { docType, segment, declaredEnd } = await segmentOf(src);
  const found = new Map<number, ElementHeader>();
  const seeks = new Map<number, number>();
  const firstCluster = await walkTopLevel(src, segment, declaredEnd, found, seeks);
  // What the SeekHead points to beyond (a second SeekHead first, then Info, Tracks and Cues).
  const located = async (id: number): Promise<ElementHeader | undefined> => {
    const known = found.get(id);
    if (known) return known;
    const pos = seeks.get(id);
    if (pos === undefined || pos >= segment.end) return undefined;
    const h = await headerAt(src, pos);
    if (h.id !== id) throw new MatroskaUnsupported(`has a SeekHead entry for byte ${pos}, where another element is`);
    found.set(id, h);
    return h;
  };
  const second = seeks.get(MATROSKA_ID.SeekHead);
  if (second !== undefined && !found.has(MATROSKA_ID.SeekHead)) await readSeekHead(src, (await located(MATROSKA_ID.SeekHead))!, segment.start, seeks);
  else if (second !== undefined && found.get(MATROSKA_ID.SeekHead)!.offset !== second) {
    const h = await headerAt(src, second);
    if (h.id === MATROSKA_ID.SeekHead) await readSeekHead(src, h, segment.start, seeks);
  }
  const infoH = await located(MATROSKA_ID.Info);
  const tracksH = await located(MATROSKA_ID.Tracks);
  const cuesH = await located(MATROSKA_ID.Cues);
  if (!infoH || !tracksH) throw new MatroskaUnsupported('has no Info or Tracks');
  if (!cuesH && o.cues !== 'optional') throw new MatroskaUnsupported('has no Cues (a live recording?)');
  let timecodeScale = 1_000_000;
  let duration: number | undefined;
  for (const e of children(await body(src, infoH, 'Info'), infoH.data, 'Info')) {
    if (e.id === MATROSKA_ID.TimecodeScale) timecodeScale = uint(e.body, 'TimecodeScale') || 1_000_000;
    else if (e.id === MATROSKA_ID.Duration) duration = float(e.body);
  }
  const tracks = parseTracks(await body(src, tracksH, 'Tracks'), tracksH.data);
  const cues = cuesH ? parseCues(await body(src, cuesH, 'Cues'), cuesH.data, { start: segment.start, end: declaredEnd }, timecodeScale) : new Map();
  return {
    docType,
    segment,
    timecodeScale,
    ...(duration !== undefined && Number.isFinite(duration) ? { durationSec: (duration * timecodeScale) / 1e9 } : {}),
    tracks,
    firstCluster,
    cuesAt: cuesH ? { offset: cuesH.offset, size: cuesH.data - cuesH.offset + cuesH.size } : { offset: -1, size: 0 },
    cues,
    attachments: found.has(MATROSKA_ID.Attachments) || seeks.has(MATROSKA_ID.Attachments),
    seeks: [...seeks].map(([id, offset]) => ({ id, offset })),
  };
}

/** The track and the time (relative to its cluster's) of a SimpleBlock or a BlockGroup's Block, from its first bytes. */
export function blockHeader(b: Buffer, base: number): { track: number; timecode: number } | undefined {
  const h = readHeader(b, 0, base);
  if (!h || h.size < 0) return undefined;
  if (h.id === MATROSKA_ID.BlockGroup) {
    const inner = readHeader(b, h.data - base, base);
    return inner?.id === MATROSKA_ID.Block ? blockHeader(b.subarray(inner.offset - base), inner.offset) : undefined;
  }
  if (h.id !== MATROSKA_ID.SimpleBlock && h.id !== MATROSKA_ID.Block) return undefined;
  const track = readVint(b, h.data - base);
  if (!track || h.data - base + track.length + 2 > b.length) return undefined;
  return { track: track.value, timecode: b.readInt16BE(h.data - base + track.length) };
}

/**
 * Where the block a cue points to starts, and its cluster's header: CueRelativePosition when the
 * cue has it, else the first block of `track` at the cue's time, walked to from the cluster's start.
 */
export async function cueBlock(src: ByteSource, cue: MatroskaCue, track: number, timecodeScale: number): Promise<{ cluster: ElementHeader; at: number }> {
  const cluster = await headerAt(src, cue.cluster);
  if (cluster.id !== MATROSKA_ID.Cluster) throw new MatroskaUnsupported(`has no Cluster at byte ${cue.cluster}, where a cue points`);
  if (cluster.size < 0) throw new MatroskaUnsupported('has a Cluster of unknown size (a live recording?)');
  const end = cluster.data + cluster.size;
  if (cue.relative !== undefined) {
    if (cue.relative >= cluster.size)
      throw new CorruptContainer('Cues element', `has a cue at byte ${cue.relative} of a ${cluster.size}-byte cluster (at byte ${cue.cluster})`);
    return { cluster, at: cluster.data + cue.relative };
  }
  let clusterTime: number | undefined;
  for (let at = cluster.data; at < end; ) {
    const head = await src.read(at, Math.min(HEADER_BYTES * 3, end - at));
    const h = readHeader(head, 0, at);
    if (!h || h.size < 0 || h.data + h.size > end) break;
    if (h.id === MATROSKA_ID.Timecode) clusterTime = uint(await src.read(h.data, intSize(h.size, 'Timecode')));
    else if (clusterTime !== undefined && (h.id === MATROSKA_ID.SimpleBlock || h.id === MATROSKA_ID.BlockGroup)) {
      const b = blockHeader(head, at);
      if (b?.track === track && Math.abs(((clusterTime + b.timecode) * timecodeScale) / 1e9 - cue.timeSec) < 1e-9) return { cluster, at };
    }
    at = h.data + h.size;
  }
  throw new MatroskaUnsupported(`has no block at ${cue.timeSec} s in the cluster at byte ${cue.cluster}, where a cue points`);
}

export interface MatroskaBlock {
  /** Where the block element (SimpleBlock, or the BlockGroup's Block) starts and ends. */
  offset: number;
  end: number;
  /** Where ffmpeg says its packet is (the block's data) and the packet's size (the frame, after the block's own header). */
  pos: number;
  size: number;
  track: number;
  keyframe: boolean;
  /** The BlockGroup around it, when there is one: [offset, end). */
  group?: { offset: number; end: number } | undefined;
}

/**
 * The block an element at `b` (a SimpleBlock or a BlockGroup, its bytes from file offset `base`)
 * holds; undefined when `b` is cut short. Throws MatroskaUnsupported for laced blocks.
 */
export function parseBlock(b: Buffer, base: number): MatroskaBlock | undefined {
  const h = readHeader(b, 0, base);
  if (!h || h.size < 0) return undefined;
  if (h.id === MATROSKA_ID.BlockGroup) {
    if (h.data - base + h.size > b.length) return undefined;
    let block: MatroskaBlock | undefined;
    let referenced = false;
    for (const e of children(b.subarray(h.data - base, h.data - base + h.size), h.data)) {
      if (e.id === MATROSKA_ID.Block) block = parseBlock(b.subarray(e.offset - base, e.data - base + e.size), e.offset);
      else if (e.id === MATROSKA_ID.ReferenceBlock) referenced = true;
    }
    return block ? { ...block, keyframe: !referenced, group: { offset: h.offset, end: h.data + h.size } } : undefined;
  }
  if (h.id !== MATROSKA_ID.SimpleBlock && h.id !== MATROSKA_ID.Block) return undefined;
  const track = readVint(b, h.data - base);
  if (!track || h.data - base + track.length + 3 > b.length) return undefined;
  const flags = b[h.data - base + track.length + 2]!;
  if (flags & 0x06) throw new MatroskaUnsupported('has a laced keyframe block');
  return {
    offset: h.offset,
    end: h.data + h.size,
    pos: h.data,
    size: h.size - track.length - 3,
    track: track.value,
    keyframe: h.id === MATROSKA_ID.SimpleBlock ? (flags & 0x80) !== 0 : true,
  };
}
