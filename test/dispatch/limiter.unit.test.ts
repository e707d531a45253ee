// src/dispatch/limiter.ts RateLimiter on a virtual clock: a request starts only when the requests
// and tokens started in the last windowMs (this one included) stay within the limits. An event at
// time a counts in the window (now - windowMs, now]. Checked from the recorded start times.
import { describe, expect, it } from 'vitest';
import { RateLimiter, type RateEvent } from '../../src/dispatch/limiter.js';
import { OmniprepError } from '../../src/errors.js';
import { VirtualClock } from '../helpers/unit/virtual-clock.js';

const W = 1000;

/** Starts `tokens.length` requests at once; returns, in call order, when each started. */
async function startAll(limiter: RateLimiter, clock: VirtualClock, tokens: number[]): Promise<{ starts: number[]; order: number[] }> {
  const order: number[] = [];
  const all = Promise.all(
    tokens.map(async (t, i) => {
      const e = await limiter.acquire(t);
      order.push(i);
      return e.at;
    }),
  );
  await clock.run();
  return { starts: await all, order };
}

/** The most requests and tokens started in any window (t - W, t]. */
function peaks(starts: number[], tokens: number[]): { requests: number; tokens: number } {
  let requests = 0;
  let tok = 0;
  for (const t of starts) {
    const inside = starts.map((s, i) => [s, tokens[i]!] as const).filter(([s]) => s > t - W && s <= t);
    requests = Math.max(requests, inside.length);
    tok = Math.max(
      tok,
      inside.reduce((a, [, k]) => a + k, 0),
    );
  }
  return { requests, tokens: tok };
}

describe('requests per window', () => {
  it('10 requests at once with 3 per window start at 0 x3, 1000 x3, 2000 x3, 3000, in call order', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 3, windowMs: W, clock });
    const tokens = new Array(10).fill(1);
    const { starts, order } = await startAll(limiter, clock, tokens);
    expect(starts).toEqual([0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000, 3000]);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peaks(starts, tokens).requests).toBe(3);
  });
  it('the window slides: with 2 per window, starts at 0 and 900 hold the next until 1000, then 1900', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 2, windowMs: W, clock });
    expect((await limiter.acquire(1)).at).toBe(0);
    clock.advance(900);
    expect((await limiter.acquire(1)).at).toBe(900);
    clock.advance(100);
    // at 1000 the start at 0 has left the window (0 <= 1000 - 1000), the one at 900 has not
    const third = limiter.acquire(1);
    const fourth = limiter.acquire(1);
    await clock.run();
    expect([(await third).at, (await fourth).at]).toEqual([1000, 1900]);
    expect(peaks([0, 900, 1000, 1900], [1, 1, 1, 1]).requests).toBe(2);
  });
  it('never more than the limit in any window, whatever the arrival times', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 4, windowMs: W, clock });
    const starts: number[] = [];
    // arrivals every 130 ms of virtual time, 30 of them
    for (let i = 0; i < 30; i++) {
      const p = limiter.acquire(1).then((e) => starts.push(e.at));
      await clock.run();
      await p;
      clock.advance(130);
    }
    expect(peaks(starts, new Array(30).fill(1)).requests).toBe(4);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });
});

describe('tokens per window', () => {
  it('60, 30, 20, 50, 100 tokens under 100 per window start at 0, 0, 1000, 1000, 2000', async () => {
    // 20 does not fit beside 90; at 1000 both leave; 20 + 50 fit; 100 waits for both to leave at 2000
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ tokensPerMinute: 100, windowMs: W, clock });
    const tokens = [60, 30, 20, 50, 100];
    const { starts } = await startAll(limiter, clock, tokens);
    expect(starts).toEqual([0, 0, 1000, 1000, 2000]);
    expect(peaks(starts, tokens).tokens).toBe(100);
  });
  it('both limits at once: the tighter one binds', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 2, tokensPerMinute: 1000, windowMs: W, clock });
    const tokens = [10, 10, 10, 900, 200];
    const { starts } = await startAll(limiter, clock, tokens);
    // rpm binds first (0, 0, 1000, 1000); the 200 then meets 10 + 900 in the window: 2000
    expect(starts).toEqual([0, 0, 1000, 1000, 2000]);
    const p = peaks(starts, tokens);
    expect(p.requests).toBeLessThanOrEqual(2);
    expect(p.tokens).toBeLessThanOrEqual(1000);
  });
  it('a request larger than the limit can never fit: LIMIT_EXCEEDED at once', async () => {
    const limiter = new RateLimiter({ tokensPerMinute: 100, windowMs: W, clock: new VirtualClock() });
    const err = await limiter.acquire(150).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OmniprepError);
    expect((err as OmniprepError).code).toBe('LIMIT_EXCEEDED');
    expect((err as OmniprepError).message).toBe('a request of 150 estimated tokens can never fit a limit of 100 tokens per 1 s');
    // exactly the limit fits
    expect((await limiter.acquire(100)).at).toBe(0);
  });
});

describe('delayFor and startedAt', () => {
  it('delayFor: how long until the oldest starts that block have left', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 2, tokensPerMinute: 100, windowMs: W, clock });
    await limiter.acquire(50);
    clock.advance(400);
    await limiter.acquire(30);
    expect(limiter.delayFor(1, 500)).toBe(500); // rpm: the start at 0 leaves at 1000
    expect(limiter.delayFor(1, 1000)).toBe(0);
    expect(limiter.delayFor(80, 1000)).toBe(400); // 30 + 80 > 100 until the start at 400 leaves
  });
  it('startedAt moves a start later, never earlier, and later decisions follow it', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 1, windowMs: W, clock });
    const e: RateEvent = await limiter.acquire(1);
    limiter.startedAt(e, 300);
    limiter.startedAt(e, 100);
    expect(e.at).toBe(300);
    const next = limiter.acquire(1);
    await clock.run();
    expect((await next).at).toBe(1300);
  });
});

describe('options', () => {
  it('no limits: unlimited, nothing waits and nothing is recorded', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ clock });
    expect(limiter.unlimited).toBe(true);
    const { starts } = await startAll(limiter, clock, new Array(50).fill(1_000_000));
    expect(new Set(starts)).toEqual(new Set([0]));
    expect(limiter.delayFor(1e12)).toBe(0);
  });
  it('the default window is a minute', () => {
    expect(new RateLimiter({ requestsPerMinute: 5 }).windowMs).toBe(60_000);
  });
  it('limits must be numbers >= 1 (a window of at least one request or token)', () => {
    for (const bad of [0, 0.5, -1, Number.NaN, '5' as unknown as number]) {
      expect(() => new RateLimiter({ requestsPerMinute: bad })).toThrow(/^option requestsPerMinute: expected a number >= 1, got /);
      expect(() => new RateLimiter({ tokensPerMinute: bad })).toThrow(/^option tokensPerMinute: expected a number >= 1/);
    }
    expect(() => new RateLimiter({ windowMs: 0 })).toThrow(/^option windowMs: expected a number > 0, got 0$/);
  });
  // A limit under 1 (requestsPerMinute: 0.5) once passed the check and then limited nothing (no
  // count + 1 <= 0.5 ever holds): it is refused now, as the CLI's --rpm refuses it.
  it('a limit under one request per window is refused, or holds', async () => {
    const clock = new VirtualClock();
    let limiter: RateLimiter;
    try {
      limiter = new RateLimiter({ requestsPerMinute: 0.5, windowMs: W, clock });
    } catch {
      return;
    }
    const { starts } = await startAll(limiter, clock, [1, 1, 1]);
    expect(peaks(starts, [1, 1, 1]).requests).toBeLessThanOrEqual(1);
  });
  it('a wait is cancelled by its signal (ABORTED), and a cancelled wait takes no slot', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 1, windowMs: W, clock });
    await limiter.acquire(1);
    const ac = new AbortController();
    const waiting = limiter.acquire(1, ac.signal).catch((e: unknown) => e);
    await VirtualClock.settle();
    ac.abort(new Error('stop'));
    const err = (await waiting) as OmniprepError;
    expect([err.code, err.message]).toEqual(['ABORTED', 'dispatch: cancelled: stop']);
    const next = limiter.acquire(1);
    await clock.run();
    expect((await next).at).toBe(1000);
  });
});
