/**
 * Batches through the provider's SDK: for OpenAI, upload each JSONL (purpose `batch`) and create
 * one batch per file (`completion_window: 24h`); for Anthropic, one Message Batch per shard; for
 * Gemini, upload each shard through the File API and create a batch from it
 * (src/providers/batches.ts). Then read a batch's status, and fetch its results mapped back to
 * their inputs and segments by `custom_id` (Gemini: `key`), errors included.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Batch } from 'openai/resources/batches';
import { OmniprepError, inputError, type ErrorCode } from '../errors.js';
import type { ModelOptions } from '../models/tokens.js';
import { answerOf, Clients, createClient, type ClientOptions, type Usage } from '../dispatch/client.js';
import {
  anthropicBatchLines,
  anthropicBatchState,
  geminiBatchLines,
  geminiBatchState,
  submitAnthropicBatch,
  submitGeminiBatch,
  type ProviderBatchLine,
  type ProviderBatchState,
} from '../providers/batches.js';
import { apiModelName, PROVIDER_APIS, type Provider } from '../providers/provider.js';
import { getModel } from '../models/tokens.js';
import { usageCost } from '../dispatch/dispatch.js';
import { parseAnswer } from '../dispatch/schema.js';
import { batchFilePath, writeMapping, type BatchMapping, type BatchRequestInfo } from './write.js';

export interface BatchClientOptions extends ClientOptions, ModelOptions {
  /** Stored with the batch (`metadata`), e.g. a run name (OpenAI only). */
  metadata?: Record<string, string> | undefined;
  /** Whose batch API a batch id belongs to (default: from the id: `msgbatch_...` Anthropic, `batches/...` Gemini, else OpenAI). */
  provider?: Provider | undefined;
}

/** The provider of a batch id, unless the options say. */
export function batchProvider(id: string, o: Pick<BatchClientOptions, 'provider'> = {}): Provider {
  if (o.provider) return o.provider;
  if (id.startsWith('msgbatch_')) return 'anthropic';
  if (id.startsWith('batches/')) return 'gemini';
  return 'openai';
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
  const provider = mapping.provider ?? 'openai';
  const clients = new Clients(o);
  const out: SubmittedBatch[] = [];
  for (const entry of mapping.files) {
    if (entry.batchId && (entry.fileId || provider === 'anthropic')) {
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
    if (provider === 'anthropic') {
      const b = await submitAnthropicBatch(await clients.anthropic(), bytes.toString('utf8'));
      entry.batchId = b.id;
      writeMapping(mappingFile, mapping);
      out.push({ file: entry.file, fileId: '', batchId: b.id, status: b.status });
      continue;
    }
    if (provider === 'gemini') {
      const model = apiModelName(getModel(mapping.model, o));
      const b = await submitGeminiBatch(await clients.gemini(), path, model, entry.file);
      entry.fileId = b.fileId;
      entry.batchId = b.id;
      writeMapping(mappingFile, mapping);
      out.push({ file: entry.file, fileId: b.fileId, batchId: b.id, status: b.status });
      continue;
    }
    const client = await clients.openai();
    const { toFile } = await import('openai');
    const uploaded = await client.files.create({ file: await toFile(bytes, basename(path), { type: 'application/jsonl' }), purpose: 'batch' });
    entry.fileId = uploaded.id;
    writeMapping(mappingFile, mapping);
    const batch = await client.batches.create({
      input_file_id: uploaded.id,
      endpoint: mapping.endpoint as '/v1/chat/completions' | '/v1/responses',
      completion_window: '24h',
      ...(o.metadata ? { metadata: o.metadata } : {}),
    });
    entry.batchId = batch.id;
    writeMapping(mappingFile, mapping);
    out.push({ file: entry.file, fileId: uploaded.id, batchId: batch.id, status: batch.status });
  }
  return out;
}

export interface BatchStatus {
  id: string;
  provider: Provider;
  /** The provider's state word (OpenAI `completed`, Anthropic `ended`, Gemini `JOB_STATE_SUCCEEDED`, ...). */
  status: Batch['status'] | (string & {});
  /** Whether the batch has ended (its results will not change). */
  done: boolean;
  endpoint: string;
  inputFileId: string;
  outputFileId: string | null;
  errorFileId: string | null;
  requestCounts: { total: number; completed: number; failed: number };
  /** Problems that failed the whole batch (a malformed file), one line each. */
  errors: string[];
  createdAt: number;
  completedAt: number | null;
}

function fromProvider(provider: Provider, s: ProviderBatchState): BatchStatus {
  return {
    id: s.id,
    provider,
    status: s.status,
    done: s.done,
    endpoint: '',
    inputFileId: '',
    outputFileId: s.resultsFile ?? null,
    errorFileId: null,
    requestCounts: s.requestCounts,
    errors: s.errors,
    createdAt: s.createdAt,
    completedAt: s.completedAt,
  };
}

const DONE: ReadonlySet<string> = new Set(['completed', 'failed', 'expired', 'cancelled']);

export async function batchStatus(id: string, o: BatchClientOptions = {}): Promise<BatchStatus> {
  const provider = batchProvider(id, o);
  if (provider === 'anthropic') return fromProvider(provider, await anthropicBatchState(await new Clients(o).anthropic(), id));
  if (provider === 'gemini') return fromProvider(provider, await geminiBatchState(await new Clients(o).gemini(), id));
  const b = await (await createClient(o)).batches.retrieve(id);
  return {
    id: b.id,
    provider,
    status: b.status,
    done: DONE.has(b.status),
    endpoint: b.endpoint,
    inputFileId: b.input_file_id,
    outputFileId: b.output_file_id ?? null,
    errorFileId: b.error_file_id ?? null,
    requestCounts: b.request_counts ?? { total: 0, completed: 0, failed: 0 },
    errors: (b.errors?.data ?? []).map((e) => `${e.line ? `line ${e.line}: ` : ''}${e.message ?? e.code ?? 'error'}`),
    createdAt: b.created_at,
    completedAt: b.completed_at ?? null,
  };
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

interface OutputLine {
  custom_id?: string;
  response?: { status_code?: number; body?: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

async function download(client: Awaited<ReturnType<typeof createClient>>, fileId: string | null): Promise<OutputLine[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as OutputLine;
      } catch {
        throw new OmniprepError('INVALID_RESPONSE', `batch file ${fileId}: line ${i + 1} is not JSON`, { input: fileId });
      }
    });
}

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
  const provider = map.provider ?? 'openai';
  const status = await batchStatus(id, { ...o, provider });
  let outLines: OutputLine[];
  let errLines: OutputLine[] = [];
  if (provider === 'openai') {
    const client = await createClient(o);
    [outLines, errLines] = await Promise.all([download(client, status.outputFileId), download(client, status.errorFileId)]);
  } else {
    const clients = new Clients(o);
    const lines: ProviderBatchLine[] = !status.done
      ? []
      : provider === 'anthropic'
        ? await anthropicBatchLines(await clients.anthropic(), id)
        : await geminiBatchLines(await clients.gemini(), { ...status, resultsFile: status.outputFileId ?? undefined });
    outLines = lines.map((l) =>
      l.error
        ? { custom_id: l.id, response: l.error.httpStatus === undefined ? null : { status_code: l.error.httpStatus }, error: { message: l.error.message } }
        : { custom_id: l.id, response: { status_code: 200, body: l.body }, error: null },
    );
  }
  const api = provider === 'openai' ? (map.endpoint === '/v1/chat/completions' ? 'chat' : 'responses') : PROVIDER_APIS[provider][0]!;
  const modelOptions: ModelOptions = { registry: o.registry, modelsFile: o.modelsFile, rule: o.rule };
  const unknown: string[] = [];
  const results: BatchResult[] = [];
  const seen = new Set<string>();
  for (const line of [...outLines, ...errLines]) {
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
      const answer = answerOf(api, line.response?.body);
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
