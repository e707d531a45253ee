/** The progress bar of a many-input command (stderr, on a TTY): inputs done of all, frames, time left. */

/** `\r[#####...] 12/50 inputs, 36 frames, ETA 8 s` (no ETA before the first input ends; no frames when none are counted). */
export function progressLine(done: number, total: number, frames: number | undefined, elapsedMs: number): string {
  const width = 24;
  const fill = total ? Math.min(width, Math.round((done / total) * width)) : 0;
  const left = done && total > done ? Math.ceil(((elapsedMs / done) * (total - done)) / 1000) : undefined;
  const eta = left === undefined ? '' : `, ETA ${left >= 60 ? `${Math.floor(left / 60)} min ${left % 60} s` : `${left} s`}`;
  return `\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} inputs${frames === undefined ? '' : `, ${frames} frames`}${eta}`;
}
