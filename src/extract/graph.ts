/** The filter graphs of the frame decoders, and the names of the files they write. */
import { sec, type OutputOptions } from '../ffmpeg/args.js';
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
  const size = encodesJpeg(task)
    ? // The encoder wants rising timestamps, which a stream of chosen access units may not have;
      // frames are known by showinfo's count, not by these.
      `scale=${task.out.width}:${task.out.height}:flags=lanczos,setsar=1,format=yuvj420p,setpts=N/TB`
    : `scale=${task.decodeWidth}:${task.decodeHeight},setsar=1`;
  return countAll ? `${source}split=2[f][p];[f]${pick}${turn}${size}[out];${probe}` : `${source}${pick}split=2[f][p];[f]${turn}${size}[out];${probe}`;
}

/**
 * Whether ffmpeg writes the task's images itself: JPEG frames are scaled (Lanczos, as sharp's
 * lanczos3) and encoded by ffmpeg's mjpeg encoder in the decoding process, and only split and
 * written here, instead of piping raw RGB (2.7 MB a 720p frame) to sharp. WebP and PNG go to sharp.
 */
export function encodesJpeg(task: Pick<FrameTask, 'out'>): boolean {
  return task.out.format === 'jpeg';
}

/**
 * ffmpeg's mjpeg quantiser scale for a JPEG quality (1-100). libjpeg scales its base tables by
 * S = 5000/Q percent below quality 50 and 200 - 2Q above; ffmpeg's qscale q scales the same tables
 * by about 10q percent: on a 768x432 frame, q 2/4/6 give the PSNR of quality 90/80/70 (41.5/39.4/38.1
 * dB against 41.0/39.3/38.2). Its encoder takes 2-31.
 */
export function mjpegQscale(quality: number): number {
  const s = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  return Math.min(31, Math.max(2, Math.round(s / 10)));
}

/** The decoder's output: JPEG images (encodesJpeg), else raw RGB frames of the decoded size. */
export function frameOutput(task: Pick<FrameTask, 'out'>): OutputOptions {
  if (encodesJpeg(task)) return { codec: 'mjpeg', format: 'image2pipe', extra: ['-q:v', String(mjpegQscale(task.out.quality))] };
  return { format: 'rawvideo', pixFmt: 'rgb24' };
}
