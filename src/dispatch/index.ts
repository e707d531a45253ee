/** omniprep/dispatch: sending requests (OpenAI, Anthropic, Gemini) with bounded concurrency, rate limits, retries and a hard budget; the reduce step. */
export {
  dispatchAll,
  usageCost,
  DISPATCH_DEFAULTS,
  type DispatchOptions,
  type DispatchRequest,
  type DispatchReport,
  type DispatchProgress,
  type DispatchTotals,
  type RequestResult,
  type OkResult,
  type ErrorResult,
  type NotSentResult,
  type AttemptRecord,
} from './dispatch.js';
export { createClient, Clients, type ClientOptions, type Usage, type ModelAnswer } from './client.js';
export type { OpenAIClient } from '../providers/openai/shapes.js';
export type { AnthropicClient } from '../providers/anthropic/shapes.js';
export type { GeminiClient } from '../providers/gemini/shapes.js';
export { RateLimiter, type RateLimitOptions } from './limiter.js';
export { BudgetGuard } from './budget.js';
export { RETRY_DEFAULTS, type RetryOptions } from './retry.js';
export type { Clock } from './clock.js';
export { parseAnswer } from './schema.js';
export { reduceAnswers, segmentAnswers, type SegmentAnswer } from './reduce.js';
