/**
 * sharp, loaded on first use (its native library costs start-up time that commands and imports
 * which never touch an image should not pay), with its operation cache off: a long-running
 * process must not hold decoded images.
 */
import { createRequire } from 'node:module';
import type SharpFactory from 'sharp';

let mod: typeof SharpFactory | undefined;

export function loadSharp(): typeof SharpFactory {
  if (!mod) {
    mod = createRequire(import.meta.url)('sharp') as typeof SharpFactory;
    mod.cache(false);
  }
  return mod;
}
