/**
 * probe(input) -> MediaInfo, from ffprobe (video and audio) or sharp (still images); a WebM/Matroska
 * file's from its own elements in JS (src/probe/matroska-probe.ts gives what ffprobe's JSON would,
 * and the rest below is the same), an MP4/MOV's from its moov (src/probe/mp4-probe.ts, likewise),
 * with ffprobe only for what those parsers do not model.
 * Demux-only ffprobe, one call for container and streams. The packets probe checks come from an
 * MP4/MOV's moov (src/probe/mp4.ts, which also seeds the packet index), from the same call for
 * another short clip (every packet, which seeds the index too), or from a second call on a long
 * file (a packet sample from the start and the tail). Without a declared duration, the duration
 * is where the last packet ends.
 * Encrypted MP4 (CENC) is refused here, before anything tries to decode it.
 */
import { extname } from 'node:path';
import type { Metadata } from 'sharp';
import { loadSharp } from '../util/sharp.js';
import { corruptInput, inputError, OmniprepError } from '../errors.js';
import { ffprobeArgs } from '../ffmpeg/args.js';
import { resolveBinary, type BinaryOptions } from '../ffmpeg/binaries.js';
import { runProcess } from '../ffmpeg/runner.js';
import { resolveLimits, type Limits } from '../limits.js';
import { checkLocalInput, type LocalInput } from './local.js';
import { moovEncryption, mp4Encryption } from './encryption.js';
import { probeMatroska } from './matroska-probe.js';
import { majorBrand, withVideoStart, mp4Facts } from './mp4-probe.js';
import { indexFromMoov, indexOfPackets, withIndex, type PacketIndex } from './keyframes.js';
import { type LocalMoov, modelled, type MoovTrack, moovTrack, readMoov } from './mp4.js';
import type { RawFormat, RawPacket, RawStream } from './raw.js';
import type { AudioStreamInfo, MediaInfo, Rotation, VideoStreamInfo } from './types.js';

export interface ProbeOptions extends BinaryOptions {
  limits?: Partial<Limits> | undefined;
  signal?: AbortSignal | undefined;
  /** The name for messages and MediaInfo.input when the path is a local copy (a remote input's URL). */
  inputName?: string | undefined;
  /**
   * Where the container's facts come from: `auto` (default) reads WebM/Matroska and MP4/MOV in JS
   * (src/probe/matroska-probe.ts, src/probe/mp4-probe.ts) and asks ffprobe for the rest and for
   * what those parsers refuse;
   * `ffprobe` always asks ffprobe.
   */
  factsSource?: 'auto' | 'ffprobe' | undefined;
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== 'N/A' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};

/** `30000/1001` -> 29.97; `0/0` -> 0. */
export function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [a, b] = rate.split('/').map(Number);
  if (!a || !b || !Number.isFinite(a) || !Number.isFinite(b)) return 0;
  return a / b;
}

function rotationOf(s: RawStream): Rotation {
  let deg: number | null = null;
  for (const sd of s.side_data_list ?? []) {
    const r = num(sd.rotation);
    if (r !== null) deg = -r; // the display matrix turns counter-clockwise
  }
  if (deg === null) deg = num(s.tags?.rotate);
  const norm = (((Math.round((deg ?? 0) / 90) * 90) % 360) + 360) % 360;
  return norm as Rotation;
}

function containerName(formatName: string, format: RawFormat, path: string, streams: RawStream[]): string {
  const first = formatName.split(',')[0] ?? formatName;
  const ext = extname(path).slice(1).toLowerCase();
  if (first === 'mov') {
    const brand = (format.tags?.major_brand ?? '').trim().toLowerCase();
    if (brand === 'qt') return 'mov';
    if (brand.startsWith('m4a') || ext === 'm4a') return 'm4a';
    return 'mp4';
  }
  if (first === 'matroska') {
    const webmCodecs = new Set(['vp8', 'vp9', 'av1', 'opus', 'vorbis']);
    const allWebm = streams.every((s) => !s.codec_name || webmCodecs.has(s.codec_name) || s.codec_type === 'attachment');
    return ext === 'webm' || (ext !== 'mkv' && allWebm) ? 'webm' : 'matroska';
  }
  return first;
}

/** The default stream of a type: not cover art, `default` disposition first, then the first one. */
function pickStream(streams: RawStream[], type: 'video' | 'audio'): RawStream | undefined {
  const candidates = streams.filter((s) => s.codec_type === type && !(type === 'video' && s.disposition?.attached_pic === 1));
  return candidates.find((s) => s.disposition?.default === 1) ?? candidates[0];
}

/** Whether the first packets' durations vary (beyond one tick of rounding). */
export function looksVariable(times: number[]): boolean {
  const t = [...times].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < t.length; i++) gaps.push(t[i]! - t[i - 1]!);
  const positive = gaps.filter((g) => g > 1e-6);
  if (positive.length < 3) return false;
  const min = Math.min(...positive);
  const max = Math.max(...positive);
  return max - min > Math.max(0.002, min * 0.25);
}

async function probeImage(local: LocalInput, limits: Limits): Promise<MediaInfo> {
  let meta: Metadata;
  try {
    meta = await loadSharp()(local.path, { limitInputPixels: limits.maxPixels, failOn: 'error' }).metadata();
  } catch (e) {
    const msg = (e as Error).message;
    if (/pixel limit/i.test(msg)) throw inputError('TOO_LARGE', local.input, `image is larger than ${limits.maxPixels} pixels`);
    throw inputError('CORRUPT', local.input, `the ${local.imageFormat ?? ''} image cannot be read (${msg})`);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (!w || !h) throw inputError('CORRUPT', local.input, 'the image has no size');
  if (w * h > limits.maxPixels) {
    throw inputError('TOO_LARGE', local.input, `image is ${w}x${h}, over the ${limits.maxPixels}-pixel limit`);
  }
  const o = meta.orientation ?? 1;
  const rotation: Rotation = o === 3 || o === 4 ? 180 : o === 5 || o === 6 ? 90 : o === 7 || o === 8 ? 270 : 0;
  const swap = rotation === 90 || rotation === 270;
  const format = meta.format ?? local.imageFormat ?? 'image';
  return {
    input: local.input,
    path: local.path,
    kind: 'image',
    container: format,
    formatName: 'image',
    durationSec: 0,
    sizeBytes: local.sizeBytes,
    bitRate: null,
    startTimeSec: 0,
    video: {
      index: 0,
      codec: format,
      profile: null,
      pixFmt: null,
      codedWidth: w,
      codedHeight: h,
      width: swap ? h : w,
      height: swap ? w : h,
      fps: 0,
      realFps: 0,
      rotation,
      vfr: false,
      frameCount: 1,
      durationSec: null,
      startSec: 0,
      bitRate: null,
    },
    attachedPictures: 0,
    mtimeMs: local.mtimeMs,
  };
}

/** The main stream's first packets probe reads (frame-rate regularity), and the seconds before the declared end it reads (truncation). */
export const PROBE_HEAD_PACKETS = 240;
export const PROBE_TAIL_SEC = 3;

/** Files up to this size are probed and indexed by one ffprobe call that reads every packet. */
const ONE_CALL_BYTES = 48 * 1024 * 1024;
const PACKET_FIELDS = 'stream_index,pts_time,duration_time,size,pos,flags';

/** What every ffprobe call of a probe shares. */
type ProcessCommon = { command: string; input: string; timeoutMs: number; signal?: AbortSignal | undefined };

/**
 * The main stream's packets at the start (frame-rate regularity) and the tail (a truncated file has
 * no packets there); without a declared duration (live WebM recordings), every packet: the
 * duration is where the last one ends.
 */
async function packetSample(path: string, stream: number, declared: number | undefined, common: ProcessCommon): Promise<RawPacket[]> {
  const tail = declared === undefined ? [] : ['-read_intervals', `%+#${PROBE_HEAD_PACKETS},${Math.max(0, declared - PROBE_TAIL_SEC).toFixed(3)}%`];
  const second = await runProcess({
    ...common,
    args: ffprobeArgs(path, ['-of', 'json', '-select_streams', String(stream), '-show_entries', 'packet=pts_time,duration_time', ...tail]),
  });
  return (JSON.parse(second.stdout.toString('utf8')) as { packets?: RawPacket[] }).packets ?? [];
}

/**
 * What probe checks from the main stream's packets: the first ones' times (frame-rate regularity)
 * and where the last one ends (seconds from the container's start; truncation, or the duration
 * when none is declared).
 */
interface PacketFacts {
  sampleTimes: number[];
  lastEnd: number;
  /** Every packet of the main stream is in the file (the moov says so): it is not truncated. */
  complete?: boolean;
}

/** The facts from ffprobe's packets (file order). */
function packetSampleOf(packets: RawPacket[], startTimeSec: number): PacketFacts {
  const timed = packets.map((p) => ({ t: num(p.pts_time), d: num(p.duration_time) ?? 0 })).filter((p): p is { t: number; d: number } => p.t !== null);
  let lastEnd = -Infinity;
  for (const p of timed) lastEnd = Math.max(lastEnd, p.t + p.d);
  // The first packets in decode order; the last few sorted times may miss frames still to come
  // (B-frame reordering), so they are left out of the regularity check.
  const sampleTimes = timed
    .slice(0, PROBE_HEAD_PACKETS)
    .map((p) => p.t)
    .sort((x, y) => x - y)
    .slice(0, timed.length > PROBE_HEAD_PACKETS ? PROBE_HEAD_PACKETS - 16 : undefined);
  return { sampleTimes, lastEnd: lastEnd - startTimeSec };
}

/**
 * The facts from an MP4/MOV's packet index (presentation order, times from the start): the same
 * first frames ffprobe's head sample gives, and whether every frame's bytes are in the file. A
 * file cut inside its mdat keeps a whole moov: its data ends with the last frame whose bytes are
 * there, that frame's duration taken as the gap before it.
 */
function moovSample(idx: PacketIndex, sizeBytes: number): PacketFacts {
  const sampleTimes = idx.times.slice(0, PROBE_HEAD_PACKETS - 16);
  const n = idx.times.length;
  let last = -1;
  let complete = true;
  for (let i = 0; i < n; i++) {
    if (idx.pos[i]! + idx.size[i]! <= sizeBytes) last = i;
    else complete = false;
  }
  if (last < 0) return { sampleTimes: [], lastEnd: -Infinity };
  const gap = last > 0 ? idx.times[last]! - idx.times[last - 1]! : 0;
  return { sampleTimes, lastEnd: idx.times[last]! + gap, complete };
}

/** The packet index's rows from ffprobe's packets (file order; packets flagged discard are never shown). */
function indexPackets(packets: RawPacket[]): Array<{ t: number; pos: number; size: number; key: boolean }> {
  const out: Array<{ t: number; pos: number; size: number; key: boolean }> = [];
  for (const p of packets) {
    const t = num(p.pts_time);
    if (t === null || (p.flags ?? '').includes('D')) continue;
    out.push({ t, pos: num(p.pos) ?? -1, size: num(p.size) ?? -1, key: (p.flags ?? '').includes('K') });
  }
  return out;
}

/**
 * The moov's first video track, or undefined when there is none or the parser does not model it
 * (probe then decides with ffprobe's streams). A moov that lies is refused as CORRUPT.
 */
function videoTrack(input: string, read: LocalMoov): MoovTrack | undefined {
  // Parsed once per read: the JS facts and, when they are not modelled, the ffprobe call share it.
  if (!parsedTracks.has(read))
    parsedTracks.set(
      read,
      modelled(input, () => moovTrack(read.moov, undefined, read.bounds)),
    );
  return parsedTracks.get(read);
}
const parsedTracks = new WeakMap<LocalMoov, MoovTrack | undefined>();

/** What the first ffprobe call gives, with the moov's video track (an MP4/MOV's). */
interface FirstCall {
  parsed: { format?: RawFormat; streams?: RawStream[]; packets?: RawPacket[] };
  track: MoovTrack | undefined;
  /** The call listed every packet (a short file whose moov gives no video track). */
  whole: boolean;
  /** The packets listed are the main stream's sample (head and tail) even when not whole: no ffprobe was run (a JS probe's). */
  sampled?: boolean;
}

/**
 * A WebM/Matroska file's facts from its own elements (src/probe/matroska-probe.ts), in place of the
 * ffprobe call; undefined when that parser does not model the file. A size that lies is CORRUPT.
 */
async function matroskaCall(local: LocalInput, input: string, limits: Limits): Promise<FirstCall | undefined> {
  if (local.signature !== 'ebml') return undefined;
  const o = { maxDurationSec: limits.maxDurationSec, wholeBytes: ONE_CALL_BYTES, headPackets: PROBE_HEAD_PACKETS, tailSec: PROBE_TAIL_SEC };
  const got = await probeMatroska(local.path, o).catch((e: unknown) => {
    throw corruptInput(input, e);
  });
  return got && { parsed: got.parsed, track: undefined, whole: got.whole, sampled: true };
}

/**
 * An MP4/MOV's format and streams from its moov (src/probe/mp4-probe.ts), in place of the ffprobe
 * call, with its video track (the packet sample and index); undefined when not modelled.
 */
async function mp4Call(local: LocalInput, input: string, read: LocalMoov | undefined): Promise<FirstCall | undefined> {
  const track = read && videoTrack(input, read);
  const major = track && (await majorBrand(local.path));
  const facts = read && track && major !== undefined ? modelled(input, () => mp4Facts(read.moov, major, local.sizeBytes)) : undefined;
  return facts && track && { parsed: withVideoStart(facts, track), track, whole: false };
}

/**
 * The first ffprobe call: format and streams, and every packet of a short file that its moov does
 * not index (an audio-only MP4 too: the sample and index come free). An MP4/MOV's video track comes
 * from its moov, parsed before the call when the file is short (a few ms), while it runs when long.
 */
async function firstCall(local: LocalInput, input: string, read: LocalMoov | undefined, common: ProcessCommon): Promise<FirstCall> {
  const short = local.sizeBytes <= ONE_CALL_BYTES;
  let track = read && short ? videoTrack(input, read) : undefined;
  const whole = short && !track;
  const call = runProcess({
    ...common,
    args: ffprobeArgs(local.path, ['-of', 'json', '-show_format', '-show_streams', ...(whole ? ['-show_entries', `packet=${PACKET_FIELDS}`] : [])]),
  });
  if (read && !short) {
    try {
      track = videoTrack(input, read);
    } catch (e) {
      await call.catch(() => undefined); // a lie: refused once the ffprobe call has ended
      throw e;
    }
  }
  const first = await call.catch((e: unknown) => {
    // Random bytes named .mp4 make the MP4 demuxer complain of a missing index: without any
    // container signature, the honest cause is that this is not media at all.
    if (!local.signature && e instanceof OmniprepError && (e.code === 'CORRUPT' || e.code === 'UNSUPPORTED_FORMAT')) {
      throw inputError('UNSUPPORTED_FORMAT', input, 'is not a media file (no known container signature, and ffmpeg cannot read it)');
    }
    throw e;
  });
  try {
    return { parsed: JSON.parse(first.stdout.toString('utf8')) as FirstCall['parsed'], track, whole };
  } catch {
    throw inputError('CORRUPT', input, 'ffprobe gave an unreadable answer');
  }
}

/** A stream's own duration, when its header states one. */
function streamDuration(s: RawStream | undefined): number | null {
  return s ? num(s.duration) : null;
}

/** The video stream's facts, checked against the limits. */
function videoStream(v: RawStream, input: string, limits: Limits, sampleTimes: number[], startTimeSec: number): VideoStreamInfo {
  const codedWidth = v.width ?? v.coded_width ?? 0;
  const codedHeight = v.height ?? v.coded_height ?? 0;
  if (!codedWidth || !codedHeight) throw inputError('CORRUPT', input, 'the video stream has no picture size');
  if (codedWidth * codedHeight > limits.maxPixels) {
    throw inputError('TOO_LARGE', input, `frames are ${codedWidth}x${codedHeight}, over the ${limits.maxPixels}-pixel limit`);
  }
  const rotation = rotationOf(v);
  const sar = (v.sample_aspect_ratio ?? '1:1').split(':').map(Number);
  const sarRatio = sar[0] && sar[1] ? sar[0] / sar[1] : 1;
  // Display width with non-square pixels, as ffmpeg's autoscale would show it; even, like ffmpeg.
  const dispW = sarRatio !== 1 ? Math.round((codedWidth * sarRatio) / 2) * 2 : codedWidth;
  const swap = rotation === 90 || rotation === 270;
  const realFps = parseRate(v.r_frame_rate);
  // Ogg (Theora) states no average rate ("0/0"): the stream's base rate stands for it.
  const avgFps = parseRate(v.avg_frame_rate);
  const fps = avgFps || realFps;
  const vfr = looksVariable(sampleTimes) || (avgFps > 0 && realFps > 0 && Math.abs(avgFps - realFps) / realFps > 0.02);
  return {
    index: v.index,
    codec: v.codec_name ?? 'unknown',
    profile: v.profile ?? null,
    pixFmt: v.pix_fmt ?? null,
    codedWidth,
    codedHeight,
    width: swap ? codedHeight : dispW,
    height: swap ? dispW : codedHeight,
    fps: Math.round(fps * 1000) / 1000,
    realFps: Math.round(realFps * 1000) / 1000,
    rotation,
    vfr,
    frameCount: num(v.nb_frames),
    durationSec: streamDuration(v),
    startSec: (num(v.start_time) ?? startTimeSec) - startTimeSec,
    bitRate: num(v.bit_rate),
  };
}

/** The audio stream's facts. */
function audioStream(a: RawStream, startTimeSec: number): AudioStreamInfo {
  return {
    index: a.index,
    codec: a.codec_name ?? 'unknown',
    sampleRate: num(a.sample_rate) ?? 0,
    channels: a.channels ?? 0,
    channelLayout: a.channel_layout ?? null,
    durationSec: streamDuration(a),
    startSec: (num(a.start_time) ?? startTimeSec) - startTimeSec,
    bitRate: num(a.bit_rate),
  };
}

/**
 * Probes a local file: a pure read (nothing is cached); the packet index read with it travels with
 * the result, for packetIndex(). Throws OmniprepError (NOT_FOUND, UNSUPPORTED_FORMAT, CORRUPT, TOO_LARGE, ...). */
export async function probe(input: string, options: ProbeOptions = {}): Promise<MediaInfo> {
  const limits = resolveLimits(options.limits);
  const local = await checkLocalInput(input, limits);
  if (options.inputName !== undefined) {
    input = options.inputName;
    local.input = input;
  }
  if (local.kind === 'image') return probeImage(local, limits);

  // ffprobe is looked up only when it runs: a WebM read in JS needs none.
  const common = (): ProcessCommon => ({ command: resolveBinary('ffprobe', options).path, input, timeoutMs: limits.probeTimeoutMs, signal: options.signal });
  // An MP4/MOV with a video track: the packet sample and the packet index come from its moov,
  // whose counts are checked against the file (a lie is CORRUPT here, not a fallback to ffprobe).
  const read =
    local.signature === 'isobmff'
      ? await readMoov(local.path, limits.maxDurationSec).catch((e: unknown) => {
          throw corruptInput(input, e);
        })
      : undefined;
  const { parsed, track, whole, sampled } =
    (options.factsSource !== 'ffprobe' ? ((await matroskaCall(local, input, limits)) ?? (await mp4Call(local, input, read))) : undefined) ??
    (await firstCall(local, input, read, common()));
  const format = parsed.format ?? {};
  const streams = parsed.streams ?? [];
  const formatName = format.format_name ?? 'unknown';
  const startTimeSec = num(format.start_time) ?? 0;
  const v = pickStream(streams, 'video');
  const a = pickStream(streams, 'audio');
  if (!v && !a) throw inputError('UNSUPPORTED_FORMAT', input, 'has no video or audio stream');

  if (formatName.startsWith('mov')) {
    // The moov probe already read, else the file's (a fragmented file's moov, which readMoov refuses).
    const scheme = read ? moovEncryption(read.moov) : await mp4Encryption(local.path).catch(() => undefined);
    if (scheme) throw inputError('UNSUPPORTED_FORMAT', input, `is encrypted (${scheme.toUpperCase()}): protected media cannot be decoded`);
  }

  const declared = num(format.duration) ?? Math.max(streamDuration(v) ?? 0, streamDuration(a) ?? 0);
  const main = (v ?? a)!;
  const noDuration = !declared || declared <= 0;
  const moovIdx =
    read && formatName.startsWith('mov') && main === v
      ? modelled(input, () => indexFromMoov(read.moov, v.index, startTimeSec, { parsed: track, bounds: read.bounds }))
      : undefined;
  const mainPackets =
    whole || sampled
      ? (parsed.packets ?? []).filter((p) => p.stream_index === main.index)
      : moovIdx
        ? []
        : await packetSample(local.path, main.index, noDuration ? undefined : declared, common());
  const { sampleTimes, lastEnd, complete } = moovIdx ? moovSample(moovIdx, local.sizeBytes) : packetSampleOf(mainPackets, startTimeSec);
  if (!sampleTimes.length) throw inputError('CORRUPT', input, 'no packets can be read: the file is truncated or damaged');
  let durationSec = noDuration ? lastEnd : declared;
  if (!durationSec || durationSec <= 0)
    throw inputError('CORRUPT', input, 'the duration cannot be determined (no header states it and the packets end at 0 s)');
  if (durationSec > limits.maxDurationSec) {
    throw inputError('TOO_LARGE', input, `is ${durationSec.toFixed(1)} s long, over the ${limits.maxDurationSec} s limit`);
  }
  const mainDuration = (streamDuration(main) ?? durationSec) + ((num(main.start_time) ?? startTimeSec) - startTimeSec);
  if (!complete && lastEnd < mainDuration - Math.max(1, mainDuration * 0.02)) {
    throw inputError('CORRUPT', input, `the file is truncated: its data ends at ${lastEnd.toFixed(2)} s of the ${mainDuration.toFixed(2)} s it declares`);
  }

  const video = v ? videoStream(v, input, limits, sampleTimes, startTimeSec) : undefined;
  const audio = a ? audioStream(a, startTimeSec) : undefined;
  durationSec = Math.round(durationSec * 1e6) / 1e6;
  const info: MediaInfo = {
    input,
    path: local.path,
    kind: video ? 'video' : 'audio',
    container: containerName(formatName, format, local.path, streams),
    formatName,
    durationSec,
    sizeBytes: local.sizeBytes,
    bitRate: num(format.bit_rate),
    startTimeSec,
    ...(video ? { video } : {}),
    ...(audio ? { audio } : {}),
    attachedPictures: streams.filter((s) => s.disposition?.attached_pic === 1).length,
    mtimeMs: local.mtimeMs,
  };
  // The index read with it goes with the result (an MP4/MOV's moov index stands for `auto` only:
  // `ffprobe` still reads the packets); nothing else is kept.
  const listed = !moovIdx && whole && video ? indexOfPackets(info, indexPackets(mainPackets)) : undefined;
  // A WebM/Matroska index read in JS knows its packets are the frames' own bytes.
  if (listed && sampled) listed.rawFrames = true;
  if (moovIdx) return withIndex(info, moovIdx, ['auto']);
  return listed ? withIndex(info, listed, sampled ? ['auto'] : undefined) : info;
}

/** Probes and requires a video stream (NO_VIDEO_STREAM otherwise). */
export async function probeVideo(input: string, options: ProbeOptions = {}): Promise<MediaInfo & { video: VideoStreamInfo }> {
  const info = await probe(input, options);
  if (!info.video || info.kind === 'audio') {
    throw new OmniprepError('NO_VIDEO_STREAM', `${input}: has no video stream (it is ${info.container} audio)`, { input });
  }
  return info as MediaInfo & { video: VideoStreamInfo };
}
