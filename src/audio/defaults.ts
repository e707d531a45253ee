/** The audio stage's constants and defaults, in one place (no imports: the CLI loads this at start-up). */
import { DEFAULT_MODEL } from '../models/constants.js';
export const AUDIO_FORMATS = ['mp3', 'wav'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/** Sample rates an MP3 can have (MPEG-1, MPEG-2 and MPEG-2.5 Layer III). */
export const MP3_SAMPLE_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
/** Bit rates (kbit/s) of MPEG-1 Layer III (32 kHz and up) and of MPEG-2/2.5 Layer III (below 32 kHz). */
export const MP3_BITRATES_MPEG1 = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320] as const;
export const MP3_BITRATES_MPEG2 = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160] as const;

/** The default model: the project's first target, which takes audio (10 tokens/s in the registry). */
export const DEFAULT_AUDIO_MODEL = DEFAULT_MODEL;

export const AUDIO_DEFAULTS = Object.freeze({
  format: 'mp3' as AudioFormat,
  sampleRate: 16_000,
  channels: 1 as 1 | 2,
  bitrate: 64_000,
  mp3Quality: 5,
  chunkSeconds: 600,
  maxBytes: 25_000_000,
  overlapSec: 0,
  searchSec: 10,
  silenceDb: -30,
  minSilenceSec: 0.3,
  model: DEFAULT_AUDIO_MODEL,
  copy: true,
});

