/**
 * Keyframe maps and frame indexes from a demux-only pass: ffmpeg copies the video packets to the
 * `framecrc` muxer, which prints one line per packet (pts, flags). With `-discard nokey` the
 * demuxer skips non-key packets where it can, so an hour of 720p H.264 maps in a fraction of a
 * second. Nothing is decoded. Results are cached per file (path, size, mtime).
 */
import { FfmpegArgs } from '../ffmpeg/args.js';
import { binaryVersion, resolveBinary, type BinaryOptions } from '../ffmpeg/binaries.js';
import { start } from '../ffmpeg/runner.js';
import { inputError } from '../errors.js';
import type { FrameIndex, KeyframeMap, MediaInfo } from './types.js';

export interface IndexOptions extends BinaryOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

const AV_PKT_FLAG_KEY = 0x1;
const AV_PKT_FLAG_DISCARD = 0x4;

interface PacketLine {
  pts: number;
  key: boolean;
}

/** Parses framecrc output: `#tb 0: 1/15360` then `0, dts, pts, duration, size, crc[, F=0x..]`. Exported for tests. */
export function parseFramecrc(text: string): { timeBase: number; packets: PacketLine[] } {
  let timeBase = 0;
  const packets: PacketLine[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      const m = /^#tb 0: (\d+)\/(\d+)/.exec(line);
      if (m) timeBase = Number(m[1]) / Number(m[2]);
      continue;
    }
    if (!line) continue;
    const cols = line.split(',').map((c) => c.trim());
    if (cols.length < 6 || cols[0] !== '0') continue;
    const ptsCol = cols[2]!;
    const pts = ptsCol === 'NOPTS' ? Number(cols[1]) : Number(ptsCol);
    if (!Number.isFinite(pts)) continue;
    const flagCol = cols.find((c) => c.startsWith('F='));
    const flags = flagCol ? Number.parseInt(flagCol.slice(2), 16) : AV_PKT_FLAG_KEY;
    if (flags & AV_PKT_FLAG_DISCARD) continue; // before the edit list's start: never shown
    packets.push({ pts, key: (flags & AV_PKT_FLAG_KEY) !== 0 });
  }
  return { timeBase, packets };
}

async function readPackets(info: MediaInfo, keyOnly: boolean, options: IndexOptions): Promise<PacketLine[]> {
  if (!info.video || info.kind !== 'video') throw inputError('NO_VIDEO_STREAM', info.input, 'has no video stream');
  const bin = resolveBinary('ffmpeg', options);
  const version = await binaryVersion(bin);
  const args = new FfmpegArgs(version)
    .input(info.path, keyOnly ? { discard: 'nokey' } : {})
    .copyTimestamps()
    .map(`0:${info.video.index}`)
    .output('pipe:1', { codec: 'copy', format: 'framecrc' })
    .toArgs();
  const proc = start({ command: bin.path, args, input: info.input, signal: options.signal, timeoutMs: options.timeoutMs ?? 120_000 });
  // Parse as it streams: an hour of packets is ~6 MB of text.
  let rest = '';
  let timeBase = 0;
  const packets: PacketLine[] = [];
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    const text = rest + chunk;
    const cut = text.lastIndexOf('\n');
    rest = text.slice(cut + 1);
    const parsed = parseFramecrc(text.slice(0, cut + 1));
    if (parsed.timeBase) timeBase = parsed.timeBase;
    for (const p of parsed.packets) packets.push(p);
  });
  await proc.done;
  if (rest) for (const p of parseFramecrc(rest).packets) packets.push(p);
  if (!timeBase) throw inputError('CORRUPT', info.input, 'the video stream has no time base');
  return packets.map((p) => ({ pts: p.pts * timeBase, key: p.key }));
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const cache = new Map<string, Promise<unknown>>();
const CACHE_MAX = 64;

function cached<T>(key: string, make: () => Promise<T>): Promise<T> {
  const hit = cache.get(key) as Promise<T> | undefined;
  if (hit) return hit;
  const p = make();
  cache.set(key, p);
  p.catch(() => cache.delete(key));
  if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as string);
  return p;
}

const keyOf = (info: MediaInfo, what: string): string => `${what}\0${info.path}\0${info.sizeBytes}\0${info.mtimeMs}`;

/** Every keyframe's presentation time, relative to the start of the media, ascending. */
export function keyframes(info: MediaInfo, options: IndexOptions = {}): Promise<KeyframeMap> {
  return cached(keyOf(info, 'kf'), async () => {
    const packets = await readPackets(info, true, options);
    const times = [...new Set(packets.filter((p) => p.key).map((p) => round6(p.pts - info.startTimeSec)))].sort((a, b) => a - b);
    return { streamIndex: info.video!.index, times };
  });
}

/** Every frame's presentation time (relative to the start of the media), ascending, with keyframe flags. */
export function frameIndex(info: MediaInfo, options: IndexOptions = {}): Promise<FrameIndex> {
  return cached(keyOf(info, 'fi'), async () => {
    const packets = await readPackets(info, false, options);
    const byTime = new Map<number, boolean>();
    for (const p of packets) {
      const t = round6(p.pts - info.startTimeSec);
      byTime.set(t, (byTime.get(t) ?? false) || p.key);
    }
    const times = [...byTime.keys()].sort((a, b) => a - b);
    return { streamIndex: info.video!.index, times, keyframe: times.map((t) => byTime.get(t)!) };
  });
}
