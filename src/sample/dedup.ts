/** --dedup while sampling: a frame whose perceptual hash is close to the last kept one is dropped. */
import { hashDistance, isDuplicate } from '../image/encode.js';
import type { DroppedFrame } from './manifest.js';

export class Deduper {
  readonly dropped: DroppedFrame[] = [];
  private last: { hash: string; index: number } | undefined;

  constructor(private readonly threshold: number) {}

  /** Whether the frame repeats the last kept one (then it is recorded as dropped). */
  repeats(frame: { index: number; timestampSec: number; hash?: string | undefined }): boolean {
    if (!frame.hash) return false;
    if (this.last) {
      const d = hashDistance(frame.hash, this.last.hash);
      if (isDuplicate(d, this.threshold)) {
        this.dropped.push({
          index: frame.index,
          timestampSec: frame.timestampSec,
          duplicateOf: this.last.index,
          distance: d.bits,
          meanDiff: Math.round(d.meanDiff * 100) / 100,
        });
        return true;
      }
    }
    this.last = { hash: frame.hash, index: frame.index };
    return false;
  }
}
