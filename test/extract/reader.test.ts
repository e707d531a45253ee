// The JPEG splitter (src/extract/reader.ts): ffmpeg's mjpeg images through image2pipe come apart
// at their end markers, whatever the pipe's chunk sizes, byte for byte as ffmpeg writes them one
// file each; a restart marker or a stuffed 0xFF00 inside the data is not an end.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { frameOutput, mjpegQscale } from '../../src/extract/graph.js';
import { JpegSplitter } from '../../src/extract/reader.js';
import { fixture, readFrameNumber, tempDir } from '../helpers/fixtures.js';

const ffmpeg = resolveBinary('ffmpeg').path;

/** Five frames of the timecode clip as one mjpeg stream, and as five files (same encoder, same settings). */
async function jpegs(extra: string[] = []): Promise<{ stream: Buffer; files: Buffer[] }> {
  const clip = await fixture('timecode');
  const dir = tempDir('jpeg-');
  const common = [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-i',
    clip,
    '-frames:v',
    '5',
    '-vf',
    'scale=320:180,format=yuvj420p',
    '-c:v',
    'mjpeg',
    '-q:v',
    '4',
    ...extra,
  ];
  await runProcess({ command: ffmpeg, args: [...common, '-f', 'image2pipe', join(dir, 'all.mjpeg')], input: clip });
  await runProcess({ command: ffmpeg, args: [...common, '-f', 'image2', join(dir, 'one-%02d.jpg')], input: clip });
  const names = readdirSync(dir)
    .filter((n) => n.startsWith('one-'))
    .sort();
  return { stream: readFileSync(join(dir, 'all.mjpeg')), files: names.map((n) => readFileSync(join(dir, n))) };
}

function split(stream: Buffer, chunk: number): { images: Buffer[]; pending: number } {
  const s = new JpegSplitter('test.mp4');
  const images: Buffer[] = [];
  for (let i = 0; i < stream.length; i += chunk) images.push(...s.push(stream.subarray(i, i + chunk)));
  return { images, pending: s.pending };
}

describe('JpegSplitter', () => {
  it.each([1, 2, 7, 4096, 65536, Number.MAX_SAFE_INTEGER])('chunks of %i bytes: the five images, byte for byte', async (chunk) => {
    const { stream, files } = await jpegs();
    expect(files).toHaveLength(5);
    const { images, pending } = split(stream, chunk);
    expect(pending).toBe(0);
    expect(images.map((b) => b.length)).toEqual(files.map((b) => b.length));
    images.forEach((b, i) => expect(b.equals(files[i]!)).toBe(true));
    expect(await Promise.all(images.map((b) => readFrameNumber(b)))).toEqual([0, 1, 2, 3, 4]);
  });

  it('restart markers and stuffed bytes inside the entropy-coded data are not ends', async () => {
    const { stream, files } = await jpegs(['-huffman', 'default']);
    const data = files[0]!;
    const sos = data.indexOf(Buffer.from([0xff, 0xda]));
    const body = data.subarray(sos + 2 + data.readUInt16BE(sos + 2), data.length - 2);
    // The data holds stuffed 0xFF00 pairs (with the standard Huffman tables this frame does).
    expect(body.indexOf(Buffer.from([0xff, 0x00]))).toBeGreaterThanOrEqual(0);
    // A restart marker spliced into the data (as an encoder with restart intervals writes them).
    const at = sos + 2 + data.readUInt16BE(sos + 2) + 10;
    const withRst = Buffer.concat([data.subarray(0, at), Buffer.from([0xff, 0xd3]), data.subarray(at)]);
    const { images } = split(Buffer.concat([withRst, stream]), 3);
    expect(images).toHaveLength(6);
    expect(images[0]!.equals(withRst)).toBe(true);
  });

  it('a cut-off stream leaves its tail pending; a stream that is not JPEG is refused in one line', async () => {
    const { stream } = await jpegs();
    const { images, pending } = split(stream.subarray(0, stream.length - 100), 4096);
    expect(images).toHaveLength(4);
    expect(pending).toBeGreaterThan(0);
    expect(() => new JpegSplitter('x.mp4').push(Buffer.from('RIFF....WEBPVP8 '))).toThrow("x.mp4: the decoder's JPEG stream is malformed");
  });
});

describe('JPEG frames are encoded by ffmpeg', () => {
  it("maps a quality to mjpeg's qscale as libjpeg scales its tables (S/10), within ffmpeg's 2-31", () => {
    expect([100, 95, 90, 80, 70, 60, 50, 25, 10, 1].map(mjpegQscale)).toEqual([2, 2, 2, 4, 6, 8, 10, 20, 31, 31]);
  });
  it('only JPEG: WebP and PNG frames go raw to sharp', () => {
    const out = { dir: '/tmp', width: 8, height: 8, quality: 80 };
    expect(frameOutput({ out: { ...out, format: 'jpeg' } })).toEqual({ codec: 'mjpeg', format: 'image2pipe', extra: ['-q:v', '4'] });
    expect(frameOutput({ out: { ...out, format: 'webp' } })).toEqual({ format: 'rawvideo', pixFmt: 'rgb24' });
    expect(frameOutput({ out: { ...out, format: 'png' } })).toEqual({ format: 'rawvideo', pixFmt: 'rgb24' });
  });
});
