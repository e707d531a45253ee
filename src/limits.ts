/**
 * Limits on untrusted media, with safe defaults in one place. Every entry point takes
 * `limits?: Partial<Limits>`; the service tightens them further.
 */
import { invalidOption } from './errors.js';

export interface Limits {
  /** Largest input file in bytes (default 8 GiB). */
  maxFileBytes: number;
  /** Longest media in seconds (default 6 hours). */
  maxDurationSec: number;
  /** Most pixels in one frame or image (default 36 MP: 8K UHD fits, decompression bombs do not). */
  maxPixels: number;
  /** Wall-clock limit for one probe (ms). */
  probeTimeoutMs: number;
  /** Wall-clock limit for one decode or encode process (ms). */
  processTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxFileBytes: 8 * 1024 ** 3,
  maxDurationSec: 6 * 3600,
  maxPixels: 36_000_000,
  probeTimeoutMs: 30_000,
  processTimeoutMs: 10 * 60_000,
});

export function resolveLimits(partial: Partial<Limits> | undefined): Limits {
  const limits = { ...DEFAULT_LIMITS, ...(partial ?? {}) };
  for (const [key, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw invalidOption(`limits.${key}`, 'a positive number', value);
    }
  }
  return limits;
}
