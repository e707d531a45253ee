/**
 * The PCM master: the source's audio stream decoded once, in order, to 16-bit PCM WAV at the
 * output rate and channel count, in a temporary directory; `silencedetect` runs in the same pass.
 * Every chunk is then cut from the master, where `-ss`/`-t` are exact to the sample.
 *
 * Why not cut the source directly: after a seek, some decoders (Vorbis in WebM measured here) hand
 * out their first packets shifted by 10-20 ms against the packet times, so chunks cut by seeking
 * the source miss or repeat audio at every junction. A single decode in order has no seeks.
 *
 * The timeline starts at 0, the start of the container: `aresample=async=1:first_pts=0` fills a
 * late audio start (WebM audio often starts 40 ms in) and any gap over 0.1 s with silence, so a
 * time in a chunk is the same time in the video.
 *
 * When the source already is such a WAV (starting at 0), it is its own master and only the
 * silence scan runs.
 *
 * The pass is watched while it runs, so chunks can be encoded before it ends: ffmpeg's progress
 * lines (`time=`) and silencedetect's lines come in order on one stream, so when progress says
 * time X, every silence that starts before X - 1 s has been logged. A chunk whose limit lies
 * before that point, and whose window no silence still open (or still growing) reaches into, is
 * final: the whole-file plan would cut it at the same sample. Its encoder starts once the
 * master's bytes on disk cover it.
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError } from '../errors.js';
import { FfmpegArgs } from '../ffmpeg/args.js';
import { binaryVersion, resolveBinary, type BinaryOptions } from '../ffmpeg/binaries.js';
import { runProcess } from '../ffmpeg/runner.js';
import type { MediaInfo } from '../probe/types.js';
import type { Silence } from './cuts.js';
import { BITEXACT, isTargetPcm } from './encoding.js';
import type { AudioEncoding } from './options.js';
import { detectSilences, SilenceLog, silenceFilter } from './silence.js';

export interface PcmMaster {
  /** The WAV to cut from (the source itself, or a file in the temporary directory). */
  path: string;
  /** Its audio stream, for `-map`. */
  streamSpec: string;
  /** Whether the master is the source file. */
  isSource: boolean;
  /** Samples in the master, and where they end on the timeline. */
  samples: number;
  endSec: number;
  /** Silences found (empty when there was no scan). */
  silences: Silence[];
  /** Whether silences were looked for. */
  scanned: boolean;
  /** Milliseconds the pass took. */
  ms: number;
}

export interface MasterOptions extends BinaryOptions {
  silenceDb: number;
  minSilenceSec: number;
  /** Whether to scan a source that is its own master (the decode pass always scans: it costs little there). */
  scanSource: boolean;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** What is known while the master is being made. */
export interface Settled {
  /** Audio up to here is decoded and every silence starting before it has been logged. */
  sec: number;
  /** Silences (joined, at least minSilenceSec) that ended before `sec`: they cannot change any more. */
  silences: Silence[];
  /** Where the first silence that may still grow or join another starts (Infinity: none). */
  openFromSec: number;
}

export interface MasterJob {
  path: string;
  streamSpec: string;
  isSource: boolean;
  /** The finished master. Rejects with the pass's OmniprepError. */
  done: Promise<PcmMaster>;
  /** Called whenever the pass reports progress. */
  onProgress(listener: () => void): void;
  settled(): Settled;
  /** Resolves once the master file holds this many samples, or is complete. */
  waitForSamples(samples: number): Promise<void>;
}

/** How far behind ffmpeg's reported time the settled point is kept (silencedetect logs a start 50 ms late, resampling delays a little). */
const PROGRESS_GUARD_SEC = 1;
const POLL_MS = 20;

/** Where the sample data of a WAV starts and how long it is (RIFF or RF64; a WAV still being written has no sizes yet). */
export async function wavDataRange(path: string): Promise<{ offset: number; bytes: number }> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const size = (await fh.stat()).size;
    let rf64Data: number | undefined;
    for (let o = 12; o + 8 <= bytesRead; ) {
      const id = head.toString('latin1', o, o + 4);
      const len = head.readUInt32LE(o + 4);
      if (id === 'ds64' && o + 24 <= bytesRead) rf64Data = Number(head.readBigUInt64LE(o + 16));
      if (id === 'data') {
        const offset = o + 8;
        const declared = len === 0xffffffff && rf64Data !== undefined ? rf64Data : len;
        return { offset, bytes: Math.min(declared, size - offset) };
      }
      o += 8 + len + (len & 1);
    }
  } finally {
    await fh.close();
  }
  throw new Error(`${path}: no data chunk in the first 4 KiB`);
}

/** `time=01:02:03.45` in an ffmpeg progress line, in seconds. */
export function progressTime(line: string): number | undefined {
  const m = /time=\s*(\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(line);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

/** A source that is its own master: nothing to decode; silences from one scan when asked. */
function sourceJob(info: MediaInfo, enc: AudioEncoding, o: MasterOptions): MasterJob {
  const started = performance.now();
  const streamSpec = `0:${info.audio!.index}`;
  const done = (async (): Promise<PcmMaster> => {
    const { bytes } = await wavDataRange(info.path);
    const samples = Math.floor(bytes / (2 * enc.channels));
    const endSec = samples / enc.sampleRate;
    const silences = o.scanSource && samples > 0 ? await detectSilences(info.path, info.input, { ...o, streamSpec, endSec }) : [];
    return { path: info.path, streamSpec, isSource: true, samples, endSec, silences, scanned: o.scanSource, ms: performance.now() - started };
  })();
  return {
    path: info.path,
    streamSpec,
    isSource: true,
    done,
    onProgress: () => {},
    settled: () => ({ sec: 0, silences: [], openFromSec: 0 }),
    waitForSamples: () => done.then(() => undefined),
  };
}

/** Starts the decode pass (or adopts the source); see the top of this file. */
export function startMaster(info: MediaInfo, enc: AudioEncoding, dir: string, o: MasterOptions): MasterJob {
  if (isTargetPcm(info, enc)) return sourceJob(info, enc, o);
  const started = performance.now();
  const path = join(dir, 'master.wav');
  const frameBytes = 2 * enc.channels;
  const log = new SilenceLog();
  const listeners: Array<() => void> = [];
  let reportedSec = 0;
  let finished = false;
  let failed: unknown;
  let dataOffset: number | undefined;
  const waiters: Array<{ bytes: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  let poll: NodeJS.Timeout | undefined;

  const settleWaiters = async (): Promise<void> => {
    if (failed !== undefined) {
      for (const w of waiters.splice(0)) w.reject(failed);
    } else if (finished) {
      for (const w of waiters.splice(0)) w.resolve();
    } else {
      let size = 0;
      try {
        size = (await stat(path)).size;
        if (dataOffset === undefined && size >= 4096) dataOffset = (await wavDataRange(path)).offset;
      } catch {
        return; // not there yet
      }
      if (dataOffset === undefined) return;
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (dataOffset + waiters[i]!.bytes <= size) waiters.splice(i, 1)[0]!.resolve();
      }
    }
    if (!waiters.length && poll) {
      clearInterval(poll);
      poll = undefined;
    }
  };

  const done = (async (): Promise<PcmMaster> => {
    const ffmpeg = resolveBinary('ffmpeg', o);
    const version = await binaryVersion(ffmpeg);
    const layout = enc.channels === 1 ? 'mono' : 'stereo';
    const args = new FfmpegArgs(version, { logLevel: 'info' })
      .input(info.path, { threads: 1 })
      .map(`0:${info.audio!.index}`)
      .noVideo()
      .noSubtitles()
      .threads(1)
      .audioFilters([
        `aresample=${enc.sampleRate}:async=1:first_pts=0`,
        `aformat=sample_fmts=s16:channel_layouts=${layout}`,
        silenceFilter(o.silenceDb, o.minSilenceSec),
      ])
      .output(path, { format: 'wav', codec: 'pcm_s16le', extra: ['-ar', String(enc.sampleRate), '-ac', String(enc.channels), '-rf64', 'auto', ...BITEXACT] })
      .toArgs();
    await runProcess({
      command: ffmpeg.path,
      args,
      input: info.input,
      timeoutMs: o.timeoutMs,
      signal: o.signal,
      onStderrLine: (line) => {
        const t = progressTime(line);
        if (t === undefined) {
          log.line(line);
          return;
        }
        if (t > reportedSec) {
          reportedSec = t;
          for (const l of listeners) l();
        }
      },
    });
    const { bytes } = await wavDataRange(path);
    const samples = Math.floor(bytes / frameBytes);
    if (samples === 0) throw inputError('NO_AUDIO_STREAM', info.input, 'has an audio stream with no decodable samples');
    const endSec = samples / enc.sampleRate;
    return {
      path,
      streamSpec: '0:a:0',
      isSource: false,
      samples,
      endSec,
      silences: log.silences(endSec, o.minSilenceSec),
      scanned: true,
      ms: performance.now() - started,
    };
  })();
  done.then(
    () => {
      finished = true;
      void settleWaiters();
    },
    (e: unknown) => {
      failed = e;
      void settleWaiters();
    },
  );

  return {
    path,
    streamSpec: '0:a:0',
    isSource: false,
    done,
    onProgress: (l) => void listeners.push(l),
    settled: () => {
      const sec = Math.max(0, reportedSec - PROGRESS_GUARD_SEC);
      const { closed, openFromSec } = log.settledAt(sec, o.minSilenceSec);
      return { sec, silences: closed, openFromSec };
    },
    waitForSamples: (samples) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ bytes: samples * frameBytes, resolve, reject });
        poll ??= setInterval(() => void settleWaiters(), POLL_MS);
        void settleWaiters();
      }),
  };
}
