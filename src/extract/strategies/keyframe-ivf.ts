/**
 * Keyframes of VP8 and VP9 decoded alone: the kept keyframes' bytes are read from the file by the
 * packet index (a Matroska block's data after its header: PacketIndex.rawFrames) and written as an
 * IVF stream to one decoder, which decodes exactly them. Their keyframes reset every reference, so
 * each decodes to the pixels a decode of the whole stream gives. Where keyframes are dense (every
 * 0.4 s), a range decode goes through every keyframe between the kept ones, 6 to 12 for each kept
 * one at one frame every 5 s; here it is one decode a kept frame, after one process start.
 *
 * Each packet carries its number as its IVF time: the k-th frame out must be the k-th packet in
 * (showinfo), or the path does not suit the file (a keyframe not shown, a frame that failed):
 * StrategyMismatch, and the task takes the range decode.
 */
import { open } from 'node:fs/promises';
import { FfmpegArgs } from '../../ffmpeg/args.js';
import { start } from '../../ffmpeg/runner.js';
import { frameGraph, frameOutput } from '../graph.js';
import { readFrames } from '../reader.js';
import { ShowinfoLog } from '../showinfo.js';
import type { FrameResult, FrameTask, TaskHooks } from '../types.js';
import { pipeWriter, processFields } from './packet-stream.js';
import { StrategyMismatch, type DecodeStrategy } from './strategy.js';

/** IVF's time base: a millisecond, so that packet k shows at k ms. */
const IVF_RATE = 1000;

function ivfHeader(fourcc: string, width: number, height: number, frames: number): Buffer {
  const b = Buffer.alloc(32);
  b.write('DKIF', 0, 'latin1');
  b.writeUInt16LE(0, 4);
  b.writeUInt16LE(32, 6);
  b.write(fourcc, 8, 'latin1');
  b.writeUInt16LE(Math.min(width, 0xffff), 12);
  b.writeUInt16LE(Math.min(height, 0xffff), 14);
  b.writeUInt32LE(IVF_RATE, 16);
  b.writeUInt32LE(1, 20);
  b.writeUInt32LE(frames, 24);
  return b;
}

/** Packet k's IVF frame: its 12-byte header and the frame's bytes, read from the block at `pos` (track number, time, flags, then the frame). */
async function ivfFrame(fh: Awaited<ReturnType<typeof open>>, p: { pos: number; size: number }, k: number): Promise<Buffer | string> {
  const buf = Buffer.alloc(12 + 11 + p.size);
  const { bytesRead } = await fh.read(buf, 12, 11 + p.size, p.pos);
  const first = buf[12] ?? 0;
  const vint = first ? Math.clz32(first) - 23 : 9; // a track number's length: 1 to 8 bytes
  if (vint > 8 || 12 + vint + 3 + p.size > 12 + bytesRead) return `the block at byte ${p.pos} is cut short or not a block`;
  const frame = buf.subarray(12 + vint + 3 - 12, 12 + vint + 3 + p.size);
  frame.writeUInt32LE(p.size, 0);
  frame.writeUInt32LE(k, 4);
  frame.writeUInt32LE(0, 8);
  return frame;
}

async function runKeyframeIvf(task: FrameTask, hooks: TaskHooks): Promise<FrameResult[]> {
  const fourcc = task.ivfFourcc;
  if (!fourcc || task.frames.some((f) => f.pos < 0) || !task.frameSizes) throw new StrategyMismatch('the keyframes have no positions and sizes in the index');
  const sizes = task.frameSizes;
  const args = new FfmpegArgs(task.ffmpeg.version, { logLevel: 'info' })
    .pipeInput('ivf', { threads: task.decodeThreads ?? 1, maxPixels: task.maxPixels })
    .filterComplex(frameGraph(task, '[0:v]', undefined, task.rotation ?? 0))
    .map('[out]')
    .passthroughTimestamps()
    .threads(1)
    .output('pipe:1', frameOutput(task))
    .toArgs();
  const log = new ShowinfoLog({ input: task.input, startTimeSec: 0 });
  const decode = start({ ...processFields(task, hooks), args, onStderrLine: (l) => log.line(l), stdin: 'pipe' });
  decode.done.then(
    () => log.end(),
    () => log.end(),
  );
  let mismatch: string | undefined;
  const feed = async (): Promise<void> => {
    const write = pipeWriter(decode.stdin!);
    const fh = await open(task.path, 'r');
    try {
      await write(ivfHeader(fourcc, task.decodeWidth, task.decodeHeight, task.frames.length));
      for (let k = 0; k < task.frames.length && !mismatch; k++) {
        const frame = await ivfFrame(fh, { pos: task.frames[k]!.pos, size: sizes[k]! }, k);
        if (typeof frame === 'string') mismatch = frame;
        else await write(frame);
      }
    } finally {
      await fh.close();
      decode.stdin!.end();
    }
  };
  const fed = feed();
  fed.catch(() => {});
  try {
    const results = await readFrames(decode, task, async (k) => {
      const shown = await log.nth(k);
      if (Math.round(shown.time * IVF_RATE) !== k) mismatch ??= `frame ${k} out of the decoder is packet ${Math.round(shown.time * IVF_RATE)}`;
      return { planned: task.frames[k], time: 0, key: true, fromIndex: true };
    });
    await fed;
    if (mismatch) throw new StrategyMismatch(mismatch);
    return results;
  } catch (e) {
    decode.stop();
    await Promise.allSettled([fed, decode.done]);
    // A frame the decoder refused or did not give: the range decode, which reads the file as it is, says what is wrong.
    if (mismatch || !hooks.signal?.aborted) throw new StrategyMismatch(mismatch ?? (e as Error).message);
    throw e;
  }
}

/** Keyframes of VP8/VP9 whose packets the index places: one start and a decode a kept keyframe. */
export const keyframeIvf: DecodeStrategy = {
  name: 'keyframe-ivf',
  applies: (facts, g) => g.decode === 'keyframes' && facts.ivf !== undefined,
  cost: (facts, g) => facts.dec.startCost + g.frames.length,
  fill: (facts, g) => ({ ivfFourcc: facts.ivf, frameSizes: g.frames.map((f) => facts.dec.packet(facts.dec.rankOf(f)).size) }),
  run: runKeyframeIvf,
};
