/** Dispatch: sending requests with bounded concurrency, rate limits, retries, a budget, and a reduce step. */
export {
  dispatchAll,
  usageCost,
  DISPATCH_DEFAULTS,
  type DispatchRequest,
  type DispatchOptions,
  type DispatchProgress,
  type DispatchReport,
  type DispatchTotals,
  type RequestResult,
  type OkResult,
  type ErrorResult,
  type NotSentResult,
  type NotSentReason,
  type AttemptRecord,
} from './dispatch.js';
export { createClient, callModel, answerOf, Clients, CLIENT_DEFAULTS, type ClientOptions, type Usage, type ModelAnswer } from './client.js';
export { RateLimiter, type RateLimitOptions, type RateEvent } from './limiter.js';
export { BudgetGuard, type Reservation } from './budget.js';
export { retryAfterMs, anthropicRetryAfterMs, geminiRetryDelayMs, backoffMs, classifyFailure, RETRY_DEFAULTS, type RetryOptions, type Failure, type FailureKind } from './retry.js';
export { realClock, type Clock } from './clock.js';
export { parseAnswer, checkSchema } from './schema.js';
export { reduceAnswers, buildReduceRequest, reducePrompt, segmentAnswers, REDUCE_DEFAULTS, type SegmentAnswer } from './reduce.js';
