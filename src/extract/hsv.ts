/**
 * The content measure of the HSV scene detectors (PySceneDetect's ContentDetector, equal weights,
 * no edges): convert each frame to HSV as OpenCV converts 8-bit images (H 0-179, S and V 0-255,
 * the same integer arithmetic, so the values are OpenCV's), and score a frame by the mean absolute
 * difference of its H, S and V from the frame before, averaged over the three channels (0-255).
 * Pure: plain buffers in, numbers out.
 */

const SHIFT = 12;
const HALF = 1 << (SHIFT - 1);
/** OpenCV's tables: round(255 * 2^12 / v) and round(180 * 2^12 / (6 d)). */
const SDIV = new Int32Array(256);
const HDIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = Math.round((255 << SHIFT) / i);
  HDIV[i] = Math.round((180 << SHIFT) / (6 * i));
}

/**
 * HSV of an rgb24 image of `pixels` pixels, planar: H of every pixel, then S, then V. Hue is
 * degrees / 2 (0-179); grey pixels have hue 0 and saturation 0.
 */
export function rgbToHsv(rgb: Uint8Array, pixels: number, out: Uint8Array = new Uint8Array(pixels * 3)): Uint8Array {
  if (rgb.length < pixels * 3 || out.length < pixels * 3) throw new RangeError(`rgbToHsv: ${pixels} pixels need ${pixels * 3} bytes`);
  for (let p = 0, q = 0; p < pixels; p++, q += 3) {
    const r = rgb[q]!;
    const g = rgb[q + 1]!;
    const b = rgb[q + 2]!;
    const v = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const d = v - min;
    // Which channel is the largest decides the hue's sector (red first, then green).
    let h = v === r ? g - b : v === g ? b - r + 2 * d : r - g + 4 * d;
    h = (h * HDIV[d]! + HALF) >> SHIFT;
    out[p] = h < 0 ? h + 180 : h;
    out[pixels + p] = (d * SDIV[v]! + HALF) >> SHIFT;
    out[2 * pixels + p] = v;
  }
  return out;
}

/** Mean absolute difference of two planar HSV images of `pixels` pixels: (dH + dS + dV) / 3, 0-255. */
export function hsvDifference(a: Uint8Array, b: Uint8Array, pixels: number): number {
  const n = pixels * 3;
  if (a.length < n || b.length < n) throw new RangeError(`hsvDifference: ${pixels} pixels need ${n} bytes`);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - b[i]!;
    sum += x < 0 ? -x : x;
  }
  return sum / n;
}

/** Scores consecutive rgb24 frames: each frame's HSV difference from the one before (0 for the first). */
export class HsvScorer {
  private prev: Uint8Array;
  private cur: Uint8Array;
  private primed = false;

  constructor(private readonly pixels: number) {
    this.prev = new Uint8Array(pixels * 3);
    this.cur = new Uint8Array(pixels * 3);
  }

  next(rgb: Uint8Array): number {
    rgbToHsv(rgb, this.pixels, this.cur);
    const score = this.primed ? hsvDifference(this.cur, this.prev, this.pixels) : 0;
    this.primed = true;
    [this.prev, this.cur] = [this.cur, this.prev];
    return score;
  }
}
