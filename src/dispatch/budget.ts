/**
 * The budget guard: money spent (from real usage) plus money reserved by requests in flight (their
 * estimates) never goes over the budget. A request reserves its estimate before it starts and
 * settles with what it really cost when it ends.
 */
import { invalidOption } from '../errors.js';

const EPSILON = 1e-9;

export interface Reservation {
  readonly usd: number;
  /** Replaces the reservation with the real cost (once; later calls do nothing). */
  settle(actualUsd: number): void;
}

export class BudgetGuard {
  readonly budgetUsd: number;
  spentUsd = 0;
  reservedUsd = 0;
  private waiters: Array<() => void> = [];

  constructor(budgetUsd: number | undefined) {
    if (budgetUsd !== undefined && !(typeof budgetUsd === 'number' && budgetUsd >= 0)) throw invalidOption('budgetUsd', 'dollars >= 0', budgetUsd);
    this.budgetUsd = budgetUsd ?? Infinity;
  }

  /** Whether a request of `usd` may start now. */
  fits(usd: number): boolean {
    return this.spentUsd + this.reservedUsd + usd <= this.budgetUsd + EPSILON;
  }

  reserve(usd: number): Reservation {
    this.reservedUsd += usd;
    let open = true;
    return {
      usd,
      settle: (actual: number) => {
        if (!open) return;
        open = false;
        this.reservedUsd = Math.max(0, this.reservedUsd - usd);
        if (this.reservedUsd < EPSILON) this.reservedUsd = 0;
        this.spentUsd += actual;
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
      },
    };
  }

  /** Resolves at the next settlement (or at once when nothing is reserved). */
  nextSettlement(signal?: AbortSignal): Promise<void> {
    if (this.reservedUsd === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
