/**
 * Video sent as video (Gemini's native video input), priced from the registry: the provider
 * samples the clip's window at `fps` (default: the entry's `video.defaultFps`, 1), bills each
 * sampled frame at the entry's video tokens per frame (or the image rule's
 * `videoTokensPerFrame` for an explicit media resolution level on Gemini 3), and bills the
 * window's audio track at `video.audioTokensPerSecond`.
 *
 * Frames counted: one at the window's start and one every 1/fps seconds before its end, i.e.
 * `ceil((end - start) * fps)`. That is omniprep's reading of "sampled at 1 fps"; Google's docs give
 * the per-frame and per-second rates but no rounding rule for partial seconds (calibrate against
 * real bills: `usageMetadata.promptTokensDetails` reports VIDEO and AUDIO apart).
 */
import { OmniprepError, invalidOption } from '../errors.js';
import type { ModelEntry } from './registry.js';

export interface VideoWindow {
  startSec: number;
  endSec: number;
  /** Frames per second the provider samples (default: the model's `video.defaultFps`). */
  fps?: number | undefined;
  /** Whether the clip has an audio track (billed per second when it has). */
  hasAudio: boolean;
  /** A media resolution level (`low`, `medium`, `high`, `ultra_high`) or `auto`. */
  detail?: string | undefined;
}

export interface VideoTokens {
  fps: number;
  frames: number;
  tokensPerFrame: number;
  frameTokens: number;
  audioSeconds: number;
  audioTokens: number;
  tokens: number;
}

/** Largest fps the API takes (`VideoMetadata.fps` is in (0, 24]). */
export const MAX_VIDEO_FPS = 24;

export function geminiVideoTokens(model: ModelEntry, w: VideoWindow): VideoTokens {
  const v = model.video;
  if (!v) throw new OmniprepError('INVALID_OPTION', `option send: model ${model.name} takes no video input (send frames)`, { details: { option: 'send' } });
  const fps = w.fps ?? v.defaultFps;
  if (!(fps > 0 && fps <= MAX_VIDEO_FPS)) throw invalidOption('fps', `a number in (0, ${MAX_VIDEO_FPS}]`, fps);
  const span = w.endSec - w.startSec;
  if (!(span > 0)) throw invalidOption('window', 'an end after the start', `${w.startSec}-${w.endSec}`);
  const frames = Math.max(1, Math.ceil(span * fps - 1e-9));
  const rule = model.image;
  const level = w.detail && w.detail !== 'auto' && rule?.type === 'gemini-fixed' ? rule.videoTokensPerFrame?.[w.detail] : undefined;
  const tokensPerFrame = level ?? v.tokensPerFrame;
  const audioSeconds = w.hasAudio ? span : 0;
  const audioTokens = Math.ceil(audioSeconds * v.audioTokensPerSecond - 1e-9);
  const frameTokens = frames * tokensPerFrame;
  return { fps, frames, tokensPerFrame, frameTokens, audioSeconds: Math.round(audioSeconds * 1e6) / 1e6, audioTokens, tokens: frameTokens + audioTokens };
}
