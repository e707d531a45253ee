/**
 * The work one worker thread does for one task: run one ffmpeg child that decodes only the frames
 * a task asks for, read them raw from its stdout one at a time (back-pressure: the pipe stalls
 * ffmpeg while sharp works), resize and encode each with sharp, write it, and return metadata.
 * Scene scans are tasks too: decode a range and report each frame's scene score.
 *
 * Tasks are plain data (they cross the thread boundary); errors come back as values with the
 * OmniprepError code, so the main thread can rethrow them unchanged.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FfmpegArgs, sec } from '../ffmpeg/args.js';
import type { BinaryVersion } from '../ffmpeg/binaries.js';
import { start } from '../ffmpeg/runner.js';
import { OmniprepError, type ErrorCode } from '../errors.js';
import { perceptualHash, encodeRaw, EXTENSION } from '../image/encode.js';
import type { ImageFormat } from '../plan/types.js';

export interface FfmpegRef {
  path: string;
  version: BinaryVersion;
}

interface TaskBase {
  /** The file to decode (absolute) and the name to use in messages. */
  path: string;
  input: string;
  ffmpeg: FfmpegRef;
  streamIndex: number;
  /** The container's start time: timeline seconds + this = the media's own pts. */
  startTimeSec: number;
  maxPixels: number;
  timeoutMs: number;
}

export interface FrameTask extends TaskBase {
  kind: 'frames';
  /** keyframe: decode keyframes only (-skip_frame nokey, -discard nokey); exact: decode from the seek point. */
  decode: 'keyframes' | 'exact';
  /** Where decoding starts on the timeline (a little before the first frame). */
  seekSec: number;
  /** The frames, from the packet index: time, byte position (-1 unknown) and keyframe flag. */
  frames: Array<{ index: number; timestampSec: number; pos: number; keyframe: boolean }>;
  /**
   * How many frames the position filter lets through: the planned ones plus any other packet whose
   * position is within float precision of one (see posWindow). Extra frames are skipped.
   */
  expectedOutputs: number;
  /** Decoded (display) size; the frames are scaled to it so every frame has the same byte count. */
  decodeWidth: number;
  decodeHeight: number;
  out: { dir: string; width: number; height: number; format: ImageFormat; quality: number };
  hash: boolean;
}

export interface SceneTask extends TaskBase {
  kind: 'scene';
  seekSec: number;
  /** Report frames from this time on (earlier ones only prime the scene detector). */
  fromSec: number;
  /** And before this time. */
  toSec: number;
}

export type Task = FrameTask | SceneTask;

export interface FrameResult {
  index: number;
  /** The real presentation time of the decoded frame (showinfo), timeline seconds. */
  timestampSec: number;
  keyframe: boolean;
  file: string;
  bytes: number;
  width: number;
  height: number;
  hash?: string;
}

export interface SceneResult {
  times: number[];
  scores: number[];
  keyframes: boolean[];
  /** Byte position of each frame's packet (-1 unknown), to match the packet index. */
  pos: number[];
}

export type TaskOutcome =
  | { ok: true; frames?: FrameResult[]; scene?: SceneResult; decodeMs: number }
  | { ok: false; error: { code: ErrorCode; message: string; input?: string } };

export interface TaskHooks {
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
}

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
function selectExpr(frames: FrameTask['frames'], startTimeSec: number): string {
  if (frames.every((f) => f.pos >= 0)) {
    return frames.map((f) => `between(pos\\,${f.pos - posWindow(f.pos)}\\,${f.pos + posWindow(f.pos)})`).join('+');
  }
  return frames.map((f) => f.timestampSec + startTimeSec).map((t) => `between(t\\,${sec(t - SELECT_EPS)}\\,${sec(t + SELECT_EPS)})`).join('+');
}

interface Shown {
  time: number;
  key: boolean;
  pos: number;
}

const SHOWINFO = /Parsed_showinfo.*\bpts_time:\s*(-?[\d.]+(?:e-?\d+)?)\s+pos:\s*(-?\d+).*\biskey:(\d)/;

async function runFrames(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]> {
  // The selected frames go out at the display size; a 16x16 copy of each goes through showinfo
  // (its checksums on a full 720p frame cost ~2 ms) to report the frame's byte position.
  const graph =
    `[0:${task.streamIndex}]select='${selectExpr(task.frames, task.startTimeSec)}',split=2[f][p];` +
    `[f]scale=${task.decodeWidth}:${task.decodeHeight},setsar=1[out];[p]scale=16:16,showinfo,nullsink`;
  const args = new FfmpegArgs(task.ffmpeg.version, { logLevel: 'info' })
    .input(task.path, {
      threads: 1,
      maxPixels: task.maxPixels,
      seekSec: task.seekSec,
      // No -t: with -copyts an input duration counts from 0, not from the seek point. -frames:v
      // below stops the process at the last planned frame.
      accurateSeek: false,
      // nointra, not nokey: some decoders skip intra frames the container marks as keys (non-IDR I-frames).
      ...(task.decode === 'keyframes' ? { skipFrame: 'nointra' as const, discard: 'nokey' as const } : {}),
    })
    .copyTimestamps()
    .filterComplex(graph)
    .map('[out]')
    .noAudio()
    .noSubtitles()
    .passthroughTimestamps()
    .frames(task.expectedOutputs)
    .threads(1)
    .output('pipe:1', { format: 'rawvideo', pixFmt: 'rgb24' })
    .toArgs();

  const shown: Shown[] = [];
  // Frames are handled concurrently (see the buffers below), so several may wait for their
  // showinfo line at once: every new line, and the end, wakes them all.
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of waiters) w();
    waiters.clear();
  };
  const proc = start({
    command: task.ffmpeg.path,
    args,
    input: task.input,
    timeoutMs: task.timeoutMs,
    signal: hooks.signal,
    onSpawn: hooks.onSpawn,
    onStderrLine: (line) => {
      const m = SHOWINFO.exec(line);
      if (m) {
        shown.push({ time: Number(m[1]) - task.startTimeSec, pos: Number(m[2]), key: m[3] === '1' });
        wake();
      }
    },
  });
  const frameBytes = task.decodeWidth * task.decodeHeight * 3;
  const results: FrameResult[] = [];
  // Three frame buffers: while sharp encodes one or two frames, the pipe keeps flowing into the
  // next, so ffmpeg decodes on instead of waiting (at most three raw frames per task in memory).
  const buffers = [Buffer.allocUnsafe(frameBytes), Buffer.allocUnsafe(frameBytes), Buffer.allocUnsafe(frameBytes)];
  const busy: Array<Promise<void> | undefined> = [undefined, undefined, undefined];
  let slot = 0;
  let buf = buffers[0]!;
  let filled = 0;
  let ended = false;
  const markEnded = (): void => {
    ended = true;
    wake();
  };
  proc.done.then(markEnded, markEnded);

  const infoFor = async (k: number): Promise<Shown> => {
    while (shown.length <= k && !ended) await new Promise<void>((r) => waiters.add(r));
    const s = shown[k];
    if (!s) throw new OmniprepError('CORRUPT', `${task.input}: a decoded frame came without its timestamp`, { input: task.input });
    return s;
  };

  const byPos = new Map(task.frames.filter((f) => f.pos >= 0).map((f) => [f.pos, f]));
  const posMode = byPos.size === task.frames.length;
  let outputs = 0;
  const handleFrame = async (raw: Buffer): Promise<void> => {
    const info = await infoFor(outputs++);
    // By position: the frame whose packet this is (a neighbour the float window let through is skipped).
    // By time: the next planned frame.
    const planned = posMode ? byPos.get(info.pos) : task.frames[results.length];
    if (!planned || results.some((r) => r.index === planned.index)) return;
    const image = { data: raw, width: task.decodeWidth, height: task.decodeHeight, channels: 3 as const };
    const [encoded, hash] = await Promise.all([encodeRaw(image, task.out), task.hash ? perceptualHash(image) : Promise.resolve(undefined)]);
    const file = join(task.out.dir, frameFileName(planned.index, task.out.format));
    await writeFile(file, encoded);
    // The time and keyframe flag come from the packet index (the frame was matched by position);
    // without positions, from what the decoder reported.
    results.push({
      index: planned.index,
      timestampSec: posMode ? planned.timestampSec : Math.round(info.time * 1e6) / 1e6,
      keyframe: posMode ? planned.keyframe : info.key,
      file,
      bytes: encoded.length,
      width: task.out.width,
      height: task.out.height,
      ...(hash ? { hash } : {}),
    });
  };

  try {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - off);
        chunk.copy(buf, filled, off, off + n);
        filled += n;
        off += n;
        if (filled === frameBytes) {
          const handling = handleFrame(buf);
          handling.catch(() => {});
          busy[slot] = handling;
          slot = (slot + 1) % buffers.length;
          // The next buffer is free once the frame it held is written.
          await busy[slot];
          buf = buffers[slot]!;
          filled = 0;
        }
      }
    }
    await Promise.all(busy);
    await proc.done;
  } catch (e) {
    proc.stop();
    await proc.done.catch(() => {});
    throw e;
  }
  results.sort((a, b) => a.index - b.index);
  if (results.length !== task.frames.length) {
    const missing = task.frames.find((f) => !results.some((r) => r.index === f.index))!;
    throw new OmniprepError(
      'CORRUPT',
      `${task.input}: the frame at ${missing.timestampSec.toFixed(3)} s could not be decoded (the data there is damaged or missing)`,
      { input: task.input },
    );
  }
  return results;
}

const META_FRAME = /^frame:\s*\d+\s+pts:\s*\S+\s+pts_time:\s*(-?[\d.]+)/;
const META_SCORE = /lavfi\.scene_score=([\d.]+)/;
const SCENE_SCALE = 'scale=160:90';

async function runScene(task: SceneTask, hooks: TaskHooks): Promise<SceneResult> {
  const args = new FfmpegArgs(task.ffmpeg.version, { logLevel: 'info' })
    .input(task.path, { threads: 1, maxPixels: task.maxPixels, seekSec: task.seekSec, durationSec: task.toSec - task.seekSec + 0.5 })
    .copyTimestamps()
    .map(`0:${task.streamIndex}`)
    .noAudio()
    .noSubtitles()
    .videoFilters([SCENE_SCALE, `select='gte(scene\\,0)'`, 'metadata=print:key=lavfi.scene_score', 'showinfo'])
    .passthroughTimestamps()
    .threads(1)
    .output('-', { format: 'null' })
    .toArgs();
  const times: number[] = [];
  const scores: number[] = [];
  const keys: boolean[] = [];
  const positions: number[] = [];
  let pendingScore = 0;
  const proc = start({
    command: task.ffmpeg.path,
    args,
    input: task.input,
    timeoutMs: task.timeoutMs,
    signal: hooks.signal,
    onSpawn: hooks.onSpawn,
    onStderrLine: (line) => {
      const body = line.replace(/^\[[^\]]*\]\s*/, '');
      if (META_FRAME.test(body)) pendingScore = 0;
      const s = META_SCORE.exec(body);
      if (s) pendingScore = Number(s[1]);
      const m = SHOWINFO.exec(line);
      if (m) {
        const t = Math.round((Number(m[1]) - task.startTimeSec) * 1e6) / 1e6;
        if (t >= task.fromSec - 1e-6 && t < task.toSec - 1e-6) {
          times.push(t);
          scores.push(pendingScore);
          positions.push(Number(m[2]));
          keys.push(m[3] === '1');
        }
        pendingScore = 0;
      }
    },
  });
  proc.stdout.resume();
  await proc.done;
  return { times, scores, keyframes: keys, pos: positions };
}

/** Runs one task; never throws (errors come back as values that survive the thread boundary). */
export async function runTask(task: Task, hooks: TaskHooks = {}): Promise<TaskOutcome> {
  const t0 = performance.now();
  try {
    if (task.kind === 'frames') return { ok: true, frames: await runFrames(task, hooks), decodeMs: performance.now() - t0 };
    return { ok: true, scene: await runScene(task, hooks), decodeMs: performance.now() - t0 };
  } catch (e) {
    if (e instanceof OmniprepError) return { ok: false, error: { code: e.code, message: e.message, ...(e.input ? { input: e.input } : {}) } };
    return { ok: false, error: { code: 'PROCESS_FAILED', message: `${task.input}: ${(e as Error).message}` } };
  }
}
