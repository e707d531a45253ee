/**
 * The audio part of a plan, pure and without decoding: how long each chunk may be, where the
 * chunks fall when cut at the limits, their bytes and their tokens. `omniprep plan --audio` calls
 * `audioPlanFor(info)`; `chunkAudio()` uses the same limits and moves each cut to a silence.
 */
import { invalidOption } from '../errors.js';
import type { ModelEntry } from '../models/registry.js';
import { audioTokens, type ModelOptions } from '../models/tokens.js';
import type { MediaInfo } from '../probe/types.js';
import { planAudioCuts, tailSeconds, type ChunkBounds } from './cuts.js';
import { chunkBytes, maxSamplesFor, sizeModel, type SizeModel } from './encoding.js';
import {
  resolveAudioModel,
  resolveCuts,
  resolveEncoding,
  type AudioCutOptions,
  type AudioCuts,
  type AudioEncoding,
  type AudioEncodingOptions,
} from './options.js';

export interface ChunkLimit {
  /** Longest chunk in seconds, overlap included: the tighter of chunkSeconds and what maxBytes holds. */
  seconds: number;
  /** Which limit binds. */
  by: 'seconds' | 'bytes';
  /** A last piece adding under this many seconds joins the chunk before it (`tailSeconds`). */
  tailSec: number;
  /** Longest such a joined chunk may be: what maxBytes holds (it may pass `seconds` by the tail). */
  mergedSec: number;
}

/** The chunk length the limits allow for this encoding. Throws INVALID_OPTION when maxBytes holds under 1 s, or the overlap is over half a chunk. */
export function chunkLimit(enc: AudioEncoding, cuts: AudioCuts, model: SizeModel = sizeModel(enc)): ChunkLimit {
  // A WAV chunk's sizes are 32-bit fields: 4 GiB is its own limit.
  const maxBytes = enc.format === 'wav' ? Math.min(cuts.maxBytes, 0xffffffff) : cuts.maxBytes;
  const byBytes = maxSamplesFor(model, maxBytes) / enc.sampleRate;
  if (byBytes < 1) {
    throw invalidOption('maxBytes', `at least ${chunkBytes(model, enc.sampleRate)} bytes (one second of ${enc.format} at these settings)`, cuts.maxBytes);
  }
  const seconds = Math.min(byBytes, cuts.chunkSeconds);
  const limit: ChunkLimit = { seconds, by: byBytes < cuts.chunkSeconds ? 'bytes' : 'seconds', tailSec: tailSeconds(seconds), mergedSec: byBytes };
  if (cuts.overlapSec > limit.seconds / 2) {
    throw invalidOption('overlapSec', `at most half a chunk (${(limit.seconds / 2).toFixed(3)} s here)`, cuts.overlapSec);
  }
  return limit;
}

export interface AudioPlanChunk extends ChunkBounds {
  durationSec: number;
  /** Bytes of the chunk file: exact for wav, an upper bound for mp3. */
  bytes: number;
  /** Audio input tokens of the chunk for the model (overlap included: it is sent). */
  tokens: number;
}

export interface AudioPlan {
  model: string;
  encoding: AudioEncoding;
  limit: ChunkLimit;
  chunks: AudioPlanChunk[];
  totals: { chunks: number; seconds: number; bytes: number; tokens: number };
}

export interface AudioPlanOptions extends AudioEncodingOptions, AudioCutOptions, ModelOptions {
  /** Model whose audio token rate prices the chunks (default gpt-5.5); it must take audio. */
  model?: string | ModelEntry | undefined;
  /** Where the audio starts on the timeline (default 0). */
  startSec?: number | undefined;
}

/** Adds duration, bytes and tokens to chunk bounds. */
export function priceChunks(bounds: readonly ChunkBounds[], enc: AudioEncoding, model: ModelEntry): AudioPlanChunk[] {
  const size = sizeModel(enc);
  return bounds.map((b) => {
    const samples = samplesOf(b, enc.sampleRate);
    const durationSec = samples / enc.sampleRate;
    return { ...b, durationSec, bytes: chunkBytes(size, samples), tokens: audioTokens(model, durationSec) };
  });
}

/** Samples of a chunk at the output rate (its bounds are whole samples). */
export function samplesOf(b: { startSec: number; endSec: number }, sampleRate: number): number {
  return Math.round(b.endSec * sampleRate) - Math.round(b.startSec * sampleRate);
}

/** Sums of chunks; seconds rounded to the nanosecond (float sums of sample-exact durations). */
export function totalsOf(chunks: ReadonlyArray<{ durationSec: number; bytes: number; tokens: number }>): AudioPlan['totals'] {
  return {
    chunks: chunks.length,
    seconds: Math.round(chunks.reduce((a, c) => a + c.durationSec, 0) * 1e9) / 1e9,
    bytes: chunks.reduce((a, c) => a + c.bytes, 0),
    tokens: chunks.reduce((a, c) => a + c.tokens, 0),
  };
}

/**
 * Chunk bounds cut at the limits alone (no silence detection, nothing decoded): what
 * `chunkAudio()` would write if the audio had no pauses. With pauses, each cut moves back by at
 * most `searchSec` to a silence, so `chunkAudio()` can make more chunks (never fewer); without
 * overlap the seconds, and so the tokens up to one per chunk of rounding, are the same.
 *
 * `durationSec` is where the audio ends on the source timeline.
 */
export function planAudioChunks(durationSec: number, options: AudioPlanOptions = {}): AudioPlan {
  if (!(durationSec >= 0) || !Number.isFinite(durationSec)) throw invalidOption('durationSec', 'a number of seconds >= 0', durationSec);
  const enc = resolveEncoding(options);
  const cuts = resolveCuts(options);
  const model = typeof options.model === 'object' ? options.model : resolveAudioModel(options.model, options);
  const limit = chunkLimit(enc, cuts);
  const bounds = planAudioCuts({
    endSec: durationSec,
    sampleRate: enc.sampleRate,
    maxChunkSec: limit.seconds,
    overlapSec: cuts.overlapSec,
    tailSec: limit.tailSec,
    maxMergedSec: limit.mergedSec,
    startSec: options.startSec,
  });
  const chunks = priceChunks(bounds, enc, model);
  return { model: model.name, encoding: enc, limit, chunks, totals: totalsOf(chunks) };
}

/**
 * Where the audio ends on the timeline by the metadata alone: the stream's start plus its duration,
 * or the container's duration when the stream has none (WebM). chunkAudio measures the real end.
 */
export function metadataAudioEnd(info: MediaInfo): number {
  const a = info.audio;
  if (!a) return 0;
  return Math.max(0, a.durationSec !== null ? a.startSec + a.durationSec : info.durationSec);
}

/** What a plan says about a file's audio: its chunks, or why there is none. */
export type AudioPlanResult = ({ hasAudio: true } & AudioPlan) | { hasAudio: false; code: 'NO_AUDIO_STREAM'; reason: string };

/**
 * The audio plan of a probed file. A file without an audio stream (a silent video, an image)
 * is not an error here: the answer says so (`reason` is `<input>: has no audio stream`, the
 * message `chunkAudio()` would throw). A model that takes no audio is a usage error (INVALID_OPTION).
 */
export function audioPlanFor(info: MediaInfo, options: AudioPlanOptions = {}): AudioPlanResult {
  if (!info.audio || info.kind === 'image') {
    return { hasAudio: false, code: 'NO_AUDIO_STREAM', reason: `${info.input}: has no audio stream` };
  }
  return { hasAudio: true, ...planAudioChunks(metadataAudioEnd(info), options) };
}
