/**
 * Grids: consecutive frames tiled into one image, each with its timestamp drawn in its corner.
 * The digits are drawn as seven-segment shapes in SVG, so no font needs to be installed.
 */
import type { OverlayOptions } from 'sharp';
import { loadSharp } from '../util/sharp.js';
import type { ImageFormat } from '../media/formats.js';
import { clockText } from '../util/time.js';

// Segments a-g of a seven-segment digit, as rectangles on a 4 x 7 grid (x, y, w, h).
const SEGMENTS: Record<string, [number, number, number, number]> = {
  a: [0.6, 0, 2.8, 0.7],
  b: [3.3, 0.5, 0.7, 2.8],
  c: [3.3, 3.7, 0.7, 2.8],
  d: [0.6, 6.3, 2.8, 0.7],
  e: [0, 3.7, 0.7, 2.8],
  f: [0, 0.5, 0.7, 2.8],
  g: [0.6, 3.15, 2.8, 0.7],
};
const DIGITS: Record<string, string> = {
  '0': 'abcdef',
  '1': 'bc',
  '2': 'abged',
  '3': 'abgcd',
  '4': 'fgbc',
  '5': 'afgcd',
  '6': 'afgedc',
  '7': 'abc',
  '8': 'abcdefg',
  '9': 'abcdfg',
};

/** An SVG label (white digits on a dark box) of the given digit height. */
export function labelSvg(text: string, digitHeight: number): { svg: Buffer; width: number; height: number } {
  const u = digitHeight / 7;
  const pad = Math.max(2, Math.round(u * 1.5));
  const advance = 5.2 * u;
  const colonAdvance = 2 * u;
  let x = pad;
  const rects: string[] = [];
  for (const ch of text) {
    if (ch === ':') {
      rects.push(`<rect x="${(x + 0.5 * u).toFixed(2)}" y="${(pad + 1.8 * u).toFixed(2)}" width="${(0.8 * u).toFixed(2)}" height="${(0.8 * u).toFixed(2)}"/>`);
      rects.push(`<rect x="${(x + 0.5 * u).toFixed(2)}" y="${(pad + 4.4 * u).toFixed(2)}" width="${(0.8 * u).toFixed(2)}" height="${(0.8 * u).toFixed(2)}"/>`);
      x += colonAdvance;
      continue;
    }
    for (const seg of DIGITS[ch] ?? '') {
      const [sx, sy, sw, sh] = SEGMENTS[seg]!;
      rects.push(`<rect x="${(x + sx * u).toFixed(2)}" y="${(pad + sy * u).toFixed(2)}" width="${(sw * u).toFixed(2)}" height="${(sh * u).toFixed(2)}"/>`);
    }
    x += advance;
  }
  const width = Math.ceil(x + pad - (advance - 4 * u));
  const height = Math.ceil(digitHeight + 2 * pad);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#000" fill-opacity="0.7"/><g fill="#fff">${rects.join('')}</g></svg>`;
  return { svg: Buffer.from(svg), width, height };
}

export interface GridSpec {
  cols: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  format: ImageFormat;
  quality: number;
}

/** Composes frames (encoded images) into one grid image with a timestamp on each cell. */
export async function composeGrid(cells: Array<{ image: Buffer | string; timestampSec: number }>, spec: GridSpec): Promise<Buffer> {
  const width = spec.cols * spec.cellWidth;
  const height = spec.rows * spec.cellHeight;
  const digitHeight = Math.max(7, Math.round(spec.cellHeight * 0.08));
  const layers: OverlayOptions[] = [];
  for (let i = 0; i < cells.length; i++) {
    const left = (i % spec.cols) * spec.cellWidth;
    const top = Math.floor(i / spec.cols) * spec.cellHeight;
    const cell = await loadSharp()(cells[i]!.image).resize(spec.cellWidth, spec.cellHeight, { fit: 'fill' }).toBuffer();
    layers.push({ input: cell, left, top });
    const label = labelSvg(clockText(cells[i]!.timestampSec), digitHeight);
    if (label.width < spec.cellWidth && label.height < spec.cellHeight) layers.push({ input: label.svg, left: left + 2, top: top + 2 });
  }
  const canvas = loadSharp()({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } }).composite(layers);
  switch (spec.format) {
    case 'jpeg':
      return canvas.jpeg({ quality: spec.quality }).toBuffer();
    case 'webp':
      return canvas.webp({ quality: spec.quality }).toBuffer();
    case 'png':
      return canvas.png().toBuffer();
  }
}
