/**
 * Work per request, bounded before any list is built: the frames, windows and audio chunks an
 * option asks for over the input's duration are counted in O(1) and refused above a limit (a
 * request for `every: 1e-7` would otherwise build a list of 40 million times on the event loop).
 */
import { OmniprepError } from '../errors.js';
import type { MediaInfo } from '../probe/types.js';
import { MAX_TARGETS } from '../options/sampling.js';
import type { JobOptions } from './options.js';

/** Most frames, windows or audio chunks one request may plan: the planner's own bound (options/sampling.ts). */
export const MAX_PLANNED = MAX_TARGETS;

function check(option: string, value: number | undefined, spanSec: number, what: string): void {
  if (value === undefined || !(value > 0) || !(spanSec > 0)) return;
  const n = spanSec / value;
  if (n <= MAX_PLANNED) return;
  const least = Number((spanSec / MAX_PLANNED).toPrecision(3));
  throw new OmniprepError(
    'INVALID_OPTION',
    `option ${option}: ${value} would plan ${n >= 1e12 ? n.toExponential(2) : Math.ceil(n)} ${what} over ${Number(spanSec.toFixed(3))} s (limit ${MAX_PLANNED}); use ${option} >= ${least}`,
    { details: { option, value, limit: MAX_PLANNED } },
  );
}

/** Refuses options that would plan more than MAX_PLANNED of anything over this input. */
export function checkPlanBounds(info: Pick<MediaInfo, 'durationSec'>, o: JobOptions): void {
  const duration = Number.isFinite(info.durationSec) ? info.durationSec : 0;
  const start = Math.max(0, o.start ?? 0);
  const end = Math.min(duration, o.end ?? duration);
  const span = Math.max(0, end - start);
  check('every', o.every, span, 'frames');
  check('maxGap', o.maxGap, span, 'frames');
  check('windowSec', o.windowSec, span, 'windows');
  check('audioOptions.chunkSeconds', o.audioOptions?.chunkSeconds, span, 'audio chunks');
}
