/**
 * What an adapter renders: a request's parts before they take an API's shape (the prompt as text,
 * then each frame, audio chunk or video window, with its timestamp label as text), and the media
 * assets the parts carry. src/request/ cuts segments into these parts; each provider's adapter
 * (src/providers/<provider>/) writes them in its API's shape.
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

export interface TextPart {
  kind: 'text';
  text: string;
}

export interface ImagePart {
  kind: 'image';
  frame: FrameAsset;
  /** The detail level the image is billed at (the option, else the frame's own). */
  detail: string;
  tokens: number;
}

export interface AudioPart {
  kind: 'audio';
  chunk: AudioAsset;
  tokens: number;
}

export interface VideoPart {
  kind: 'video';
  clip: VideoAsset;
  /** Frame tokens plus the window's audio tokens. */
  tokens: number;
}

export type Part = TextPart | ImagePart | AudioPart | VideoPart;

/** The payload of a media part: an image's URL (a data URL, or the user's), an audio chunk's base64. */
export type PayloadOf = (part: ImagePart | AudioPart) => string;
