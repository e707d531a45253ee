/** Timestamps written into requests, so the model can answer with times. */

/** `mm:ss` below an hour, `h:mm:ss` from an hour on; fractions of a second are dropped. */
export function formatTimestamp(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds + 1e-9));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** `00:05-00:30`. */
export function formatRange(startSec: number, endSec: number): string {
  return `${formatTimestamp(startSec)}-${formatTimestamp(endSec)}`;
}
