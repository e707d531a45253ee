/**
 * The raw-frame reader: reads rgb24 frames from a decoder's stdout and writes each as the planned
 * frame `identify(k)` names (undefined: not one of ours). Two frame buffers: while sharp encodes
 * one frame, the pipe keeps flowing into the other, so ffmpeg decodes on instead of waiting (at
 * most two raw frames per task in memory).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunningProcess } from '../ffmpeg/runner.js';
import { OmniprepError } from '../errors.js';
import { encodeRaw, perceptualHash } from '../image/encode.js';
import { frameFileName } from './graph.js';
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

async function writeFrame(task: FrameTask, raw: Buffer, id: Identified & { planned: PlannedTaskFrame }): Promise<FrameResult> {
  const planned = id.planned;
  const image = { data: raw, width: task.decodeWidth, height: task.decodeHeight, channels: 3 as const };
  const [encoded, hash] = await Promise.all([encodeRaw(image, task.out), task.hash ? perceptualHash(image) : Promise.resolve(undefined)]);
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

function missingFrame(task: FrameTask, results: FrameResult[]): OmniprepError {
  const missing = task.frames.find((f) => !results.some((r) => r.index === f.index))!;
  return new OmniprepError(
    'CORRUPT',
    `${task.input}: the frame at ${missing.timestampSec.toFixed(3)} s could not be decoded (the data there is damaged or missing)`,
    { input: task.input },
  );
}

export async function readFrames(proc: RunningProcess, task: FrameTask, identify: Identify): Promise<FrameResult[]> {
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
    results.push(await writeFrame(task, raw, { ...id, planned }));
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
  if (results.length !== task.frames.length) throw missingFrame(task, results);
  return results;
}
