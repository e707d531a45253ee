/**
 * sharp: resize a decoded frame to its planned size and encode it; perceptual hashes for --dedup.
 * Everything is bounded: one raw frame in, one encoded image out.
 */
import type { Sharp } from 'sharp';
import { loadSharp } from '../util/sharp.js';
import type { ImageFormat } from '../media/formats.js';

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

export interface EncodeOptions {
  width: number;
  height: number;
  format: ImageFormat;
  quality: number;
}

export { MIME, EXTENSION } from '../media/formats.js';

function encoder(img: Sharp, o: Pick<EncodeOptions, 'format' | 'quality'>): Sharp {
  switch (o.format) {
    case 'jpeg':
      // No Huffman optimisation pass: 1.4 ms a 768x432 frame for ~3% fewer bytes (bytes are not tokens).
      return img.jpeg({ quality: o.quality, mozjpeg: false, chromaSubsampling: '4:2:0', optimiseCoding: false });
    case 'webp':
      return img.webp({ quality: o.quality, effort: 2 });
    case 'png':
      return img.png({ compressionLevel: 6, adaptiveFiltering: false });
  }
}

/** Resizes (never enlarges: the plan never asks for more than the source) and encodes. */
export async function encodeRaw(raw: RawImage, o: EncodeOptions): Promise<Buffer> {
  let img = loadSharp()(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
  if (o.width !== raw.width || o.height !== raw.height) img = img.resize(o.width, o.height, { fit: 'fill', kernel: 'lanczos3' });
  return encoder(img, o).toBuffer();
}

/** Encodes an image file (a still input): EXIF orientation applied, then resized. */
export async function encodeFile(path: string, o: EncodeOptions, limitInputPixels: number): Promise<Buffer> {
  const img = loadSharp()(path, { limitInputPixels, failOn: 'error' }).rotate().resize(o.width, o.height, { fit: 'fill', kernel: 'lanczos3' });
  return encoder(img, o).toBuffer();
}

/**
 * Perceptual signature of an image for --dedup: a 128-bit difference hash (64 bits comparing
 * each pixel of a 9x8 grey thumbnail with its right neighbour, 64 with the one below) and an
 * 8x8 grey thumbnail. The hash sees structure; the thumbnail sees brightness and flat areas,
 * which a difference hash alone misses (a black slide and a white slide hash alike).
 */
export async function perceptualHash(input: RawImage | Buffer): Promise<string> {
  const base = (): Sharp =>
    Buffer.isBuffer(input) ? loadSharp()(input) : loadSharp()(input.data, { raw: { width: input.width, height: input.height, channels: input.channels } });
  const [h, v, t] = await Promise.all([
    base().greyscale().resize(9, 8, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer(),
    base().greyscale().resize(8, 9, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer(),
    base().greyscale().resize(8, 8, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer(),
  ]);
  let bits = 0n;
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) bits = (bits << 1n) | (h[y * 9 + x]! > h[y * 9 + x + 1]! ? 1n : 0n);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) bits = (bits << 1n) | (v[y * 8 + x]! > v[(y + 1) * 8 + x]! ? 1n : 0n);
  return `${bits.toString(16).padStart(32, '0')}:${t.subarray(0, 64).toString('hex')}`;
}

/** Mean grey difference (0-255) of the thumbnails above which two frames are never duplicates. */
export const MAX_MEAN_DIFF = 10;

export interface HashDistance {
  /** Differing hash bits, of 128. */
  bits: number;
  /** Mean absolute difference of the 8x8 grey thumbnails, 0-255. */
  meanDiff: number;
}

export function hashDistance(a: string, b: string): HashDistance {
  const [ha = '0', ta = ''] = a.split(':');
  const [hb = '0', tb = ''] = b.split(':');
  let x = BigInt(`0x${ha}`) ^ BigInt(`0x${hb}`);
  let bits = 0;
  while (x) {
    bits += Number(x & 1n);
    x >>= 1n;
  }
  const pa = Buffer.from(ta, 'hex');
  const pb = Buffer.from(tb, 'hex');
  let sum = 0;
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) sum += Math.abs(pa[i]! - pb[i]!);
  return { bits, meanDiff: pa.length ? sum / pa.length : 0 };
}

export function isDuplicate(d: HashDistance, thresholdBits: number): boolean {
  return d.bits <= thresholdBits && d.meanDiff <= MAX_MEAN_DIFF;
}
