/** Output image formats, their MIME types and file extensions: below both the planner and the image encoders. */
export const FORMATS = ['jpeg', 'webp', 'png'] as const;
export type ImageFormat = (typeof FORMATS)[number];

/** The sampling modes (how frames are chosen). */
export const MODES = ['keyframe', 'exact', 'scene'] as const;
export type Mode = (typeof MODES)[number];

/**
 * What each sampling mode needs and how its input is read, one row a mode: every branch on a mode
 * outside its frame selection (src/plan/planner.ts SELECT) reads this table.
 */
export interface ModeTraits {
  /** A plan needs the scene scores (one decode of the window) besides the packet index. */
  sceneScan: boolean;
  /** Static stretches longer than --max-gap get a frame (a bound on the frames a plan may list). */
  fillsGaps: boolean;
  /** A remote input is read whole, and why (undefined: by byte ranges). */
  remoteWhole: string | undefined;
  /** A remote Matroska file read by its Cues cannot serve the mode (it lists keyframes only), and why. */
  matroskaWhole: string | undefined;
}

export const MODE_TRAITS: Readonly<Record<Mode, ModeTraits>> = {
  keyframe: { sceneScan: false, fillsGaps: false, remoteWhole: undefined, matroskaWhole: undefined },
  exact: {
    sceneScan: false,
    fillsGaps: false,
    remoteWhole: undefined,
    matroskaWhole: 'exact frames of a Matroska file need every packet (its Cues list keyframes only)',
  },
  scene: { sceneScan: true, fillsGaps: true, remoteWhole: 'scene mode decodes every frame', matroskaWhole: undefined },
};

/** The traits of a mode given as text (an unknown one, refused by the option checks elsewhere, has none). */
export function modeTraits(mode: string | undefined): ModeTraits | undefined {
  return (MODES as readonly string[]).includes(mode ?? 'keyframe') ? MODE_TRAITS[(mode ?? 'keyframe') as Mode] : undefined;
}

/**
 * How scene mode finds cuts: ffmpeg's scene score, or the mean HSV difference of consecutive
 * frames (PySceneDetect's ContentDetector), alone (`content`) or against its neighbours' (`adaptive`).
 */
export const SCENE_DETECTORS = ['ffmpeg', 'content', 'adaptive'] as const;
export type SceneDetector = (typeof SCENE_DETECTORS)[number];
/** What a scene scan measures per frame: ffmpeg's scene score (0-1), or the HSV difference (0-255). */
export type SceneMeasure = 'ffmpeg' | 'hsv';
/** The measure a detector reads (content and adaptive share one scan). */
export function sceneMeasure(detector: SceneDetector): SceneMeasure {
  return detector === 'ffmpeg' ? 'ffmpeg' : 'hsv';
}

export const MIME: Record<ImageFormat, 'image/jpeg' | 'image/webp' | 'image/png'> = {
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  png: 'image/png',
};
export const EXTENSION: Record<ImageFormat, string> = { jpeg: 'jpg', webp: 'webp', png: 'png' };

/**
 * The file extensions that make a file found in a directory an input (`omniprep sample DIR`):
 * the containers of the demuxers omniprep accepts (MP4/MOV and their kin, Matroska/WebM, AVI,
 * MPEG-TS, FLV, Ogg, WAV, MP3, FLAC, AAC) and the still images sharp reads. Other files in the
 * folder (notes, subtitles, manifests, frames written before) are not inputs.
 */
export const MEDIA_EXTENSIONS: ReadonlySet<string> = new Set([
  ...['mp4', 'm4v', 'mov', 'm4a', '3gp', '3g2', 'mj2', 'mkv', 'mka', 'webm', 'avi', 'ts', 'mts', 'm2ts', 'flv'],
  ...['ogg', 'ogv', 'oga', 'opus', 'wav', 'mp3', 'flac', 'aac'],
  ...['jpg', 'jpeg', 'png', 'webp', 'gif', 'tif', 'tiff', 'avif', 'heic', 'heif'],
]);

/** Whether a file name has one of MEDIA_EXTENSIONS (any case). */
export function isMediaName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && MEDIA_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}
