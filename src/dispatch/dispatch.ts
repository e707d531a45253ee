/**
 * Sending requests: at most `concurrency` in flight (p-limit), requests and tokens per minute
 * under their limits (sliding window, estimates counted before each call), 429 / 5xx / timeouts
 * retried with backoff and jitter honouring Retry-After, a hard budget, and cancellation.
 *
 *   const report = await dispatchAll(buildRequests(prepared, { prompt }), { concurrency: 8, budgetUsd: 2 });
 *   report.results[0]; // { status: 'ok', text, usage, costUsd, drift, ... }
 *
 * It never rejects once the options are accepted: every request ends as `ok`, `error` (after its
 * retries, with a one-line message) or `not-sent` (with the reason: budget, cancelled, rate-limit).
 *
 * The budget guard admits requests in order. A request starts only when money spent plus money
 * reserved by requests in flight plus its own estimate stays within the budget; when it does not
 * but requests are in flight, it waits for them to settle (they usually cost less than reserved),
 * and when nothing is in flight it is refused: dispatch stops there, and every later request is
 * reported as not sent. Attempts that timed out or were cancelled may have been billed: they are
 * counted at their estimate (`uncertainUsd`).
 */
import pLimit from 'p-limit';
import { type OmniprepError, invalidOption, isOmniprepError, type ErrorCode } from '../errors.js';
import { dollars, type ModelOptions } from '../models/tokens.js';
import type { ModelEntry } from '../models/registry.js';
import type { RequestEstimate } from '../request/estimate.js';
import type { Api, JsonSchema } from '../request/options.js';
import type { RequestBody } from '../providers/registry.js';
import { BudgetGuard, type Reservation } from './budget.js';
import { callModel, Clients, type ClientOptions, type Usage } from './client.js';
import { apiProvider, type Provider } from '../providers/registry.js';
import { abortError, realClock, type Clock } from './clock.js';
import { RateLimiter, type RateEvent } from './limiter.js';
import { backoffMs, classifyFailure, RETRY_DEFAULTS, type Failure, type FailureKind, type RetryOptions } from './retry.js';
import { checkSchema, parseAnswer } from './schema.js';
import { DISPATCH } from '../options/request.js';

/** What dispatch needs of a request; a `BuiltRequest` from `buildRequests()` is one. */
export interface DispatchRequest {
  id: string;
  /** Whose API (default: the first provider that speaks `api`); a `BuiltRequest` says. */
  provider?: Provider | undefined;
  api: Api;
  body: RequestBody;
  estimate: RequestEstimate;
  schema?: JsonSchema | undefined;
}

export interface DispatchProgress {
  total: number;
  done: number;
  ok: number;
  failed: number;
  notSent: number;
  inFlight: number;
  retries: number;
  spentUsd: number;
  reservedUsd: number;
}

export interface DispatchOptions extends ClientOptions, RetryOptions, ModelOptions {
  /** The requests' model's registry entry, when the caller has looked it up (run()): priced without a lookup by name. */
  entry?: ModelEntry | undefined;
  /** Most requests in flight at once (default 8). */
  concurrency?: number | undefined;
  requestsPerMinute?: number | undefined;
  /** Input plus output-bound tokens (the estimate) started in any window. */
  tokensPerMinute?: number | undefined;
  /** Length of the rate-limit window in ms (default 60,000). */
  windowMs?: number | undefined;
  /** Dollars this dispatch may spend (default: no limit). */
  budgetUsd?: number | undefined;
  /** Dollars already spent against the budget (e.g. by the segment calls before a reduce call). */
  alreadySpentUsd?: number | undefined;
  /** Cancels everything: queued requests are not sent, requests in flight are aborted. */
  signal?: AbortSignal | undefined;
  onProgress?: ((p: DispatchProgress) => void) | undefined;
  /** Called with each request's result as it ends. */
  onResult?: ((r: RequestResult) => void) | undefined;
  /** SDK clients made earlier, reused (an eval sends its requests one dispatch at a time over one set of connections). */
  clients?: Clients | undefined;
  clock?: Clock | undefined;
}

export const DISPATCH_DEFAULTS = { concurrency: DISPATCH.concurrency.meta.default, windowMs: 60_000 };

export interface AttemptRecord {
  /** Clock times (ms) the call started and ended. */
  startedAt: number;
  endedAt: number;
  /** Time spent waiting for the budget and the rate limits before the call. */
  waitedMs: number;
  /** Tokens counted against the rate limit. */
  tokens: number;
  outcome: 'ok' | FailureKind;
  httpStatus?: number;
  /** The wait before the next attempt, when there is one. */
  retryInMs?: number;
}

interface ResultBase {
  index: number;
  id: string;
  estimate: RequestEstimate;
  attempts: AttemptRecord[];
}

export interface OkResult extends ResultBase {
  status: 'ok';
  text: string;
  /** The answer parsed and checked against the request's schema. */
  parsed?: unknown;
  usage: Usage | undefined;
  /** Dollars of the reported usage (the estimate when the server reported none). */
  costUsd: number;
  /** Reported minus estimated input tokens, and their ratio: how far the token rules are off. */
  drift: { inputTokens: number; ratio: number } | undefined;
  responseId: string;
}

export interface ErrorResult extends ResultBase {
  status: 'error';
  error: { code: ErrorCode; message: string; kind?: FailureKind; httpStatus?: number };
  /** Dollars spent (an answer that failed its schema) or maybe spent (timeouts). */
  costUsd: number;
  /** The answer's text and usage, when there was an answer (INVALID_RESPONSE). */
  text?: string;
  usage?: Usage | undefined;
}

export type NotSentReason = 'budget' | 'cancelled' | 'rate-limit';

export interface NotSentResult extends ResultBase {
  status: 'not-sent';
  reason: NotSentReason;
  message: string;
}

export type RequestResult = OkResult | ErrorResult | NotSentResult;

export interface DispatchTotals {
  requests: number;
  ok: number;
  failed: number;
  notSent: number;
  retries: number;
  /** Over requests with reported usage: estimated vs reported input tokens. */
  estimatedInputTokens: number;
  actualInputTokens: number;
  inputTokenDrift: number;
  actualOutputTokens: number;
  /** Estimates of every request (sent or not). */
  estimatedUsd: number;
  /** Dollars of the reported usage. */
  spentUsd: number;
  /** Estimates of attempts that may have been billed without an answer (timeouts, cancels). */
  uncertainUsd: number;
  budgetUsd: number | undefined;
  maxInFlight: number;
  wallMs: number;
}

export interface DispatchReport {
  results: RequestResult[];
  /** The requests that were not sent, and why. */
  notSent: Array<{ index: number; id: string; reason: NotSentReason; message: string }>;
  totals: DispatchTotals;
}

type Admission = { reservation: Reservation; waitedMs: number; tokens: number; event: RateEvent } | { refused: string };

const usd = (n: number): string => `$${n.toFixed(n !== 0 && Math.abs(n) < 0.01 ? 6 : 4)}`;
const round = (n: number): number => Math.round(n * 1e8) / 1e8;

function describeFailure(f: Failure): string {
  switch (f.kind) {
    case 'rate-limit':
      return `rate limited (HTTP 429): ${f.message}`;
    case 'server':
      return `the server failed (HTTP ${f.status}): ${f.message}`;
    case 'timeout':
      return 'timed out';
    case 'connection':
      return f.message;
    case 'client':
      return `refused (HTTP ${f.status}): ${f.message}`;
    default:
      return f.message;
  }
}

function resolveOptions(o: DispatchOptions) {
  const concurrency = o.concurrency ?? DISPATCH_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw invalidOption('concurrency', 'an integer >= 1', concurrency);
  const retry = {
    maxRetries: o.maxRetries ?? RETRY_DEFAULTS.maxRetries,
    baseDelayMs: o.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs,
    maxDelayMs: o.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs,
    maxRetryAfterMs: o.maxRetryAfterMs ?? RETRY_DEFAULTS.maxRetryAfterMs,
  };
  if (!Number.isInteger(retry.maxRetries) || retry.maxRetries < 0) throw invalidOption('maxRetries', 'an integer >= 0', retry.maxRetries);
  for (const k of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!(typeof retry[k] === 'number' && retry[k] >= 0)) throw invalidOption(k, 'milliseconds >= 0', retry[k]);
  }
  if (o.alreadySpentUsd !== undefined && !(o.alreadySpentUsd >= 0)) throw invalidOption('alreadySpentUsd', 'dollars >= 0', o.alreadySpentUsd);
  return { concurrency, retry, random: o.random ?? Math.random, clock: o.clock ?? realClock };
}

/** Dollars of reported usage at the estimate's model and tier (audio tokens at the audio price); 0 for a model without a price. */
export function usageCost(
  estimate: Pick<RequestEstimate, 'model' | 'tier' | 'priceNote'>,
  u: Usage,
  o: ModelOptions & { entry?: ModelEntry | undefined } = {},
): number {
  if (estimate.priceNote) return 0;
  const audio = Math.min(u.audioTokens, u.inputTokens);
  return dollars(
    o.entry?.name === estimate.model ? o.entry : estimate.model,
    { textTokens: u.inputTokens - audio, audioTokens: audio, outputTokens: u.outputTokens },
    estimate.tier,
    o,
  );
}

/** Sends every request; resolves with one result per request, in order. */
export async function dispatchAll(requests: readonly DispatchRequest[], options: DispatchOptions = {}): Promise<DispatchReport> {
  const resolved = resolveOptions(options);
  for (const r of requests) if (r.schema) checkSchema(r.schema, r.id);
  const client = await (options.clients ?? new Clients(options)).prepare(requests.map((r) => r.provider ?? apiProvider(r.api)));
  const d = new Dispatch(requests, options, resolved, client);
  const limit = pLimit(resolved.concurrency);
  const results = await Promise.all(requests.map((r, i) => limit(() => d.safeRun(r, i))));
  return d.report(results);
}

type Resolved = ReturnType<typeof resolveOptions>;

/**
 * One dispatch: admission (budget, then rate limits, FIFO), attempts (the call, its record, the
 * retry decision), and the report. Admission runs one request at a time, in order: the next
 * request is let through only when the admitted one calls `release()`, right after it has told
 * the rate limiter its real start time.
 */
class Dispatch {
  private readonly limiter: RateLimiter;
  private readonly guard: BudgetGuard;
  private readonly signal: AbortSignal | undefined;
  private readonly clock: Clock;
  private readonly modelOptions: ModelOptions & { entry?: ModelEntry | undefined };
  private readonly startedAt: number;
  private readonly progress: DispatchProgress;
  private maxInFlight = 0;
  private spentUsd = 0;
  private uncertainUsd = 0;
  private stoppedAt: string | undefined;
  private gate: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly requests: readonly DispatchRequest[],
    private readonly options: DispatchOptions,
    private readonly resolved: Resolved,
    private readonly client: Clients,
  ) {
    this.clock = resolved.clock;
    this.limiter = new RateLimiter({
      requestsPerMinute: options.requestsPerMinute,
      tokensPerMinute: options.tokensPerMinute,
      windowMs: options.windowMs ?? DISPATCH_DEFAULTS.windowMs,
      clock: this.clock,
    });
    this.guard = new BudgetGuard(options.budgetUsd);
    this.guard.spentUsd = options.alreadySpentUsd ?? 0;
    this.signal = options.signal;
    this.modelOptions = { registry: options.registry, modelsFile: options.modelsFile, rule: options.rule, entry: options.entry };
    this.startedAt = this.clock.now();
    this.progress = { total: requests.length, done: 0, ok: 0, failed: 0, notSent: 0, inFlight: 0, retries: 0, spentUsd: 0, reservedUsd: 0 };
  }

  private notify(): void {
    if (!this.options.onProgress) return;
    this.progress.spentUsd = round(this.guard.spentUsd);
    this.progress.reservedUsd = round(this.guard.reservedUsd);
    try {
      this.options.onProgress({ ...this.progress });
    } catch {
      /* a progress display must not stop the dispatch */
    }
  }

  private admit(fn: () => Promise<Admission>): Promise<{ admission: Admission; release: () => void }> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const next = this.gate.then(fn);
    this.gate = next.then(
      () => released,
      () => undefined,
    );
    return next.then((admission) => ({ admission, release }));
  }

  private async admitAttempt(req: DispatchRequest, isRetry: boolean): Promise<Admission> {
    const { guard, signal } = this;
    const t0 = this.clock.now();
    if (signal?.aborted) throw abortError(signal, req.id);
    const cost = req.estimate.usd;
    if (!isRetry && this.stoppedAt !== undefined) {
      return { refused: `${req.id}: not sent: the budget of ${usd(guard.budgetUsd)} ran out at ${this.stoppedAt}` };
    }
    while (!guard.fits(cost)) {
      if (guard.reservedUsd > 0) {
        await guard.nextSettlement(signal);
        if (signal?.aborted) throw abortError(signal, req.id);
        continue;
      }
      if (!isRetry) this.stoppedAt = req.id;
      return {
        refused: `${req.id}: not sent: its estimate of ${usd(cost)} would take the ${usd(guard.spentUsd)} spent over the budget of ${usd(guard.budgetUsd)}`,
      };
    }
    const reservation = guard.reserve(cost);
    const tokens = req.estimate.inputTokens + req.estimate.outputTokens;
    let event: RateEvent;
    try {
      event = await this.limiter.acquire(tokens, signal);
    } catch (e) {
      reservation.settle(0);
      throw e;
    }
    return { reservation, waitedMs: this.clock.now() - t0, tokens, event };
  }

  private finish<R extends RequestResult>(r: R): R {
    const progress = this.progress;
    progress.done++;
    if (r.status === 'ok') progress.ok++;
    else if (r.status === 'error') progress.failed++;
    else progress.notSent++;
    this.notify();
    try {
      this.options.onResult?.(r);
    } catch {
      /* as above */
    }
    return r;
  }

  /** One call of an admitted request: its record, the answer or the failure. */
  private async call(
    req: DispatchRequest,
    admission: Exclude<Admission, { refused: string }>,
    attempt: number,
    attempts: AttemptRecord[],
  ): Promise<{ answer?: Awaited<ReturnType<typeof callModel>>; failure?: Failure; record: AttemptRecord }> {
    const startedAt = this.clock.now();
    this.limiter.startedAt(admission.event, startedAt);
    const record: AttemptRecord = { startedAt, endedAt: 0, waitedMs: admission.waitedMs, tokens: admission.tokens, outcome: 'ok' };
    attempts.push(record);
    if (attempt > 0) this.progress.retries++;
    this.progress.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.progress.inFlight);
    this.notify();
    try {
      return { answer: await callModel(this.client, req, { signal: this.signal, timeoutMs: this.options.timeoutMs }), record };
    } catch (e) {
      return { failure: classifyFailure(e), record };
    } finally {
      this.progress.inFlight--;
      record.endedAt = this.clock.now();
    }
  }

  /** The result of an answered call: ok, or an answer that does not fit its schema. */
  private answered(
    req: DispatchRequest,
    base: ResultBase,
    answer: Awaited<ReturnType<typeof callModel>>,
    reservation: Reservation,
    maybeSpent: number,
  ): RequestResult {
    const cost = answer.usage ? usageCost(req.estimate, answer.usage, this.modelOptions) : req.estimate.usd;
    reservation.settle(cost);
    this.spentUsd += cost;
    const drift = answer.usage
      ? { inputTokens: answer.usage.inputTokens - req.estimate.inputTokens, ratio: answer.usage.inputTokens / Math.max(1, req.estimate.inputTokens) }
      : undefined;
    let parsed: unknown;
    if (req.schema) {
      try {
        parsed = parseAnswer(answer.text, req.schema, req.id);
      } catch (e) {
        const err = e as OmniprepError;
        return this.failed(base, err.code, err.message, { costUsd: round(cost + maybeSpent), text: answer.text, usage: answer.usage });
      }
    }
    return this.finish({
      ...base,
      status: 'ok',
      text: answer.text,
      ...(req.schema ? { parsed } : {}),
      usage: answer.usage,
      costUsd: round(cost),
      drift,
      responseId: answer.responseId,
    });
  }

  private failed(base: ResultBase, code: ErrorCode, message: string, extra: Partial<ErrorResult> = {}, f?: Failure): ErrorResult {
    return this.finish({
      ...base,
      status: 'error',
      costUsd: 0,
      ...extra,
      error: { code, message, ...(f ? { kind: f.kind } : {}), ...(f?.status === undefined ? {} : { httpStatus: f.status }) },
    });
  }

  private async runOne(req: DispatchRequest, index: number): Promise<RequestResult> {
    const { signal, resolved } = this;
    const attempts: AttemptRecord[] = [];
    const base: ResultBase = { index, id: req.id, estimate: req.estimate, attempts };
    const notSent = (reason: NotSentReason, message: string): NotSentResult => this.finish({ ...base, status: 'not-sent', reason, message });
    if (signal?.aborted) return notSent('cancelled', `${req.id}: not sent: cancelled`);
    let maybeSpent = 0;
    for (let attempt = 0; ; attempt++) {
      let admission: Admission;
      let release: () => void;
      try {
        ({ admission, release } = await this.admit(() => this.admitAttempt(req, attempt > 0)));
      } catch (e) {
        if (isOmniprepError(e) && e.code === 'LIMIT_EXCEEDED') return notSent('rate-limit', `${req.id}: not sent: ${e.message}`);
        if (attempt === 0) return notSent('cancelled', `${req.id}: not sent: cancelled`);
        return this.failed(base, 'ABORTED', `${req.id}: cancelled before attempt ${attempt + 1}`, { costUsd: maybeSpent });
      }
      if ('refused' in admission) {
        release();
        if (attempt === 0) return notSent('budget', admission.refused);
        return this.failed(base, 'BUDGET_EXCEEDED', `${admission.refused} (before retry ${attempt})`, { costUsd: maybeSpent });
      }
      const pending = this.call(req, admission, attempt, attempts);
      release();
      const { answer, failure, record } = await pending;
      if (answer) return this.answered(req, base, answer, admission.reservation, maybeSpent);

      const f = failure!;
      record.outcome = f.kind;
      if (f.status !== undefined) record.httpStatus = f.status;
      const cancelled = f.kind === 'aborted' || Boolean(signal?.aborted);
      const billedMaybe = f.maybeBilled || cancelled;
      admission.reservation.settle(billedMaybe ? req.estimate.usd : 0);
      if (billedMaybe) {
        this.uncertainUsd += req.estimate.usd;
        maybeSpent += req.estimate.usd;
      }
      if (cancelled) return this.failed(base, 'ABORTED', `${req.id}: cancelled while in flight`, { costUsd: round(maybeSpent) }, f);
      const refusal = retryRefusal(req, f, attempt, resolved.retry);
      if (refusal) return this.failed(base, 'REQUEST_FAILED', refusal, { costUsd: round(maybeSpent) }, f);
      const delay = f.retryAfterMs ?? backoffMs(attempt, resolved.retry, resolved.random);
      record.retryInMs = delay;
      try {
        await this.clock.sleep(delay, signal);
      } catch {
        return this.failed(base, 'ABORTED', `${req.id}: cancelled while waiting to retry`, { costUsd: round(maybeSpent) }, f);
      }
    }
  }

  async safeRun(req: DispatchRequest, index: number): Promise<RequestResult> {
    try {
      return await this.runOne(req, index);
    } catch (e) {
      // Unexpected (a bug, or a broken client): still one result per request, never a rejection.
      const message = e instanceof Error ? e.message : String(e);
      return this.finish({
        index,
        id: req.id,
        estimate: req.estimate,
        attempts: [],
        status: 'error',
        costUsd: 0,
        error: { code: 'REQUEST_FAILED', message: `${req.id}: ${message}` },
      });
    }
  }

  report(results: RequestResult[]): DispatchReport {
    let estimatedInputTokens = 0;
    let actualInputTokens = 0;
    let actualOutputTokens = 0;
    for (const r of results) {
      const u = r.status === 'ok' ? r.usage : r.status === 'error' ? r.usage : undefined;
      if (!u) continue;
      estimatedInputTokens += r.estimate.inputTokens;
      actualInputTokens += u.inputTokens;
      actualOutputTokens += u.outputTokens;
    }
    const progress = this.progress;
    return {
      results,
      notSent: results.flatMap((r) => (r.status === 'not-sent' ? [{ index: r.index, id: r.id, reason: r.reason, message: r.message }] : [])),
      totals: {
        requests: results.length,
        ok: progress.ok,
        failed: progress.failed,
        notSent: progress.notSent,
        retries: progress.retries,
        estimatedInputTokens,
        actualInputTokens,
        inputTokenDrift: actualInputTokens - estimatedInputTokens,
        actualOutputTokens,
        estimatedUsd: round(this.requests.reduce((s, r) => s + r.estimate.usd, 0)),
        spentUsd: round(this.spentUsd),
        uncertainUsd: round(this.uncertainUsd),
        budgetUsd: this.options.budgetUsd,
        maxInFlight: this.maxInFlight,
        wallMs: Math.round(this.clock.now() - this.startedAt),
      },
    };
  }
}

/** Why a failed attempt is not retried (undefined: retry it). */
function retryRefusal(req: DispatchRequest, f: Failure, attempt: number, retry: Resolved['retry']): string | undefined {
  const tries = attempt + 1;
  if (!f.retryable || attempt >= retry.maxRetries) {
    const times = f.retryable ? ` on all ${tries} attempts` : tries > 1 ? ` on attempt ${tries}` : '';
    return `${req.id}: ${describeFailure(f)}${times}`;
  }
  if (f.retryAfterMs !== undefined && f.retryAfterMs > retry.maxRetryAfterMs) {
    return `${req.id}: ${describeFailure(f)}; the server asked to wait ${Math.round(f.retryAfterMs / 1000)} s, more than maxRetryAfterMs (${retry.maxRetryAfterMs / 1000} s)`;
  }
  return undefined;
}
