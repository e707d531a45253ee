/** omniprep/audio: audio cut at pauses into chunks a model takes, their plan, and stitching transcripts. */
export { chunkAudio, MANIFEST_FILE, type AudioManifest, type AudioManifestChunk, type ChunkAudioResult } from './chunk.js';
export { AUDIO_DEFAULTS, AUDIO_FORMATS, type AudioFormat, type ChunkAudioOptions, type AudioEncodingOptions, type AudioCutOptions } from './options.js';
export { planAudioChunks, audioPlanFor, type AudioPlan, type AudioPlanOptions, type AudioPlanResult, type AudioPlanChunk } from './plan.js';
export { segmentTimeline, type TimelineWindow, type SegmentOptions } from './segments.js';
export { stitchTranscripts, type ChunkText, type StitchOptions, type StitchResult, type TimedWord } from './stitch.js';
