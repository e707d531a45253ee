/**
 * Pure facts about the two output encodings: how many bytes a chunk of N samples takes (exact for
 * WAV, a tight upper bound for CBR MP3), the ffmpeg encoder arguments, and when the source can be
 * stream-copied instead of encoded.
 */
import type { MediaInfo } from '../probe/types.js';
import type { AudioEncoding } from './options.js';

/** Bytes of a chunk as a function of its sample count. */
export type SizeModel =
  | { kind: 'pcm'; headerBytes: number; bytesPerSample: number }
  | { kind: 'mp3'; frameSamples: number; frameBytes: number; fixedBytes: number; delaySamples: number };

/** ffmpeg's WAV header with `-fflags +bitexact` and no metadata: RIFF, fmt and data chunk headers. */
export const WAV_HEADER_BYTES = 44;

/**
 * CBR MP3 as LAME writes it through ffmpeg: an ID3v2 header (20 bytes with bitexact flags), one
 * Xing/Info frame, then ceil((samples + 1105) / frameSamples) audio frames (1105 samples of encoder
 * delay, the last frame padded). The bound counts a delay of a whole MPEG-1 frame (1152) and one
 * spare frame, so written files come out 1 to 2 frames under it (test/audio.test.ts measures it).
 */
export function sizeModel(enc: AudioEncoding): SizeModel {
  if (enc.format === 'wav') return { kind: 'pcm', headerBytes: WAV_HEADER_BYTES, bytesPerSample: 2 * enc.channels };
  const mpeg1 = enc.sampleRate >= 32_000;
  const frameSamples = mpeg1 ? 1152 : 576;
  const frameBytes = Math.ceil(((frameSamples / 8) * enc.bitrate) / enc.sampleRate);
  return { kind: 'mp3', frameSamples, frameBytes, fixedBytes: 64, delaySamples: 1152 };
}

/** Bytes a chunk of `samples` samples takes: exact for WAV, an upper bound for MP3. */
export function chunkBytes(model: SizeModel, samples: number): number {
  if (model.kind === 'pcm') return model.headerBytes + samples * model.bytesPerSample;
  const frames = Math.ceil((samples + model.delaySamples) / model.frameSamples) + 2;
  return model.fixedBytes + frames * model.frameBytes;
}

/** The most samples whose chunk stays within `maxBytes` (0 when not even one fits). */
export function maxSamplesFor(model: SizeModel, maxBytes: number): number {
  if (model.kind === 'pcm') return Math.max(0, Math.floor((maxBytes - model.headerBytes) / model.bytesPerSample));
  const frames = Math.floor((maxBytes - model.fixedBytes) / model.frameBytes) - 2;
  return Math.max(0, frames * model.frameSamples - model.delaySamples);
}

/** The ffmpeg output arguments (after the input and the mapping) for one chunk. */
export function encoderArgs(enc: AudioEncoding): string[] {
  const codec =
    enc.format === 'mp3' ? ['-c:a', 'libmp3lame', '-b:a', String(enc.bitrate), '-compression_level', String(enc.mp3Quality)] : ['-c:a', 'pcm_s16le'];
  return [...codec, '-ar', String(enc.sampleRate), '-ac', String(enc.channels), ...BITEXACT];
}

/** No encoder tag, no metadata: a WAV header is exactly 44 bytes and sizes are predictable. */
export const BITEXACT = ['-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact'];

/** Whether the source's audio is already 16-bit PCM WAV at the asked rate and channel count (it then serves as the PCM master). */
export function isTargetPcm(info: MediaInfo, enc: Pick<AudioEncoding, 'sampleRate' | 'channels'>): boolean {
  const a = info.audio;
  return Boolean(
    a && info.container === 'wav' && a.codec === 'pcm_s16le' && a.sampleRate === enc.sampleRate && a.channels === enc.channels && a.startSec === 0,
  );
}

/**
 * Whether the source's audio stream is already what was asked, so a whole-file chunk can be
 * stream-copied (`-c copy`): a WAV of 16-bit PCM at the asked rate and channels, or an MP3 file at
 * the asked rate and channels whose bit rate is at most the asked one. Cuts are never copied:
 * ffmpeg cuts a copied stream only on packet boundaries (2048 samples in WAV, 1152 in MP3, where
 * the bit reservoir also makes the first frame after a cut undecodable).
 */
export function copyableSource(info: MediaInfo, enc: AudioEncoding): boolean {
  const a = info.audio;
  if (!a) return false;
  if (enc.format === 'wav') return isTargetPcm(info, enc);
  return (
    info.container === 'mp3' &&
    a.codec === 'mp3' &&
    a.sampleRate === enc.sampleRate &&
    a.channels === enc.channels &&
    a.bitRate !== null &&
    a.bitRate <= enc.bitrate
  );
}
