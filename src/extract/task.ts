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
import { start, type RunningProcess } from '../ffmpeg/runner.js';
import { AccessUnits, type AccessUnit } from './annexb.js';
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
  /**
   * H.264 keyframe tasks: every keyframe packet from the seek point to the last planned frame
   * (position and size, from the index), for the path that decodes only the planned keyframes.
   */
  keyframeRun?: Array<{ pos: number; size: number }> | undefined;
  /**
   * H.264 exact tasks: every packet (position, size, time, keyframe flag) in decode order from the
   * keyframe before the first planned frame to the last planned frame, for the path that decodes
   * the spans keyframe..frame in one long-lived decoder.
   */
  packetRun?: Array<{ pos: number; size: number; t: number; key: boolean }> | undefined;
  /** Clockwise rotation of the display (the stream decoders cannot read it from the container). */
  rotation?: number | undefined;
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
  | {
      ok: true;
      frames?: FrameResult[];
      scene?: SceneResult;
      decodeMs: number;
      /** How the frames were decoded: only the kept keyframes, spans in one decoder, or the whole range. */
      path?: 'keyframe-stream' | 'span-stream' | 'range';
    }
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

/** Collects showinfo lines as they come; `nth(k)` waits for the k-th (frames are handled concurrently). */
class ShowinfoLog {
  readonly shown: Shown[] = [];
  private readonly waiters = new Set<() => void>();
  get decoded(): number {
    return this.shown.length;
  }
  private ended = false;

  constructor(private readonly task: FrameTask) {}

  line(line: string): void {
    const m = SHOWINFO.exec(line);
    if (!m) return;
    this.shown.push({ time: Number(m[1]) - this.task.startTimeSec, pos: Number(m[2]), key: m[3] === '1' });
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  async nth(k: number): Promise<Shown> {
    while (this.shown.length <= k && !this.ended) await new Promise<void>((r) => this.waiters.add(r));
    const s = this.shown[k];
    if (!s) throw new OmniprepError('CORRUPT', `${this.task.input}: a decoded frame came without its timestamp`, { input: this.task.input });
    return s;
  }
}

type Planned = FrameTask['frames'][number];

/**
 * Reads raw frames from a decoder's stdout and writes each as the planned frame `identify(k)`
 * names (undefined: not one of ours). Two frame buffers: while sharp encodes one frame, the pipe
 * keeps flowing into the other, so ffmpeg decodes on instead of waiting (at most two raw
 * frames per task in memory).
 */
async function collectFrames(
  proc: RunningProcess,
  task: FrameTask,
  identify: (k: number) => Promise<{ planned: Planned | undefined; time: number; key: boolean; fromIndex: boolean }>,
): Promise<FrameResult[]> {
  const frameBytes = task.decodeWidth * task.decodeHeight * 3;
  const results: FrameResult[] = [];
  const buffers = [Buffer.allocUnsafe(frameBytes), Buffer.allocUnsafe(frameBytes)];
  const busy: Array<Promise<void> | undefined> = [undefined, undefined];
  let slot = 0;
  let buf = buffers[0]!;
  let filled = 0;
  let outputs = 0;
  const handleFrame = async (raw: Buffer): Promise<void> => {
    const id = await identify(outputs++);
    const planned = id.planned;
    if (!planned || results.some((r) => r.index === planned.index)) return;
    const image = { data: raw, width: task.decodeWidth, height: task.decodeHeight, channels: 3 as const };
    const [encoded, hash] = await Promise.all([encodeRaw(image, task.out), task.hash ? perceptualHash(image) : Promise.resolve(undefined)]);
    const file = join(task.out.dir, frameFileName(planned.index, task.out.format));
    await writeFile(file, encoded);
    // The time and keyframe flag come from the packet index when the frame was matched to its
    // packet; otherwise from what the decoder reported.
    results.push({
      index: planned.index,
      timestampSec: id.fromIndex ? planned.timestampSec : Math.round(id.time * 1e6) / 1e6,
      keyframe: id.fromIndex ? planned.keyframe : id.key,
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

/**
 * The decoded frame's filters: rotation (when the decoder cannot see it), display size, and a
 * 16x16 copy through showinfo. With `countAll`, showinfo sees every decoded frame and the select
 * comes after the split (the frames' count checks the decode); else only the selected ones.
 */
function frameGraph(task: FrameTask, source: string, select: string | undefined, rotate: number, countAll = false): string {
  const turn = rotate === 90 ? 'transpose=1,' : rotate === 180 ? 'hflip,vflip,' : rotate === 270 ? 'transpose=2,' : '';
  const pick = select ? `select='${select}',` : '';
  // showinfo's checksums on a full 720p frame cost ~2 ms: it sees a 16x16 copy, which keeps the frame's byte position.
  const probe = '[p]scale=16:16,showinfo,nullsink';
  return countAll
    ? `${source}split=2[f][p];[f]${pick}${turn}scale=${task.decodeWidth}:${task.decodeHeight},setsar=1[out];${probe}`
    : `${source}${pick}split=2[f][p];[f]${turn}scale=${task.decodeWidth}:${task.decodeHeight},setsar=1[out];${probe}`;
}

async function runFrames(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]> {
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
    .filterComplex(frameGraph(task, `[0:${task.streamIndex}]`, selectExpr(task.frames, task.startTimeSec), 0))
    .map('[out]')
    .noAudio()
    .noSubtitles()
    .passthroughTimestamps()
    .frames(task.expectedOutputs)
    .threads(1)
    .output('pipe:1', { format: 'rawvideo', pixFmt: 'rgb24' })
    .toArgs();
  const log = new ShowinfoLog(task);
  const proc = start({ command: task.ffmpeg.path, args, input: task.input, timeoutMs: task.timeoutMs, signal: hooks.signal, onSpawn: hooks.onSpawn, onStderrLine: (l) => log.line(l) });
  proc.done.then(() => log.end(), () => log.end());
  const byPos = new Map(task.frames.filter((f) => f.pos >= 0).map((f) => [f.pos, f]));
  const posMode = byPos.size === task.frames.length;
  let next = 0;
  return collectFrames(proc, task, async (k) => {
    const info = await log.nth(k);
    // By position: the frame whose packet this is (a neighbour the float window let through is
    // skipped). By time: the next planned frame.
    const planned = posMode ? byPos.get(info.pos) : task.frames[next++];
    // showinfo prints times to the millisecond: a frame within that of its planned time is it.
    const fromIndex = posMode || (planned !== undefined && Math.abs(info.time - planned.timestampSec) <= 0.001);
    return { planned, time: info.time, key: info.key, fromIndex };
  });
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

/** The packet stream could not be matched to the packet index: the task falls back to the general path. */
class KeyframeStreamMismatch extends Error {}

/** What one stream path does with the packets of its range (see runPacketStream). */
interface StreamPlan {
  /** Copy only the keyframes' packets (`-discard nokey`). */
  keyframesOnly: boolean;
  /** The packets the stream must match, in decode order. */
  packets: ReadonlyArray<{ size: number }>;
  /** Whether matched packet i goes to the decoder; a string is a mismatch (the path cannot go on). */
  forward(i: number, unit: AccessUnit): boolean | string;
  /** After the first match: whether a unit that matches nothing is a mismatch (else it is skipped). */
  strict(unit: AccessUnit): boolean;
  /** A `select` on the decoder's frame counter, when it decodes more frames than are kept. */
  select?: string;
  /** The planned frame the decoder's k-th kept frame is. */
  identify(k: number): Planned | undefined;
  /** A last check against the decoder's showinfo log (the count of frames it made). */
  verify?(log: ShowinfoLog): string | undefined;
}

/**
 * The H.264 stream paths. The range's packets go out as an Annex B stream (`-c copy`, an access
 * unit delimiter before each unit), every unit is matched to its packet in the index by its
 * payload size, in decode order, and only the units the plan forwards reach a second ffmpeg
 * that decodes them from stdin. Any mismatch throws KeyframeStreamMismatch: runFrames() then
 * decodes the range instead.
 */
async function runPacketStream(task: FrameTask, hooks: TaskHooks, plan: StreamPlan): Promise<FrameResult[]> {
  const packets = plan.packets;
  // No frame cap for all packets: a seek can land a whole group of pictures early; the feed stops the demuxer.
  const demuxArgs = new FfmpegArgs(task.ffmpeg.version)
    .input(task.path, { seekSec: task.seekSec, accurateSeek: false, ...(plan.keyframesOnly ? { discard: 'nokey' as const } : {}) });
  if (plan.keyframesOnly) demuxArgs.frames(packets.length + 16);
  const demuxArgv = demuxArgs
    .map(`0:${task.streamIndex}`)
    .output('pipe:1', { codec: 'copy', format: 'h264', extra: ['-bsf:v', 'h264_mp4toannexb,h264_metadata=aud=insert'] })
    .toArgs();
  const decodeArgv = new FfmpegArgs(task.ffmpeg.version, { logLevel: 'info' })
    .pipeInput('h264', { threads: 1, maxPixels: task.maxPixels, showAll: true })
    .filterComplex(frameGraph(task, '[0:v]', plan.select, task.rotation ?? 0, plan.select !== undefined))
    .map('[out]')
    .passthroughTimestamps()
    .threads(1)
    .output('pipe:1', { format: 'rawvideo', pixFmt: 'rgb24' })
    .toArgs();
  const common = { command: task.ffmpeg.path, input: task.input, timeoutMs: task.timeoutMs, signal: hooks.signal, onSpawn: hooks.onSpawn };
  const demux = start({ ...common, args: demuxArgv });
  const log = new ShowinfoLog(task);
  const decode = start({ ...common, args: decodeArgv, onStderrLine: (l) => log.line(l), stdin: 'pipe' });
  decode.done.then(() => log.end(), () => log.end());
  const splitter = new AccessUnits();
  let j = 0;
  let mismatch: string | undefined;
  const feed = async (): Promise<void> => {
    const stdin = decode.stdin!;
    // Waits for room in the pipe, or for the decoder to be gone (killed, timed out): never forever.
    const write = (b: Buffer): Promise<void> =>
      new Promise((resolve) => {
        if (stdin.destroyed || stdin.writableEnded || stdin.write(b)) return resolve();
        const done = (): void => {
          stdin.off('drain', done).off('close', done).off('error', done);
          resolve();
        };
        stdin.on('drain', done).on('close', done).on('error', done);
      });
    const take = async (unit: AccessUnit): Promise<void> => {
      if (j >= packets.length) return;
      if (unit.payloadBytes !== packets[j]!.size) {
        // Units before the first match belong before the run; after it, the plan decides.
        if (j > 0 && plan.strict(unit)) mismatch = `an access unit of ${unit.payloadBytes} bytes where the index has ${packets[j]!.size}`;
        return;
      }
      const go = plan.forward(j, unit);
      if (typeof go === 'string') mismatch = go;
      else if (go) await write(splitter.withParameterSets(unit));
      j++;
    };
    try {
      for await (const chunk of demux.stdout as AsyncIterable<Buffer>) {
        for (const unit of splitter.push(chunk)) {
          await take(unit);
          if (mismatch || j >= packets.length) break;
        }
        if (mismatch || j >= packets.length) break;
      }
      if (!mismatch && j < packets.length) for (const unit of splitter.flush()) await take(unit);
    } finally {
      demux.stop();
      stdin.end();
    }
    await demux.done;
    if (!mismatch && j < packets.length) mismatch = `the stream ended after ${j} of ${packets.length} packets`;
  };
  const fed = feed();
  fed.catch(() => {});
  try {
    const results = await collectFrames(decode, task, async (k) => {
      await log.nth(k);
      return { planned: plan.identify(k), time: 0, key: false, fromIndex: true };
    });
    await fed;
    mismatch ??= plan.verify?.(log);
    if (mismatch) throw new KeyframeStreamMismatch(mismatch);
    return results;
  } catch (e) {
    demux.stop();
    decode.stop();
    await Promise.allSettled([fed, demux.done, decode.done]);
    if (mismatch) throw new KeyframeStreamMismatch(mismatch);
    throw e;
  }
}

/** Keyframe mode on H.264: only the keyframes it keeps are decoded (the others are never sent). */
function runKeyframeStream(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]> {
  const run = task.keyframeRun!;
  const wanted = new Map(task.frames.map((f) => [f.pos, f]));
  const forwarded: Planned[] = [];
  return runPacketStream(task, hooks, {
    keyframesOnly: true,
    packets: run,
    forward: (i) => {
      const planned = wanted.get(run[i]!.pos);
      if (planned) forwarded.push(planned);
      return Boolean(planned);
    },
    // an unmatched IDR means the stream and the index disagree; anything else is skipped
    strict: (unit) => unit.idr,
    identify: (k) => forwarded[k],
  });
}

/**
 * Exact frames on H.264 without starting a decoder for each: for each group of pictures holding
 * planned frames, the span from its keyframe to its last planned frame goes to one decoder that
 * runs for the whole task. Each span decodes to its frames in display order; a planned frame is
 * the one whose rank in its span is the number of the span's frames shown before it, so a
 * `select` on the decoder's frame counter keeps exactly the planned ones. Spans must start at an
 * IDR (closed groups of pictures).
 */
function runSpanStream(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]> {
  const packets = task.packetRun!;
  const byPos = new Map(packets.map((p, i) => [p.pos, i]));
  // Spans: for each planned frame, the keyframe before it in decode order; frames sharing a keyframe share a span.
  const spans: Array<{ from: number; to: number; frames: Planned[] }> = [];
  for (const f of [...task.frames].sort((a, b) => (byPos.get(a.pos) ?? 0) - (byPos.get(b.pos) ?? 0))) {
    const at = byPos.get(f.pos);
    if (at === undefined) throw new KeyframeStreamMismatch(`frame at ${f.timestampSec} s is not in the packet run`);
    let k = at;
    while (k > 0 && !packets[k]!.key) k--;
    if (!packets[k]!.key) throw new KeyframeStreamMismatch('no keyframe before a planned frame');
    const last = spans[spans.length - 1];
    if (last && last.from === k) {
      last.to = Math.max(last.to, at);
      last.frames.push(f);
    } else spans.push({ from: k, to: at, frames: [f] });
  }
  // Decoder output index of each planned frame: the frames of earlier spans, then its rank in its span.
  const outputs: Array<{ n: number; frame: Planned }> = [];
  let decoded = 0;
  for (const s of spans) {
    const times = packets.slice(s.from, s.to + 1).map((p) => p.t);
    for (const f of s.frames) outputs.push({ n: decoded + times.filter((t) => t < f.timestampSec - 1e-6).length, frame: f });
    decoded += times.length;
  }
  outputs.sort((a, b) => a.n - b.n);
  const inSpan = new Uint8Array(packets.length);
  const spanStart = new Uint8Array(packets.length);
  for (const s of spans) {
    spanStart[s.from] = 1;
    inSpan.fill(1, s.from, s.to + 1);
  }
  const last = Math.max(...spans.map((s) => s.to));
  return runPacketStream(task, hooks, {
    keyframesOnly: false,
    packets: packets.slice(0, last + 1),
    forward: (i, unit) => (spanStart[i] && !unit.idr ? 'a span does not start at an IDR (open group of pictures)' : inSpan[i] === 1),
    strict: () => true,
    select: outputs.map((o) => `eq(n\\,${o.n})`).join('+'),
    identify: (k) => outputs[k]?.frame,
    verify: (log) => (log.decoded === decoded ? undefined : `the decoder made ${log.decoded} frames where the spans hold ${decoded}`),
  });
}

/** Runs one task; never throws (errors come back as values that survive the thread boundary). */
export async function runTask(task: Task, hooks: TaskHooks = {}): Promise<TaskOutcome> {
  const t0 = performance.now();
  try {
    if (task.kind === 'frames') {
      if (task.decode === 'keyframes' && task.keyframeRun && task.frames.every((f) => f.pos >= 0)) {
        try {
          return { ok: true, frames: await runKeyframeStream(task, hooks), decodeMs: performance.now() - t0, path: 'keyframe-stream' };
        } catch (e) {
          if (!(e instanceof KeyframeStreamMismatch) || hooks.signal?.aborted) throw e;
          if (process.env.OMNIPREP_DEBUG_KEYFRAMES) process.stderr.write(`keyframe stream: ${(e as Error).message}\n`);
        }
      }
      if (task.decode === 'exact' && task.packetRun && task.frames.every((f) => f.pos >= 0)) {
        try {
          return { ok: true, frames: await runSpanStream(task, hooks), decodeMs: performance.now() - t0, path: 'span-stream' };
        } catch (e) {
          if (!(e instanceof KeyframeStreamMismatch) || hooks.signal?.aborted) throw e;
          if (process.env.OMNIPREP_DEBUG_KEYFRAMES) process.stderr.write(`span stream: ${(e as Error).message}\n`);
        }
      }
      return { ok: true, frames: await runFrames(task, hooks), decodeMs: performance.now() - t0, path: 'range' };
    }
    return { ok: true, scene: await runScene(task, hooks), decodeMs: performance.now() - t0 };
  } catch (e) {
    if (e instanceof OmniprepError) return { ok: false, error: { code: e.code, message: e.message, ...(e.input ? { input: e.input } : {}) } };
    return { ok: false, error: { code: 'PROCESS_FAILED', message: `${task.input}: ${(e as Error).message}` } };
  }
}
