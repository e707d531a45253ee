/** Timestamps written into requests, so the model can answer with times. */
import { clockText } from '../util/time.js';

/** `mm:ss` below an hour, `h:mm:ss` from an hour on; fractions of a second are dropped. */
export function formatTimestamp(seconds: number): string {
  return clockText(Math.max(0, seconds));
}

/** `00:05-00:30`. */
export function formatRange(startSec: number, endSec: number): string {
  return `${formatTimestamp(startSec)}-${formatTimestamp(endSec)}`;
}
