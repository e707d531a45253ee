/**
 * Silences from ffmpeg's `silencedetect` filter: the filter text, a parser for the lines it logs,
 * and a stand-alone scan (used when the source is already the PCM master; otherwise the scan
 * rides along the decode pass in master.ts).
 *
 * The filter runs with a short minimum duration (50 ms): ffmpeg 2018's detector splits a pause at
 * every single loud sample (a click), so short silences are joined across gaps of at most 10 ms
 * and only then held to `minSilenceSec` (mergeSilences in cuts.ts).
 */
import { FfmpegArgs } from '../ffmpeg/args.js';
import { resolveBinary, binaryVersion, type BinaryOptions } from '../ffmpeg/binaries.js';
import { runProcess } from '../ffmpeg/runner.js';
import { mergeSilences, type Silence } from './cuts.js';

/** Pauses split by at most this much are one pause. */
export const SILENCE_MERGE_GAP_SEC = 0.01;
/** The detector's own minimum duration: short, so pieces of a pause split by clicks are seen. */
export const DETECTOR_MIN_SEC = 0.05;

export function silenceFilter(silenceDb: number, minSilenceSec: number): string {
  return `silencedetect=noise=${silenceDb}dB:duration=${Math.min(DETECTOR_MIN_SEC, minSilenceSec)}`;
}

/** Collects `silence_start` / `silence_end` lines; times are offset by `offsetSec`. */
export class SilenceLog {
  private readonly found: Silence[] = [];
  private open: number | undefined;

  constructor(private readonly offsetSec = 0) {}

  /** Feed one stderr line (other lines are ignored). */
  line(text: string): void {
    const s = /silence_start:\s*(-?[\d.]+(?:e[-+]?\d+)?)/.exec(text);
    if (s) {
      this.open = Math.max(0, Number(s[1])) + this.offsetSec;
      return;
    }
    const e = /silence_end:\s*(-?[\d.]+(?:e[-+]?\d+)?)/.exec(text);
    if (e && this.open !== undefined) {
      this.found.push({ startSec: this.open, endSec: Number(e[1]) + this.offsetSec });
      this.open = undefined;
    }
  }

  /** The silences, raw. A silence still open when the stream ended lasts until `endSec` (old builds do not close it). */
  raw(endSec: number): Silence[] {
    const out = [...this.found];
    if (this.open !== undefined && endSec > this.open) out.push({ startSec: this.open, endSec });
    return out;
  }

  /**
   * While the stream is still being read, up to `sec`: the silences that can no longer change
   * (joined, ended before `sec`, at least `minSilenceSec` long), and where the first one that may
   * still grow or join the next starts.
   */
  settledAt(sec: number, minSilenceSec: number): { closed: Silence[]; openFromSec: number } {
    const raw = [...this.found];
    if (this.open !== undefined) raw.push({ startSec: this.open, endSec: Infinity });
    const joined = mergeSilences(raw, { gapSec: SILENCE_MERGE_GAP_SEC });
    const closed: Silence[] = [];
    let openFromSec = Infinity;
    for (const s of joined) {
      if (s.endSec + SILENCE_MERGE_GAP_SEC >= sec) {
        openFromSec = Math.min(openFromSec, s.startSec);
      } else if (s.endSec - s.startSec >= minSilenceSec - 1e-9) {
        closed.push(s);
      }
    }
    return { closed, openFromSec };
  }

  /** The silences joined across clicks and held to the minimum duration. */
  silences(endSec: number, minSilenceSec: number): Silence[] {
    return mergeSilences(this.raw(endSec), { gapSec: SILENCE_MERGE_GAP_SEC, minSec: minSilenceSec });
  }
}

/** Parses a whole silencedetect log (pure; for tests and tools). */
export function parseSilenceLog(text: string, endSec: number, minSilenceSec = 0): Silence[] {
  const log = new SilenceLog();
  for (const line of text.split(/\r?\n/)) log.line(line);
  return log.silences(endSec, minSilenceSec);
}

export interface DetectOptions extends BinaryOptions {
  /** Stream to scan (`0:<index>`). */
  streamSpec: string;
  silenceDb: number;
  minSilenceSec: number;
  /** Where the audio ends (closes a silence still open at the end). */
  endSec: number;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Scans a file for silences (decoding its audio once, at one thread). */
export async function detectSilences(path: string, input: string, o: DetectOptions): Promise<Silence[]> {
  const ffmpeg = resolveBinary('ffmpeg', o);
  const version = await binaryVersion(ffmpeg);
  const args = new FfmpegArgs(version, { logLevel: 'info' })
    .input(path, { threads: 1 })
    .map(o.streamSpec)
    .noVideo()
    .noSubtitles()
    .audioFilters([silenceFilter(o.silenceDb, o.minSilenceSec)])
    .output('-', { format: 'null', extra: ['-nostats'] })
    .toArgs();
  const log = new SilenceLog();
  await runProcess({ command: ffmpeg.path, args, input, timeoutMs: o.timeoutMs, signal: o.signal, onStderrLine: (l) => log.line(l) });
  return log.silences(o.endSec, o.minSilenceSec);
}
