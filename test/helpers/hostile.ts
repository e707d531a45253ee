/**
 * Hostile inputs made from real files: a small MP4 whose sample size table (stsz) lies about its
 * sample count (the reproducers of "a 4 KB MP4 takes 16 GB"), built by rewriting the table of an
 * MP4 that ffmpeg makes at test time.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { CACHE } from './fixtures.js';

/** A 1-s, 64x64, 2 fps H.264 MP4 with its moov first: about 4 KB. */
export async function tinyMp4(): Promise<string> {
  const path = join(CACHE, 'hostile', 'tiny.mp4');
  if (existsSync(path)) return path;
  mkdirSync(join(CACHE, 'hostile'), { recursive: true });
  const tmp = `${path}.${process.pid}.mp4`;
  await runProcess({
    command: resolveBinary('ffmpeg').path,
    args: [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=s=64x64:r=2:d=1',
      '-c:v',
      'libx264',
      '-g',
      '2',
      '-movflags',
      '+faststart',
      tmp,
    ],
    input: 'tiny.mp4',
    timeoutMs: 60_000,
  });
  renameSync(tmp, path);
  return path;
}

/**
 * The tiny MP4 with its video stsz rewritten to a fixed sample size of `sampleSize` bytes and
 * `count` samples (2^31, 2^32-1, 33.5M: counts no 4-KB file can hold). Written under the cache.
 */
export async function lyingMp4(count: number, sampleSize = 1): Promise<string> {
  const path = join(CACHE, 'hostile', `stsz-${count}-${sampleSize}.mp4`);
  const bytes = Buffer.from(readFileSync(await tinyMp4()));
  const at = bytes.indexOf('stsz', 0, 'latin1');
  if (at < 4) throw new Error('tiny.mp4 has no stsz box');
  // size(4) 'stsz'(4) version+flags(4) sample_size(4) sample_count(4) [entries]
  bytes.writeUInt32BE(sampleSize, at + 8);
  bytes.writeUInt32BE(count >>> 0, at + 12);
  if (!existsSync(path) || !readFileSync(path).equals(bytes)) writeFileSync(path, bytes);
  return path;
}
