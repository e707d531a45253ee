/** The audio stage's constants; its options and their defaults are described in options/audio.ts. */
import { DEFAULT_MODEL } from '../models/constants.js';
export { AUDIO_FORMATS, AUDIO_DEFAULTS, type AudioFormat } from '../options/audio.js';

/** Sample rates an MP3 can have (MPEG-1, MPEG-2 and MPEG-2.5 Layer III). */
export const MP3_SAMPLE_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
/** Bit rates (kbit/s) of MPEG-1 Layer III (32 kHz and up) and of MPEG-2/2.5 Layer III (below 32 kHz). */
export const MP3_BITRATES_MPEG1 = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320] as const;
export const MP3_BITRATES_MPEG2 = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160] as const;

/** The default model: the project's first target, which takes audio (10 tokens/s in the registry). */
export const DEFAULT_AUDIO_MODEL = DEFAULT_MODEL;
