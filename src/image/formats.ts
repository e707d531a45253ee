import type { ImageFormat } from '../plan/types.js';

/** MIME types and file extensions of the output formats (no sharp here: the planner imports this). */
export const MIME: Record<ImageFormat, 'image/jpeg' | 'image/webp' | 'image/png'> = {
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  png: 'image/png',
};
export const EXTENSION: Record<ImageFormat, string> = { jpeg: 'jpg', webp: 'webp', png: 'png' };
