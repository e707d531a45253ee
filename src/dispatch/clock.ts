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
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(signal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
