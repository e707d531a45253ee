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

export interface Segment {
  index: number;
  /** The time window this segment covers on the source timeline. */
  startSec: number;
  endSec: number;
  frames: FrameAsset[];
  audio: AudioAsset[];
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
