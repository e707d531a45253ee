import type { RemoteOptions, RemoteReport } from '../source/remote.js';
import type { Limits } from '../limits.js';
import type { ModelRegistry, Tier } from '../models/registry.js';
import type { MediaInfo } from '../probe/types.js';
import { REQUEST_DEFAULTS } from '../request/options.js';
import type { AudioPlanOptions } from '../audio/plan.js';

export const MODES = ['keyframe', 'exact', 'scene'] as const;
export type Mode = (typeof MODES)[number];
export const FORMATS = ['jpeg', 'webp', 'png'] as const;
export type ImageFormat = (typeof FORMATS)[number];

/** The sampling options of DESIGN.md, with their defaults in DEFAULT_SAMPLING. */
export interface SamplingOptions {
  /** Seconds between target times (default 5). */
  every?: number | undefined;
  /** keyframe (default), exact or scene. */
  mode?: Mode | undefined;
  /** Clip window on the media timeline, seconds. */
  start?: number | undefined;
  end?: number | undefined;
  /** Thin evenly to at most this many frames. */
  maxFrames?: number | undefined;
  /** Largest side of the output images, pixels. */
  maxSide?: number | undefined;
  format?: ImageFormat | undefined;
  /** Encoder quality 1-100 (jpeg, webp). */
  quality?: number | undefined;
  /** Drop a frame whose perceptual hash is within `dedupThreshold` bits of the last kept frame. */
  dedup?: boolean | undefined;
  /** Hash bits (of 128) at or under which a frame repeats the last kept one (default 6). */
  dedupThreshold?: number | undefined;
  /** keyframe mode: half-width of the window around each target time (default every/2). */
  tolerance?: number | undefined;
  /** scene mode: scene-score threshold 0..1 (default 0.3). */
  sceneThreshold?: number | undefined;
  /** scene mode: no two frames closer than this (default every/5). */
  minGap?: number | undefined;
  /** scene mode: a static stretch still gets a frame this often (default 4 x every). */
  maxGap?: number | undefined;
  /** Tile consecutive frames into grids of cols x rows with timestamps drawn on them. */
  grid?: { cols: number; rows: number } | undefined;
  /** How far below the model's own size the size search may go (0..0.5, default 0.1). */
  sizeSlack?: number | undefined;
}

export const DEFAULT_SAMPLING = {
  every: 5,
  mode: 'keyframe' as Mode,
  format: 'jpeg' as ImageFormat,
  quality: 80,
  dedupThreshold: 6,
  sceneThreshold: 0.3,
  sizeSlack: 0.1,
  outputTokens: REQUEST_DEFAULTS.expectedOutputTokens,
  tier: 'standard' as Tier,
};

export interface PlanOptions extends SamplingOptions {
  model?: string | undefined;
  detail?: string | undefined;
  /** The user's prompt: its tokens are part of the estimate. */
  prompt?: string | undefined;
  /** Include the audio track (tokens and chunks). */
  audio?: boolean | undefined;
  /** How the audio is cut and encoded (chunkAudio's options: chunkSeconds, maxBytes, format, ...). */
  audioOptions?: Omit<AudioPlanOptions, 'model' | 'registry' | 'modelsFile' | 'rule'> | undefined;
  /** Cut long media into windows of this many seconds, one request each (default: one request, split only where a limit requires). */
  windowSec?: number | undefined;
  /** Price tier for `costUsd` (all tiers are in `costByTier`). */
  tier?: Tier | undefined;
  /** Expected output tokens for the estimate (default: the request builder's, 1000). */
  outputTokens?: number | undefined;
  /** Choose the densest plan that costs at most this many dollars. */
  budget?: number | undefined;
  /** Choose the densest plan with at most this many input tokens. */
  maxTokens?: number | undefined;
  registry?: ModelRegistry | undefined;
  modelsFile?: string | undefined;
  rule?: string | undefined;
  limits?: Partial<Limits> | undefined;
  signal?: AbortSignal | undefined;
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
  /** http(s) inputs: the range reader's guards and tuning (src/source/remote.ts). */
  remote?: RemoteOptions | undefined;
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

export interface Plan {
  input: string;
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
