/**
 * What decodes a sample's frames: `node-av` (FFmpeg 8.1 libraries from node-av's npm package, in
 * decoder child processes), `ffmpeg` (the resolved ffmpeg binary, src/ffmpeg/binaries.ts), or
 * `auto`: node-av when it loads and the ffmpeg binary is older than two years (the npm-shipped
 * 2018 build on a fresh install), else ffmpeg. The option `decoder`, `--decoder`, or OMNIPREP_DECODER.
 */
import { invalidOption } from '../errors.js';

export const DECODERS = ['auto', 'node-av', 'ffmpeg'] as const;
export type DecoderChoice = (typeof DECODERS)[number];

/** The decoder asked for: the option, else OMNIPREP_DECODER, else auto; a name not in DECODERS is refused. */
export function decoderChoice(given: unknown, env: NodeJS.ProcessEnv = process.env): DecoderChoice {
  const v = given ?? (env.OMNIPREP_DECODER || undefined) ?? 'auto';
  if (!(DECODERS as readonly unknown[]).includes(v)) throw invalidOption('decoder', DECODERS.join(', '), v);
  return v as DecoderChoice;
}
