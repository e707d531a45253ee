/**
 * A Clock (src/dispatch/clock.ts) on virtual time for unit tests: `sleep` registers a timer and
 * `run()` moves time to the earliest timer, fires every timer due then (in the order they were
 * set), lets the woken code run, and repeats until no timer is left. No real time passes.
 */
import { abortError, type Clock } from '../../../src/dispatch/clock.js';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          reject(abortError(signal));
        },
        { once: true },
      );
    });
  }

  /** Moves time on by `ms` without firing timers (as if the caller worked that long). */
  advance(ms: number): void {
    this.t += ms;
  }

  /** Lets pending promise callbacks run (a macrotask turn). */
  static async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Fires timers in time order until none is left (at most `maxSteps` time steps). */
  async run(maxSteps = 10_000): Promise<void> {
    await VirtualClock.settle();
    for (let step = 0; this.timers.length; step++) {
      if (step >= maxSteps) throw new Error(`VirtualClock: still ${this.timers.length} timers after ${maxSteps} steps`);
      const at = Math.min(...this.timers.map((x) => x.at));
      const due = this.timers.filter((x) => x.at === at).sort((a, b) => a.seq - b.seq);
      this.timers = this.timers.filter((x) => x.at !== at);
      this.t = Math.max(this.t, at);
      for (const x of due) x.resolve();
      await VirtualClock.settle();
    }
  }
}
