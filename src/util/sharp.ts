/**
 * sharp, loaded on first use (its native library costs start-up time that commands and imports
 * which never touch an image should not pay, and ~50 MB of memory that JPEG frames, encoded by
 * ffmpeg, never need), with its operation cache off: a long-running process must not hold decoded
 * images. In a worker thread of the pool, one image at a time: memory stays flat over long videos.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import type SharpFactory from 'sharp';

let mod: typeof SharpFactory | undefined;

export function loadSharp(): typeof SharpFactory {
  if (!mod) {
    mod = createRequire(import.meta.url)('sharp') as typeof SharpFactory;
    mod.cache(false);
    if (!isMainThread) mod.concurrency(1);
  }
  return mod;
}
