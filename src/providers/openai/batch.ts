/**
 * The OpenAI Batch API: a line is `{custom_id, method, url, body}`; a shard is uploaded (purpose
 * `batch`) and becomes one batch (`completion_window: 24h`); the results are its output and error
 * files.
 */
import type OpenAI from 'openai';
import { OmniprepError } from '../../errors.js';
import { jsonlLines } from '../common.js';
import type { Api, BatchApi, BatchOutputLine, BatchState } from '../types.js';
import { openaiModule } from './sdk.js';
import { OPENAI_URLS } from './render.js';
import type { OpenAIBatchStatus } from './shapes.js';

/** A line of an OpenAI batch file. */
export interface BatchLine {
  custom_id: string;
  method: 'POST';
  url: string;
  body: unknown;
}

const DONE: ReadonlySet<string> = new Set(['completed', 'failed', 'expired', 'cancelled']);

async function download(client: OpenAI, fileId: string | null): Promise<BatchOutputLine[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return jsonlLines(text).map((l, i) => {
    try {
      return JSON.parse(l) as BatchOutputLine;
    } catch {
      throw new OmniprepError('INVALID_RESPONSE', `batch file ${fileId}: line ${i + 1} is not JSON`, { input: fileId });
    }
  });
}

export const OPENAI_BATCH: BatchApi = {
  line: (customId, r): BatchLine => ({ custom_id: customId, method: 'POST', url: r.url, body: r.body }),
  wrapBytes: 0,
  uploadsFile: true,
  apiOf: (endpoint): Api => (endpoint === OPENAI_URLS.chat ? 'chat' : 'responses'),
  async submit(client, shard, uploaded) {
    const c = client as OpenAI;
    const { toFile } = await openaiModule();
    const file = await c.files.create({ file: await toFile(shard.bytes, shard.file, { type: 'application/jsonl' }), purpose: 'batch' });
    uploaded(file.id);
    const batch = await c.batches.create({
      input_file_id: file.id,
      endpoint: shard.endpoint as '/v1/chat/completions' | '/v1/responses',
      completion_window: '24h',
      ...(shard.metadata ? { metadata: shard.metadata } : {}),
    });
    return { fileId: file.id, batchId: batch.id, status: batch.status };
  },
  async state(client, id): Promise<BatchState> {
    const b = await (client as OpenAI).batches.retrieve(id);
    return {
      id: b.id,
      status: b.status satisfies OpenAIBatchStatus,
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
  },
  async results(client, state) {
    const c = client as OpenAI;
    const [out, err] = await Promise.all([download(c, state.outputFileId), download(c, state.errorFileId)]);
    return [...out, ...err];
  },
};
