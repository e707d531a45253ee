/**
 * chunkAudio(input, options): the audio stream of any audio or video file, cut at silences within
 * a length and a byte limit, encoded for the API, written to `outDir` with a manifest.
 *
 *   probe -> (stream copy, when the source already is the asked encoding and fits in one chunk)
 *         -> PCM master + silences (one decode pass, master.ts)
 *         -> cut plan (pure, cuts.ts), chunk by chunk as the pass settles them
 *         -> chunks encoded in parallel while the pass goes on, one single-threaded ffmpeg each
 *            (encode.ts), as many at once as there are cores
 *         -> sizes checked; a chunk over maxBytes is cut shorter and the rest re-planned
 *         -> tokens from the registry -> files moved from a temporary directory into outDir
 *
 * Nothing is left behind on failure: work happens in a temporary directory (removed whatever
 * happens), outDir is created only once every chunk is written, and the first failing process
 * stops the others.
 */
import { isRemoteInput, remoteOptions, RemoteInput, type RemoteReport } from '../source/remote.js';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { inputError, invalidOption, OmniprepError } from '../errors.js';
import { resolveLimits } from '../limits.js';
import type { ModelEntry } from '../models/registry.js';
import { audioTokens } from '../models/tokens.js';
import { probe } from '../probe/probe.js';
import type { MediaInfo } from '../probe/types.js';
import type { AudioAsset } from '../request/types.js';
import { makeTempDir } from '../util/temp.js';
import { finalChunks, planAudioCuts, type ChunkBounds, type CutReason } from './cuts.js';
import { copyStream, decodedSamples, encodeChunk, type ProcessCommon } from './encode.js';
import { copyableSource, sizeModel, WAV_HEADER_BYTES, type SizeModel } from './encoding.js';
import { startMaster, wavDataRange, type MasterJob, type PcmMaster } from './master.js';
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
  /**
   * Wall-clock milliseconds: all; the decode pass; from the start of the work to the last chunk
   * (the two overlap); and how many chunks started encoding before the decode pass ended.
   */
  timings: { totalMs: number; masterMs: number; encodeMs: number; chunksDuringDecode: number };
  /** http(s) inputs: read by ranges or whole, bytes fetched and requests made. */
  remote?: RemoteReport | undefined;
}

/** Internal knobs for tests: a size model that misjudges the encoder, to exercise the re-cut path. */
export interface ChunkAudioHooks {
  sizeModel?: SizeModel;
  /** A local copy to read for `input` (a remote input's sparse copy: src/source/remote.ts). */
  source?: string;
}

interface Written extends ChunkBounds {
  /** Name in the temporary directory (the final name is given when publishing). */
  tempFile: string;
  bytes: number;
  method: 'copy' | 'encode';
  recut?: number;
}

/** `chunk-007.mp3`: numbered from 0, at least 3 digits, all names one width. */
function fileName(index: number, count: number, format: AudioFormat): string {
  return `chunk-${String(index).padStart(Math.max(3, String(count - 1).length), '0')}.${format}`;
}

const tempName = (index: number, format: AudioFormat): string => `part-${index}.${format}`;

/** Tasks added over time under one concurrency bound; the first failure aborts the others and is what drain() throws. */
class Crew {
  private readonly limit: LimitFunction;
  private readonly tasks: Array<Promise<unknown>> = [];
  private first: unknown;

  constructor(
    limit: LimitFunction,
    private readonly ac: AbortController,
  ) {
    this.limit = limit;
  }

  /** Runs `task` under the limit once `ready` has resolved (waiting does not hold a slot). */
  add<T>(task: () => Promise<T>, ready: Promise<unknown> = Promise.resolve()): Promise<T> {
    const guarded = async (): Promise<T> => {
      if (this.ac.signal.aborted) throw this.first ?? new OmniprepError('ABORTED', 'stopped');
      try {
        return await task();
      } catch (e) {
        this.fail(e);
        throw e;
      }
    };
    const p = ready.then(
      () => this.limit(guarded),
      (e: unknown) => {
        this.fail(e);
        throw e;
      },
    );
    p.catch(() => {});
    this.tasks.push(p);
    return p;
  }

  fail(e: unknown): void {
    if (this.first !== undefined) return;
    this.first = e;
    this.ac.abort();
  }

  /** Waits for every task (including ones added meanwhile); throws the first failure. */
  async drain(): Promise<void> {
    for (let seen = 0; seen < this.tasks.length; ) {
      const batch = this.tasks.slice(seen);
      seen = this.tasks.length;
      await Promise.allSettled(batch);
    }
    if (this.first !== undefined) throw this.first;
  }
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
  const tempFile = tempName(0, enc.format);
  const path = join(dir, tempFile);
  await copyStream(info.path, `0:${info.audio!.index}`, enc, path, info.input, o);
  const bytes = (await stat(path)).size;
  const samples =
    enc.format === 'wav' ? Math.floor((await wavDataRange(path)).bytes / (2 * enc.channels)) : await decodedSamples(path, enc.channels, info.input, o);
  const endSec = samples / enc.sampleRate;
  if (samples > 0 && bytes <= cuts.maxBytes && endSec <= cuts.chunkSeconds) {
    return { index: 0, tempFile, startSec: 0, endSec, overlapSec: 0, cut: 'end', bytes, method: 'copy' };
  }
  await rm(path, { force: true });
  return undefined;
}

const sameBounds = (a: ChunkBounds, b: ChunkBounds | undefined): boolean =>
  b !== undefined && a.index === b.index && a.startSec === b.startSec && a.endSec === b.endSec && a.cut === b.cut;

/**
 * Plans and encodes the chunks while the master is being made (see master.ts: a chunk starts as
 * soon as it is final and its samples are on disk), then re-cuts any chunk whose file is over
 * maxBytes (at most 3 rounds).
 */
async function encodeFromMaster(
  info: MediaInfo,
  job: MasterJob,
  enc: AudioEncoding,
  cuts: AudioCuts,
  limit: ChunkLimit,
  dir: string,
  crew: Crew,
  o: ProcessCommon,
): Promise<{ master: PcmMaster; written: Written[]; duringDecode: number }> {
  const sr = enc.sampleRate;
  const plan = (
    endSec: number,
    silences: PcmMaster['silences'],
    maxChunkSec: number,
    from?: { index: number; startSec: number; prevCutSec: number },
  ): ChunkBounds[] => planAudioCuts({ ...cutParams(maxChunkSec), endSec, silences, from });
  // A re-cut (maxChunkSec shrunk below the limit) joins a short last piece only within the shrunk length.
  const cutParams = (maxChunkSec: number) => ({
    sampleRate: sr,
    maxChunkSec,
    overlapSec: cuts.overlapSec,
    searchSec: cuts.searchSec,
    tailSec: limit.tailSec,
    maxMergedSec: maxChunkSec < limit.seconds ? maxChunkSec : limit.mergedSec,
  });

  const encode = (b: ChunkBounds, toEnd: boolean, recut?: number): Promise<Written> =>
    crew.add(
      async () => {
        const tempFile = tempName(b.index, enc.format);
        const path = join(dir, tempFile);
        await encodeChunk({ path: job.path, streamSpec: job.streamSpec }, b.startSec, toEnd ? undefined : b.endSec, enc, path, info.input, o);
        const bytes = (await stat(path)).size;
        if (enc.format === 'wav') {
          const want = samplesOf(b, sr);
          const got = Math.floor((bytes - WAV_HEADER_BYTES) / (2 * enc.channels));
          if (got !== want) throw inputError('PROCESS_FAILED', info.input, `chunk ${b.index} came out with ${got} samples instead of ${want}`);
        }
        return { ...b, tempFile, bytes, method: 'encode', ...(recut !== undefined ? { recut } : {}) };
      },
      job.waitForSamples(Math.round(b.endSec * sr) + sr),
    ); // a second past the end: the demuxer reads whole packets

  // While the pass runs: start every chunk that is final.
  const early: Array<{ bounds: ChunkBounds; written: Promise<Written> }> = [];
  job.onProgress(() => {
    if (o.signal?.aborted) return;
    const s = job.settled();
    const final = finalChunks({ ...cutParams(limit.seconds), endSec: s.sec, silences: s.silences }, s.openFromSec);
    for (let i = early.length; i < final.length; i++) early.push({ bounds: final[i]!, written: encode(final[i]!, false) });
  });
  let master: PcmMaster;
  try {
    master = await job.done;
  } catch (e) {
    crew.fail(e);
    await crew.drain().catch(() => {});
    throw e;
  }

  let bounds = plan(master.endSec, master.silences, limit.seconds);
  early.forEach((e, i) => {
    if (!sameBounds(e.bounds, bounds[i])) {
      crew.fail(
        inputError(
          'PROCESS_FAILED',
          info.input,
          `internal error: chunk ${i} was planned at ${e.bounds.startSec}-${e.bounds.endSec} s during the decode, at ${bounds[i]?.startSec}-${bounds[i]?.endSec} s after it`,
        ),
      );
    }
  });
  const pending = bounds.slice(early.length).map((b) => encode(b, b === bounds[bounds.length - 1]));
  await crew.drain();
  let written = await Promise.all([...early.map((e) => e.written), ...pending]);

  let maxChunkSec = limit.seconds;
  for (let round = 1; ; round++) {
    const k = written.findIndex((w) => w.bytes > cuts.maxBytes);
    if (k < 0) return { master, written, duringDecode: early.length };
    const over = written[k]!;
    if (round > 3) {
      throw inputError('LIMIT_EXCEEDED', info.input, `chunk ${over.index} is ${over.bytes} bytes, over the ${cuts.maxBytes}-byte limit, after 3 shorter cuts`);
    }
    // Shrink the length limit by the measured excess (and 1% more), then plan again from that chunk.
    maxChunkSec = Math.min(maxChunkSec, (over.endSec - over.startSec) * (cuts.maxBytes / over.bytes) * 0.99);
    if (cuts.overlapSec > maxChunkSec / 2) {
      throw inputError(
        'LIMIT_EXCEEDED',
        info.input,
        `chunks must be shorter than ${maxChunkSec.toFixed(3)} s to stay under ${cuts.maxBytes} bytes, too short for a ${cuts.overlapSec} s overlap`,
      );
    }
    const prevCutSec = k > 0 ? bounds[k - 1]!.endSec : over.startSec;
    const tail = plan(master.endSec, master.silences, maxChunkSec, { index: over.index, startSec: over.startSec, prevCutSec });
    await Promise.all(written.slice(k).map((w) => rm(join(dir, w.tempFile), { force: true })));
    bounds = [...bounds.slice(0, k), ...tail];
    const again = tail.map((b, i) => encode(b, i === tail.length - 1, b.index === over.index ? round : undefined));
    await crew.drain();
    written = [...written.slice(0, k), ...(await Promise.all(again))];
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
      file: fileName(w.index, written.length, enc.format),
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
async function publish(dir: string, written: Written[], outDir: string, manifest: AudioManifest): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const old = await previousChunkFiles(outDir);
  const files = manifest.chunks.map((c) => c.file);
  for (let i = 0; i < files.length; i++) await moveFile(join(dir, written[i]!.tempFile), join(outDir, files[i]!));
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
export async function chunkAudio(input: string, options: ChunkAudioOptions): Promise<ChunkAudioResult> {
  if (isRemoteInput(input)) {
    // A URL: only the audio track's packets are fetched (src/source/remote.ts).
    const remote = await RemoteInput.open(input, remoteOptions(options));
    try {
      // Planned (the facts given): the sparse copy is the file they describe; nothing is probed.
      const info = options.info
        ? { ...options.info, input, path: remote.path }
        : await probe(remote.path, { ffprobePath: options.ffprobePath, limits: options.limits, signal: options.signal, inputName: input });
      if (info.audio) await remote.fetchStream(info.audio.index);
      return { ...(await chunkAudioWith(input, { ...options, info }, { source: remote.path })), remote: remote.report() };
    } finally {
      await remote.close();
    }
  }
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

  const info =
    options.info ??
    (await probe(hooks.source ?? input, {
      ffmpegPath: options.ffmpegPath,
      ffprobePath: options.ffprobePath,
      limits: options.limits,
      signal: options.signal,
      inputName: hooks.source ? input : undefined,
    }));
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
    let chunksDuringDecode = 0;
    const metaEnd = metadataAudioEnd(info);
    if ((options.copy ?? true) && copyableSource(info, enc) && metaEnd <= limit.seconds && info.sizeBytes <= cuts.maxBytes) {
      const copied = await tryCopy(info, enc, cuts, tmp.path, common);
      if (copied) written = [copied];
    }
    if (!written) {
      const crew = new Crew(options.limiter ?? pLimit(concurrency), ac);
      const scanSource = metaEnd + 1 > limit.seconds; // a WAV's length is exact: one chunk needs no scan
      const job = startMaster(info, enc, tmp.path, { ...common, silenceDb: cuts.silenceDb, minSilenceSec: cuts.minSilenceSec, scanSource });
      const report = options.onProgress;
      if (report) job.onProgress(() => report(Math.min(job.settled().sec, metaEnd), metaEnd));
      let { master, written: w, duringDecode } = await encodeFromMaster(info, job, enc, cuts, limit, tmp.path, crew, common);
      chunksDuringDecode = duringDecode;
      if (!master.scanned && w.length > 1) {
        // The metadata understated the length: scan the source now and cut again.
        master = {
          ...master,
          scanned: true,
          silences: await detectSilences(master.path, input, {
            ...common,
            streamSpec: master.streamSpec,
            silenceDb: cuts.silenceDb,
            minSilenceSec: cuts.minSilenceSec,
            endSec: master.endSec,
          }),
        };
        await Promise.all(w.map((x) => rm(join(tmp.path, x.tempFile), { force: true })));
        const done: MasterJob = { ...job, done: Promise.resolve(master) };
        w = (await encodeFromMaster(info, done, enc, cuts, limit, tmp.path, crew, common)).written;
      }
      masterMs = master.ms;
      if (master.scanned) silences = master.silences.length;
      written = w;
    }
    const encodeMs = performance.now() - encodeStarted;
    const manifest = toManifest(info, model, enc, cuts, limit, silences, written);
    options.onProgress?.(manifest.durationSec, manifest.durationSec);
    await publish(tmp.path, written, outDir, manifest);
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
      timings: { totalMs: performance.now() - started, masterMs, encodeMs, chunksDuringDecode },
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    tmp.remove();
  }
}
