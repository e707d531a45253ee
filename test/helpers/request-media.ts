/**
 * Small real media for the request, dispatch and batch tests: images made with sharp, audio made
 * with the project's ffmpeg (through the safe runner), frames cut from ../shared/media, and the
 * assets (FrameAsset, AudioAsset) that describe them with their exact tokens from the registry.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { audioTokens, imageTokens, type ModelOptions } from '../../src/models/tokens.js';
import type { AudioAsset, FrameAsset, ImageMime, Segment } from '../../src/request/types.js';
import { tempDir } from './fixtures.js';

/** A width x height image with a gradient in a colour (so every image differs), in a format. */
export async function makeImage(width: number, height: number, shade: number, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set([(x + shade) % 256, (y * 2 + shade) % 256, (shade * 7) % 256], (y * width + x) * 3);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

const MIME: Record<'png' | 'jpeg' | 'webp', ImageMime> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

export async function frameAsset(
  index: number,
  timestampSec: number,
  o: {
    width: number;
    height: number;
    format?: 'png' | 'jpeg' | 'webp';
    model?: string;
    detail?: string;
    data?: Buffer;
    file?: string;
    url?: string;
  } & ModelOptions,
): Promise<FrameAsset> {
  const format = o.format ?? 'png';
  const detail = o.detail ?? 'high';
  const data = o.file ? undefined : (o.data ?? (await makeImage(o.width, o.height, index * 37, format)));
  return {
    index,
    timestampSec,
    ...(data ? { data } : {}),
    ...(o.file ? { file: o.file } : {}),
    ...(o.url ? { url: o.url } : {}),
    mime: MIME[format],
    width: o.width,
    height: o.height,
    detail,
    tokens: imageTokens(o.model ?? 'gpt-5.5', o.width, o.height, detail, o).tokens,
  };
}

/** A sine tone encoded by ffmpeg: MP3 (64 kb/s) or 16 kHz mono WAV. */
export async function makeAudio(format: 'mp3' | 'wav', seconds: number, frequency = 440): Promise<Buffer> {
  const ffmpeg = resolveBinary('ffmpeg');
  const codec = format === 'mp3' ? ['-c:a', 'libmp3lame', '-b:a', '64k'] : ['-c:a', 'pcm_s16le'];
  // A file, not a pipe: ffmpeg then writes the WAV sizes and the MP3 Xing/LAME header (gapless length).
  const dir = tempDir('omniprep-audio-');
  const out = join(dir, `tone.${format}`);
  try {
    await runProcess({
      command: ffmpeg.path,
      args: [
        '-nostdin',
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=${frequency}:sample_rate=16000:duration=${seconds}`,
        '-ac',
        '1',
        ...codec,
        out,
      ],
      input: `test audio ${format}`,
      timeoutMs: 30_000,
    });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function audioAsset(
  index: number,
  startSec: number,
  endSec: number,
  format: 'mp3' | 'wav',
  src: { data?: Buffer; file?: string },
  model = 'gpt-5.5',
): AudioAsset {
  return { index, startSec, endSec, format, ...src, tokens: audioTokens(model, endSec - startSec) };
}

/** One JPEG frame of a video at `sec`, decoded by ffmpeg. */
export async function videoFrame(file: string, sec: number, width: number): Promise<Buffer> {
  const ffmpeg = resolveBinary('ffmpeg');
  const { stdout } = await runProcess({
    command: ffmpeg.path,
    args: [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-ss',
      String(sec),
      '-i',
      file,
      '-frames:v',
      '1',
      '-vf',
      `scale=${width}:-2`,
      '-f',
      'image2pipe',
      '-c:v',
      'mjpeg',
      'pipe:1',
    ],
    input: file,
    timeoutMs: 30_000,
  });
  return stdout;
}

export function segment(index: number, startSec: number, endSec: number, frames: FrameAsset[], audio: AudioAsset[] = []): Segment {
  return { index, startSec, endSec, frames, audio };
}
