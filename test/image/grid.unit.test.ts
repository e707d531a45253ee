// src/image/grid.ts: the seven-segment timestamp label (pure SVG text) and composeGrid on tiny
// in-memory images with sharp (no ffmpeg, no files).
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { composeGrid, labelSvg } from '../../src/image/grid.js';

/** Lit segments per digit, from the seven-segment layout (a top, b/c right, d bottom, e/f left, g middle). */
const SEGMENT_COUNT = [6, 2, 5, 5, 4, 5, 6, 3, 7, 6];

function rects(svg: Buffer): Array<{ x: number; y: number; w: number; h: number }> {
  return [...svg.toString().matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"\/>/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    w: Number(m[3]),
    h: Number(m[4]),
  }));
}

describe('labelSvg', () => {
  // digit height 14: unit u = 2, pad = max(2, round(1.5 u)) = 3, a digit advances 5.2 u = 10.4, a colon 2 u = 4
  it('"12" at 14 px: 25x20 (3 + 2 x 10.4, back off the last gap of 1.2 u, + 3), 2 + 5 segments', () => {
    const l = labelSvg('12', 14);
    expect([l.width, l.height]).toEqual([25, 20]);
    const r = rects(l.svg);
    expect(r).toHaveLength(7);
    // '1' is segments b and c: b at x = 3 + 3.3 u, y = 3 + 0.5 u, 0.7 u x 2.8 u
    expect(r[0]).toEqual({ x: 9.6, y: 4, w: 1.4, h: 5.6 });
    expect(r[1]).toEqual({ x: 9.6, y: 10.4, w: 1.4, h: 5.6 });
    // the '2' starts one advance later: its segment a at 13.4 + 0.6 u
    expect(r[2]).toEqual({ x: 14.6, y: 3, w: 5.6, h: 1.4 });
    expect(l.svg.toString()).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="25" height="20"><rect width="100%" height="100%" fill="#000" fill-opacity="0\.7"\/><g fill="#fff">/,
    );
  });
  it('each digit lights its segments (0-9: 6 2 5 5 4 5 6 3 7 6)', () => {
    for (let d = 0; d <= 9; d++) expect(rects(labelSvg(String(d), 14).svg), `digit ${d}`).toHaveLength(SEGMENT_COUNT[d]!);
  });
  it('1:02:03 (clockText of 3723.5 s): 5 digits, 2 colons of 2 dots: 28 rects, 64x20', () => {
    const l = labelSvg('1:02:03', 14);
    // x = 3 + 5 x 10.4 + 2 x 4 = 63; width = ceil(63 + 3 - 2.4) = 64
    expect([l.width, l.height]).toEqual([64, 20]);
    const r = rects(l.svg);
    expect(r).toHaveLength(2 + 2 + 6 + 5 + 2 + 6 + 5);
    // the first colon follows the '1' (x = 13.4): dots at x + 0.5 u, y = pad + 1.8 u and pad + 4.4 u, 0.8 u square
    expect(r[2]).toEqual({ x: 14.4, y: 6.6, w: 1.6, h: 1.6 });
    expect(r[3]).toEqual({ x: 14.4, y: 11.8, w: 1.6, h: 1.6 });
  });
  it('every rectangle lies inside the label', () => {
    for (const [text, h] of [
      ['1:02:03', 14],
      ['88:88', 7],
      ['0', 40],
    ] as const) {
      const l = labelSvg(text, h);
      for (const q of rects(l.svg)) {
        expect(q.x).toBeGreaterThanOrEqual(0);
        expect(q.y).toBeGreaterThanOrEqual(0);
        expect(q.x + q.w).toBeLessThanOrEqual(l.width);
        expect(q.y + q.h).toBeLessThanOrEqual(l.height);
      }
    }
  });
  it('characters without segments take a digit space and draw nothing', () => {
    const l = labelSvg('1.5', 14);
    expect(rects(l.svg)).toHaveLength(2 + 5);
    expect(l.width).toBe(Math.ceil(3 + 3 * 10.4 + 3 - 2.4));
  });
  it('small digits keep a 2 px pad; the empty label is just its pad', () => {
    // digit height 7: u = 1, pad = max(2, round(1.5)) = 2
    expect(labelSvg('0', 7)).toMatchObject({ width: Math.ceil(2 + 5.2 + 2 - 1.2), height: 11 });
    expect(labelSvg('', 14)).toMatchObject({ width: Math.ceil(3 + 3 - 2.4), height: 20 });
  });
  it('renders with sharp at its stated size, white segments on a translucent dark box', async () => {
    // digit height 70: u = 10, pad 15; the '8' segment a spans x 21..49, y 15..22
    const l = labelSvg('8', 70);
    const { data, info } = await sharp(l.svg).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([l.width, l.height, 4]);
    const px = (x: number, y: number) => [...data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 4)];
    expect(px(35, 18)).toEqual([255, 255, 255, 255]); // in segment a
    const hole = px(35, 28); // inside the upper loop of the 8: the dark box
    expect(hole.slice(0, 3)).toEqual([0, 0, 0]);
    expect(hole[3]).toBeGreaterThanOrEqual(178);
    expect(hole[3]).toBeLessThanOrEqual(179);
  });
});

/** A w x h PNG of one colour. */
function solid(w: number, h: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

describe('composeGrid on 16x16 images', () => {
  it('places cells row by row, stretched to the cell, labels in the corner; empty cells stay black', async () => {
    const red = await solid(16, 16, [255, 0, 0]);
    const green = await solid(16, 16, [0, 255, 0]);
    const blue = await solid(16, 16, [0, 0, 255]);
    // cells 100x175: digit height round(175 x 0.08) = 14 -> labels 50x20 ('00:00') and 64x20 ('1:02:03'), both fit
    const png = await composeGrid(
      [
        { image: red, timestampSec: 0 },
        { image: green, timestampSec: 3723.5 },
        { image: blue, timestampSec: 59.9 },
      ],
      { cols: 2, rows: 2, cellWidth: 100, cellHeight: 175, format: 'png', quality: 80 },
    );
    // compared without alpha (the PNG comes out RGBA after the SVG overlays; every pixel is opaque)
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([200, 350, 3]);
    const px = (x: number, y: number) => [...data.subarray((y * 200 + x) * 3, (y * 200 + x) * 3 + 3)];
    // cell centres
    expect(px(50, 87)).toEqual([255, 0, 0]);
    expect(px(150, 87)).toEqual([0, 255, 0]);
    expect(px(50, 262)).toEqual([0, 0, 255]);
    expect(px(150, 262)).toEqual([0, 0, 0]);
    // the label's box at (left + 2, top + 2): the cell colour under 70% black
    const dim = px(3, 3);
    // 30% of 255 = 76.5, give or take the compositor's rounding of alpha 0.7 (178.5 / 255)
    expect(dim[0]).toBeGreaterThanOrEqual(74);
    expect(dim[0]).toBeLessThanOrEqual(78);
    expect(dim.slice(1)).toEqual([0, 0]);
    // segment f of the first digit (label x 3..4.4, y 5..9.6 -> grid x 5, y 7): lit in '00:00', dark in '1:02:03'
    expect(px(5, 7)).toEqual([255, 255, 255]);
    const g = px(105, 7);
    expect([g[0], g[2]]).toEqual([0, 0]);
    expect(g[1]).toBeLessThan(80);
    // bottom-left cell's label ('00:59') is drawn too; the empty cell has none
    expect(px(5, 175 + 7)).toEqual([255, 255, 255]);
    expect(px(105, 175 + 7)).toEqual([0, 0, 0]);
  });
  it('a label wider than its cell is left out', async () => {
    const red = await solid(16, 16, [255, 0, 0]);
    // cell 40 px wide, label 50 px
    const png = await composeGrid(
      [
        { image: red, timestampSec: 0 },
        { image: red, timestampSec: 1 },
      ],
      { cols: 2, rows: 1, cellWidth: 40, cellHeight: 175, format: 'png', quality: 80 },
    );
    const { data } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray((7 * 80 + 5) * 3, (7 * 80 + 5) * 3 + 3)]).toEqual([255, 0, 0]);
  });
  it('encodes in the asked format', async () => {
    const red = await solid(16, 16, [255, 0, 0]);
    for (const format of ['jpeg', 'webp', 'png'] as const) {
      const out = await composeGrid(
        [
          { image: red, timestampSec: 0 },
          { image: red, timestampSec: 5 },
        ],
        { cols: 2, rows: 1, cellWidth: 32, cellHeight: 32, format, quality: 50 },
      );
      const meta = await sharp(out).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([format, 64, 32]);
    }
  });
  it('an image that is not an image is refused by sharp', async () => {
    await expect(
      composeGrid(
        [
          { image: Buffer.from('not an image'), timestampSec: 0 },
          { image: Buffer.from('x'), timestampSec: 1 },
        ],
        { cols: 2, rows: 1, cellWidth: 32, cellHeight: 32, format: 'png', quality: 80 },
      ),
    ).rejects.toThrow(/unsupported image format/i);
  });
});
