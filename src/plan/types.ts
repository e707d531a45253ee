import type { DecoderChoice } from '../options/decoder.js';
import type { RemoteOptions, RemoteReport } from '../source/remote.js';
import type { Limits } from '../limits.js';
import type { ModelRegistry, Tier } from '../models/registry.js';
import type { MediaInfo } from '../probe/types.js';
import { ESTIMATE_DEFAULTS, SAMPLING_DEFAULTS, type EstimateOptions, type SamplingOptions, type Send } from '../options/sampling.js';
import type { ImageFormat, Mode } from '../media/formats.js';
import type { AudioPlanOptions } from '../audio/plan.js';

export { FORMATS, MODES, type ImageFormat, type Mode } from '../media/formats.js';
export type { SamplingOptions, EstimateOptions } from '../options/sampling.js';
export { SENDS, type Send } from '../options/sampling.js';

/** The defaults of the sampling and estimate options (described once, in options/sampling.ts). */
export const DEFAULT_SAMPLING = { ...SAMPLING_DEFAULTS, ...ESTIMATE_DEFAULTS };

/** plan()'s options: the sampling and estimate options (options/sampling.ts) and how to reach the tools. */
export interface PlanOptions extends SamplingOptions, EstimateOptions {
  /** How the audio is cut and encoded (chunkAudio's options: chunkSeconds, maxBytes, format, ...). */
  audioOptions?: Omit<AudioPlanOptions, 'model' | 'registry' | 'modelsFile' | 'rule'> | undefined;
  registry?: ModelRegistry | undefined;
  modelsFile?: string | undefined;
  rule?: string | undefined;
  limits?: Partial<Limits> | undefined;
  signal?: AbortSignal | undefined;
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
  /** What decodes the frames: auto (default, or OMNIPREP_DECODER), node-av or ffmpeg (src/options/decoder.ts). */
  decoder?: DecoderChoice | undefined;
  /** http(s) inputs: the range reader's guards and tuning (src/source/remote.ts). */
  remote?: RemoteOptions | undefined;
  /**
   * The cap on output tokens per request (the request options' `maxOutputTokens`): when set, it is
   * the output every estimate assumes, on every surface, as the request estimates do (src/request/options.ts).
   */
  maxOutputTokens?: number | undefined;
  /** Scene mode: called as the scene scan (the one decode a plan can need) goes on, in seconds of the window. */
  onScanProgress?: ((doneSec: number, totalSec: number) => void) | undefined;
  /** The date a model's lifecycle is judged on (`YYYY-MM-DD` or a Date; default today, UTC): see `allowRetired`. */
  today?: string | Date | undefined;
}

export type FrameSource = 'keyframe' | 'exact' | 'scene' | 'fill';

export interface PlannedFrame {
  index: number;
  /** Presentation time of the frame that will be written (seconds from the start of the media). */
  timestampSec: number;
  /** The time this frame stands for (the target time; the cut time in scene mode). */
  targetSec: number;
  /** Whether the frame is a keyframe. */
  keyframe: boolean;
  /** How it is found: a keyframe in the window, the exact frame at a time, a scene cut, a max-gap fill. */
  source: FrameSource;
  /** Byte position of the frame's packet (frames are decoded by position); -1 when unknown. */
  pos: number;
}

export interface PlannedGrid {
  index: number;
  /** Indexes of the frames it holds, in order. */
  frames: number[];
  timestamps: number[];
  width: number;
  height: number;
  cellWidth: number;
  cellHeight: number;
  tokens: number;
}

export interface PlannedAudioChunk {
  index: number;
  startSec: number;
  endSec: number;
  tokens: number;
}

/** The clip sent as video: the provider samples each window at `fps` and bills per frame and per second of audio. */
export interface PlannedVideo {
  fps: number;
  /** Frames the provider samples, their tokens each and in all. */
  frames: number;
  tokensPerFrame: number;
  frameTokens: number;
  audioSeconds: number;
  audioTokens: number;
  /** One request per window (`windowSec`), each naming its window by `startOffset`/`endOffset`. */
  windows: Array<{ index: number; startSec: number; endSec: number; frames: number; frameTokens: number; audioSeconds: number; audioTokens: number }>;
  mime: string;
}

export interface Plan {
  input: string;
  /** `frames` or `video` (see PlanOptions.send). */
  send: Send;
  /** Set when `send` is `video` (then `frames` is empty and `imageTokens` 0). */
  video: PlannedVideo | null;
  mode: Mode;
  model: string;
  /** The detail level requested (auto resolved in `detailApplied`). */
  detail: string;
  detailApplied: string;
  every: number;
  startSec: number;
  endSec: number;
  tolerance: number | null;
  format: ImageFormat;
  quality: number;
  /** Output image size (every frame has it). */
  width: number;
  height: number;
  /** Tokens of one frame at that size and detail. */
  tokensPerFrame: number;
  frames: PlannedFrame[];
  /** Frames before --max-frames thinned them. */
  framesBeforeCap: number;
  grids: PlannedGrid[] | null;
  imageTokens: number;
  /** Tokens of the frames the provider samples from video sent as video (its audio is in `audioTokens`). */
  videoTokens: number;
  audio: { seconds: number; tokens: number; chunks: PlannedAudioChunk[] } | null;
  /** Why there is no audio when --audio was asked (e.g. the input has no audio stream). */
  audioNote: string | null;
  audioSeconds: number;
  audioTokens: number;
  textTokens: number;
  inputTokens: number;
  outputTokens: number;
  tier: Tier;
  costUsd: number;
  costByTier: Partial<Record<Tier, number>>;
  /** Which rules the estimate used. */
  rules: { image: string; registryVersion: string; source: string };
  /** What the budget chooser did, when a budget or token cap was given. */
  budget: BudgetReport | null;
  /** Requests `run` sends (one per `imagesPerRequest` images of the model). */
  requests: number;
  /** True when the frame count is an upper bound (--dedup drops duplicates only when sampling). */
  upperBound: boolean;
  warnings: string[];
  media: Pick<MediaInfo, 'durationSec' | 'container' | 'sizeBytes'> & {
    width: number;
    height: number;
    fps: number;
    rotation: number;
    vfr: boolean;
    hasAudio: boolean;
  };
  /** Milliseconds the plan took. */
  planMs: number;
  /** http(s) inputs: how the file was read (by ranges or whole) and what that fetched. */
  remote?: RemoteReport | undefined;
}

export interface BudgetReport {
  limitUsd: number | null;
  limitTokens: number | null;
  /** The settings chosen, and whether they differ from those asked. */
  chosen: { every: number; detail: string; maxSide: number | null; maxFrames: number | null };
  changed: boolean;
  /** Plans looked at. */
  tried: number;
  /** The documented order the chooser walked. */
  order: string;
}
