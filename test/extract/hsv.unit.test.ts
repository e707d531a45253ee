// The HSV scene measure on hand-made pixels: OpenCV's 8-bit RGB -> HSV (H 0-179, S and V 0-255;
// the expected values are what cv2.cvtColor(..., COLOR_RGB2HSV) returns for these pixels), and the
// mean absolute difference of H, S and V with equal weights (PySceneDetect's content_val).
import { describe, expect, it } from 'vitest';
import { HsvScorer, hsvDifference, rgbToHsv } from '../../src/extract/hsv.js';

const rgb = (...px: Array<[number, number, number]>): Uint8Array => Uint8Array.from(px.flat());
/** A frame of n pixels of one colour. */
const flat = (n: number, c: [number, number, number]): Uint8Array => rgb(...Array.from({ length: n }, () => c));
/** Planar HSV back to [h, s, v] per pixel. */
function triples(hsv: Uint8Array, n: number): Array<[number, number, number]> {
  return Array.from({ length: n }, (_, p) => [hsv[p]!, hsv[n + p]!, hsv[2 * n + p]!]);
}

describe('rgbToHsv: OpenCV 8-bit HSV, planar', () => {
  it('primaries, secondaries, black, greys, and colours between', () => {
    const pixels: Array<[[number, number, number], [number, number, number]]> = [
      [
        [255, 0, 0],
        [0, 255, 255],
      ],
      [
        [0, 255, 0],
        [60, 255, 255],
      ],
      [
        [0, 0, 255],
        [120, 255, 255],
      ],
      [
        [255, 255, 0],
        [30, 255, 255],
      ],
      [
        [255, 0, 255],
        [150, 255, 255],
      ],
      [
        [0, 255, 255],
        [90, 255, 255],
      ],
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
      [
        [128, 128, 128],
        [0, 0, 128],
      ],
      [
        [32, 32, 32],
        [0, 0, 32],
      ],
      // hue 30.1 degrees -> 15; saturation exactly 255
      [
        [255, 128, 0],
        [15, 255, 255],
      ],
      // hue 20 degrees -> 10; saturation 75/100 of 255 = 191.25 -> 191
      [
        [100, 50, 25],
        [10, 191, 100],
      ],
      // near black, a hue and a saturation all the same: why a fade from black starts with a jump
      [
        [1, 0, 0],
        [0, 255, 1],
      ],
      [
        [10, 12, 11],
        [75, 43, 12],
      ],
    ];
    const n = pixels.length;
    expect(triples(rgbToHsv(rgb(...pixels.map(([c]) => c)), n), n)).toEqual(pixels.map(([, hsv]) => hsv));
  });
  it('writes into the buffer it is given, and refuses short buffers', () => {
    const out = new Uint8Array(6);
    expect(rgbToHsv(rgb([0, 255, 0], [0, 0, 0]), 2, out)).toBe(out);
    expect([...out]).toEqual([60, 0, 255, 0, 255, 0]);
    expect(() => rgbToHsv(new Uint8Array(5), 2)).toThrow(RangeError);
    expect(() => rgbToHsv(new Uint8Array(6), 2, new Uint8Array(5))).toThrow(RangeError);
  });
});

describe('hsvDifference: mean |dH| + |dS| + |dV| over the pixels, / 3', () => {
  it('red -> green moves only the hue (60 of 179) on one pixel of two: 60 / 6', () => {
    const a = rgbToHsv(rgb([255, 0, 0], [0, 0, 0]), 2);
    const b = rgbToHsv(rgb([0, 255, 0], [0, 0, 0]), 2);
    expect(hsvDifference(a, b, 2)).toBe(10);
    expect(hsvDifference(b, a, 2)).toBe(10);
    expect(hsvDifference(a, a, 2)).toBe(0);
  });
  it('black -> dark grey 0x202020 moves only V, by 32: 32 / 3 however many pixels', () => {
    for (const n of [1, 7, 160 * 90]) {
      expect(hsvDifference(rgbToHsv(flat(n, [0, 0, 0]), n), rgbToHsv(flat(n, [32, 32, 32]), n), n)).toBeCloseTo(32 / 3, 12);
    }
  });
  it('white -> blue: S 0 -> 255, H 0 -> 120, V unchanged: (120 + 255) / 3', () => {
    expect(hsvDifference(rgbToHsv(flat(4, [255, 255, 255]), 4), rgbToHsv(flat(4, [0, 0, 255]), 4), 4)).toBe(125);
  });
  it('hue is not circular (as OpenCV and PySceneDetect): 1 and 179 are 178 apart', () => {
    // (255, 0, 10): hue -2.4 degrees -> 180 - 1 = 179; (255, 10, 0): hue 2.4 degrees -> 1
    const a = rgbToHsv(rgb([255, 0, 10]), 1);
    const b = rgbToHsv(rgb([255, 10, 0]), 1);
    expect([a[0], b[0]]).toEqual([179, 1]);
    expect(hsvDifference(a, b, 1)).toBeCloseTo(178 / 3, 12);
  });
  it('refuses short buffers', () => {
    expect(() => hsvDifference(new Uint8Array(3), new Uint8Array(5), 2)).toThrow(RangeError);
  });
});

describe('HsvScorer: each frame against the one before', () => {
  it('0 for the first frame, then the difference from the previous one', () => {
    const s = new HsvScorer(3);
    const black = flat(3, [0, 0, 0]);
    const grey = flat(3, [32, 32, 32]);
    const frame = new Uint8Array(9);
    const scores = [black, black, grey, grey, black].map((f) => {
      frame.set(f); // the caller reuses one buffer, as the scan does
      return s.next(frame);
    });
    expect(scores.map((x) => +x.toFixed(6))).toEqual([0, 0, +(32 / 3).toFixed(6), 0, +(32 / 3).toFixed(6)]);
  });
});
