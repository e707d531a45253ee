/**
 * The packet index of the video stream: every frame's presentation time, byte position and
 * keyframe flag, from a demux-only ffprobe pass (nothing is decoded). The keyframe map is its
 * keyframes. Long files are read as time ranges in parallel (both cores), then joined; a range
 * whose seek does not land at or before its start is read again from the previous one's end, so
 * no packet is ever missed. Cached per file (path, size, mtime).
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
import { run } from '../ffmpeg/runner.js';
import { inputError } from '../errors.js';
import type { FrameIndex, KeyframeMap, MediaInfo } from './types.js';

export interface IndexOptions extends BinaryOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /** Parallel ranges (default: the cores, for files over 10 minutes). */
  parallel?: number | undefined;
}

export interface PacketIndex {
  streamIndex: number;
  /** Presentation times, seconds from the start of the media, ascending. */
  times: number[];
  /** Byte position of each frame's packet (-1 when the container does not say). */
  pos: number[];
  keyframe: boolean[];
}

interface Packet {
  t: number;
  pos: number;
  key: boolean;
}

/** Parses `pts_time,pos,flags` CSV lines. Exported for tests. */
export function parsePacketCsv(text: string): Packet[] {
  const out: Packet[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [pts, pos, flags = ''] = line.split(',');
    const t = Number(pts);
    if (!pts || pts === 'N/A' || !Number.isFinite(t)) continue;
    if (flags.includes('D')) continue; // before an edit list's start: never shown
    const p = Number(pos);
    out.push({ t, pos: Number.isFinite(p) ? p : -1, key: flags.includes('K') });
  }
  return out;
}

async function readRange(info: MediaInfo, interval: string | undefined, o: IndexOptions): Promise<Packet[]> {
  const bin = resolveBinary('ffprobe', o);
  const query = ['-select_streams', String(info.video!.index), '-show_entries', 'packet=pts_time,pos,flags', '-of', 'csv=p=0'];
  if (interval) query.push('-read_intervals', interval);
  const r = await run({
    command: bin.path,
    args: ffprobeArgs(info.path, query),
    input: info.input,
    signal: o.signal,
    timeoutMs: o.timeoutMs ?? 120_000,
    maxStdoutBytes: 512 * 1024 * 1024,
  });
  return parsePacketCsv(r.stdout.toString('latin1'));
}

/** Containers whose seeks are index-exact, so ranges can be read in parallel. */
const SEEKABLE = new Set(['mp4', 'mov', 'm4a', 'matroska', 'webm']);

async function readIndex(info: MediaInfo, o: IndexOptions): Promise<PacketIndex> {
  if (!info.video || info.kind !== 'video') throw inputError('NO_VIDEO_STREAM', info.input, 'has no video stream');
  const start = info.startTimeSec;
  const d = info.durationSec;
  const parts = SEEKABLE.has(info.container) && d > 600 ? Math.max(1, Math.min(o.parallel ?? availableParallelism(), 8)) : 1;
  let packets: Packet[];
  if (parts === 1) {
    packets = await readRange(info, undefined, o);
  } else {
    const edges = Array.from({ length: parts + 1 }, (_, i) => start + (d * i) / parts);
    const ranges = await Promise.all(
      edges.slice(0, -1).map((a, i) => readRange(info, i === 0 ? `%${edges[1]!.toFixed(6)}` : `${a.toFixed(6)}%${i === parts - 1 ? '' : edges[i + 1]!.toFixed(6)}`, o)),
    );
    // Each range after the first must begin at or before its start (a seek to the keyframe before it).
    for (let i = 1; i < ranges.length; i++) {
      const first = ranges[i]!.reduce((m, p) => Math.min(m, p.t), Infinity);
      if (!(first <= edges[i]! + 1e-6)) {
        ranges[i] = await readRange(info, `${edges[i - 1]!.toFixed(6)}%${i === parts - 1 ? '' : edges[i + 1]!.toFixed(6)}`, o);
      }
    }
    packets = ranges.flat();
  }
  // Join: one entry per presentation time (ranges overlap by up to a group of pictures).
  const byTime = new Map<number, Packet>();
  for (const p of packets) {
    const t = Math.round((p.t - start) * 1e6) / 1e6;
    const had = byTime.get(t);
    if (!had) byTime.set(t, { ...p, t });
    else if (p.key && !had.key) had.key = true;
  }
  const sorted = [...byTime.values()].sort((a, b) => a.t - b.t);
  if (!sorted.length) throw inputError('CORRUPT', info.input, 'the video stream has no readable packets');
  return { streamIndex: info.video.index, times: sorted.map((p) => p.t), pos: sorted.map((p) => p.pos), keyframe: sorted.map((p) => p.key) };
}

const cache = new Map<string, Promise<PacketIndex>>();
const CACHE_MAX = 32;

/** The packet index of the video stream (cached). */
export function packetIndex(info: MediaInfo, options: IndexOptions = {}): Promise<PacketIndex> {
  const key = `${info.path}\0${info.sizeBytes}\0${info.mtimeMs}`;
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
