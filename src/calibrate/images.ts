/** Calibration images: random noise (nothing a server could recognise or cache) as JPEG. */
import { randomBytes } from 'node:crypto';
import { invalidOption } from '../errors.js';

export interface ImageSize {
  width: number;
  height: number;
}

/**
 * Sizes that tell the rule families apart: small ones under every limit (300x200, 512x512: one
 * tile, few patches), one just over a tile edge (1030x768: 6 tiles on the tile rule, 4 once
 * shrunk), a square that the tile rule shrinks to 768 and the patch rule to its budget
 * (1024x1024, 2048x2048), and a portrait over 2048 that both families resize (1800x2400). Two
 * sizes straddle a tile edge after scaling, so the rounding mode shows: 2049x1536 (fit to
 * 2048x1535, then the short side to 768: 1024.67 px wide, 2 tiles truncated, 3 rounded) and
 * 1334x1000 (1024.51 px wide).
 */
export const CALIBRATION_SIZES: readonly ImageSize[] = [
  { width: 512, height: 512 },
  { width: 1024, height: 1024 },
  { width: 1030, height: 768 },
  { width: 2048, height: 2048 },
  { width: 1800, height: 2400 },
  { width: 300, height: 200 },
  { width: 2049, height: 1536 },
  { width: 1334, height: 1000 },
];

/** `1024x768` -> { width: 1024, height: 768 }. */
export function parseSize(text: string): ImageSize {
  const m = /^\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(text);
  const size = m ? { width: Number(m[1]), height: Number(m[2]) } : undefined;
  if (!size || size.width < 1 || size.height < 1 || size.width > 8192 || size.height > 8192)
    throw invalidOption('size', 'WIDTHxHEIGHT from 1x1 to 8192x8192, e.g. 1024x768', text);
  return size;
}

/** Side of the noise blocks in pixels: random blocks keep the JPEG small and quick to make. */
const BLOCK = 8;

/** A JPEG of random 8 px blocks, of exactly that size. */
export async function noiseJpeg(size: ImageSize): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  const w = Math.ceil(size.width / BLOCK);
  const h = Math.ceil(size.height / BLOCK);
  return sharp(randomBytes(w * h * 3), { raw: { width: w, height: h, channels: 3 } })
    .resize(size.width, size.height, { kernel: 'nearest', fit: 'fill' })
    .jpeg({ quality: 70 })
    .toBuffer();
}
