/**
 * Which decoder a sample's frames take (src/options/decoder.ts): node-av in decoder child
 * processes (av-pool.ts), or the ffmpeg binary through the strategies. `auto` takes node-av when it
 * loads here and the ffmpeg binary found is older than two years, so that a fresh install (whose
 * ffmpeg is the 2018 build from npm) decodes untrusted input with FFmpeg 8.1; an ffmpeg given by
 * option or OMNIPREP_FFMPEG is the user's choice and decodes. Scene scans and audio stay
 * on the ffmpeg binary.
 */
import { OmniprepError } from '../errors.js';
import { binaryVersion, isOutdated, resolveBinary, type BinaryOptions, type BinaryVersion, type ResolvedBinary } from '../ffmpeg/binaries.js';
import { decoderChoice } from '../options/decoder.js';
import { acquireAvPool, releaseAvPool } from './av-pool.js';

export type Decoder = 'node-av' | 'ffmpeg';

/** Whether a build is older than two years (by the year of its release branch), or older than the patched release. */
export function olderThanTwoYears(v: BinaryVersion, now = new Date()): boolean {
  return isOutdated(v) || v.year === null || v.year < now.getUTCFullYear() - 2;
}

let avVersion: Promise<string | undefined> | undefined;

/** node-av's FFmpeg version, read once per process from a decoder child; undefined when it does not load here. */
export function nodeAvVersion(): Promise<string | undefined> {
  avVersion ??= (async () => {
    const pool = acquireAvPool();
    try {
      return await pool.version();
    } catch {
      return undefined;
    } finally {
      releaseAvPool();
    }
  })();
  return avVersion;
}

export interface DecoderReport {
  decoder: Decoder;
  /** node-av's FFmpeg version, or the binary's. */
  version: string;
  /** Where it comes from: node-av's platform package, or the binary's origin. */
  origin: string;
  /** Why this one: the option, the variable, or auto's reason. */
  why: string;
}

/** Where node-av's libraries come from. */
export const NODE_AV_ORIGIN = `node-av's platform package (@seydx/node-av-${process.platform}-${process.arch})`;

/** The decoder `decoder` (option, OMNIPREP_DECODER or auto) comes to, with its version, origin and why. */
export async function resolveDecoder(o: BinaryOptions & { decoder?: unknown } = {}): Promise<DecoderReport> {
  const choice = decoderChoice(o.decoder);
  const asked = o.decoder !== undefined ? `option decoder ${choice}` : process.env.OMNIPREP_DECODER ? `OMNIPREP_DECODER=${choice}` : 'auto';
  let bin: ResolvedBinary | undefined;
  let binVersion: BinaryVersion | undefined;
  const ffmpeg = async (why: string): Promise<DecoderReport> => {
    bin ??= resolveBinary('ffmpeg', o);
    binVersion ??= await binaryVersion(bin);
    return { decoder: 'ffmpeg', version: binVersion.version, origin: bin.origin, why };
  };
  if (choice === 'ffmpeg') return ffmpeg(asked);
  const av = await nodeAvVersion();
  if (choice === 'node-av') {
    if (!av) throw new OmniprepError('MISSING_PACKAGE', 'option decoder: node-av does not load here (npm install node-av)');
    return { decoder: 'node-av', version: av, origin: NODE_AV_ORIGIN, why: asked };
  }
  try {
    bin = resolveBinary('ffmpeg', o);
    binVersion = await binaryVersion(bin);
  } catch (e) {
    if (!av) throw e;
    return { decoder: 'node-av', version: av, origin: NODE_AV_ORIGIN, why: 'auto: no ffmpeg binary runs here' };
  }
  if (bin.source === 'option' || bin.source === 'env') return ffmpeg(`auto: the ffmpeg binary was given (${bin.origin})`);
  if (!olderThanTwoYears(binVersion)) return ffmpeg(`auto: the ffmpeg binary is a recent build (${binVersion.year ?? binVersion.version})`);
  if (!av) return ffmpeg('auto: node-av does not load here, so the old ffmpeg binary decodes');
  return { decoder: 'node-av', version: av, origin: NODE_AV_ORIGIN, why: `auto: the ffmpeg binary is a ${binVersion.year ?? 'old'} build` };
}
