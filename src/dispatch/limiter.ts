/**
 * Requests per minute and tokens per minute, over a sliding window: a request starts only when the
 * requests and tokens started in the last `windowMs` (this one included) stay within the limits,
 * so the limits hold in every window of that length, not just in fixed minutes.
 */
import { invalidOption, OmniprepError } from '../errors.js';
import { realClock, type Clock } from './clock.js';

export interface RateLimitOptions {
  /** Most requests started in any window. */
  requestsPerMinute?: number | undefined;
  /** Most tokens (estimated before each call) started in any window. */
  tokensPerMinute?: number | undefined;
  /** The window's length in ms (default 60,000; tests shorten it). */
  windowMs?: number | undefined;
  clock?: Clock | undefined;
}

export interface RateEvent {
  at: number;
  tokens: number;
}

export class RateLimiter {
  readonly rpm: number;
  readonly tpm: number;
  readonly windowMs: number;
  private readonly clock: Clock;
  /** Starts inside the current window, oldest first. */
  private events: RateEvent[] = [];

  constructor(o: RateLimitOptions = {}) {
    // A limit is at least one request (or token) per window: below that nothing could ever start.
    const check = (name: string, v: number | undefined, min = 1): number => {
      if (v === undefined) return Infinity;
      if (!(typeof v === 'number' && v >= min)) throw invalidOption(name, min === 1 ? 'a number >= 1' : 'a number > 0', v);
      return v;
    };
    this.rpm = check('requestsPerMinute', o.requestsPerMinute);
    this.tpm = check('tokensPerMinute', o.tokensPerMinute);
    this.windowMs = check('windowMs', o.windowMs ?? 60_000, Number.MIN_VALUE);
    this.clock = o.clock ?? realClock;
  }

  get unlimited(): boolean {
    return this.rpm === Infinity && this.tpm === Infinity;
  }

  private prune(now: number): void {
    let drop = 0;
    while (drop < this.events.length && this.events[drop]!.at <= now - this.windowMs) drop++;
    if (drop) this.events = this.events.slice(drop);
  }

  /** How long until `tokens` more fit (0: now). */
  delayFor(tokens: number, now = this.clock.now()): number {
    this.prune(now);
    let count = this.events.length;
    let sum = this.events.reduce((s, e) => s + e.tokens, 0);
    if (count + 1 <= this.rpm && sum + tokens <= this.tpm) return 0;
    for (const e of this.events) {
      count--;
      sum -= e.tokens;
      if (count + 1 <= this.rpm && sum + tokens <= this.tpm) return e.at + this.windowMs - now;
    }
    return 0;
  }

  /**
   * Moves a started request's time to when it really went out (later than when it was let
   * through). Call it before anything else is let through: later times only make later decisions
   * stricter, and the limits then hold for the real start times.
   */
  startedAt(event: RateEvent, at: number): void {
    if (at > event.at) event.at = at;
  }

  /** Waits until a request of `tokens` fits, then counts it as started. */
  async acquire(tokens: number, signal?: AbortSignal): Promise<RateEvent> {
    if (tokens > this.tpm) {
      throw new OmniprepError(
        'LIMIT_EXCEEDED',
        `a request of ${tokens} estimated tokens can never fit a limit of ${this.tpm} tokens per ${this.windowMs / 1000} s`,
      );
    }
    for (;;) {
      const now = this.clock.now();
      const wait = this.delayFor(tokens, now);
      if (wait <= 0) {
        const event = { at: now, tokens };
        if (!this.unlimited) this.events.push(event);
        return event;
      }
      await this.clock.sleep(wait, signal);
    }
  }
}
