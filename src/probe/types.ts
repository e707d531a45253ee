export type Rotation = 0 | 90 | 180 | 270;

export interface VideoStreamInfo {
  /** Stream index in the container. */
  index: number;
  codec: string;
  profile: string | null;
  pixFmt: string | null;
  /** Size of the coded picture, before rotation. */
  codedWidth: number;
  codedHeight: number;
  /** Display size: sample aspect ratio and rotation applied (what the decoded, upright frame measures). */
  width: number;
  height: number;
  /** Average frame rate (frames / duration). */
  fps: number;
  /** The container's "real" base frame rate (`r_frame_rate`). */
  realFps: number;
  /** Clockwise degrees the coded picture is turned for display. */
  rotation: Rotation;
  /** Whether frame durations vary. */
  vfr: boolean;
  /** Frame count when the container states it. */
  frameCount: number | null;
  durationSec: number | null;
  /** First timestamp, relative to the start of the media. */
  startSec: number;
  bitRate: number | null;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  sampleRate: number;
  channels: number;
  channelLayout: string | null;
  durationSec: number | null;
  startSec: number;
  bitRate: number | null;
}

export interface MediaInfo {
  /** The input as given. */
  input: string;
  /** Absolute path. */
  path: string;
  kind: 'video' | 'audio' | 'image';
  /** Short container name: mp4, mov, m4a, webm, matroska, avi, mpegts, flv, ogg, wav, mp3, flac, aac, or an image format. */
  container: string;
  /** ffmpeg's demuxer name (`mov,mp4,m4a,3gp,3g2,mj2`), or `image` for stills. */
  formatName: string;
  durationSec: number;
  sizeBytes: number;
  bitRate: number | null;
  /** The container's first timestamp in seconds; omniprep's times are relative to it. */
  startTimeSec: number;
  video?: VideoStreamInfo;
  audio?: AudioStreamInfo;
  /** Attached pictures (cover art) that are not the video stream. */
  attachedPictures: number;
  /** Modification time and size: with the path, the cache key for keyframe maps and scene scans. */
  mtimeMs: number;
}

/** Every keyframe's presentation time (seconds from the start of the media), ascending. */
export interface KeyframeMap {
  streamIndex: number;
  times: number[];
}

/** Every video frame's presentation time, ascending, with its keyframe flag. */
export interface FrameIndex {
  streamIndex: number;
  times: number[];
  keyframe: boolean[];
}

/** Every frame's packet of the video stream, in presentation order (from the container's index). */
export interface PacketIndex {
  streamIndex: number;
  /** Presentation times, seconds from the start of the media, ascending. */
  times: number[];
  /** Byte position of each frame's packet (-1 when the container does not say). */
  pos: number[];
  /** Size of each frame's packet in bytes. */
  size: number[];
  keyframe: boolean[];
  /**
   * Only the keyframes are listed (a remote Matroska file's Cues: src/source/remote-matroska.ts);
   * a plan that needs another frame throws IncompleteIndex (src/plan/frames.ts).
   */
  keyframesOnly?: boolean | undefined;
  /**
   * Each packet's bytes in the file are the codec's frame as it is decoded: a Matroska block's data
   * after its header, no content encoding (the index src/probe/matroska-probe.ts reads, which
   * refuses content encodings). The keyframe IVF path reads VP8/VP9 keyframes from the file by it.
   */
  rawFrames?: boolean | undefined;
  /**
   * An MP4/MOV video track's codec record (the avcC or hvcC payload), from its moov: with it the
   * keyframe stream reads its packets from the file itself (src/extract/strategies/packet-stream.ts).
   */
  codecRecord?: Uint8Array | undefined;
}
