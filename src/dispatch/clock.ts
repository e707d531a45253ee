/** Time for the dispatcher: real by default, injectable in tests. */
import { OmniprepError } from '../errors.js';

export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Waits `ms`; rejects with ABORTED when `signal` fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function abortError(signal: AbortSignal | undefined, what = 'dispatch'): OmniprepError {
  const reason = signal?.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new OmniprepError('ABORTED', `${what}: cancelled${reason}`);
}

export const realClock: Clock = {
  now: () => performance.now(),
  // Timers run on the event loop's millisecond clock and can fire up to 1 ms early by
  // performance.now(): wait again for what is left, so a Retry-After of 2 s is never 1.999 s.
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const deadline = performance.now() + Math.max(0, ms);
      let timer: NodeJS.Timeout;
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(signal));
      };
      const tick = (): void => {
        const left = deadline - performance.now();
        if (left > 0) {
          timer = setTimeout(tick, Math.ceil(left));
          return;
        }
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      timer = setTimeout(tick, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
