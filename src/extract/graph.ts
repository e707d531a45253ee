/** The filter graphs of the frame decoders, and the names of the files they write. */
import { sec } from '../ffmpeg/args.js';
import { EXTENSION } from '../image/encode.js';
import type { ImageFormat } from '../media/formats.js';
import type { FrameTask } from './types.js';

const SELECT_EPS = 0.0005;

export function frameFileName(index: number, format: ImageFormat): string {
  return `frame-${String(index).padStart(5, '0')}.${EXTENSION[format]}`;
}

/**
 * ffmpeg's `select` filter holds a frame's byte position as a 32-bit float: above 16 MiB it cannot
 * tell neighbouring bytes apart. The window around a position that the filter must accept.
 */
export function posWindow(pos: number): number {
  return pos < 2 ** 24 ? 0.5 : 2 ** (Math.floor(Math.log2(pos)) - 24);
}

/**
 * `select` expression passing these frames: by byte position when every frame has one (immune to
 * decoders that shift timestamps after a seek), else by (absolute) time.
 */
export function selectExpr(frames: FrameTask['frames'], startTimeSec: number): string {
  if (frames.every((f) => f.pos >= 0)) {
    return frames.map((f) => `between(pos\\,${f.pos - posWindow(f.pos)}\\,${f.pos + posWindow(f.pos)})`).join('+');
  }
  return frames
    .map((f) => f.timestampSec + startTimeSec)
    .map((t) => `between(t\\,${sec(t - SELECT_EPS)}\\,${sec(t + SELECT_EPS)})`)
    .join('+');
}

/**
 * The decoded frame's filters: rotation (when the decoder cannot see it), display size, and a
 * 16x16 copy through showinfo. With `countAll`, showinfo sees every decoded frame and the select
 * comes after the split (the frames' count checks the decode); else only the selected ones.
 */
export function frameGraph(task: FrameTask, source: string, select: string | undefined, rotate: number, countAll = false): string {
  const turn = rotate === 90 ? 'transpose=1,' : rotate === 180 ? 'hflip,vflip,' : rotate === 270 ? 'transpose=2,' : '';
  const pick = select ? `select='${select}',` : '';
  // showinfo's checksums on a full 720p frame cost ~2 ms: it sees a 16x16 copy, which keeps the frame's byte position.
  const probe = '[p]scale=16:16,showinfo,nullsink';
  return countAll
    ? `${source}split=2[f][p];[f]${pick}${turn}scale=${task.decodeWidth}:${task.decodeHeight},setsar=1[out];${probe}`
    : `${source}${pick}split=2[f][p];[f]${turn}scale=${task.decodeWidth}:${task.decodeHeight},setsar=1[out];${probe}`;
}
