/** omniprep/probe: what a media file holds, and its packet index (byte positions, keyframes). */
export { probe, probeVideo, type ProbeOptions } from './probe.js';
export { packetIndex, keyframes, frameIndex, type IndexOptions } from './keyframes.js';
export type { MediaInfo, VideoStreamInfo, AudioStreamInfo, KeyframeMap, FrameIndex, PacketIndex, Rotation } from './types.js';
export { mp4Index, parseMoov, Mp4Unsupported, type Mp4Index } from './mp4.js';
