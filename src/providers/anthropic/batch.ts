/**
 * Anthropic Message Batches: a line is `{custom_id, params}` (the Messages body); a shard becomes
 * one `messages.batches.create()` of its lines (so it is kept a few bytes under the limit for the
 * wrapping: 100,000 requests or 256 MB per batch); the results come from
 * `messages.batches.results()` (JSONL of `{custom_id, result}`).
 */
import type Anthropic from '@anthropic-ai/sdk';
import { jsonlLines, outputLine, seconds } from '../common.js';
import type { BatchApi, BatchOutputLine } from '../types.js';

/** A line of an Anthropic shard: one entry of Message Batches' `requests`. */
export interface AnthropicBatchLine {
  custom_id: string;
  params: unknown;
}

async function results(client: Anthropic, id: string): Promise<BatchOutputLine[]> {
  const out: BatchOutputLine[] = [];
  for await (const r of await client.messages.batches.results(id)) {
    const res = r.result;
    if (res.type === 'succeeded') out.push(outputLine(r.custom_id, { body: res.message }));
    else if (res.type === 'errored') {
      const e = (res.error as { error?: { type?: string; message?: string } }).error;
      out.push(outputLine(r.custom_id, { error: { message: `${e?.type ? `${e.type}: ` : ''}${e?.message ?? 'error'}` } }));
    } else out.push(outputLine(r.custom_id, { error: { message: `request ${res.type}` } }));
  }
  return out;
}

export const ANTHROPIC_BATCH: BatchApi = {
  line: (customId, r): AnthropicBatchLine => ({ custom_id: customId, params: r.body }),
  // Anthropic's custom_id allows letters, digits, _ and - only: a split segment's `3.1` is `3_1` there.
  customId: (id) => id.replace('.', '_'),
  // `{"requests":[` and `]}` around the lines (commas for newlines).
  wrapBytes: '{"requests":[]}'.length,
  uploadsFile: false,
  ownsId: (id) => id.startsWith('msgbatch_'),
  apiOf: () => 'messages',
  async submit(client, shard) {
    const requests = jsonlLines(shard.bytes.toString('utf8')).map((l) => JSON.parse(l) as Anthropic.Messages.BatchCreateParams.Request);
    const b = await (client as Anthropic).messages.batches.create({ requests });
    return { batchId: b.id, status: b.processing_status };
  },
  async state(client, id) {
    const b = await (client as Anthropic).messages.batches.retrieve(id);
    const c = b.request_counts;
    const failed = c.errored + c.canceled + c.expired;
    return {
      id: b.id,
      status: b.processing_status,
      done: b.processing_status === 'ended',
      endpoint: '',
      inputFileId: '',
      outputFileId: null,
      errorFileId: null,
      requestCounts: { total: c.processing + c.succeeded + failed, completed: c.succeeded, failed },
      errors: [],
      createdAt: seconds(b.created_at) ?? 0,
      completedAt: seconds(b.ended_at),
    };
  },
  results: (client, state) => (state.done ? results(client as Anthropic, state.id) : Promise.resolve([])),
};
