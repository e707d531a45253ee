/**
 * WebM/Matroska probed in JS: the facts ffprobe gives (format, streams, the main stream's packets)
 * from the EBML header, Info, Tracks and Cues (src/probe/matroska.ts) and the clusters' blocks
 * (src/probe/matroska-scan.ts), in ffprobe's own JSON shape, so that probe() derives the MediaInfo
 * from them exactly as from ffprobe's answer (test/probe/matroska-probe.test.ts compares the two on
 * every fixture and shared medium). The values follow ffmpeg's Matroska demuxer: times are block
 * times in the Segment's time base (Opus moved back by its CodecDelay), a packet lasts its
 * BlockDuration or the track's DefaultDuration (whole timecode units), the frame rate is the
 * DefaultDuration's (else estimated from the packets and rounded to a standard rate as
 * avformat_find_stream_info does), the format's bit rate is the file's size over its duration.
 *
 * What is not modelled is refused with MatroskaUnsupported (probe then asks ffprobe): codecs other
 * than VP8, VP9 (profile 0), AV1 (8/10-bit 4:2:0, 8-bit 4:4:4), Opus and Vorbis (one or two
 * channels); audio-only files; laced video blocks; crops, projections, track time scales;
 * attachments (ffmpeg shows cover images as streams); a frame rate it cannot estimate exactly.
 */
import { CorruptContainer } from '../errors.js';
import { MatroskaUnsupported, matroskaLayout, type MatroskaLayout, type MatroskaTrack } from './matroska.js';
import { scanClusters, type ScannedBlock } from './matroska-scan.js';
import { fileSource, MAX_FPS, printedSeconds, type ByteSource } from './mp4.js';
import type { RawFormat, RawPacket, RawStream } from './raw.js';

export interface MatroskaProbeOptions {
  maxDurationSec: number;
  /** Files up to this size are read whole (every packet); larger ones at their head and tail, as probe's ffprobe calls read them. */
  wholeBytes: number;
  headPackets: number;
  tailSec: number;
}

export interface MatroskaProbe {
  parsed: { format: RawFormat; streams: RawStream[]; packets: RawPacket[] };
  /** Every packet of the main stream is listed. */
  whole: boolean;
}

const VIDEO_CODECS: Readonly<Record<string, string>> = { V_VP8: 'vp8', V_VP9: 'vp9', V_AV1: 'av1' };
const AUDIO_CODECS: Readonly<Record<string, string>> = { A_OPUS: 'opus', A_VORBIS: 'vorbis' };
const LAYOUTS = ['', 'mono', 'stereo'];
const AV1_PROFILES = ['Main', 'High', 'Professional'];

/** An AV1 track's profile and pixel format from its av1C (CodecPrivate). */
function av1Facts(p: Buffer | undefined): { profile: string; pix_fmt: string } {
  if (!p || p.length < 4 || p[0] !== 0x81) throw new MatroskaUnsupported('has an AV1 track without an av1C record');
  const profile = AV1_PROFILES[p[1]! >> 5];
  const high = (p[2]! >> 6) & 1;
  const twelve = (p[2]! >> 5) & 1;
  const mono = (p[2]! >> 4) & 1;
  const sub = (p[2]! >> 2) & 3;
  const fmt = mono || twelve ? undefined : sub === 3 ? (high ? 'yuv420p10le' : 'yuv420p') : sub === 0 && !high ? 'yuv444p' : undefined;
  if (!profile || !fmt) throw new MatroskaUnsupported('has an AV1 track of a pixel format not modelled');
  return { profile, pix_fmt: fmt };
}

/** The video track's codec, profile and pixel format, as ffprobe names them. */
function videoCodec(t: MatroskaTrack, firstByte: number | undefined): Pick<RawStream, 'codec_name' | 'profile' | 'pix_fmt'> {
  const name = VIDEO_CODECS[t.codec];
  if (!name) throw new MatroskaUnsupported(`has a ${t.codec} video track`);
  if (name === 'av1') return { codec_name: name, ...av1Facts(t.codecPrivate) };
  if (firstByte === undefined) throw new MatroskaUnsupported('has no video frame');
  if (name === 'vp8') return { codec_name: name, profile: String((firstByte >> 1) & 7), pix_fmt: 'yuv420p' };
  const profile = ((firstByte >> 5) & 1) | (((firstByte >> 4) & 1) << 1);
  if ((firstByte & 0xc0) !== 0x80 || profile !== 0) throw new MatroskaUnsupported(`has a VP9 track of profile ${profile}`);
  return { codec_name: name, profile: 'Profile 0', pix_fmt: 'yuv420p' };
}

/** avformat's standard frame rates (get_std_framerate), in frames a second. */
const STD_RATES: readonly number[] = [
  ...Array.from({ length: 360 }, (_, i) => (i + 1) / 12),
  ...Array.from({ length: 30 }, (_, i) => i + 31),
  80,
  120,
  240,
  ...[24, 30, 60, 12, 15, 48].map((r) => (r * 1000) / 1001),
];

/**
 * The frame rate ffprobe reports: the DefaultDuration's (under 1,000 a second); without one, the
 * packets' mean rate rounded to the standard rate within 1% (refused when there is none).
 */
function frameRate(t: MatroskaTrack, times: readonly number[]): string {
  const dd = t.defaultDurationNs;
  if (dd && 1e9 / dd < 1000) return `1000000000/${dd}`;
  const sorted = [...times].sort((a, b) => a - b);
  const span = sorted.length > 1 ? sorted[sorted.length - 1]! - sorted[0]! : 0;
  const mean = span > 0 ? (sorted.length - 1) / span : 0;
  let best: number | undefined;
  let error = 0.01;
  for (const r of STD_RATES) {
    const e = Math.abs(mean / r - 1);
    if (e < error) [best, error] = [r, e];
  }
  if (best === undefined) throw new MatroskaUnsupported('has no DefaultDuration and no standard frame rate');
  return `${Math.round(best * 12012)}/12012`;
}

/** The Display size's sample aspect ratio, as ffmpeg reduces it (DisplayUnit 0, pixels). */
function aspect(t: MatroskaTrack): string | undefined {
  const v = t.video!;
  if (!v.displayWidth || !v.displayHeight || v.displayUnit !== 0) return undefined;
  const num = v.pixelHeight * v.displayWidth;
  const den = v.pixelWidth * v.displayHeight;
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  const g = gcd(num, den) || 1;
  return `${num / g}:${den / g}`;
}

/** What the walk gathers: the main track's packets and every track's first time. */
interface Gathered {
  packets: ScannedBlock[];
  first: Map<number, number>;
  firstByte?: number | undefined;
}

/** A time in the Segment's time base as ffprobe prints it. */
function seconds(ticks: number, scale: number): number {
  const g = gcdInt(scale, 1e9);
  return printedSeconds(ticks, 1e9 / g, scale / g);
}

function gcdInt(a: number, b: number): number {
  return b ? gcdInt(b, a % b) : a;
}

/** The track probe takes as main: the default video track, else the first (pickStream's rule). */
function mainTrack(layout: MatroskaLayout): MatroskaTrack {
  const videos = layout.tracks.filter((t) => t.type === 1);
  const main = videos.find((t) => t.flagDefault !== false) ?? videos[0];
  if (!main) throw new MatroskaUnsupported('has no video track (audio-only files are probed by ffprobe)');
  return main;
}

/** Every track is one whose facts are modelled. */
function checkTracks(layout: MatroskaLayout): void {
  if (layout.attachments) throw new MatroskaUnsupported('has attachments');
  for (const t of layout.tracks) {
    if (t.unmodelled) throw new MatroskaUnsupported(`has ${t.unmodelled} on track ${t.number}`);
    if (t.type === 1 && !VIDEO_CODECS[t.codec]) throw new MatroskaUnsupported(`has a ${t.codec} video track`);
    // ffprobe then reports the decoder's size: the file does not state it.
    if (t.type === 1 && !(t.video?.pixelWidth && t.video.pixelHeight)) throw new MatroskaUnsupported(`has no picture size on track ${t.number}`);
    if (t.type === 2 && (!AUDIO_CODECS[t.codec] || !LAYOUTS[t.audio?.channels ?? 1]))
      throw new MatroskaUnsupported(`has a ${t.codec} audio track of ${t.audio?.channels ?? 1} channels`);
  }
}

/** The walk's block handler: the main track's packets (bounded), every track's first time. */
function gatherer(main: MatroskaTrack, into: Gathered, maxPackets: number, stopAfter = Infinity): (b: ScannedBlock) => boolean {
  return (b) => {
    if (!into.first.has(b.track)) into.first.set(b.track, b.ticks);
    if (b.track !== main.number) return true;
    if (b.laced) throw new MatroskaUnsupported('has a laced video block');
    if (into.packets.length >= maxPackets)
      throw new CorruptContainer('Cluster element', `holds more than ${maxPackets} video blocks, more than ${MAX_FPS} frames a second of its duration`);
    if (into.firstByte === undefined) into.firstByte = b.firstByte;
    into.packets.push(b);
    return into.packets.length < stopAfter;
  };
}

/** The main track's packets: every one, or (a long file with Cues and a duration) the head and the tail. */
async function gather(src: ByteSource, layout: MatroskaLayout, main: MatroskaTrack, o: MatroskaProbeOptions): Promise<Gathered & { whole: boolean }> {
  const span = Math.max(1, Math.min(layout.durationSec ?? o.maxDurationSec, o.maxDurationSec));
  const g: Gathered = { packets: [], first: new Map() };
  const range = { from: layout.firstCluster, end: layout.segment.end };
  const cues = layout.cues.get(main.number) ?? [];
  const whole = src.size <= o.wholeBytes || layout.durationSec === undefined || !cues.length;
  await scanClusters(src, range, gatherer(main, g, Math.ceil(MAX_FPS * span), whole ? Infinity : o.headPackets));
  if (whole) return { ...g, whole };
  // The tail: from the cue before the last seconds (and one more) to the end.
  const tailAt = (layout.durationSec ?? 0) - o.tailSec;
  const k = Math.max(0, cues.findLastIndex((c) => c.timeSec <= tailAt) - 1);
  const from = Math.max(cues[k]!.cluster, g.packets.length ? g.packets[g.packets.length - 1]!.pos + 1 : 0);
  const tail: Gathered = { packets: [], first: new Map() };
  await scanClusters(src, { ...range, from: cues[k]!.cluster }, gatherer(main, tail, Math.ceil(MAX_FPS * span)));
  g.packets.push(...tail.packets.filter((p) => p.pos >= from));
  return { ...g, whole };
}

/**
 * ffprobe's packet rows of the main track (file order). A block without a duration lasts the
 * track's DefaultDuration, else a frame at its rate (compute_frame_duration), in whole units.
 */
function packetRows(g: Gathered, main: MatroskaTrack, layout: MatroskaLayout, rate: string): RawPacket[] {
  const scale = layout.timecodeScale;
  const [num, den] = rate.split('/').map(Number) as [number, number];
  const fallback = main.defaultDurationNs ? Math.floor(main.defaultDurationNs / scale) : Math.floor((1e9 * den) / (num * scale));
  return g.packets.map((b) => ({
    stream_index: main.streamIndex,
    pts_time: String(seconds(b.ticks, scale)),
    duration_time: String(seconds(b.durationTicks ?? fallback, scale)),
    size: String(b.size),
    pos: String(b.pos),
    flags: b.key ? 'K_' : '__',
  }));
}

/** A track's first time (Opus moved back by its CodecDelay, in whole timecode units rounded as av_rescale_q does). */
function startOf(t: MatroskaTrack, g: Gathered, scale: number): number | undefined {
  const ticks = g.first.get(t.number);
  if (ticks === undefined) return undefined;
  return seconds(ticks - Math.round((t.codecDelayNs ?? 0) / scale), scale);
}

/** ffprobe's streams, in track order. */
function streamRows(layout: MatroskaLayout, main: MatroskaTrack, g: Gathered): RawStream[] {
  return layout.tracks.map((t) => {
    const start = startOf(t, g, layout.timecodeScale);
    const common = {
      index: t.streamIndex,
      disposition: { default: t.flagDefault === false ? 0 : 1, attached_pic: 0 },
      ...(start === undefined ? {} : { start_time: String(start) }),
    };
    if (t.type === 2) {
      const channels = t.audio?.channels ?? 1;
      const rate = t.codec === 'A_OPUS' ? 48000 : (t.audio?.sampleRate ?? 8000);
      return { ...common, codec_type: 'audio', codec_name: AUDIO_CODECS[t.codec], sample_rate: String(rate), channels, channel_layout: LAYOUTS[channels] };
    }
    if (t !== main) throw new MatroskaUnsupported('has several video tracks');
    const rate = frameRate(
      t,
      g.packets.slice(0, 240).map((b) => b.ticks * layout.timecodeScale * 1e-9),
    );
    const sar = aspect(t);
    return {
      ...common,
      codec_type: 'video',
      ...videoCodec(t, g.firstByte),
      width: t.video?.pixelWidth,
      height: t.video?.pixelHeight,
      ...(sar ? { sample_aspect_ratio: sar } : {}),
      r_frame_rate: rate,
      avg_frame_rate: rate,
    };
  });
}

/** ffprobe's format: the Info duration (whole microseconds), the start, and the size over the duration. */
function formatRow(layout: MatroskaLayout, streams: RawStream[], sizeBytes: number): RawFormat {
  const starts = streams.map((s) => Number(s.start_time)).filter((x) => Number.isFinite(x));
  const d = layout.durationSec === undefined ? undefined : Math.trunc(layout.durationSec * 1e6) / 1e6;
  return {
    format_name: 'matroska,webm',
    size: String(sizeBytes),
    ...(starts.length ? { start_time: String(Math.round(Math.min(...starts) * 1e6) / 1e6) } : {}),
    ...(d && d > 0 ? { duration: String(d), bit_rate: String(Math.floor((sizeBytes * 8) / d)) } : {}),
  };
}

/**
 * A WebM/Matroska file's facts in ffprobe's shape, or undefined when the parser does not model it
 * (MatroskaUnsupported: probe asks ffprobe). A size or count that lies throws CorruptContainer.
 */
export async function probeMatroska(path: string, o: MatroskaProbeOptions): Promise<MatroskaProbe | undefined> {
  const src = await fileSource(path).catch(() => undefined);
  if (!src) return undefined;
  try {
    const layout = await matroskaLayout(src, { cues: 'optional' });
    checkTracks(layout);
    const main = mainTrack(layout);
    const g = await gather(src, layout, main, o);
    if (!g.packets.length) throw new MatroskaUnsupported('has no video packets');
    const streams = streamRows(layout, main, g);
    const rate = streams[main.streamIndex]!.r_frame_rate!;
    return { parsed: { format: formatRow(layout, streams, src.size), streams, packets: packetRows(g, main, layout, rate) }, whole: g.whole };
  } catch (e) {
    if (e instanceof MatroskaUnsupported) return undefined;
    throw e;
  } finally {
    await src.close();
  }
}

/**
 * Every packet of a WebM/Matroska video stream (file order; times as ffprobe prints them, from the
 * Segment's start), for the packet index; undefined when the parser does not model the file.
 */
export async function matroskaVideoPackets(
  path: string,
  streamIndex: number,
  maxDurationSec: number,
): Promise<Array<{ t: number; pos: number; size: number; key: boolean }> | undefined> {
  const src = await fileSource(path).catch(() => undefined);
  if (!src) return undefined;
  try {
    const layout = await matroskaLayout(src, { cues: 'optional' });
    const track = layout.tracks[streamIndex];
    if (track?.type !== 1) return undefined;
    const g: Gathered = { packets: [], first: new Map() };
    const span = Math.max(1, Math.min(layout.durationSec ?? maxDurationSec, maxDurationSec));
    await scanClusters(src, { from: layout.firstCluster, end: layout.segment.end }, gatherer(track, g, Math.ceil(MAX_FPS * span)));
    return g.packets.map((b) => ({ t: seconds(b.ticks, layout.timecodeScale), pos: b.pos, size: b.size, key: b.key }));
  } catch (e) {
    if (e instanceof MatroskaUnsupported) return undefined;
    throw e;
  } finally {
    await src.close();
  }
}
