/**
 * chunkAudio(input, options): the audio stream of any audio or video file, cut at silences within
 * a length and a byte limit, encoded for the API, written to `outDir` with a manifest.
 *
 *   probe -> (stream copy, when the source already is the asked encoding and fits in one chunk)
 *         -> PCM master + silences (one decode pass, master.ts)
 *         -> cut plan (pure, cuts.ts)
 *         -> chunks encoded in parallel, one single-threaded ffmpeg each (encode.ts)
 *         -> sizes checked; a chunk over maxBytes is cut shorter and the rest re-planned
 *         -> tokens from the registry -> files moved from a temporary directory into outDir
 *
 * Nothing is left behind on failure: work happens in a temporary directory (removed whatever
 * happens), outDir is created only once every chunk is written, and the first failing process
 * stops the others.
 */
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { inputError, invalidOption, OmniprepError } from '../errors.js';
import { resolveLimits } from '../limits.js';
import type { ModelEntry } from '../models/registry.js';
import { audioTokens } from '../models/tokens.js';
import { probe } from '../probe/probe.js';
import type { MediaInfo } from '../probe/types.js';
import type { AudioAsset } from '../request/types.js';
import { makeTempDir } from '../util/temp.js';
import { planAudioCuts, type ChunkBounds, type CutReason } from './cuts.js';
import { copyStream, decodedSamples, encodeChunk, type ProcessCommon } from './encode.js';
import { copyableSource, sizeModel, type SizeModel } from './encoding.js';
import { makeMaster, wavDataRange, type PcmMaster } from './master.js';
import { detectSilences } from './silence.js';
import {
  resolveAudioModel,
  resolveConcurrency,
  resolveCuts,
  resolveEncoding,
  type AudioCuts,
  type AudioEncoding,
  type AudioFormat,
  type ChunkAudioOptions,
} from './options.js';
import { chunkLimit, metadataAudioEnd, samplesOf, totalsOf, type ChunkLimit } from './plan.js';

export const MANIFEST_FILE = 'manifest.json';

export interface AudioManifestChunk {
  index: number;
  /** File name, relative to the output directory. */
  file: string;
  /** Start and end on the source timeline, seconds (exact to the output sample). */
  startSec: number;
  endSec: number;
  durationSec: number;
  /** Seconds at the start that repeat the end of the previous chunk. */
  overlapSec: number;
  /** Size of the written file. */
  bytes: number;
  /** Audio input tokens for the manifest's model (overlap included: it is sent). */
  tokens: number;
  /** Why the chunk ends there: in a silence, at a limit (no silence near), or at the end of the audio. */
  cut: CutReason;
  /** `copy`: the source stream as it is (`-c copy`); `encode`: cut from the PCM master and encoded. */
  method: 'copy' | 'encode';
  /** Present when the written file was over maxBytes and the chunk was cut again, shorter. */
  recut?: number;
}

export interface AudioManifest {
  input: string;
  model: string;
  tokensPerSecond: number;
  format: AudioFormat;
  encoding: { codec: 'libmp3lame' | 'pcm_s16le'; sampleRate: number; channels: number; bitrate: number; mp3Quality?: number };
  /** Where the audio ends on the source timeline (it starts at 0, the start of the container). */
  durationSec: number;
  limits: AudioCuts & { maxChunkSec: number; boundBy: ChunkLimit['by'] };
  /** Silences found (of at least minSilenceSec); null when no scan was needed (one chunk). */
  silences: number | null;
  chunks: AudioManifestChunk[];
  totals: { chunks: number; seconds: number; bytes: number; tokens: number };
}

export interface ChunkAudioResult extends AudioManifest {
  /** Absolute output directory and manifest path. */
  outDir: string;
  manifestPath: string;
  /** The chunks as request-builder assets (absolute file paths). */
  assets: AudioAsset[];
  /** Wall-clock milliseconds: all, the decode pass, the encoders. */
  timings: { totalMs: number; masterMs: number; encodeMs: number };
}

/** Internal knobs for tests: a size model that misjudges the encoder, to exercise the re-cut path. */
export interface ChunkAudioHooks {
  sizeModel?: SizeModel;
}

interface Written extends ChunkBounds {
  file: string;
  bytes: number;
  method: 'copy' | 'encode';
  recut?: number;
}

const extOf = (f: AudioFormat): string => f;

function fileName(index: number, width: number, format: AudioFormat): string {
  return `chunk-${String(index).padStart(width, '0')}.${extOf(format)}`;
}

/** Runs tasks with a concurrency bound; the first failure aborts the rest and is the one thrown. */
async function runAll<T>(tasks: Array<() => Promise<T>>, concurrency: number, ac: AbortController): Promise<T[]> {
  const limit = pLimit(concurrency);
  let first: unknown;
  const settled = await Promise.allSettled(
    tasks.map((task) =>
      limit(async () => {
        if (ac.signal.aborted) throw new OmniprepError('ABORTED', 'stopped');
        try {
          return await task();
        } catch (e) {
          if (first === undefined) {
            first = e;
            ac.abort();
          }
          throw e;
        }
      }),
    ),
  );
  if (first !== undefined) throw first;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}

/** Chunk files an earlier run listed in outDir/manifest.json (they are replaced, not left stale). */
async function previousChunkFiles(outDir: string): Promise<string[]> {
  try {
    const old = JSON.parse(await readFile(join(outDir, MANIFEST_FILE), 'utf8')) as { chunks?: Array<{ file?: unknown }> };
    return (old.chunks ?? []).map((c) => c.file).filter((f): f is string => typeof f === 'string' && /^chunk-\d+\.(mp3|wav)$/.test(f));
  } catch {
    return [];
  }
}

async function checkOutDir(outDir: string): Promise<void> {
  try {
    if (!(await stat(outDir)).isDirectory()) throw invalidOption('outDir', 'a directory (or a path to create one at)', outDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
}

/** Tries the stream copy; returns undefined (and removes the file) when the copy does not fit the limits. */
async function tryCopy(info: MediaInfo, enc: AudioEncoding, cuts: AudioCuts, dir: string, o: ProcessCommon): Promise<Written | undefined> {
  const file = fileName(0, 3, enc.format);
  const path = join(dir, file);
  await copyStream(info.path, `0:${info.audio!.index}`, enc, path, info.input, o);
  const bytes = (await stat(path)).size;
  const samples =
    enc.format === 'wav'
      ? Math.floor((await wavDataRange(path)).bytes / (2 * enc.channels))
      : await decodedSamples(path, enc.channels, info.input, o);
  const endSec = samples / enc.sampleRate;
  if (samples > 0 && bytes <= cuts.maxBytes && endSec <= cuts.chunkSeconds) {
    return { index: 0, file, startSec: 0, endSec, overlapSec: 0, cut: 'end', bytes, method: 'copy' };
  }
  await rm(path, { force: true });
  return undefined;
}

/** Cuts and encodes from the master; re-cuts any chunk whose file is over maxBytes (at most 3 rounds). */
async function encodeFromMaster(
  info: MediaInfo,
  master: PcmMaster,
  enc: AudioEncoding,
  cuts: AudioCuts,
  limit: ChunkLimit,
  dir: string,
  concurrency: number,
  ac: AbortController,
  o: ProcessCommon,
): Promise<Written[]> {
  const plan = (maxChunkSec: number, from?: { index: number; startSec: number; prevCutSec: number }): ChunkBounds[] =>
    planAudioCuts({
      endSec: master.endSec,
      sampleRate: enc.sampleRate,
      maxChunkSec,
      overlapSec: cuts.overlapSec,
      searchSec: cuts.searchSec,
      silences: master.silences,
      from,
    });
  let bounds = plan(limit.seconds);
  // Names are fixed by the first plan's size; a re-cut adds chunks, so leave room.
  const width = Math.max(3, String(bounds.length * 2).length);
  const encodeAll = (list: ChunkBounds[], recut?: number): Promise<Written[]> =>
    runAll(
      list.map((b) => async (): Promise<Written> => {
        const file = fileName(b.index, width, enc.format);
        const path = join(dir, file);
        const last = Math.round(b.endSec * enc.sampleRate) >= master.samples;
        await encodeChunk(master, b.startSec, last ? undefined : b.endSec, enc, path, info.input, { ...o, signal: ac.signal });
        const bytes = (await stat(path)).size;
        if (enc.format === 'wav') {
          const want = samplesOf(b, enc.sampleRate);
          const got = Math.floor((bytes - 44) / (2 * enc.channels));
          if (got !== want) {
            throw inputError('PROCESS_FAILED', info.input, `chunk ${b.index} came out with ${got} samples instead of ${want}`);
          }
        }
        return { ...b, file, bytes, method: 'encode', ...(recut !== undefined && b.index === list[0]!.index ? { recut } : {}) };
      }),
      concurrency,
      ac,
    );

  let written = await encodeAll(bounds);
  let maxChunkSec = limit.seconds;
  for (let round = 1; ; round++) {
    const k = written.findIndex((w) => w.bytes > cuts.maxBytes);
    if (k < 0) return written;
    const over = written[k]!;
    if (round > 3) {
      throw inputError('LIMIT_EXCEEDED', info.input, `chunk ${over.index} is ${over.bytes} bytes, over the ${cuts.maxBytes}-byte limit, after 3 shorter cuts`);
    }
    // Shrink the length limit by the measured excess (and 1% more), then plan again from that chunk.
    maxChunkSec = Math.min(maxChunkSec, (over.endSec - over.startSec) * (cuts.maxBytes / over.bytes) * 0.99);
    if (cuts.overlapSec > maxChunkSec / 2) {
      throw inputError('LIMIT_EXCEEDED', info.input, `chunks must be shorter than ${maxChunkSec.toFixed(3)} s to stay under ${cuts.maxBytes} bytes, too short for a ${cuts.overlapSec} s overlap`);
    }
    const prevCutSec = k > 0 ? bounds[k - 1]!.endSec : over.startSec;
    const tail = plan(maxChunkSec, { index: over.index, startSec: over.startSec, prevCutSec });
    await Promise.all(written.slice(k).map((w) => rm(join(dir, w.file), { force: true })));
    bounds = [...bounds.slice(0, k), ...tail];
    written = [...written.slice(0, k), ...(await encodeAll(tail, round))];
  }
}

function toManifest(
  info: MediaInfo,
  model: ModelEntry,
  enc: AudioEncoding,
  cuts: AudioCuts,
  limit: ChunkLimit,
  silences: number | null,
  written: Written[],
): AudioManifest {
  const chunks: AudioManifestChunk[] = written.map((w) => {
    const durationSec = samplesOf(w, enc.sampleRate) / enc.sampleRate;
    return {
      index: w.index,
      file: w.file,
      startSec: w.startSec,
      endSec: w.endSec,
      durationSec,
      overlapSec: w.overlapSec,
      bytes: w.bytes,
      tokens: audioTokens(model, durationSec),
      cut: w.cut,
      method: w.method,
      ...(w.recut !== undefined ? { recut: w.recut } : {}),
    };
  });
  return {
    input: info.input,
    model: model.name,
    tokensPerSecond: model.audio!.tokensPerSecond,
    format: enc.format,
    encoding: {
      codec: enc.format === 'mp3' ? 'libmp3lame' : 'pcm_s16le',
      sampleRate: enc.sampleRate,
      channels: enc.channels,
      bitrate: enc.bitrate,
      ...(enc.format === 'mp3' ? { mp3Quality: enc.mp3Quality } : {}),
    },
    durationSec: chunks.length ? chunks[chunks.length - 1]!.endSec : 0,
    limits: { ...cuts, maxChunkSec: limit.seconds, boundBy: limit.by },
    silences,
    chunks,
    totals: totalsOf(chunks),
  };
}

/** Moves the chunks and the manifest from the temporary directory into outDir, replacing an earlier run's chunks. */
async function publish(dir: string, outDir: string, manifest: AudioManifest): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const old = await previousChunkFiles(outDir);
  const files = manifest.chunks.map((c) => c.file);
  for (const f of files) await moveFile(join(dir, f), join(outDir, f));
  for (const f of old) if (!files.includes(f)) await rm(join(outDir, f), { force: true });
  const tmpManifest = join(dir, MANIFEST_FILE);
  await writeFile(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`);
  await moveFile(tmpManifest, join(outDir, MANIFEST_FILE));
}

/**
 * Cuts the audio of `input` into chunks in `options.outDir` and writes `manifest.json` there.
 * Throws OmniprepError: NO_AUDIO_STREAM, the probe's errors for bad input, INVALID_OPTION for
 * bad options (checked before any work), TIMEOUT/ABORTED/PROCESS_FAILED from ffmpeg.
 */
export function chunkAudio(input: string, options: ChunkAudioOptions): Promise<ChunkAudioResult> {
  return chunkAudioWith(input, options, {});
}

/** chunkAudio with test hooks (not exported from the package). */
export async function chunkAudioWith(input: string, options: ChunkAudioOptions, hooks: ChunkAudioHooks): Promise<ChunkAudioResult> {
  const started = performance.now();
  if (!options || typeof options.outDir !== 'string' || !options.outDir) throw invalidOption('outDir', 'a directory path', options?.outDir);
  const enc = resolveEncoding(options);
  const cuts = resolveCuts(options);
  const model = resolveAudioModel(options.model, options);
  const concurrency = resolveConcurrency(options.concurrency);
  const limit = chunkLimit(enc, cuts, hooks.sizeModel ?? sizeModel(enc));
  const limits = resolveLimits(options.limits);
  const outDir = resolve(options.outDir);
  await checkOutDir(outDir);

  const info = await probe(input, { ffmpegPath: options.ffmpegPath, ffprobePath: options.ffprobePath, limits: options.limits, signal: options.signal });
  if (!info.audio || info.kind === 'image') throw inputError('NO_AUDIO_STREAM', input, 'has no audio stream');

  const ac = new AbortController();
  const onAbort = (): void => ac.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) ac.abort();
  const common: ProcessCommon = { ffmpegPath: options.ffmpegPath, ffprobePath: options.ffprobePath, timeoutMs: limits.processTimeoutMs, signal: ac.signal };
  const tmp = makeTempDir('omniprep-audio-');
  try {
    let masterMs = 0;
    const encodeStarted = performance.now();
    let written: Written[] | undefined;
    let silences: number | null = null;
    const metaEnd = metadataAudioEnd(info);
    if ((options.copy ?? true) && copyableSource(info, enc) && metaEnd <= limit.seconds && info.sizeBytes <= cuts.maxBytes) {
      const copied = await tryCopy(info, enc, cuts, tmp.path, common);
      if (copied) written = [copied];
    }
    let encodeMs = performance.now() - encodeStarted;
    if (!written) {
      // Scan for silences in the decode pass unless the metadata says one chunk holds it all.
      let master = await makeMaster(info, enc, tmp.path, { ...common, silenceDb: cuts.silenceDb, minSilenceSec: cuts.minSilenceSec, scan: metaEnd + 1 > limit.seconds });
      masterMs = master.ms;
      if (master.samples === 0) throw inputError('NO_AUDIO_STREAM', input, 'has an audio stream with no decodable samples');
      if (metaEnd + 1 > limit.seconds || master.endSec > limit.seconds) {
        if (metaEnd + 1 <= limit.seconds) {
          // The metadata understated the length: scan the master now.
          master = { ...master, silences: await detectSilences(master.path, input, { ...common, streamSpec: master.streamSpec, silenceDb: cuts.silenceDb, minSilenceSec: cuts.minSilenceSec, endSec: master.endSec }) };
        }
        silences = master.silences.length;
      }
      const t = performance.now();
      written = await encodeFromMaster(info, master, enc, cuts, limit, tmp.path, concurrency, ac, common);
      encodeMs = performance.now() - t;
    }
    const manifest = toManifest(info, model, enc, cuts, limit, silences, written);
    await publish(tmp.path, outDir, manifest);
    return {
      ...manifest,
      outDir,
      manifestPath: join(outDir, MANIFEST_FILE),
      assets: manifest.chunks.map((c) => ({
        index: c.index,
        startSec: c.startSec,
        endSec: c.endSec,
        format: manifest.format,
        file: join(outDir, c.file),
        tokens: c.tokens,
      })),
      timings: { totalMs: performance.now() - started, masterMs, encodeMs },
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    tmp.remove();
  }
}
