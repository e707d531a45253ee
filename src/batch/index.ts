/** omniprep/batch: Batch API JSONL sharded at the limits, submission, status, and results mapped back. */
export { writeBatch, batchLimits, type BatchWriteOptions, type BatchWriteResult, type BatchMapping, type BatchLimits, type BatchRequestInfo, type BatchFileInfo } from './write.js';
export { submitBatch, batchStatus, batchResults, readMapping, type BatchClientOptions, type SubmittedBatch, type BatchStatus, type BatchResults, type BatchResult } from './submit.js';
