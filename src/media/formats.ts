/** Output image formats, their MIME types and file extensions: below both the planner and the image encoders. */
export const FORMATS = ['jpeg', 'webp', 'png'] as const;
export type ImageFormat = (typeof FORMATS)[number];

/** The sampling modes (how frames are chosen). */
export const MODES = ['keyframe', 'exact', 'scene'] as const;
export type Mode = (typeof MODES)[number];

export const MIME: Record<ImageFormat, 'image/jpeg' | 'image/webp' | 'image/png'> = {
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  png: 'image/png',
};
export const EXTENSION: Record<ImageFormat, string> = { jpeg: 'jpg', webp: 'webp', png: 'png' };
