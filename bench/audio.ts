/**
 * Benchmark: one hour of audio from a video into 10-minute MP3 chunks.
 *
 *   npx tsx bench/audio.ts [--source FILE] [--runs N]
 *
 * The source is made once, by the runner, as /work/bench-media/echo-hour.webm (or under
 * $BENCH_MEDIA): ../shared/media/echo-hereweare.webm looped 81 times and cut at 3600 s, video and
 * audio stream-copied (VP8 480x270 + Vorbis 44.1 kHz stereo, 270 MB). Every method below uses the
 * same ffmpeg binary (the one src/ffmpeg/binaries.ts resolves), the same output (MP3 CBR 64 kbit/s,
 * 16 kHz mono, LAME quality 5) and the safe runner:
 *
 *   usual       the usual recipe: one ffmpeg per fixed 10-minute slice, `-ss T -t 600 -i SRC -vn`
 *               with re-encode, default threads, one after another;
 *   usual-x2    the same slices, two at a time (what parallelism alone buys);
 *   segment     one ffmpeg pass, `-f segment -segment_times 600,1200,...` (re-encoding once);
 *   chunkAudio  omniprep: one decode pass to a PCM master with silencedetect, cuts at silences,
 *               chunks encoded in parallel (one single-threaded ffmpeg per chunk, as many as cores).
 *
 * For each: wall time (the best of --runs), speed as a multiple of real time, peak RSS of this
 * process plus its descendants and of the ffmpeg descendants alone (sampled from /proc every
 * 25 ms), and exactness: every chunk is decoded again and
 * its real length compared with what it should hold (the usual recipe and the segment muxer: the
 * nominal slice; chunkAudio: its manifest), and the decoded total with the source's audio length.
 * Prints a JSON summary on stdout (progress on stderr), with the load average before and after:
 * other work on the machine slows every method down.
 *
 * Measured on 2 cores (AMD EPYC, Node 20, the 2018 static ffmpeg), best of 2 runs, other jobs
 * running on the machine (load average 4.1 before, 2.6 after):
 *
 *   method      wall     x real time  peak RSS (ffmpeg)  chunks  decoded total vs source  worst chunk
 *   chunkAudio  12.7 s   284x         58 MB              7       0 ms                     0 ms
 *   usual       22.0 s   163x         33 MB              7 *     +73 ms                   51 ms
 *   usual-x2    11.3 s   319x         50 MB              7 *     +73 ms                   51 ms
 *   segment     23.1 s   156x         33 MB              7 *     -141 ms                  57 ms
 *   (* the last slice, the 20 ms after 3600 s, is an MP3 ffmpeg cannot decode)
 *
 * chunkAudio is 1.7x faster than the usual recipe run the usual way and 1.8x faster than the
 * segment muxer; the usual recipe run two at a time is about 10% faster than chunkAudio (it skips
 * the master pass, about 8% of the CPU time) but loses or repeats up to 51 ms at its cuts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { chunkAudio } from '../src/audio/chunk.js';
import { decodedSamples } from '../src/audio/encode.js';
import { AUDIO_DEFAULTS } from '../src/audio/options.js';
import { FfmpegArgs } from '../src/ffmpeg/args.js';
import { binaryVersion, resolveBinary } from '../src/ffmpeg/binaries.js';
import { runProcess } from '../src/ffmpeg/runner.js';
import { probe } from '../src/probe/probe.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SHARED = join(ROOT, '..', 'shared', 'media', 'echo-hereweare.webm');
const MEDIA_DIR = process.env.BENCH_MEDIA ?? '/work/bench-media';
const SLICE = 600;
const HOUR = 3600;
const MP3 = [
  '-ac',
  '1',
  '-ar',
  String(AUDIO_DEFAULTS.sampleRate),
  '-c:a',
  'libmp3lame',
  '-b:a',
  String(AUDIO_DEFAULTS.bitrate),
  '-compression_level',
  String(AUDIO_DEFAULTS.mp3Quality),
];

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const log = (s: string): void => void process.stderr.write(`${s}\n`);

const ffmpeg = resolveBinary('ffmpeg');
const version = await binaryVersion(ffmpeg);

async function makeSource(): Promise<string> {
  const out = join(MEDIA_DIR, 'echo-hour.webm');
  if (existsSync(out)) return out;
  if (!existsSync(SHARED)) throw new Error(`${SHARED} is missing: pass --source FILE`);
  mkdirSync(MEDIA_DIR, { recursive: true });
  log(`making ${out} (once)...`);
  const tmp = `${out}.partial.webm`;
  // -stream_loop is outside what the FfmpegArgs builder offers; the input is our own copy of a known file.
  await runProcess({
    command: ffmpeg.path,
    args: [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-stream_loop',
      '80',
      '-protocol_whitelist',
      'file',
      '-i',
      `file:${SHARED}`,
      '-t',
      String(HOUR),
      '-c',
      'copy',
      `file:${tmp}`,
    ],
    input: SHARED,
    timeoutMs: 10 * 60_000,
  });
  const { renameSync } = await import('node:fs');
  renameSync(tmp, out);
  return out;
}

/** Pids of this process and all its descendants (/proc/PID/task/TID/children, cheap to read). */
function tree(root: number): number[] {
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tasks) {
      try {
        for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ')) if (c.trim()) stack.push(Number(c));
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

/**
 * Peak RSS (bytes) while `fn` runs, sampled every 25 ms: of this process with all its descendants,
 * and of the descendants alone (the ffmpeg processes).
 */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakRss: number; peakChildrenRss: number }> {
  const rssOf = (pid: number): number => {
    try {
      return Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * 4096;
    } catch {
      return 0;
    }
  };
  let peak = 0;
  let peakChildren = 0;
  const sample = (): void => {
    const pids = tree(process.pid);
    const children = pids.slice(1).reduce((sum, pid) => sum + rssOf(pid), 0);
    peak = Math.max(peak, children + rssOf(process.pid));
    peakChildren = Math.max(peakChildren, children);
  };
  sample();
  const timer = setInterval(sample, 25);
  try {
    const value = await fn();
    sample();
    return { value, peakRss: peak, peakChildrenRss: peakChildren };
  } finally {
    clearInterval(timer);
  }
}

interface Outcome {
  files: string[];
  /** What each file should hold, seconds. */
  expected: number[];
}

async function usual(src: string, dir: string, duration: number, parallel: number): Promise<Outcome> {
  const n = Math.ceil(duration / SLICE - 1e-9);
  const files = Array.from({ length: n }, (_, i) => join(dir, `usual-${i}.mp3`));
  const limit = pLimit(parallel);
  await Promise.all(
    files.map((file, i) =>
      limit(() =>
        runProcess({
          command: ffmpeg.path,
          args: new FfmpegArgs(version)
            .input(src, { seekSec: i * SLICE, durationSec: SLICE })
            .noVideo()
            .output(file, { extra: MP3 })
            .toArgs(),
          input: src,
        }),
      ),
    ),
  );
  return { files, expected: files.map((_, i) => Math.min(SLICE, duration - i * SLICE)) };
}

async function segment(src: string, dir: string, duration: number, audioIndex: number): Promise<Outcome> {
  const n = Math.ceil(duration / SLICE - 1e-9);
  const times = Array.from({ length: n - 1 }, (_, i) => (i + 1) * SLICE).join(',');
  await runProcess({
    command: ffmpeg.path,
    args: new FfmpegArgs(version)
      .input(src)
      .map(`0:${audioIndex}`)
      .noVideo()
      .output(join(dir, 'seg-%03d.mp3'), { format: 'segment', extra: [...MP3, '-segment_times', times, '-reset_timestamps', '1'] })
      .toArgs(),
    input: src,
  });
  const files = readdirSync(dir)
    .filter((f) => f.startsWith('seg-'))
    .sort()
    .map((f) => join(dir, f));
  return { files, expected: files.map((_, i) => Math.min(SLICE, duration - i * SLICE)) };
}

/** Decodes every file: real lengths, and how far each is from what it should hold. A file that does not decode counts as 0 s. */
async function exactness(o: Outcome, sourceAudioSec: number) {
  const limit = pLimit(availableParallelism());
  let undecodable = 0;
  const real = await Promise.all(
    o.files.map((f) =>
      limit(async () => {
        try {
          return (await decodedSamples(f, 1, f, {})) / AUDIO_DEFAULTS.sampleRate;
        } catch {
          undecodable++;
          return 0;
        }
      }),
    ),
  );
  const decodedSec = real.reduce((a, b) => a + b, 0);
  return {
    chunks: o.files.length,
    undecodable,
    decodedSec: Math.round(decodedSec * 1e4) / 1e4,
    totalErrorMs: Math.round((decodedSec - sourceAudioSec) * 1e4) / 10,
    worstChunkErrorMs: Math.round(Math.max(...real.map((r, i) => Math.abs(r - o.expected[i]!))) * 1e4) / 10,
    bytes: o.files.reduce((a, f) => a + statSync(f).size, 0),
  };
}

const loadBefore = loadavg();
const src = arg('--source') ?? (await makeSource());
const runs = Number(arg('--runs') ?? 1);
const info = await probe(src);
if (!info.audio) throw new Error(`${src} has no audio`);
const duration = info.durationSec;
log(
  `source ${src}: ${duration.toFixed(2)} s, ${info.video ? `${info.video.codec} ${info.video.width}x${info.video.height} + ` : ''}${info.audio.codec} ${info.audio.sampleRate} Hz ${info.audio.channels} ch, ${(info.sizeBytes / 1e6).toFixed(0)} MB`,
);

const work = join(process.env.OMNIPREP_TMPDIR ?? tmpdir(), `omniprep-bench-audio-${process.pid}`);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

let sourceAudioSec = 0;
const methods: Array<{ name: string; describe: string; go: (dir: string) => Promise<Outcome & { stages?: Record<string, number> }> }> = [
  {
    name: 'chunkAudio',
    describe: `omniprep chunkAudio: PCM master + silencedetect in one decode pass, cuts at silences, ${availableParallelism()} single-threaded encoders`,
    go: async (dir) => {
      const r = await chunkAudio(src, { outDir: dir, chunkSeconds: SLICE, format: 'mp3' });
      sourceAudioSec = r.durationSec;
      return {
        files: r.assets.map((a) => a.file!),
        expected: r.chunks.map((c) => c.durationSec),
        stages: {
          masterSec: r.timings.masterMs / 1000,
          encodeSec: r.timings.encodeMs / 1000,
          silences: r.silences ?? 0,
          cutsAtSilences: r.chunks.filter((c) => c.cut === 'silence').length,
        },
      };
    },
  },
  {
    name: 'usual',
    describe: 'the usual recipe: one ffmpeg per 10-minute slice (-ss/-t, re-encode, default threads), one after another',
    go: (dir) => usual(src, dir, duration, 1),
  },
  { name: 'usual-x2', describe: 'the usual recipe, two slices at a time', go: (dir) => usual(src, dir, duration, 2) },
  {
    name: 'segment',
    describe: 'one ffmpeg pass with the segment muxer and -segment_times (re-encoding once)',
    go: (dir) => segment(src, dir, duration, info.audio!.index),
  },
];

const results: Array<Record<string, unknown>> = [];
for (const m of methods) {
  const times: number[] = [];
  let peak = 0;
  let peakChildren = 0;
  let last: (Outcome & { stages?: Record<string, number> }) | undefined;
  for (let i = 0; i < runs; i++) {
    const dir = join(work, `${m.name}-${i}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const t = performance.now();
    const { value, peakRss, peakChildrenRss } = await withPeakRss(() => m.go(dir));
    times.push((performance.now() - t) / 1000);
    peak = Math.max(peak, peakRss);
    peakChildren = Math.max(peakChildren, peakChildrenRss);
    last = value;
  }
  const wall = Math.min(...times);
  const exact = await exactness(last!, sourceAudioSec);
  const row = {
    method: m.name,
    what: m.describe,
    wallSec: Math.round(wall * 100) / 100,
    xRealtime: Math.round(duration / wall),
    wallSecAllRuns: times.map((t) => Math.round(t * 100) / 100),
    peakRssMB: Math.round(peak / 1e5) / 10,
    peakFfmpegRssMB: Math.round(peakChildren / 1e5) / 10,
    ...exact,
    ...(last!.stages ? { stages: last!.stages } : {}),
  };
  results.push(row);
  log(
    `${m.name.padEnd(10)} ${row.wallSec.toFixed(2).padStart(7)} s  ${String(row.xRealtime).padStart(4)}x real time  peak RSS ${row.peakRssMB} MB (ffmpeg ${row.peakFfmpegRssMB} MB)  ${exact.chunks} chunks${exact.undecodable ? ` (${exact.undecodable} undecodable)` : ''}, decoded total off by ${exact.totalErrorMs} ms, worst chunk off by ${exact.worstChunkErrorMs} ms`,
  );
}
rmSync(work, { recursive: true, force: true });

const wallOf = (name: string): number => results.find((r) => r.method === name)!.wallSec as number;
const summary = {
  source: {
    path: src,
    durationSec: duration,
    sizeBytes: info.sizeBytes,
    video: info.video ? `${info.video.codec} ${info.video.width}x${info.video.height}` : null,
    audio: `${info.audio.codec} ${info.audio.sampleRate} Hz ${info.audio.channels} ch`,
    audioSec: sourceAudioSec,
  },
  machine: {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.versions.node,
    ffmpeg: `${version.version} (${ffmpeg.source})`,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
  },
  output: {
    chunkSeconds: SLICE,
    format: 'mp3',
    bitrate: AUDIO_DEFAULTS.bitrate,
    sampleRate: AUDIO_DEFAULTS.sampleRate,
    channels: 1,
    mp3Quality: AUDIO_DEFAULTS.mp3Quality,
  },
  runs,
  results,
  speedup: {
    chunkAudioVsUsual: Math.round((wallOf('usual') / wallOf('chunkAudio')) * 100) / 100,
    chunkAudioVsUsualX2: Math.round((wallOf('usual-x2') / wallOf('chunkAudio')) * 100) / 100,
    chunkAudioVsSegment: Math.round((wallOf('segment') / wallOf('chunkAudio')) * 100) / 100,
  },
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
