/**
 * Sending an eval's requests: answers kept in a cache directory keyed by the SHA-256 of the
 * request body (written as each answer arrives, so an interrupted eval loses nothing and a rerun
 * sends only what it has not sent), a budget over the whole eval (dispatch's BudgetGuard: a
 * request starts only while spent plus reserved plus its estimate stays within it; the first
 * that would not stops the eval), and each request sent by `dispatchAll` (retries, rate-limit
 * waits, its errors in one line). The same body is sent once even when asked twice at once (two
 * plans' answers graded by the judge in the same words). Concurrency is bounded by the caller.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OmniprepError } from '../errors.js';
import { BudgetGuard } from '../dispatch/budget.js';
import { dispatchAll, type DispatchOptions } from '../dispatch/dispatch.js';
import type { BuiltRequest } from '../request/build.js';

export interface Answer {
  text: string;
  costUsd: number;
  inputTokens: number;
  latencyMs: number;
  /** True when it came from the cache (nothing was sent). */
  cached: boolean;
}

export type Outcome = { ok: true; answer: Answer } | { ok: false; reason: 'budget' | 'error' | 'cancelled'; message: string };

export interface SenderOptions {
  /** Cache directory (made when missing). */
  cache?: string | undefined;
  budgetUsd?: number | undefined;
  dispatch: DispatchOptions;
  /** Replaces placeholders in a body just before it is sent (e.g. a video's upload URI). */
  finalize?: ((req: BuiltRequest) => Promise<BuiltRequest>) | undefined;
}

/** The cache key of a request: its body's SHA-256. */
export const bodyHash = (req: Pick<BuiltRequest, 'body'>): string => createHash('sha256').update(JSON.stringify(req.body)).digest('hex');

export class Sender {
  readonly guard: BudgetGuard;
  sent = 0;
  cached = 0;
  /** Why sending stopped (the budget), once it has. */
  stopped: string | undefined;

  constructor(private readonly o: SenderOptions) {
    this.guard = new BudgetGuard(o.budgetUsd);
    if (o.cache) {
      try {
        mkdirSync(o.cache, { recursive: true });
      } catch (e) {
        throw new OmniprepError('INVALID_OPTION', `option cache: ${o.cache} cannot be made (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
          input: o.cache,
        });
      }
    }
  }

  private cached_(hash: string): Answer | undefined {
    if (!this.o.cache) return undefined;
    try {
      const a = JSON.parse(readFileSync(join(this.o.cache, `${hash}.json`), 'utf8')) as Answer;
      return typeof a.text === 'string' ? { ...a, cached: true } : undefined;
    } catch {
      return undefined;
    }
  }

  private keep(hash: string, a: Answer): void {
    if (!this.o.cache) return;
    const file = join(this.o.cache, `${hash}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ text: a.text, costUsd: a.costUsd, inputTokens: a.inputTokens, latencyMs: a.latencyMs }));
    renameSync(tmp, file);
  }

  /** Requests in flight by body hash: the same body asked again meanwhile waits for that answer instead of being sent twice. */
  private readonly inFlight = new Map<string, Promise<Outcome>>();

  /**
   * Sends one request, or answers it from the cache (or from the same body already in flight:
   * counted as cached). Never rejects for a request's own failure.
   */
  async send(req: BuiltRequest): Promise<Outcome> {
    const hash = bodyHash(req);
    const hit = this.cached_(hash);
    if (hit) {
      this.cached++;
      return { ok: true, answer: hit };
    }
    const pending = this.inFlight.get(hash);
    if (pending) {
      const out = await pending;
      if (!out.ok) return out;
      this.cached++;
      return { ok: true, answer: { ...out.answer, cached: true } };
    }
    const out = this.dispatch(req, hash);
    this.inFlight.set(hash, out);
    try {
      return await out;
    } finally {
      this.inFlight.delete(hash);
    }
  }

  private async dispatch(req: BuiltRequest, hash: string): Promise<Outcome> {
    if (this.stopped) return { ok: false, reason: 'budget', message: this.stopped };
    if (this.o.dispatch.signal?.aborted) return { ok: false, reason: 'cancelled', message: `${req.id}: not sent: cancelled` };
    // Requests in flight usually cost less than they reserved: wait for them before refusing.
    while (!this.guard.fits(req.estimate.usd) && this.guard.reservedUsd > 0 && !this.stopped) await this.guard.nextSettlement(this.o.dispatch.signal);
    if (this.stopped) return { ok: false, reason: 'budget', message: this.stopped };
    if (!this.guard.fits(req.estimate.usd)) {
      this.stopped = `${req.id}: not sent: its estimate of $${req.estimate.usd.toFixed(6)} would take the $${this.guard.spentUsd.toFixed(6)} spent over the budget of $${this.guard.budgetUsd}`;
      return { ok: false, reason: 'budget', message: this.stopped };
    }
    const reservation = this.guard.reserve(req.estimate.usd);
    let cost = 0;
    try {
      const ready = this.o.finalize ? await this.o.finalize(req) : req;
      const started = performance.now();
      this.sent++;
      const r = (await dispatchAll([ready], { ...this.o.dispatch, concurrency: 1, budgetUsd: undefined })).results[0]!;
      const latencyMs = Math.round(performance.now() - started);
      if (r.status === 'not-sent') return { ok: false, reason: 'cancelled', message: r.message };
      cost = r.costUsd;
      if (r.status === 'error') return { ok: false, reason: 'error', message: r.error.message };
      const answer: Answer = { text: r.text, costUsd: r.costUsd, inputTokens: r.usage?.inputTokens ?? 0, latencyMs, cached: false };
      this.keep(hash, answer);
      return { ok: true, answer };
    } finally {
      reservation.settle(cost);
    }
  }
}
