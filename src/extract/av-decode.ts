/**
 * A frame task decoded with node-av's FFmpeg libraries, in a decoder child process (never in the
 * main process: see av-pool.ts). The same selection as the ffmpeg strategies: keyframe tasks
 * decode their planned keyframes alone (seeking to each one that is far from the last, so dense
 * keyframes are not all decoded), exact tasks decode from the keyframe at or before their first
 * frame on to their last, keeping the planned frames. A decoded frame is matched to its planned
 * frame by the byte position of its packet (from the packet's pts), else by its time; it is turned
 * and scaled to the output size as rgb24 and handed to `emit` (the parent encodes it with sharp).
 *
 * A task runs synchronously from open to close: node-av's native objects must not be finalized
 * while a decoder of the process is open (a finalizer run between two packets, at an await, made
 * the child crash with SIGSEGV or a double free within a few tasks), and finalizers run only when
 * the event loop turns, which it does between tasks.
 */
import type * as NodeAvConstants from 'node-av/constants';
import type * as NodeAv from 'node-av/lib';
import { OmniprepError } from '../errors.js';
import { ACCEPTED_DEMUXERS } from '../ffmpeg/args.js';
import type { FrameTask, PlannedTaskFrame } from './types.js';

/** node-av's low-level bindings and constants (its high-level API is not used: see openInput). */
export type NodeAvModule = typeof NodeAv & typeof NodeAvConstants;

export interface AvFrame {
  index: number;
  /** The decoded frame's own time (timeline seconds) and whether the index says it is a keyframe. */
  timestampSec: number;
  keyframe: boolean;
  /** rgb24 at the output size (avSize). */
  rgb: Uint8Array;
}

/** A frame within this of a planned time is that frame (the select window of the ffmpeg strategies). */
const TIME_EPS = 0.0005;
/** Containers whose demuxers seek by a keyframe index, onto the keyframe at or before a time. */
const INDEXED = new Set(['mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2', 'matroska', 'webm']);
/** How much earlier the others seek (see seekTo). */
const UNINDEXED_MARGIN_SEC = 1;
/** Keyframe tasks seek to a planned keyframe more than this many seconds past the last packet read. */
const SEEK_GAP_SEC = 1;

function corrupt(task: FrameTask, cause: string): OmniprepError {
  return new OmniprepError('CORRUPT', `${task.input}: ${cause}`, { input: task.input });
}

/** The size a frame is scaled to before it is turned for display: the output size, on its side for 90 and 270 degrees. */
function scaledSize(task: Pick<FrameTask, 'rotation' | 'out'>): { width: number; height: number } {
  const r = task.rotation ?? 0;
  return r === 90 || r === 270 ? { width: task.out.height, height: task.out.width } : { width: task.out.width, height: task.out.height };
}

/** Turns an rgb24 image clockwise by 90, 180 or 270 degrees (the display's rotation). */
export function turnRgb(src: Uint8Array, width: number, height: number, degrees: number): Uint8Array {
  if (degrees !== 90 && degrees !== 180 && degrees !== 270) return src;
  const dst = new Uint8Array(src.length);
  const outW = degrees === 180 ? width : height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [nx, ny] = degrees === 90 ? [height - 1 - y, x] : degrees === 180 ? [width - 1 - x, height - 1 - y] : [y, width - 1 - x];
      const s = (y * width + x) * 3;
      const d = (ny * outW + nx) * 3;
      dst[d] = src[s]!;
      dst[d + 1] = src[s + 1]!;
      dst[d + 2] = src[s + 2]!;
    }
  }
  return dst;
}

/** The planned frame a decoded frame is, by its packet's byte position, else by its time. */
class Matcher {
  private readonly byPos = new Map<number, PlannedTaskFrame>();
  private readonly posOfPts = new Map<bigint, number>();
  readonly pending: Set<PlannedTaskFrame>;

  constructor(private readonly task: FrameTask) {
    for (const f of task.frames) if (f.pos >= 0) this.byPos.set(f.pos, f);
    this.pending = new Set(task.frames);
  }

  /** Notes a packet sent to the decoder (its pts names the frame it becomes). */
  sent(pts: bigint, pos: bigint): void {
    if (pos >= 0n) this.posOfPts.set(pts, Number(pos));
  }

  match(pts: bigint, timeSec: number): PlannedTaskFrame | undefined {
    const pos = this.posOfPts.get(pts);
    this.posOfPts.delete(pts);
    const byPos = pos === undefined ? undefined : this.byPos.get(pos);
    if (byPos) return this.pending.has(byPos) ? byPos : undefined;
    for (const f of this.pending) if (Math.abs(f.timestampSec - timeSec) <= TIME_EPS) return f;
    return undefined;
  }
}

/**
 * Scales decoded frames to rgb24 of one size (libswscale, Lanczos as sharp's lanczos3). Not
 * node-av's FilterAPI: its frames, finalized after the graph was closed, crashed the process.
 */
class Scaler {
  private sws: NodeAv.SoftwareScaleContext | undefined;
  private from = '';
  private readonly dst: NodeAv.Frame;

  constructor(
    private readonly av: NodeAvModule,
    readonly size: { width: number; height: number },
  ) {
    this.dst = new av.Frame();
    this.dst.alloc();
    this.dst.width = size.width;
    this.dst.height = size.height;
    this.dst.format = av.AV_PIX_FMT_RGB24;
    if (this.dst.allocBuffer() < 0) throw new Error('could not allocate a frame buffer');
  }

  rgb(src: NodeAv.Frame): Buffer {
    const key = `${src.width}x${src.height}/${src.format}`;
    if (key !== this.from) {
      this.sws?.freeContext();
      this.sws = new this.av.SoftwareScaleContext();
      this.sws.getContext(
        src.width,
        src.height,
        src.format as NodeAvConstants.AVPixelFormat,
        this.size.width,
        this.size.height,
        this.av.AV_PIX_FMT_RGB24,
        this.av.SWS_LANCZOS,
      );
      this.from = key;
    }
    const ret = this.sws!.scaleFrameSync(this.dst, src);
    if (ret < 0) throw new Error(`scaling a frame failed (error ${ret})`);
    return this.dst.toBuffer();
  }

  close(): void {
    this.sws?.freeContext();
    this.dst.free();
  }
}

interface Open {
  fc: NodeAv.FormatContext;
  cc: NodeAv.CodecContext;
  scaler: Scaler;
  stream: NodeAv.Stream;
  packet: NodeAv.Packet;
  /** The decoder's output frame, reused. */
  frame: NodeAv.Frame;
  close(): void;
}

function check(ret: number, what: string): void {
  if (ret < 0) throw new Error(`${what} failed (error ${ret})`);
}

/**
 * Opens the input as the ffmpeg strategies do: files only, the accepted demuxers, the pixel
 * limit. Options are set on the contexts, never passed as a node-av Dictionary: the libraries
 * replace a dictionary they are given, and its wrapper, finalized later, freed it again (a
 * double free that crashed the child within a few tasks).
 */
function openInput(av: NodeAvModule, task: FrameTask): Open {
  const closers: Array<() => void> = [];
  const close = (): void => {
    for (const c of closers.reverse()) c();
  };
  try {
    const fc = new av.FormatContext();
    fc.allocContext();
    closers.push(() => fc.closeInputSync());
    check(fc.setOption('protocol_whitelist', 'file'), 'setting the protocol whitelist');
    check(fc.setOption('format_whitelist', ACCEPTED_DEMUXERS.join(',')), 'setting the demuxer whitelist');
    check(fc.openInputSync(task.path, null, null), 'opening the file');
    check(fc.findStreamInfoSync(null), 'reading the streams');
    const stream = fc.streams?.[task.streamIndex];
    if (!stream) throw corrupt(task, `the video stream #${task.streamIndex} is not there`);
    const { width, height } = stream.codecpar;
    if (width * height > task.maxPixels) {
      throw new OmniprepError('TOO_LARGE', `${task.input}: ${width}x${height} frames are over the limit of ${task.maxPixels} pixels`, { input: task.input });
    }
    const codec = av.Codec.findDecoder(stream.codecpar.codecId);
    if (!codec) throw corrupt(task, `no decoder for its video codec (id ${stream.codecpar.codecId})`);
    const cc = new av.CodecContext();
    cc.allocContext3(codec);
    closers.push(() => cc.freeContext());
    check(cc.parametersToContext(stream.codecpar), 'setting up the decoder');
    cc.pktTimebase = stream.timeBase;
    cc.threadCount = task.decodeThreads ?? 1;
    check(cc.setOption('max_pixels', String(Math.floor(task.maxPixels))), 'setting the pixel limit');
    check(cc.open2Sync(null, null), 'opening the decoder');
    const scaler = new Scaler(av, scaledSize(task));
    closers.push(() => scaler.close());
    const packet = new av.Packet();
    packet.alloc();
    closers.push(() => packet.free());
    const frame = new av.Frame();
    frame.alloc();
    closers.push(() => frame.free());
    return { fc, cc, scaler, stream, packet, frame, close };
  } catch (e) {
    close();
    throw e;
  }
}

type Emit = (f: AvFrame) => void;

/** Decodes one task, handing each planned frame to `emit` in decode order. */
export function decodeAvTask(av: NodeAvModule, task: FrameTask, emit: Emit): void {
  const o = openInput(av, task);
  try {
    const m = new Matcher(task);
    if (task.decode === 'keyframes') decodeKeyframes(av, task, o, m, emit);
    else decodeRange(av, task, o, m, emit);
    const missing = [...m.pending].sort((a, b) => a.timestampSec - b.timestampSec)[0];
    if (missing) throw corrupt(task, `the frame at ${missing.timestampSec.toFixed(3)} s could not be decoded (the data there is damaged or missing)`);
  } finally {
    o.close();
  }
}

const NOPTS = -9223372036854775808n;

function seconds(ts: bigint, tb: { num: number; den: number }): number {
  return (Number(ts) * tb.num) / tb.den;
}

/** The packet's time on the container's clock (its pts, else its dts). */
function packetTime(o: Open): number {
  return seconds(o.packet.pts === NOPTS ? o.packet.dts : o.packet.pts, o.stream.timeBase);
}

/** Reads the next packet of the task's stream into o.packet (false at the end). */
function readPacket(av: NodeAvModule, o: Open): boolean {
  for (;;) {
    o.packet.unref();
    const ret = o.fc.readFrameSync(o.packet);
    if (ret === av.AVERROR_EOF) return false;
    if (ret < 0) throw new Error(`reading a packet failed (error ${ret})`);
    if (o.packet.streamIndex === o.stream.index) return true;
  }
}

/** Sends o.packet (or the end) and emits every planned frame the decoder gives back. */
function feed(task: FrameTask, o: Open, m: Matcher, emit: Emit, end = false): void {
  if (!end) m.sent(o.packet.pts === NOPTS ? o.packet.dts : o.packet.pts, o.packet.pos);
  // A packet the decoder refuses (damaged data) is skipped, as ffmpeg does; a missing frame is reported at the end.
  o.cc.sendPacketSync(end ? null : o.packet);
  for (;;) {
    o.frame.unref();
    if (o.cc.receiveFrameSync(o.frame) < 0) return;
    const pts = o.frame.pts === NOPTS ? o.frame.bestEffortTimestamp : o.frame.pts;
    const planned = m.match(pts, seconds(pts, o.stream.timeBase) - task.startTimeSec);
    if (planned) emitFrame(task, o, m, planned, o.frame, emit);
  }
}

function emitFrame(task: FrameTask, o: Open, m: Matcher, planned: PlannedTaskFrame, frame: NodeAv.Frame, emit: Emit): void {
  const { width, height } = o.scaler.size;
  const rgb = turnRgb(o.scaler.rgb(frame), width, height, task.rotation ?? 0);
  if (rgb.length !== task.out.width * task.out.height * 3)
    throw corrupt(task, `a decoded frame has ${rgb.length} bytes, not ${task.out.width}x${task.out.height} rgb`);
  m.pending.delete(planned);
  emit({ index: planned.index, timestampSec: planned.timestampSec, keyframe: planned.keyframe, rgb });
}

/**
 * Seeks onto the keyframe at or before `sec` (the container's clock) in the stream's own time
 * base (node-av's seekSync takes microseconds, which a stream's seek reads in its time base).
 */
function seekTo(av: NodeAvModule, task: FrameTask, o: Open, time: number): void {
  // Demuxers without a keyframe index (MPEG-TS, PS) search by decode time, which runs behind
  // the keyframe's presentation time: they seek a little earlier, and the read goes on to it.
  const sec = time + task.startTimeSec - (INDEXED.has(task.container ?? '') ? 0 : UNINDEXED_MARGIN_SEC);
  if (sec <= task.startTimeSec) return;
  const tb = o.stream.timeBase;
  const ret = o.fc.seekFrameSync(o.stream.index, BigInt(Math.round((sec * tb.den) / tb.num)), av.AVSEEK_FLAG_BACKWARD);
  if (ret < 0) throw new Error(`seeking to ${sec.toFixed(3)} s failed (error ${ret})`);
}

/** Exact frames: from the keyframe at the seek point, every packet through the last planned frame. */
function decodeRange(av: NodeAvModule, task: FrameTask, o: Open, m: Matcher, emit: Emit): void {
  if (task.seekSec > 0) seekTo(av, task, o, task.seekSec);
  while (m.pending.size && readPacket(av, o)) feed(task, o, m, emit);
  if (m.pending.size) feed(task, o, m, emit, true);
}

/** Keyframes: only the planned keyframes' packets are decoded, with a seek to each one far from the last read. */
function decodeKeyframes(av: NodeAvModule, task: FrameTask, o: Open, m: Matcher, emit: Emit): void {
  const wanted = [...task.frames].sort((a, b) => a.timestampSec - b.timestampSec);
  const fed = new Set<PlannedTaskFrame>();
  const byPos = wanted.every((f) => f.pos >= 0);
  const plannedAt = (pos: number, t: number): PlannedTaskFrame | undefined =>
    wanted.find((f) => !fed.has(f) && (byPos ? f.pos === pos : Math.abs(f.timestampSec - t) <= TIME_EPS));
  // The file is read from its start until a seek.
  let lastRead = 0;
  for (const f of wanted) {
    if (fed.has(f)) continue;
    if (f.timestampSec - lastRead > SEEK_GAP_SEC) seekTo(av, task, o, f.timestampSec);
    while (!fed.has(f) && readPacket(av, o)) {
      const t = packetTime(o) - task.startTimeSec;
      lastRead = t;
      if (!o.packet.isKeyframe) continue;
      const p = plannedAt(Number(o.packet.pos), t);
      if (p) {
        fed.add(p);
        feed(task, o, m, emit);
      } else if (t > f.timestampSec + TIME_EPS) break;
    }
  }
  if (m.pending.size) feed(task, o, m, emit, true);
}
