/** omniprep/batch: Batch API files (OpenAI, Anthropic, Gemini) sharded at the limits, submission, status, and results mapped back. */
export {
  writeBatch,
  batchLimits,
  type BatchWriteOptions,
  type BatchWriteResult,
  type BatchMapping,
  type BatchLimits,
  type BatchRequestInfo,
  type BatchFileInfo,
  type BatchLine,
  type AnthropicBatchLine,
  type GeminiBatchLine,
} from './write.js';
export {
  submitBatch,
  batchStatus,
  batchResults,
  readMapping,
  batchProvider,
  type BatchClientOptions,
  type SubmittedBatch,
  type BatchStatus,
  type BatchResults,
  type BatchResult,
  type BatchOk,
  type BatchError,
} from './submit.js';
