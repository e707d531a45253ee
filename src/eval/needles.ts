/**
 * Needles in the user's own video: a copy with N short code words burned in (ffmpeg drawtext) at
 * seeded random times and lengths, one per equal slot of the clip so none overlap, and the
 * question set that asks for each ("Which code word is shown between 0:12.40 and 0:14.90?", four
 * choices). Each plan's recall on the user's footage is then measured without writing a question.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { invalidOption, OmniprepError } from '../errors.js';
import { FfmpegArgs } from '../ffmpeg/args.js';
import { binaryVersion, resolveBinary } from '../ffmpeg/binaries.js';
import { runProcess } from '../ffmpeg/runner.js';
import { resolveLimits, type Limits } from '../limits.js';
import { probe } from '../probe/probe.js';
import type { Question } from './questions.js';

export const NEEDLE_DEFAULTS = { seed: 1, minSec: 0.5, maxSec: 4, choices: 4 };

/** Where drawtext finds a font: DejaVu Sans Bold when installed, else fontconfig's default. */
const FONTS = ['/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf'];

export interface Needle {
  word: string;
  startSec: number;
  endSec: number;
}

export interface NeedleOptions {
  count: number;
  /** Folder for the copy and the question set (made when missing). */
  out: string;
  seed?: number | undefined;
  /** Shortest and longest time a needle is shown (default 0.5 and 4 s). */
  minSec?: number | undefined;
  maxSec?: number | undefined;
  limits?: Partial<Limits> | undefined;
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface NeedleSet {
  /** The copy with the needles. */
  video: string;
  /** The question set (JSONL), one line per needle. */
  questions: string;
  needles: Needle[];
}

/** A small seeded generator (mulberry32): the same seed gives the same needles. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONSONANTS = 'BDFGKLMNPRSTVZ';
const VOWELS = 'AEIOU';

/** A pronounceable code word of three syllables (KOLAPU). */
function word(rnd: () => number): string {
  let w = '';
  for (let i = 0; i < 3; i++) w += CONSONANTS[Math.floor(rnd() * CONSONANTS.length)]! + VOWELS[Math.floor(rnd() * VOWELS.length)]!;
  return w;
}

const cs = (x: number): number => Math.round(x * 100) / 100;

/** N needles over [0, duration): one per equal slot, a seeded length and start inside it. */
export function placeNeedles(
  durationSec: number,
  count: number,
  o: { seed?: number | undefined; minSec?: number | undefined; maxSec?: number | undefined } = {},
): Needle[] {
  if (!(Number.isInteger(count) && count >= 1 && count <= 1000)) throw invalidOption('needles', 'an integer from 1 to 1000', count);
  const minSec = o.minSec ?? NEEDLE_DEFAULTS.minSec;
  const maxSec = o.maxSec ?? NEEDLE_DEFAULTS.maxSec;
  const slot = durationSec / count;
  if (slot < minSec + 0.1) {
    throw invalidOption(
      'needles',
      `at most ${Math.floor(durationSec / (minSec + 0.1))} for ${durationSec.toFixed(2)} s of video (each needle is shown ${minSec} s or more)`,
      count,
    );
  }
  const rnd = seeded(o.seed ?? NEEDLE_DEFAULTS.seed);
  const words = new Set<string>();
  return Array.from({ length: count }, (_, i) => {
    let w = word(rnd);
    while (words.has(w)) w = word(rnd);
    words.add(w);
    const longest = Math.min(maxSec, slot - 0.1);
    const length = minSec + rnd() * (longest - minSec);
    const start = i * slot + rnd() * (slot - length - 0.05);
    return { word: w, startSec: cs(start), endSec: cs(start + length) };
  });
}

const clock = (s: number): string => `${Math.floor(s / 60)}:${(s % 60).toFixed(2).padStart(5, '0')}`;

/** The question of each needle: its word among distractors made by the same generator. */
export function needleQuestions(needles: readonly Needle[], video: string, seed = NEEDLE_DEFAULTS.seed): Array<Question & { needle: Needle }> {
  const rnd = seeded(seed + 1);
  const taken = new Set(needles.map((n) => n.word));
  return needles.map((n, i) => {
    const choices = [n.word];
    while (choices.length < NEEDLE_DEFAULTS.choices) {
      const w = word(rnd);
      if (!taken.has(w) && !choices.includes(w)) choices.push(w);
    }
    const at = Math.floor(rnd() * choices.length);
    [choices[0], choices[at]] = [choices[at]!, choices[0]!];
    return {
      id: `needle-${i + 1}`,
      video,
      question: `Which code word is shown on screen between ${clock(n.startSec)} and ${clock(n.endSec)}?`,
      choices,
      answer: String.fromCharCode(65 + at),
      scoring: 'choice' as const,
      needle: n,
    };
  });
}

/** The drawtext filters that burn the needles in (centred, white on a dark box). */
export function drawtextFilters(needles: readonly Needle[], font = FONTS.find((f) => existsSync(f))): string[] {
  const fontfile = font && /^[\w/.-]+$/.test(font) ? `fontfile=${font}:` : '';
  return needles.map(
    (n) =>
      `drawtext=${fontfile}text=${n.word}:fontsize=h/9:fontcolor=white:box=1:boxcolor=black@0.85:boxborderw=12:x=(w-text_w)/2:y=(h-text_h)/2:enable='between(t\\,${n.startSec}\\,${n.endSec})'`,
  );
}

/** Makes the copy with the needles and its question set in `o.out`. */
export async function makeNeedles(video: string, o: NeedleOptions): Promise<NeedleSet> {
  const limits = resolveLimits(o.limits);
  const info = await probe(video, { limits: o.limits, signal: o.signal, ffprobePath: o.ffprobePath });
  if (!info.video) throw new OmniprepError('NO_VIDEO_STREAM', `${video}: no video stream to burn needles into`, { input: video });
  const needles = placeNeedles(info.durationSec, o.count, o);
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const name = basename(video, extname(video));
  const copy = join(out, `${name}-needles.mp4`);
  const ffmpeg = resolveBinary('ffmpeg', { ffmpegPath: o.ffmpegPath });
  const args = new FfmpegArgs(await binaryVersion(ffmpeg))
    .input(video, { maxPixels: limits.maxPixels })
    .map('0:v:0')
    .map('0:a:0?')
    .videoFilters(drawtextFilters(needles))
    .output(copy, { extra: ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart'] })
    .toArgs();
  await runProcess({ command: ffmpeg.path, args, input: video, timeoutMs: limits.processTimeoutMs, signal: o.signal });
  const questions = join(out, `${name}-needles.jsonl`);
  const lines = needleQuestions(needles, basename(copy), o.seed).map(({ needle, ...q }) =>
    JSON.stringify({ ...q, needleStart: needle.startSec, needleEnd: needle.endSec }),
  );
  writeFileSync(questions, `${lines.join('\n')}\n`);
  return { video: copy, questions, needles };
}
