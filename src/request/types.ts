/**
 * What the request builders take: prepared media, cut into segments that each become one request.
 * `sample()` and `chunkAudio()` produce these; the builders never decode anything.
 */
import type { AudioAsset, FrameAsset, VideoAsset } from '../providers/parts.js';

export type { AudioAsset, FrameAsset, ImageMime, VideoAsset } from '../providers/parts.js';

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
