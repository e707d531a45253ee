/** The audio stage: extract, cut at silences within limits, encode, price; align with frames; stitch texts. */
export { chunkAudio, MANIFEST_FILE, type AudioManifest, type AudioManifestChunk, type ChunkAudioResult } from './chunk.js';
export {
  AUDIO_DEFAULTS,
  DEFAULT_AUDIO_MODEL,
  AUDIO_FORMATS,
  type AudioFormat,
  type AudioEncodingOptions,
  type AudioCutOptions,
  type ChunkAudioOptions,
} from './options.js';
export { planAudioChunks, audioPlanFor, chunkLimit, type AudioPlan, type AudioPlanOptions, type AudioPlanResult, type AudioPlanChunk, type ChunkLimit } from './plan.js';
export { planAudioCuts, mergeSilences, type ChunkBounds, type CutPlanParams, type CutReason, type Silence } from './cuts.js';
export { parseSilenceLog } from './silence.js';
export { segmentTimeline, DEFAULT_WINDOW_SEC, type TimelineWindow, type SegmentOptions, type TimedItem, type AudioSpan } from './segments.js';
export { stitchTranscripts, type ChunkText, type StitchOptions, type StitchResult, type TimedWord, type JunctionMethod } from './stitch.js';
