/**
 * The PCM master: the source's audio stream decoded once, in order, to 16-bit PCM WAV at the
 * output rate and channel count, in a temporary directory; `silencedetect` runs in the same pass.
 * Every chunk is then cut from the master, where `-ss`/`-t` are exact to the sample.
 *
 * Why not cut the source directly: after a seek, some decoders (Vorbis in WebM measured here) hand
 * out their first packets shifted by 10-20 ms against the packet times, so chunks cut by seeking
 * the source miss or repeat audio at every junction. A single decode in order has no seeks.
 *
 * The timeline starts at 0, the start of the container: `aresample=async=1:first_pts=0` fills a
 * late audio start (WebM audio often starts 40 ms in) and any gap over 0.1 s with silence, so a
 * time in a chunk is the same time in the video.
 *
 * When the source already is such a WAV (starting at 0), it is its own master and only the
 * silence scan runs.
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError } from '../errors.js';
import { FfmpegArgs } from '../ffmpeg/args.js';
import { binaryVersion, resolveBinary, type BinaryOptions } from '../ffmpeg/binaries.js';
import { run } from '../ffmpeg/runner.js';
import type { MediaInfo } from '../probe/types.js';
import type { Silence } from './cuts.js';
import { BITEXACT, isTargetPcm } from './encoding.js';
import type { AudioEncoding } from './options.js';
import { detectSilences, SilenceLog, silenceFilter } from './silence.js';

export interface PcmMaster {
  /** The WAV to cut from (the source itself, or a file in the temporary directory). */
  path: string;
  /** Its audio stream, for `-map`. */
  streamSpec: string;
  /** Whether the master is the source file. */
  isSource: boolean;
  /** Samples in the master, and where they end on the timeline. */
  samples: number;
  endSec: number;
  /** Silences found (empty when `scan` was false). */
  silences: Silence[];
  /** Milliseconds the pass took. */
  ms: number;
}

export interface MasterOptions extends BinaryOptions {
  silenceDb: number;
  minSilenceSec: number;
  /** Whether to look for silences (not needed when the audio fits in one chunk). */
  scan: boolean;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Where the sample data of a WAV starts and how long it is (RIFF or RF64). */
export async function wavDataRange(path: string): Promise<{ offset: number; bytes: number }> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const size = (await fh.stat()).size;
    let rf64Data: number | undefined;
    for (let o = 12; o + 8 <= bytesRead; ) {
      const id = head.toString('latin1', o, o + 4);
      const len = head.readUInt32LE(o + 4);
      if (id === 'ds64' && o + 24 <= bytesRead) rf64Data = Number(head.readBigUInt64LE(o + 16));
      if (id === 'data') {
        const offset = o + 8;
        const declared = len === 0xffffffff && rf64Data !== undefined ? rf64Data : len;
        return { offset, bytes: Math.min(declared, size - offset) };
      }
      o += 8 + len + (len & 1);
    }
  } finally {
    await fh.close();
  }
  throw new Error(`${path}: no data chunk in the first 4 KiB`);
}

/** Decodes the source's audio into the master (or adopts the source), scanning for silences on the way. */
export async function makeMaster(info: MediaInfo, enc: AudioEncoding, dir: string, o: MasterOptions): Promise<PcmMaster> {
  const started = performance.now();
  const audio = info.audio!;
  const streamSpec = `0:${audio.index}`;
  if (isTargetPcm(info, enc)) {
    const { bytes } = await wavDataRange(info.path);
    const samples = Math.floor(bytes / (2 * enc.channels));
    const endSec = samples / enc.sampleRate;
    const silences = o.scan
      ? await detectSilences(info.path, info.input, { ...o, streamSpec, endSec })
      : [];
    return { path: info.path, streamSpec, isSource: true, samples, endSec, silences, ms: performance.now() - started };
  }

  const ffmpeg = resolveBinary('ffmpeg', o);
  const version = await binaryVersion(ffmpeg);
  const path = join(dir, 'master.wav');
  const layout = enc.channels === 1 ? 'mono' : 'stereo';
  const filters = [`aresample=${enc.sampleRate}:async=1:first_pts=0`, `aformat=sample_fmts=s16:channel_layouts=${layout}`];
  if (o.scan) filters.push(silenceFilter(o.silenceDb, o.minSilenceSec));
  const args = new FfmpegArgs(version, { logLevel: o.scan ? 'info' : 'error' })
    .input(info.path, { threads: 1 })
    .map(streamSpec)
    .noVideo()
    .noSubtitles()
    .threads(1)
    .audioFilters(filters)
    .output(path, {
      format: 'wav',
      codec: 'pcm_s16le',
      extra: ['-ar', String(enc.sampleRate), '-ac', String(enc.channels), '-rf64', 'auto', ...BITEXACT, '-nostats'],
    })
    .toArgs();
  const log = new SilenceLog();
  await run({
    command: ffmpeg.path,
    args,
    input: info.input,
    timeoutMs: o.timeoutMs,
    signal: o.signal,
    ...(o.scan ? { onStderrLine: (l: string) => log.line(l) } : {}),
  });
  const { bytes } = await wavDataRange(path);
  const samples = Math.floor(bytes / (2 * enc.channels));
  if (samples === 0 || (await stat(path)).size === 0) {
    throw inputError('NO_AUDIO_STREAM', info.input, 'has an audio stream with no decodable samples');
  }
  const endSec = samples / enc.sampleRate;
  return { path, streamSpec: '0:a:0', isSource: false, samples, endSec, silences: o.scan ? log.silences(endSec, o.minSilenceSec) : [], ms: performance.now() - started };
}
