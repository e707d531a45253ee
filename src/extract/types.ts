/**
 * The data that crosses the thread boundary: tasks (plain data, structured-cloned into a worker)
 * and their outcomes (errors come back as values with the OmniprepError code, so the main thread
 * can rethrow them unchanged).
 */
import type { BinaryVersion } from '../ffmpeg/binaries.js';
import type { ErrorCode } from '../errors.js';
import type { ImageFormat, SceneMeasure } from '../media/formats.js';

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

/**
 * How a frame task was decoded: a decode strategy's name (src/extract/strategies/registry.ts; the
 * manifest's `timings.decodePaths` counts them).
 */
export type DecodePath = string;

export interface PlannedTaskFrame {
  index: number;
  timestampSec: number;
  /** Byte position of the frame's packet (-1 unknown). */
  pos: number;
  keyframe: boolean;
}

export interface FrameTask extends TaskBase {
  kind: 'frames';
  /** keyframe: decode keyframes only (-skip_frame, -discard nokey); exact: decode from the seek point. */
  decode: 'keyframes' | 'exact';
  /**
   * Keyframe tasks: how this codec's decoder skips to keyframes (src/sample/tasks.ts keyframeSkip);
   * none when it decodes every frame anyway (VP9, AV1, Theora).
   */
  skipFrame?: 'nointra' | 'nokey' | undefined;
  /** The strategy the grouping chose by cost (tried first; the range decode is the fallback). */
  strategy?: DecodePath | undefined;
  /** Where decoding starts on the timeline: the keyframe at or before the first frame. */
  seekSec: number;
  /** The input's container (probe's name: mp4, matroska, ...). */
  container?: string | undefined;
  /** The frames, from the packet index: time, byte position (-1 unknown) and keyframe flag. */
  frames: PlannedTaskFrame[];
  /**
   * How many frames the position filter lets through: the planned ones plus any other packet whose
   * position is within float precision of one (see posWindow). Extra frames are skipped.
   */
  expectedOutputs: number;
  /** The Annex B codec of the stream paths (keyframe stream, span stream), when the task may take them. */
  annexB?: 'h264' | 'hevc' | undefined;
  /**
   * Keyframe tasks on Annex B codecs: every keyframe packet from the seek point to the last planned
   * frame (position and size, from the index), for the path that decodes only the planned keyframes.
   */
  keyframeRun?: Array<{ pos: number; size: number }> | undefined;
  /**
   * Stream-path tasks on MP4/MOV: the track's codec record (avcC, hvcC), so that the packets are
   * read from the file by the index instead of through a demuxing ffmpeg.
   */
  codecRecord?: Uint8Array | undefined;
  /**
   * Exact tasks on Annex B codecs: every packet (position, size, time, keyframe flag) in decode
   * order from the keyframe before the first planned frame to the last planned frame, for the path
   * that decodes the spans keyframe..frame in one long-lived decoder.
   */
  packetRun?: Array<{ pos: number; size: number; t: number; key: boolean }> | undefined;
  /** Keyframe tasks on VP8/VP9 whose packets are their frames' bytes: the IVF four-cc they are decoded with (src/extract/strategies/keyframe-ivf.ts). */
  ivfFourcc?: 'VP80' | 'VP90' | undefined;
  /** With ivfFourcc: each frame's packet size (from the index), for reading it from the file. */
  frameSizes?: number[] | undefined;
  /** Clockwise rotation of the display (the stream decoders cannot read it from the container). */
  rotation?: number | undefined;
  /**
   * Decoder threads: 1 when tasks run side by side (the cores are shared out by task), 0 (ffmpeg
   * chooses, one per core) for a job's only task. Default 1.
   */
  decodeThreads?: number | undefined;
  /** Decoded (display) size; the frames are scaled to it so every frame has the same byte count. */
  decodeWidth: number;
  decodeHeight: number;
  out: { dir: string; width: number; height: number; format: ImageFormat; quality: number };
  hash: boolean;
}

export interface SceneTask extends TaskBase {
  kind: 'scene';
  /** What each frame is scored by: ffmpeg's scene score, or the HSV difference from the frame before. */
  measure: SceneMeasure;
  seekSec: number;
  /** Report frames from this time on (earlier ones only prime the scene detector). */
  fromSec: number;
  /** And before this time. */
  toSec: number;
}

export type Task = FrameTask | SceneTask;

export interface FrameResult {
  index: number;
  /** The real presentation time of the decoded frame, timeline seconds. */
  timestampSec: number;
  keyframe: boolean;
  file: string;
  bytes: number;
  width: number;
  height: number;
  hash?: string;
}

export interface SceneResult {
  /** What the scores are: ffmpeg's scene score (0-1) or the HSV difference (0-255). */
  measure: SceneMeasure;
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
      /** How the frames were decoded. */
      path?: DecodePath;
    }
  | { ok: false; error: { code: ErrorCode; message: string; input?: string } };

export interface TaskHooks {
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
}
