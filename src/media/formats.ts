/** Output image formats, their MIME types and file extensions: below both the planner and the image encoders. */
export const FORMATS = ['jpeg', 'webp', 'png'] as const;
export type ImageFormat = (typeof FORMATS)[number];

/** The sampling modes (how frames are chosen). */
export const MODES = ['keyframe', 'exact', 'scene'] as const;
export type Mode = (typeof MODES)[number];

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
