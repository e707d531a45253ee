/**
 * What the request builders take: prepared media, cut into segments that each become one request.
 * `sample()` and `chunkAudio()` produce these; the builders never decode anything.
 */
export type ImageMime = 'image/jpeg' | 'image/webp' | 'image/png';

export interface FrameAsset {
  /** Position in the whole sampled sequence (0-based). */
  index: number;
  /** Presentation time of the image, seconds from the start of the media. */
  timestampSec: number;
  /** Absolute path of the image file (data is read from it when `data` is absent). */
  file?: string;
  /** The encoded image bytes. */
  data?: Buffer;
  /** A URL where the user hosts the image (sent instead of a data URL). */
  url?: string;
  mime: ImageMime;
  width: number;
  height: number;
  /** The detail level sent with the image (`low`, `high`, `original`, `auto`). */
  detail: string;
  /** Tokens the image costs for the target model at this size and detail. */
  tokens: number;
}

export interface AudioAsset {
  index: number;
  /** Start and end on the source timeline, seconds. */
  startSec: number;
  endSec: number;
  format: 'mp3' | 'wav';
  file?: string;
  data?: Buffer;
  tokens: number;
}

/**
 * A window of the clip sent as video (Gemini's native video input): the file is uploaded once
 * through the File API (`fileUri`) and each request names its window with `videoMetadata`.
 */
export interface VideoAsset {
  index: number;
  /** The window on the source timeline, seconds (`startOffset`, `endOffset`). */
  startSec: number;
  endSec: number;
  /** Frames per second the provider samples (`videoMetadata.fps`). */
  fps: number;
  mime: string;
  /** The uploaded file's URI (absent until uploaded: estimates do not need it). */
  fileUri?: string;
  /** A media resolution level, or `auto`. */
  detail: string;
  /** Sampled frames, their tokens, and the window's audio tokens (from src/models/video.ts). */
  frames: number;
  frameTokens: number;
  audioSeconds: number;
  audioTokens: number;
}

export interface Segment {
  index: number;
  /** The time window this segment covers on the source timeline. */
  startSec: number;
  endSec: number;
  frames: FrameAsset[];
  audio: AudioAsset[];
  /** Windows of the clip sent as video (`--send video`), instead of frames. */
  video?: VideoAsset[] | undefined;
  /** Set when the segment is one part (0-based) of a larger one, split to fit a provider limit; `index` stays the larger one's. */
  split?: { part: number; parts: number };
}

export interface PreparedMedia {
  /** The input as the user named it. */
  input: string;
  /** Target model name (a registry entry). */
  model: string;
  durationSec: number;
  segments: Segment[];
  /** A hash of the input's content, when known: with `input`, it makes batch `custom_id`s stable. */
  contentHash?: string;
}
