/**
 * Batches through the provider's adapter (src/providers/<provider>/batch.ts): for OpenAI, upload
 * each JSONL (purpose `batch`) and create one batch per file (`completion_window: 24h`); for
 * Anthropic, one Message Batch per shard; for Gemini, upload each shard through the File API and
 * create a batch from it. Then read a batch's status, and fetch its results mapped back to their
 * inputs and segments by `custom_id` (Gemini: `key`), errors included.
 */
import { readFileSync } from 'node:fs';
import { OmniprepError, inputError, type ErrorCode } from '../errors.js';
import type { ModelOptions } from '../models/tokens.js';
import { answerOf, Clients, type ClientOptions, type Usage } from '../dispatch/client.js';
import { batchProvider as providerOfBatch, DEFAULT_PROVIDER, type Provider } from '../providers/registry.js';
import type { BatchApi, BatchOutputLine, BatchState } from '../providers/types.js';
import type { OpenAIBatchStatus } from '../providers/openai/shapes.js';
import { getModel } from '../models/tokens.js';
import { usageCost } from '../dispatch/dispatch.js';
import { parseAnswer } from '../dispatch/schema.js';
import { batchApiOf, batchFilePath, writeMapping, type BatchMapping, type BatchRequestInfo } from './write.js';

export interface BatchClientOptions extends ClientOptions, ModelOptions {
  /** Stored with the batch (`metadata`), e.g. a run name (OpenAI only). */
  metadata?: Record<string, string> | undefined;
  /** Whose batch API a batch id belongs to (default: from the id: `msgbatch_...` Anthropic, `batches/...` Gemini, else OpenAI). */
  provider?: Provider | undefined;
}

/** The provider of a batch id, unless the options say. */
export function batchProvider(id: string, o: Pick<BatchClientOptions, 'provider'> = {}): Provider {
  return providerOfBatch(id, o);
}

/** A provider's batch API, refused in one line when its batches cannot be submitted (a local server's). */
function submittable(provider: Provider): BatchApi {
  const b = batchApiOf(provider);
  if (b.offline) throw new OmniprepError('INVALID_OPTION', `provider ${provider}: ${b.offline}`, { details: { option: 'provider' } });
  return b;
}

export interface SubmittedBatch {
  file: string;
  fileId: string;
  batchId: string;
  status: string;
}

export function readMapping(file: string): BatchMapping {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_OPTION',
      file,
      code === 'ENOENT' ? 'no such mapping file' : 'not a batch mapping file (invalid JSON)',
    );
  }
  const m = json as Partial<BatchMapping>;
  if (m.version !== 1 || !Array.isArray(m.files) || !m.requests || typeof m.requests !== 'object') {
    throw inputError('INVALID_OPTION', file, 'not a batch mapping file (written by writeBatch)');
  }
  return m as BatchMapping;
}

/**
 * Uploads every JSONL of a mapping file and creates a batch for each; records the file and batch
 * ids in the mapping file. Files that already have a batch id are not sent again.
 */
export async function submitBatch(mappingFile: string, o: BatchClientOptions = {}): Promise<SubmittedBatch[]> {
  const mapping = readMapping(mappingFile);
  const provider = mapping.provider ?? DEFAULT_PROVIDER;
  const api = submittable(provider);
  const clients = new Clients(o);
  const out: SubmittedBatch[] = [];
  for (const entry of mapping.files) {
    if (entry.batchId && (entry.fileId || !api.uploadsFile)) {
      out.push({ file: entry.file, fileId: entry.fileId ?? '', batchId: entry.batchId, status: 'submitted before' });
      continue;
    }
    const path = batchFilePath(mappingFile, entry);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      throw inputError('NOT_FOUND', path, 'no such batch file (it should sit next to its mapping file)');
    }
    const shard = { path, file: entry.file, bytes, model: getModel(mapping.model, o), endpoint: mapping.endpoint, metadata: o.metadata };
    // The file id is recorded as soon as the upload has one (a failed batch creation can reuse it).
    const b = await api.submit(await clients.of(provider), shard, (fileId) => {
      entry.fileId = fileId;
      writeMapping(mappingFile, mapping);
    });
    if (b.fileId) entry.fileId = b.fileId;
    entry.batchId = b.batchId;
    writeMapping(mappingFile, mapping);
    out.push({ file: entry.file, fileId: b.fileId ?? '', batchId: b.batchId, status: b.status });
  }
  return out;
}

/** A batch's state (`BatchState`, src/providers/types.ts) and whose batch it is. */
export interface BatchStatus extends Omit<BatchState, 'status'> {
  provider: Provider;
  /** The provider's state word (OpenAI `completed`, Anthropic `ended`, Gemini `JOB_STATE_SUCCEEDED`, ...). */
  status: OpenAIBatchStatus | (string & {});
}

export async function batchStatus(id: string, o: BatchClientOptions = {}): Promise<BatchStatus> {
  const provider = batchProvider(id, o);
  const state: BatchState = await submittable(provider).state(await new Clients(o).of(provider), id);
  return { ...state, provider };
}

export interface BatchResultBase extends Omit<BatchRequestInfo, 'estimate'> {
  customId: string;
}

export interface BatchOk extends BatchResultBase {
  status: 'ok';
  text: string;
  parsed?: unknown;
  usage: Usage | undefined;
  costUsd: number;
}

export interface BatchError extends BatchResultBase {
  status: 'error';
  error: { code: ErrorCode; message: string; httpStatus?: number };
  text?: string;
  usage?: Usage | undefined;
  costUsd: number;
}

export type BatchResult = BatchOk | BatchError;

export interface BatchResults {
  batch: BatchStatus;
  /** Whether the batch has ended (completed, failed, expired or cancelled). */
  done: boolean;
  /** One per line of the output and error files, in the order of the input file. */
  results: BatchResult[];
  /** custom_ids of this batch's input that have no result (yet, or ever: expired, failed). */
  missing: Array<{ customId: string; id: string; input: string; segment: number }>;
  /** custom_ids in the results that the mapping does not know. */
  unknown: string[];
  totals: { ok: number; failed: number; missing: number; inputTokens: number; outputTokens: number; spentUsd: number };
}

type OutputLine = BatchOutputLine;

function errorMessage(line: OutputLine): { message: string; httpStatus?: number } {
  const status = line.response?.status_code;
  const body = line.response?.body as { error?: { message?: string; code?: string } } | undefined;
  const message = body?.error?.message ?? line.error?.message ?? line.error?.code ?? `HTTP ${status ?? '?'}`;
  return { message: message.replace(/\s*\n\s*/g, '; '), ...(status === undefined ? {} : { httpStatus: status }) };
}

/**
 * Downloads a batch's output and error files and maps every line back to its input and segment.
 * `mapping` is the mapping file (or its content) that `writeBatch` wrote.
 */
export async function batchResults(id: string, mapping: BatchMapping | string, o: BatchClientOptions = {}): Promise<BatchResults> {
  const map = typeof mapping === 'string' ? readMapping(mapping) : mapping;
  const provider = map.provider ?? DEFAULT_PROVIDER;
  const batchApi = submittable(provider);
  const clients = new Clients(o);
  const { provider: _p, ...state } = await batchStatus(id, { ...o, provider });
  const status: BatchStatus = { ...state, provider };
  const lines = await batchApi.results(await clients.of(provider), state);
  const api = batchApi.apiOf(map.endpoint);
  const modelOptions: ModelOptions = { registry: o.registry, modelsFile: o.modelsFile, rule: o.rule };
  const unknown: string[] = [];
  const results: BatchResult[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    const customId = line.custom_id ?? '';
    const info = map.requests[customId];
    if (!info) {
      unknown.push(customId);
      continue;
    }
    seen.add(customId);
    const { estimate: _e, ...where } = info;
    const base = { customId, ...where };
    const httpStatus = line.response?.status_code;
    if (httpStatus === 200 && !line.error) {
      const answer = answerOf(api, line.response?.body, provider);
      const costUsd = answer.usage ? usageCost({ model: info.model, tier: 'batch' }, answer.usage, modelOptions) : 0;
      if (map.schema) {
        try {
          const parsed = parseAnswer(answer.text, map.schema, info.id);
          results.push({ ...base, status: 'ok', text: answer.text, parsed, usage: answer.usage, costUsd });
        } catch (e) {
          const err = e as OmniprepError;
          results.push({ ...base, status: 'error', error: { code: err.code, message: err.message }, text: answer.text, usage: answer.usage, costUsd });
        }
        continue;
      }
      results.push({ ...base, status: 'ok', text: answer.text, usage: answer.usage, costUsd });
      continue;
    }
    const e = errorMessage(line);
    results.push({
      ...base,
      status: 'error',
      error: { code: 'REQUEST_FAILED', message: `${info.id}: ${e.message}`, ...(e.httpStatus === undefined ? {} : { httpStatus: e.httpStatus }) },
      costUsd: 0,
    });
  }
  // Input order: by file, then line.
  const fileOrder = new Map(map.files.map((f, i) => [f.file, i]));
  results.sort((a, b) => fileOrder.get(a.file)! - fileOrder.get(b.file)! || a.line - b.line);
  // This batch's requests: those of the file the batch was created from (all, when it is not recorded).
  const file = map.files.find((f) => f.batchId === id || (f.fileId !== undefined && f.fileId === status.inputFileId));
  const expected = Object.entries(map.requests).filter(([, r]) => !file || r.file === file.file);
  const missing = expected.filter(([cid]) => !seen.has(cid)).map(([customId, r]) => ({ customId, id: r.id, input: r.input, segment: r.segment }));
  let inputTokens = 0;
  let outputTokens = 0;
  let spent = 0;
  for (const r of results) {
    inputTokens += r.usage?.inputTokens ?? 0;
    outputTokens += r.usage?.outputTokens ?? 0;
    spent += r.costUsd;
  }
  return {
    batch: status,
    done: status.done,
    results,
    missing,
    unknown,
    totals: {
      ok: results.filter((r) => r.status === 'ok').length,
      failed: results.filter((r) => r.status === 'error').length,
      missing: missing.length,
      inputTokens,
      outputTokens,
      spentUsd: Math.round(spent * 1e8) / 1e8,
    },
  };
}
