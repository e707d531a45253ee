/**
 * One ffmpeg process per chunk, each with one thread: cut `[startSec, endSec)` out of the PCM
 * master (exact to the sample: WAV seeks are byte-exact and the trim that `-ss`/`-t` insert counts
 * samples) and encode it. Chunks run in parallel, bounded by the caller's limiter.
 *
 * Measured against one ffmpeg pass with the `segment` muxer and `-segment_times` (bench/audio.ts):
 * the segment muxer runs one encoder on one core and cuts an encoded stream on packet boundaries
 * (576 or 1152 samples in MP3, and each piece after the first starts with frames that lean on the
 * previous piece's bit reservoir), so it is neither faster on two cores nor exact.
 */
import { FfmpegArgs } from '../ffmpeg/args.js';
import { binaryVersion, resolveBinary, type BinaryOptions } from '../ffmpeg/binaries.js';
import { runProcess, start } from '../ffmpeg/runner.js';
import { BITEXACT, encoderArgs } from './encoding.js';
import type { AudioEncoding } from './options.js';

export interface ProcessCommon extends BinaryOptions {
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Encodes one chunk of the master. `endSec` undefined: to the end of the master. */
export async function encodeChunk(
  master: { path: string; streamSpec: string },
  startSec: number,
  endSec: number | undefined,
  enc: AudioEncoding,
  outFile: string,
  input: string,
  o: ProcessCommon,
): Promise<void> {
  const ffmpeg = resolveBinary('ffmpeg', o);
  const version = await binaryVersion(ffmpeg);
  const args = new FfmpegArgs(version)
    .input(master.path, { seekSec: startSec, durationSec: endSec === undefined ? undefined : endSec - startSec, threads: 1 })
    .map(master.streamSpec)
    .noVideo()
    .noSubtitles()
    .threads(1)
    .output(outFile, { format: enc.format, extra: encoderArgs(enc) })
    .toArgs();
  await runProcess({ command: ffmpeg.path, args, input, timeoutMs: o.timeoutMs, signal: o.signal });
}

/** Copies the source's audio stream as it is (`-c copy`): the whole file, no cut. Cover art and video are left out. */
export async function copyStream(sourcePath: string, streamSpec: string, enc: AudioEncoding, outFile: string, input: string, o: ProcessCommon): Promise<void> {
  const ffmpeg = resolveBinary('ffmpeg', o);
  const version = await binaryVersion(ffmpeg);
  const args = new FfmpegArgs(version)
    .input(sourcePath, { threads: 1 })
    .map(streamSpec)
    .noVideo()
    .noSubtitles()
    .output(outFile, { format: enc.format, codec: 'copy', extra: BITEXACT })
    .toArgs();
  await runProcess({ command: ffmpeg.path, args, input, timeoutMs: o.timeoutMs, signal: o.signal });
}

/**
 * Decodes a file's first audio stream completely and counts its samples per channel at its own
 * rate (MP3 encoder delay and padding removed, as every gapless decoder does). Used to learn a
 * copied MP3's true length (ffprobe counts whole frames) and by the tests to prove chunks decode.
 */
export async function decodedSamples(path: string, channels: number, input: string, o: ProcessCommon): Promise<number> {
  const ffmpeg = resolveBinary('ffmpeg', o);
  const version = await binaryVersion(ffmpeg);
  const args = new FfmpegArgs(version)
    .input(path, { threads: 1 })
    .map('0:a:0')
    .noVideo()
    .output('pipe:1', { format: 's16le', codec: 'pcm_s16le', extra: ['-ac', String(channels)] })
    .toArgs();
  const proc = start({ command: ffmpeg.path, args, input, timeoutMs: o.timeoutMs, signal: o.signal });
  let bytes = 0;
  proc.stdout.on('data', (c: Buffer) => (bytes += c.length));
  await proc.done;
  return bytes / (2 * channels);
}
