/**
 * Options of the audio stage (defaults in defaults.ts), every value checked up front: a bad value
 * is an INVALID_OPTION error that names the option and what is allowed.
 */
import type { RemoteOptions } from '../source/remote.js';
import { availableParallelism } from 'node:os';
import type { LimitFunction } from 'p-limit';
import { OmniprepError, invalidOption } from '../errors.js';
import type { BinaryOptions } from '../ffmpeg/binaries.js';
import type { Limits } from '../limits.js';
import type { MediaInfo } from '../probe/types.js';
import { resolveRegistry } from '../models/registry.js';
import { getModel, type ModelOptions } from '../models/tokens.js';
import type { ModelEntry } from '../models/registry.js';
import { checkGroup } from '../options/define.js';
import { AUDIO_CUTS, AUDIO_ENCODING } from '../options/audio.js';
import { AUDIO_DEFAULTS, MP3_BITRATES_MPEG1, MP3_BITRATES_MPEG2, MP3_SAMPLE_RATES, type AudioFormat } from './defaults.js';

export { AUDIO_DEFAULTS, AUDIO_FORMATS, DEFAULT_AUDIO_MODEL, type AudioFormat } from './defaults.js';

/** How each chunk is encoded. */
export interface AudioEncodingOptions {
  /** `mp3` (default: small, every speech API takes it) or `wav` (16-bit PCM). */
  format?: AudioFormat | undefined;
  /** Output sample rate in Hz (default 16000: what speech models resample to anyway). */
  sampleRate?: number | undefined;
  /** 1 (default: speech) or 2. */
  channels?: 1 | 2 | undefined;
  /** MP3 bit rate in bits per second, constant (default 64000: transparent for speech at 16 kHz mono). */
  bitrate?: number | undefined;
  /** LAME quality, 0 (best, slowest) to 9 (fastest); default 5, LAME's own default. */
  mp3Quality?: number | undefined;
}

/** Where chunks are cut. */
export interface AudioCutOptions {
  /** Longest chunk in seconds (default 600); a last piece under 2 s (a quarter of shorter chunks) joins the chunk before it, within maxBytes. */
  chunkSeconds?: number | undefined;
  /** Largest chunk file in bytes (default 25,000,000: the transcription endpoint's 25 MB, read as the smaller unit). */
  maxBytes?: number | undefined;
  /** Seconds of the previous chunk repeated at the start of the next (default 0). */
  overlapSec?: number | undefined;
  /**
   * How far before each limit a cut may move to reach a silence, in seconds (default 10). Never
   * more than half of a chunk, so every chunk keeps at least half of its allowed length.
   */
  searchSec?: number | undefined;
  /** Level under which audio counts as silence, in dBFS (default -30: works on noisy recordings). */
  silenceDb?: number | undefined;
  /** Shortest pause that counts as a silence, in seconds (default 0.3: a pause between phrases, not between syllables). */
  minSilenceSec?: number | undefined;
}

export interface ChunkAudioOptions extends AudioEncodingOptions, AudioCutOptions, BinaryOptions, ModelOptions {
  /** Directory that receives the chunks and `manifest.json` (created when missing). */
  outDir: string;
  /** Model whose audio token rate prices each chunk (default gpt-5.5): its name, or its registry entry. It must take audio input. */
  model?: string | ModelEntry | undefined;
  /** Stream-copy a source that is already the asked encoding and fits in one chunk (default true). */
  copy?: boolean | undefined;
  /** Encoders running at once (default: the number of cores). Each ffmpeg uses one thread. */
  concurrency?: number | undefined;
  /**
   * A p-limit limiter shared with other work (a service running several jobs), used for the
   * encoders instead of `concurrency`. The decode pass runs outside it: one process per call.
   */
  limiter?: LimitFunction | undefined;
  limits?: Partial<Limits> | undefined;
  signal?: AbortSignal | undefined;
  /** http(s) inputs: the range reader's guards and tuning (src/source/remote.ts). */
  remote?: RemoteOptions | undefined;
  /** Called as the decode pass goes on: seconds of audio decoded, of the length the metadata gives. */
  onProgress?: ((doneSec: number, totalSec: number) => void) | undefined;
  /** The input's MediaInfo when it was probed already (a plan's facts, for this same file): not probed again. */
  info?: MediaInfo | undefined;
}

export interface AudioEncoding {
  format: AudioFormat;
  sampleRate: number;
  channels: 1 | 2;
  /** Bits per second for mp3; for wav the PCM rate (sampleRate * channels * 16). */
  bitrate: number;
  mp3Quality: number;
}

export interface AudioCuts {
  chunkSeconds: number;
  maxBytes: number;
  overlapSec: number;
  searchSec: number;
  silenceDb: number;
  minSilenceSec: number;
}

export type ResolvedEncodingAndCuts = AudioEncoding & AudioCuts;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks the encoding options and fills in defaults. */
export function resolveEncoding(o: AudioEncodingOptions = {}): AudioEncoding {
  checkGroup(AUDIO_CUTS, { format: o.format });
  checkGroup(AUDIO_ENCODING, o);
  const format = o.format ?? AUDIO_DEFAULTS.format;
  const sampleRate = o.sampleRate ?? AUDIO_DEFAULTS.sampleRate;
  if (format === 'mp3') {
    if (!(MP3_SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
      throw invalidOption('sampleRate', `one of ${MP3_SAMPLE_RATES.join(', ')} for mp3`, sampleRate);
    }
  }
  const channels = o.channels ?? AUDIO_DEFAULTS.channels;
  const mp3Quality = o.mp3Quality ?? AUDIO_DEFAULTS.mp3Quality;
  let bitrate: number;
  if (format === 'mp3') {
    bitrate = o.bitrate ?? AUDIO_DEFAULTS.bitrate;
    const allowed: readonly number[] = sampleRate >= 32_000 ? MP3_BITRATES_MPEG1 : MP3_BITRATES_MPEG2;
    if (!finite(bitrate) || !allowed.includes(bitrate / 1000)) {
      throw invalidOption('bitrate', `one of ${allowed.map((k) => `${k}k`).join(', ')} (bits per second) for mp3 at ${sampleRate} Hz`, bitrate);
    }
  } else {
    if (o.bitrate !== undefined) throw invalidOption('bitrate', 'no value for wav (its rate is sampleRate * channels * 16)', o.bitrate);
    bitrate = sampleRate * channels * 16;
  }
  return { format, sampleRate, channels, bitrate, mp3Quality };
}

/** Checks the cut options and fills in defaults (the byte limit is checked against the encoding later). */
export function resolveCuts(o: AudioCutOptions = {}): AudioCuts {
  checkGroup(AUDIO_CUTS, { ...o, format: undefined });
  checkGroup(AUDIO_ENCODING, { searchSec: o.searchSec, silenceDb: o.silenceDb, minSilenceSec: o.minSilenceSec });
  const c = {
    chunkSeconds: o.chunkSeconds ?? AUDIO_DEFAULTS.chunkSeconds,
    maxBytes: o.maxBytes ?? AUDIO_DEFAULTS.maxBytes,
    overlapSec: o.overlapSec ?? AUDIO_DEFAULTS.overlapSec,
    searchSec: o.searchSec ?? AUDIO_DEFAULTS.searchSec,
    silenceDb: o.silenceDb ?? AUDIO_DEFAULTS.silenceDb,
    minSilenceSec: o.minSilenceSec ?? AUDIO_DEFAULTS.minSilenceSec,
  };
  return c;
}

/** The model that prices the chunks: it must take audio (a usage error otherwise, before any work). */
export function resolveAudioModel(name: string | ModelEntry | undefined, o: ModelOptions = {}): ModelEntry {
  const model = getModel(name ?? AUDIO_DEFAULTS.model, o);
  if (!model.audio) {
    const reg = resolveRegistry(o);
    const takers = reg.names().filter((n) => reg.get(n).audio);
    throw new OmniprepError('INVALID_OPTION', `model ${model.name} takes no audio input; models that do: ${takers.join(', ')}`, {
      input: model.name,
      details: { option: 'model' },
    });
  }
  return model;
}

export function resolveConcurrency(n: number | undefined): number {
  checkGroup(AUDIO_ENCODING, { concurrency: n });
  return n ?? availableParallelism();
}
