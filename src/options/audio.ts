/**
 * The audio options (chunkAudio(), `omniprep audio`, and a job's `audioOptions`), described once
 * (see define.ts). Relations between them (the MP3 sample rates and bit rates) are checked where
 * the encoding is resolved (audio/options.ts).
 */
import { z } from 'zod';
import { DEFAULT_MODEL } from '../models/constants.js';
import { groupDefaults, option, type GroupInput } from './define.js';

export const AUDIO_FORMATS = ['mp3', 'wav'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** `25000000`, `25MB` (decimal), `25MiB` (binary), `500k` -> bytes (the text itself when it is none of these). */
export function parseBytes(text: string): number | string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : text;
}

/** `64k` or `64000` -> bits per second (the text itself when it is neither). */
export function parseBitrate(text: string): number | string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(k?)\s*$/i.exec(text);
  return m ? Math.round(Number(m[1]) * (m[2] ? 1000 : 1)) : text;
}

const seconds = z.number().finite();

/** Where chunks are cut. */
export const AUDIO_CUTS = {
  chunkSeconds: option(seconds.min(1), {
    help: 'longest chunk in seconds (a last piece under 2 s, or under a quarter of a chunk, joins the chunk before it within the byte limit)',
    default: 600,
  }),
  maxBytes: option(z.number().int().min(1), {
    help: 'largest chunk file, e.g. 25MB',
    default: 25_000_000,
    allowed: 'a size in bytes (e.g. 25000000, 25MB, 24MiB)',
    cli: { arg: 'size', parse: parseBytes },
  }),
  format: option(z.enum(AUDIO_FORMATS), { help: 'mp3 or wav (16-bit PCM)', default: 'mp3' }),
  overlapSec: option(seconds.min(0), { help: 'seconds of each chunk repeated at the start of the next', default: 0, cli: { flag: '--overlap', arg: 's' } }),
};

/** How chunks are encoded, and how silences are found. */
export const AUDIO_ENCODING = {
  bitrate: option(z.number().int().min(8000).max(320_000), {
    help: 'mp3 bit rate, constant, e.g. 64k',
    default: 64_000,
    allowed: 'a bit rate such as 64k or 64000 (8k to 320k)',
    cli: { arg: 'rate', parse: parseBitrate },
  }),
  sampleRate: option(z.number().int().min(8000).max(192_000), { help: 'output sample rate in Hz', default: 16_000, cli: { arg: 'hz' } }),
  channels: option(z.union([z.literal(1), z.literal(2)]), { help: '1 or 2', default: 1 as 1 | 2, allowed: '1 or 2', cli: { arg: 'n' } }),
  mp3Quality: option(z.number().int().min(0).max(9), { help: 'LAME quality 0 (best) to 9 (fastest)', default: 5, cli: { arg: 'q' } }),
  silenceDb: option(z.number().finite().min(-120).lt(0), { help: 'level under which audio is silence, dBFS', default: -30, cli: { arg: 'db' } }),
  minSilenceSec: option(seconds.gt(0).max(60), {
    help: 'shortest pause that counts as silence, seconds',
    default: 0.3,
    cli: { flag: '--min-silence', arg: 's' },
  }),
  searchSec: option(seconds.min(0), {
    help: 'how far before a limit a cut may move to reach a silence, seconds',
    default: 10,
    cli: { flag: '--search', arg: 's' },
  }),
  concurrency: option(z.number().int().min(1).max(64), { help: 'encoders at once', defaultText: 'the number of cores' }),
};

export type AudioCutGroupOptions = GroupInput<typeof AUDIO_CUTS>;
export type AudioEncodingGroupOptions = GroupInput<typeof AUDIO_ENCODING>;

/** The audio stage's defaults, from the descriptions above. */
export const AUDIO_DEFAULTS = Object.freeze({
  ...groupDefaults(AUDIO_CUTS),
  ...groupDefaults(AUDIO_ENCODING),
  model: DEFAULT_MODEL,
  copy: true,
});
