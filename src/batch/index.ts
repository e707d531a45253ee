/** Batch API: JSONL writing with stable custom_ids and sharding, submission, status and results mapped back to inputs. */
export {
  writeBatch,
  customId,
  batchLimits,
  mappingPath,
  batchFilePath,
  writeMapping,
  type BatchWriteOptions,
  type BatchWriteResult,
  type BatchMapping,
  type BatchRequestInfo,
  type BatchFileInfo,
  type BatchLimits,
  type BatchLine,
} from './write.js';
export {
  submitBatch,
  batchStatus,
  batchResults,
  readMapping,
  type BatchClientOptions,
  type SubmittedBatch,
  type BatchStatus,
  type BatchResults,
  type BatchResult,
  type BatchOk,
  type BatchError,
} from './submit.js';
