/**
 * omniprep: video, audio and images into the cheapest correct requests for multimodal models,
 * with exact token and dollar estimates before anything is sent.
 */
export { OmniprepError, type ErrorCode } from './errors.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { probe, probeVideo, type ProbeOptions } from './probe/probe.js';
export { keyframes, frameIndex } from './probe/keyframes.js';
export type { MediaInfo, VideoStreamInfo, AudioStreamInfo, KeyframeMap, FrameIndex, Rotation } from './probe/types.js';
export { doctor, type DoctorReport } from './doctor.js';
export { resolveBinary, toolchain, type BinaryOptions, type ResolvedBinary } from './ffmpeg/binaries.js';
export { imageTokens, audioTokens, textTokens, chatTextTokens, dollars, dollarsByTier, priceFor, getModel, acceptsAudio, modelDetails, type ImageTokens, type ModelOptions, type TokenCounts } from './models/tokens.js';
export { registry, registerModels, builtinRegistry, ModelRegistry, TIERS, type Tier, type ModelEntry, type RegistryOverrides } from './models/registry.js';
export { chooseSize, type SizeChoice, type SizeOptions } from './models/sizing.js';
// audio
export {
  chunkAudio,
  planAudioChunks,
  audioPlanFor,
  planAudioCuts,
  mergeSilences,
  parseSilenceLog,
  segmentTimeline,
  stitchTranscripts,
  AUDIO_DEFAULTS,
  type ChunkAudioOptions,
  type ChunkAudioResult,
  type AudioManifest,
  type AudioManifestChunk,
  type AudioFormat,
  type AudioPlan,
  type AudioPlanChunk,
  type AudioPlanOptions,
  type AudioPlanResult,
  type ChunkBounds as AudioChunkBounds,
  type Silence,
  type TimelineWindow,
  type SegmentOptions,
  type ChunkText,
  type StitchResult,
  type TimedWord,
} from './audio/index.js';
