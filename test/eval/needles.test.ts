// Needles burned into a video: seeded times and lengths, the matching question set, and (read
// from the pixels) frames inside a needle's interval changed where frames outside are not.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadQuestions } from '../../src/eval/questions.js';
import { makeNeedles, placeNeedles } from '../../src/eval/needles.js';
import { fixture } from '../helpers/fixtures.js';
import { videoFrame } from '../helpers/request-media.js';
import { ownedTempDirs } from '../helpers/temp.js';

const temp = ownedTempDirs();

/** Mean absolute difference (0-255) of the centre third of two frames. */
async function centreDiff(a: Buffer, b: Buffer): Promise<number> {
  const centre = async (img: Buffer): Promise<Buffer> => {
    const { width, height } = await sharp(img).metadata();
    return sharp(img)
      .extract({ left: Math.floor(width! / 3), top: Math.floor(height! / 3), width: Math.floor(width! / 3), height: Math.floor(height! / 3) })
      .greyscale()
      .raw()
      .toBuffer();
  };
  const [x, y] = await Promise.all([centre(a), centre(b)]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
  return sum / x.length;
}

describe('needles', () => {
  it('places N needles one per slot, 0.5 to 4 s long, the same for the same seed', () => {
    const a = placeNeedles(60, 6, { seed: 7 });
    expect(a).toHaveLength(6);
    expect(placeNeedles(60, 6, { seed: 7 })).toEqual(a);
    expect(placeNeedles(60, 6, { seed: 8 })).not.toEqual(a);
    a.forEach((n, i) => {
      expect(n.word).toMatch(/^([BDFGKLMNPRSTVZ][AEIOU]){3}$/);
      expect(n.startSec).toBeGreaterThanOrEqual(i * 10);
      expect(n.endSec).toBeLessThanOrEqual((i + 1) * 10);
      expect(n.endSec - n.startSec).toBeGreaterThanOrEqual(0.5 - 0.01);
      expect(n.endSec - n.startSec).toBeLessThanOrEqual(4 + 0.01);
    });
    expect(new Set(a.map((n) => n.word)).size).toBe(6);
    expect(() => placeNeedles(3, 10)).toThrow('option needles: expected at most 5 for 3.00 s of video (each needle is shown 0.5 s or more), got 10');
    expect(() => placeNeedles(30, 0)).toThrow('option needles: expected an integer from 1 to 1000, got 0');
  });

  it('burns them into a copy and writes their questions; frames change inside the intervals only', async () => {
    const src = await fixture('timecode');
    const out = temp('omniprep-needles-');
    const set = await makeNeedles(src, { count: 4, out, seed: 3 });
    expect(set.video).toBe(
      join(
        out,
        `${src
          .split('/')
          .pop()!
          .replace(/\.mp4$/, '')}-needles.mp4`,
      ),
    );
    expect(existsSync(set.video)).toBe(true);
    const lines = readFileSync(set.questions, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => [l.needleStart, l.needleEnd])).toEqual(set.needles.map((n) => [n.startSec, n.endSec]));
    for (const [i, l] of lines.entries()) {
      expect(l.choices).toHaveLength(4);
      expect(l.choices[l.answer.charCodeAt(0) - 65]).toBe(set.needles[i]!.word);
      expect(l.question).toMatch(/^Which code word is shown on screen between \d:\d\d\.\d\d and \d:\d\d\.\d\d\?$/);
    }
    // The question set reads back as a valid one, naming the copy.
    expect(loadQuestions(set.questions).map((q) => q.video)).toEqual(Array(4).fill(set.video));
    for (const n of set.needles) {
      const mid = (n.startSec + n.endSec) / 2;
      const [orig, copy] = await Promise.all([videoFrame(src, mid, 320), videoFrame(set.video, mid, 320)]);
      expect(await centreDiff(orig, copy)).toBeGreaterThan(20);
    }
    // Between the first two needles nothing is drawn.
    const gap = (set.needles[0]!.endSec + set.needles[1]!.startSec) / 2;
    const [orig, copy] = await Promise.all([videoFrame(src, gap, 320), videoFrame(set.video, gap, 320)]);
    expect(await centreDiff(orig, copy)).toBeLessThan(4);
  }, 240_000);
});
