/**
 * TEST CODE. The eval rig: synthetic videos whose every frame carries its frame number (the
 * timecode bars of ./fixtures.ts: 16 Gray-coded bars across the top quarter, exact through JPEG
 * and resizing down to 64 px wide), and an answer hook for the model test servers
 * (`control.reply`) that reads the frame numbers of the images a request carries and answers a
 * needle question right only when one of them lies inside the question's interval.
 *
 * A needle question names its interval in its text ("... between frame A and frame B?"), so the
 * hook needs nothing but the request; the test keeps the answer key.
 */
import { REDUCE_DEFAULTS } from '../../src/dispatch/reduce.js';
import { JUDGE_SECTIONS } from '../../src/eval/judge.js';
import type { Incoming } from './model-server.js';
import { cachedMedia, readFrameNumber, timecodeVideo } from './fixtures.js';

export interface CodedVideo {
  seconds: number;
  fps: number;
  /** Width x height (default 320x180). */
  size?: string;
}

/** A coded video (H.264 MP4, a keyframe every second), made once and cached. */
export function codedVideo(o: CodedVideo): Promise<string> {
  const args = timecodeVideo({ seconds: o.seconds, fps: o.fps, size: o.size ?? '320x180', gop: o.fps });
  return cachedMedia(`coded-${o.seconds}s-${o.fps}fps`, { ext: 'mp4', args });
}

/** The frame number an image shows (any size, any format sharp reads). */
export function readFrameCode(image: Buffer): Promise<number> {
  return readFrameNumber(image);
}

/** The question text of a needle shown from frame `from` to frame `to` (inclusive). */
export const needleQuestion = (from: number, to: number): string => `Which code word is shown between frame ${from} and frame ${to}?`;

const INTERVAL = /between frame (\d+) and frame (\d+)\?/;
/** What the reduce prompt puts before the part answers (src/dispatch/reduce.ts). */
const REDUCE = REDUCE_DEFAULTS.intro;

export interface NeedleKey {
  /** The letter of the right choice and of a wrong one. */
  right: string;
  wrong: string;
  /** The right option's text (the hook answers with it in one of its formats). */
  rightText: string;
}

export interface SeenRequest {
  from: number;
  to: number;
  /** Frame numbers of the images the request carried, in order. */
  frames: number[];
  answer: string;
}

export interface JudgedRequest {
  from: number;
  to: number;
  /** The answer the judge was asked to grade, and its verdict. */
  answer: string;
  verdict: 'CORRECT' | 'INCORRECT';
  /** The body's `model` (the OpenAI and Anthropic forms; Gemini names it in the path). */
  model: unknown;
}

/**
 * The judge's side of the hook: the answer to grade (between the judge prompt's fixed sections,
 * src/eval/judge.ts) is CORRECT when it names the key's right letter or the right option's words.
 */
function judgeVerdict(req: Incoming, k: NeedleKey, at: { from: number; to: number }, judged: JudgedRequest[]): string {
  const after = req.text.split(`${JUDGE_SECTIONS.answer}\n`)[1] ?? '';
  const answer = after.split(`\n\n${JUDGE_SECTIONS.format}`)[0]!;
  const said = answer
    .replace(/^(the )?answer( is)?\s*:?\s*/i, '')
    .replace(/[().\s]/g, '')
    .toUpperCase();
  const verdict = said === k.right || said === k.rightText.toUpperCase() ? 'CORRECT' : 'INCORRECT';
  judged.push({ ...at, answer, verdict, model: req.body.model });
  return `The answer was graded.\nVerdict: ${verdict}`;
}

/**
 * An answer hook: the key gives each interval (`"from-to"`) its right and wrong letters. Answers
 * take four formats in turn ("B", "(B)", "Answer: B", the option's words) so that scoring's
 * robustness is exercised on every run (`plain`: always "Answer: B"). The reduce call of a
 * question split over several requests is answered right when a part was. Each request is
 * recorded in `seen`. A judge's request (`judge` scoring) gets a verdict computed from the answer
 * it grades, recorded in `judged`.
 */
export function needleReply(
  key: ReadonlyMap<string, NeedleKey>,
  seen: SeenRequest[] = [],
  o: { plain?: boolean; judged?: JudgedRequest[] } = {},
): (req: Incoming) => Promise<string> {
  return async (req) => {
    const m = INTERVAL.exec(req.text);
    if (!m) return 'No question found.';
    const from = Number(m[1]);
    const to = Number(m[2]);
    const k = key.get(`${from}-${to}`);
    if (!k) return `No key for frames ${from}-${to}.`;
    if (req.text.includes(JUDGE_SECTIONS.answer)) return judgeVerdict(req, k, { from, to }, o.judged ?? []);
    // The reduce call of a split question: right when one of the parts was answered right.
    const parts = req.text.split(REDUCE)[1];
    if (parts !== undefined) return `Answer: ${parts.includes(`Answer: ${k.right}`) ? k.right : k.wrong}`;
    const frames = await Promise.all(req.images.map((b64) => readFrameCode(Buffer.from(b64, 'base64'))));
    const hit = frames.some((n) => n >= from && n <= to);
    const letter = hit ? k.right : k.wrong;
    if (o.plain) {
      seen.push({ from, to, frames, answer: `Answer: ${letter}` });
      return `Answer: ${letter}`;
    }
    const formats = [letter, `(${letter})`, `Answer: ${letter}`, hit ? `The answer is ${k.rightText}.` : `Answer: ${letter}`];
    const answer = formats[seen.length % formats.length]!;
    seen.push({ from, to, frames, answer });
    return answer;
  };
}
