/**
 * The Annex B stream paths (H.264, HEVC). The range's packets go out as an Annex B stream (`-c copy`,
 * an access unit delimiter before each unit), every unit is matched to its packet in the index by
 * its payload size, in decode order, and only the units the plan forwards reach a second ffmpeg
 * that decodes them from stdin. Any mismatch throws StrategyMismatch: the task then tries the
 * next strategy (at last the range decode).
 *
 * An MP4/MOV whose codec record (avcC, hvcC) the index has needs no demuxer: each wanted packet
 * is read from the file at its index position and made into the same Annex B unit the bitstream
 * filters make (delimiter, parameter sets before keyframes, NAL units with start codes). That
 * saves a process per task, one that parses the whole moov (0.2 s for ten minutes of 720p).
 */
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { FfmpegArgs } from '../../ffmpeg/args.js';
import { type ProcessOptions, start } from '../../ffmpeg/runner.js';
import { AccessUnits, annexBCodec, sampleUnit, type AccessUnit, type AnnexBCodec, type CodecRecord } from '../annexb.js';
import type { DecodeFacts } from '../decode-cost.js';
import { frameGraph, frameOutput } from '../graph.js';
import { readFrames } from '../reader.js';
import { ShowinfoLog } from '../showinfo.js';
import type { FrameResult, FrameTask, PlannedTaskFrame, TaskHooks } from '../types.js';
import { StrategyMismatch } from './strategy.js';

/** The task fields both stream paths read: the Annex B codec and (MP4/MOV) the codec record. */
export function streamFields(facts: DecodeFacts): Pick<FrameTask, 'annexB' | 'codecRecord'> {
  return { annexB: facts.annexB, codecRecord: facts.codecRecord };
}

/** What one stream path does with the packets of its range (see decodePacketStream). */
export interface StreamPlan {
  /** Copy only the keyframes' packets (`-discard nokey`). */
  keyframesOnly: boolean;
  /** The packets the stream must match, in decode order (with their positions, for reading them from the file). */
  packets: ReadonlyArray<{ size: number; pos?: number; key?: boolean }>;
  /** Whether packet i may be forwarded at all (read from the file only then); default every one. */
  wanted?(i: number): boolean;
  /** Whether matched packet i goes to the decoder; a string is a mismatch (the path cannot go on). */
  forward(i: number, unit: AccessUnit): boolean | string;
  /** After the first match: whether a unit that matches nothing is a mismatch (else it is skipped). */
  strict(unit: AccessUnit): boolean;
  /** A `select` on the decoder's frame counter, when it decodes more frames than are kept. */
  select?: string;
  /** The planned frame the decoder's k-th kept frame is. */
  identify(k: number): PlannedTaskFrame | undefined;
  /** A last check against the decoder's showinfo log (the count of frames it made). */
  verify?(log: ShowinfoLog): string | undefined;
}

/** Containers whose keyframes are read from the file when the index has the codec record. */
const DIRECT_CONTAINERS = new Set(['mp4', 'mov', 'm4a']);

/** The codec record a stream reads its packets from the file with, when it can (see the file's comment). */
function directRecord(task: FrameTask, plan: StreamPlan, codec: AnnexBCodec): CodecRecord | undefined {
  if (!task.codecRecord || !DIRECT_CONTAINERS.has(task.container ?? '')) return undefined;
  if (!plan.packets.every((p) => p.pos !== undefined && p.pos >= 0 && p.size > 0)) return undefined;
  return codec.record(task.codecRecord);
}

/** The plan's wanted packets, read from the file by position and size, as access units (undefined: not wanted). */
async function* fileUnits(task: FrameTask, plan: StreamPlan, record: CodecRecord, codec: AnnexBCodec): AsyncGenerator<AccessUnit | string | undefined> {
  const fh = await open(task.path, 'r');
  try {
    for (let i = 0; i < plan.packets.length; i++) {
      if (plan.wanted && !plan.wanted(i)) {
        yield undefined;
        continue;
      }
      const p = plan.packets[i]!;
      const buf = Buffer.allocUnsafe(p.size);
      const { bytesRead } = await fh.read(buf, 0, p.size, p.pos!);
      if (bytesRead !== p.size) {
        yield `packet ${i} at byte ${p.pos} is cut short (${bytesRead} of ${p.size} bytes)`;
        return;
      }
      yield sampleUnit(buf, record, codec, plan.keyframesOnly || p.key === true) ??
        `packet ${i} at byte ${p.pos} is not NAL units of ${record.nalLengthSize}-byte lengths`;
    }
  } finally {
    await fh.close();
  }
}

/** What every process a task starts is given: its ffmpeg, the input's name, its time limit and the hooks. */
export function processFields(task: FrameTask, hooks: TaskHooks): Pick<ProcessOptions, 'command' | 'input' | 'timeoutMs' | 'signal' | 'onSpawn'> {
  return { command: task.ffmpeg.path, input: task.input, timeoutMs: task.timeoutMs, signal: hooks.signal, onSpawn: hooks.onSpawn };
}

/** Writes to a decoder's stdin, waiting for room in the pipe or for the decoder to be gone (killed, timed out): never forever. */
export function pipeWriter(stdin: Writable): (b: Buffer) => Promise<void> {
  return (b) =>
    new Promise((resolve) => {
      if (stdin.destroyed || stdin.writableEnded || stdin.write(b)) return resolve();
      const done = (): void => {
        stdin.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      stdin.on('drain', done).on('close', done).on('error', done);
    });
}

/** Streams the plan's packets to one decoder and reads its frames (see the file's comment). */
export async function decodePacketStream(task: FrameTask, hooks: TaskHooks, plan: StreamPlan): Promise<FrameResult[]> {
  const packets = plan.packets;
  const codec = annexBCodec(task.annexB ?? '');
  if (!codec) throw new StrategyMismatch(`no Annex B stream for codec ${task.annexB ?? '(none)'}`);
  const record = directRecord(task, plan, codec);
  // No frame cap for all packets: a seek can land a whole group of pictures early; the feed stops the demuxer.
  const demuxArgs = new FfmpegArgs(task.ffmpeg.version).input(task.path, {
    seekSec: task.seekSec,
    accurateSeek: false,
    ...(plan.keyframesOnly ? { discard: 'nokey' as const } : {}),
  });
  // The Matroska demuxer (2018 and since) ignores `-discard nokey` and copies every packet: no
  // cap then (the feed stops the demuxer at the run's last keyframe), and only IDR units can be
  // the run's keyframes, so that a frame between them whose size equals the next keyframe's is
  // never taken for it.
  const discards = task.container !== 'matroska';
  const idrOnly = plan.keyframesOnly && !discards;
  if (plan.keyframesOnly && discards) demuxArgs.frames(packets.length + 16);
  const demuxArgv = demuxArgs
    .map(`0:${task.streamIndex}`)
    .output('pipe:1', { codec: 'copy', format: codec.format, extra: ['-bsf:v', codec.bsf] })
    .toArgs();
  const decodeArgv = new FfmpegArgs(task.ffmpeg.version, { logLevel: 'info' })
    .pipeInput(codec.format, { threads: task.decodeThreads ?? 1, maxPixels: task.maxPixels, showAll: true })
    .filterComplex(frameGraph(task, '[0:v]', plan.select, task.rotation ?? 0, plan.select !== undefined))
    .map('[out]')
    .passthroughTimestamps()
    .threads(1)
    .output('pipe:1', frameOutput(task))
    .toArgs();
  const common = processFields(task, hooks);
  const demux = record ? undefined : start({ ...common, args: demuxArgv });
  const log = new ShowinfoLog(task);
  const decode = start({ ...common, args: decodeArgv, onStderrLine: (l) => log.line(l), stdin: 'pipe' });
  decode.done.then(
    () => log.end(),
    () => log.end(),
  );
  const splitter = new AccessUnits(codec);
  let j = 0;
  let mismatch: string | undefined;
  const feed = async (): Promise<void> => {
    const stdin = decode.stdin!;
    const write = pipeWriter(stdin);
    // Unit j is packet j: to the decoder if the plan forwards it.
    const pass = async (unit: AccessUnit): Promise<void> => {
      const go = plan.forward(j, unit);
      if (typeof go === 'string') mismatch = go;
      else if (go) await write(splitter.withParameterSets(unit));
      j++;
    };
    const take = async (unit: AccessUnit): Promise<void> => {
      if (j >= packets.length) return;
      if (!unit.payloadChoices.includes(packets[j]!.size) || (idrOnly && !unit.idr)) {
        // Units before the first match belong before the run; after it, the plan decides.
        if (j > 0 && plan.strict(unit)) mismatch = `an access unit of ${unit.payloadBytes} bytes where the index has ${packets[j]!.size}`;
        return;
      }
      await pass(unit);
    };
    try {
      if (record) {
        // Read by its index position, nothing to match (undefined: a packet the plan does not want).
        for await (const unit of fileUnits(task, plan, record, codec)) {
          if (typeof unit === 'string') mismatch = unit;
          else if (unit) await pass(unit);
          else j++;
          if (mismatch) break;
        }
      } else {
        for await (const chunk of demux!.stdout as AsyncIterable<Buffer>) {
          for (const unit of splitter.push(chunk)) {
            await take(unit);
            if (mismatch || j >= packets.length) break;
          }
          if (mismatch || j >= packets.length) break;
        }
        if (!mismatch && j < packets.length) for (const unit of splitter.flush()) await take(unit);
      }
    } finally {
      demux?.stop();
      stdin.end();
    }
    await demux?.done;
    if (!mismatch && j < packets.length) mismatch = `the stream ended after ${j} of ${packets.length} packets`;
  };
  const fed = feed();
  fed.catch(() => {});
  try {
    const results = await readFrames(decode, task, async (k) => {
      await log.nth(k);
      return { planned: plan.identify(k), time: 0, key: false, fromIndex: true };
    });
    await fed;
    mismatch ??= plan.verify?.(log);
    if (mismatch) throw new StrategyMismatch(mismatch);
    return results;
  } catch (e) {
    demux?.stop();
    decode.stop();
    await Promise.allSettled([fed, demux?.done, decode.done]);
    if (mismatch) throw new StrategyMismatch(mismatch);
    throw e;
  }
}
