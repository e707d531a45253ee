/**
 * The frame reader: reads a decoder's stdout and writes each frame as the planned frame
 * `identify(k)` names (undefined: not one of ours). JPEG frames come encoded by ffmpeg and are only
 * split (JpegSplitter); others come as rgb24 frames for sharp, in two frame buffers: while sharp
 * encodes one frame, the pipe keeps flowing into the other, so ffmpeg decodes on instead of
 * waiting (at most two raw frames per task in memory).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunningProcess } from '../ffmpeg/runner.js';
import { OmniprepError } from '../errors.js';
import { encodeRaw, perceptualHash } from '../image/encode.js';
import { encodesJpeg, frameFileName } from './graph.js';
import type { FrameResult, FrameTask, PlannedTaskFrame } from './types.js';

export interface Identified {
  planned: PlannedTaskFrame | undefined;
  /** What the decoder reported (used when the frame was not matched to its packet). */
  time: number;
  key: boolean;
  /** Whether the frame was matched to its packet in the index (its time and flag come from there). */
  fromIndex: boolean;
}

export type Identify = (k: number) => Promise<Identified>;

/** Encodes a raw rgb24 frame of the task's decoded size (sharp) and writes it as its planned frame. */
export async function writeFrame(task: FrameTask, raw: Buffer, id: Identified & { planned: PlannedTaskFrame }): Promise<FrameResult> {
  const image = { data: raw, width: task.decodeWidth, height: task.decodeHeight, channels: 3 as const };
  const [encoded, hash] = await Promise.all([encodeRaw(image, task.out), task.hash ? perceptualHash(image) : Promise.resolve(undefined)]);
  return saveFrame(task, encoded, hash, id);
}

async function saveFrame(task: FrameTask, encoded: Buffer, hash: string | undefined, id: Identified & { planned: PlannedTaskFrame }): Promise<FrameResult> {
  const planned = id.planned;
  const file = join(task.out.dir, frameFileName(planned.index, task.out.format));
  await writeFile(file, encoded);
  return {
    index: planned.index,
    timestampSec: id.fromIndex ? planned.timestampSec : Math.round(id.time * 1e6) / 1e6,
    keyframe: id.fromIndex ? planned.keyframe : id.key,
    file,
    bytes: encoded.length,
    width: task.out.width,
    height: task.out.height,
    ...(hash ? { hash } : {}),
  };
}

/**
 * Splits a stream of whole JPEG images (ffmpeg's mjpeg through image2pipe) at their end markers,
 * walking the marker segments by their lengths and the entropy-coded data to the next marker that
 * is not a stuffed 0xFF00 or a restart, so that no byte inside an image is taken for its end.
 */
export class JpegSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Where the scan of the current image goes on, and whether that is inside entropy-coded data. */
  private pos = 2;
  private entropy = false;

  constructor(private readonly input: string) {}

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const images: Buffer[] = [];
    for (let end = this.scan(); end > 0; end = this.scan()) {
      images.push(this.buf.subarray(0, end));
      this.buf = this.buf.subarray(end);
      this.pos = 2;
      this.entropy = false;
    }
    return images;
  }

  /** Bytes left over that do not make a whole image (0 at a clean end). */
  get pending(): number {
    return this.buf.length;
  }

  private bad(): OmniprepError {
    return new OmniprepError('PROCESS_FAILED', `${this.input}: the decoder's JPEG stream is malformed`, { input: this.input });
  }

  /** The end of the first image in the buffer, or -1 while it is not all there. */
  private scan(): number {
    const b = this.buf;
    if (b.length < 2) return -1;
    if (b[0] !== 0xff || b[1] !== 0xd8) throw this.bad();
    let p = this.pos;
    for (;;) {
      if (this.entropy) {
        const i = b.indexOf(0xff, p);
        if (i < 0 || i + 1 >= b.length) {
          this.pos = i < 0 ? b.length : i;
          return -1;
        }
        const m = b[i + 1]!;
        // 0xFF00 is a stuffed data byte, 0xFFD0-D7 restarts, 0xFFFF fill before a marker.
        p = i + 1;
        if (m === 0x00 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) continue;
        this.entropy = false;
        p = i;
      }
      if (p + 2 > b.length) break;
      if (b[p] !== 0xff) throw this.bad();
      const m = b[p + 1]!;
      if (m === 0xff) {
        p++;
        continue;
      }
      if (m === 0xd9) return p + 2;
      if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
        p += 2;
        continue;
      }
      if (p + 4 > b.length) break;
      const len = b.readUInt16BE(p + 2);
      if (len < 2) throw this.bad();
      if (p + 2 + len > b.length) break;
      p += 2 + len;
      if (m === 0xda) this.entropy = true;
    }
    this.pos = p;
    return -1;
  }
}

function missingFrame(task: FrameTask, results: FrameResult[]): OmniprepError {
  const missing = task.frames.find((f) => !results.some((r) => r.index === f.index))!;
  return new OmniprepError(
    'CORRUPT',
    `${task.input}: the frame at ${missing.timestampSec.toFixed(3)} s could not be decoded (the data there is damaged or missing)`,
    { input: task.input },
  );
}

export async function readFrames(proc: RunningProcess, task: FrameTask, identify: Identify): Promise<FrameResult[]> {
  return encodesJpeg(task) ? readJpegs(proc, task, identify) : readRaw(proc, task, identify);
}

/**
 * Feeds the decoder's stdout to `each`, chunk by chunk, then waits for `end` and the process; on
 * any failure the process is stopped before the error goes on.
 */
async function consume(proc: RunningProcess, each: (chunk: Buffer) => Promise<void>, end?: () => Promise<unknown>): Promise<void> {
  try {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) await each(chunk);
    await end?.();
    await proc.done;
  } catch (e) {
    proc.stop();
    await proc.done.catch(() => {});
    throw e;
  }
}

/** The planned frame the decoder's next output is, unless it is not one of ours or already written. */
async function nextPlanned(identify: Identify, k: number, results: readonly FrameResult[]): Promise<(Identified & { planned: PlannedTaskFrame }) | undefined> {
  const id = await identify(k);
  const planned = id.planned;
  return planned && !results.some((r) => r.index === planned.index) ? { ...id, planned } : undefined;
}

/** JPEG images that ffmpeg encoded: each is identified and written as it completes. */
async function readJpegs(proc: RunningProcess, task: FrameTask, identify: Identify): Promise<FrameResult[]> {
  const results: FrameResult[] = [];
  const split = new JpegSplitter(task.input);
  let outputs = 0;
  await consume(proc, async (chunk) => {
    for (const image of split.push(chunk)) {
      const id = await nextPlanned(identify, outputs++, results);
      if (!id) continue;
      const hash = task.hash ? await perceptualHash(image) : undefined;
      results.push(await saveFrame(task, image, hash, id));
    }
  });
  return finish(task, results);
}

function finish(task: FrameTask, results: FrameResult[]): FrameResult[] {
  results.sort((a, b) => a.index - b.index);
  if (results.length !== task.frames.length) throw missingFrame(task, results);
  return results;
}

/** Raw RGB frames, encoded here by sharp. */
async function readRaw(proc: RunningProcess, task: FrameTask, identify: Identify): Promise<FrameResult[]> {
  const frameBytes = task.decodeWidth * task.decodeHeight * 3;
  const results: FrameResult[] = [];
  const buffers = [Buffer.allocUnsafe(frameBytes), Buffer.allocUnsafe(frameBytes)];
  const busy: Array<Promise<void> | undefined> = [undefined, undefined];
  let slot = 0;
  let buf = buffers[0]!;
  let filled = 0;
  let outputs = 0;
  const handleFrame = async (raw: Buffer): Promise<void> => {
    const id = await nextPlanned(identify, outputs++, results);
    if (id) results.push(await writeFrame(task, raw, id));
  };
  await consume(
    proc,
    async (chunk) => {
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
    },
    () => Promise.all(busy),
  );
  return finish(task, results);
}
