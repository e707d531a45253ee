/**
 * Anthropic Message Batches and Gemini batch mode through their SDKs: submit a shard written by
 * `writeBatch()`, read a batch's state, and fetch its results as `{id, ok body | error}` lines for
 * src/batch/submit.ts to map back by id.
 *
 * - Anthropic: a shard's JSONL lines are the `requests` of `messages.batches.create()`; the
 *   results come from `messages.batches.results()` (JSONL of `{custom_id, result}`).
 * - Gemini: the shard is uploaded with `files.upload()` (JSONL of `{key, request}`), the batch made
 *   with `batches.create({model, src: <file name>})`; when it has succeeded, its `dest.fileName`
 *   is downloaded (`files.download()`) and read as JSONL of `{key, response}` or `{key, error}`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import type { GoogleGenAI } from '@google/genai';
import { OmniprepError } from '../errors.js';

/** A batch's state in omniprep's words (`done`: it will not change any more). */
export interface ProviderBatchState {
  id: string;
  /** The provider's own state word (`in_progress`, `ended`, `JOB_STATE_SUCCEEDED`, ...). */
  status: string;
  done: boolean;
  requestCounts: { total: number; completed: number; failed: number };
  errors: string[];
  createdAt: number;
  completedAt: number | null;
  /** Gemini: the results file's name, once there is one. */
  resultsFile?: string | undefined;
}

/** One result line: the id, and the answer body or an error. */
export interface ProviderBatchLine {
  id: string;
  body?: unknown;
  error?: { message: string; httpStatus?: number };
}

const seconds = (iso: string | null | undefined): number | null => (iso ? Math.floor(Date.parse(iso) / 1000) : null);

export async function submitAnthropicBatch(client: Anthropic, jsonl: string): Promise<{ id: string; status: string }> {
  const requests = jsonl
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Anthropic.Messages.BatchCreateParams.Request);
  const b = await client.messages.batches.create({ requests });
  return { id: b.id, status: b.processing_status };
}

export async function anthropicBatchState(client: Anthropic, id: string): Promise<ProviderBatchState> {
  const b = await client.messages.batches.retrieve(id);
  const c = b.request_counts;
  const failed = c.errored + c.canceled + c.expired;
  return {
    id: b.id,
    status: b.processing_status,
    done: b.processing_status === 'ended',
    requestCounts: { total: c.processing + c.succeeded + failed, completed: c.succeeded, failed },
    errors: [],
    createdAt: seconds(b.created_at) ?? 0,
    completedAt: seconds(b.ended_at),
  };
}

export async function anthropicBatchLines(client: Anthropic, id: string): Promise<ProviderBatchLine[]> {
  const out: ProviderBatchLine[] = [];
  for await (const r of await client.messages.batches.results(id)) {
    const res = r.result;
    if (res.type === 'succeeded') out.push({ id: r.custom_id, body: res.message });
    else if (res.type === 'errored') {
      const e = (res.error as { error?: { type?: string; message?: string } }).error;
      out.push({ id: r.custom_id, error: { message: `${e?.type ? `${e.type}: ` : ''}${e?.message ?? 'error'}` } });
    } else out.push({ id: r.custom_id, error: { message: `request ${res.type}` } });
  }
  return out;
}

export async function submitGeminiBatch(
  client: GoogleGenAI,
  path: string,
  model: string,
  displayName: string,
): Promise<{ fileId: string; id: string; status: string }> {
  const file = await client.files.upload({ file: path, config: { mimeType: 'jsonl', displayName } });
  if (!file.name) throw new OmniprepError('INVALID_RESPONSE', `${path}: the File API returned no file name`, { input: path });
  const b = await client.batches.create({ model, src: file.name, config: { displayName } });
  if (!b.name) throw new OmniprepError('INVALID_RESPONSE', `${path}: the batch API returned no batch name`, { input: path });
  return { fileId: file.name, id: b.name, status: String(b.state ?? 'JOB_STATE_PENDING') };
}

const GEMINI_DONE = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED']);

export async function geminiBatchState(client: GoogleGenAI, id: string): Promise<ProviderBatchState> {
  const b = await client.batches.get({ name: id });
  const state = String(b.state ?? 'JOB_STATE_UNSPECIFIED');
  return {
    id: b.name ?? id,
    status: state,
    done: GEMINI_DONE.has(state),
    requestCounts: { total: 0, completed: 0, failed: 0 },
    errors: b.error?.message ? [b.error.message] : [],
    createdAt: seconds(b.createTime) ?? 0,
    completedAt: seconds(b.endTime),
    resultsFile: b.dest?.fileName,
  };
}

export async function geminiBatchLines(client: GoogleGenAI, state: ProviderBatchState): Promise<ProviderBatchLine[]> {
  if (!state.resultsFile) return [];
  const dir = mkdtempSync(join(tmpdir(), 'omniprep-gemini-batch-'));
  try {
    const path = join(dir, 'results.jsonl');
    await client.files.download({ file: state.resultsFile, downloadPath: path });
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l, i) => {
        let line: { key?: string; response?: unknown; error?: { code?: number; message?: string; status?: string } };
        try {
          line = JSON.parse(l) as typeof line;
        } catch {
          throw new OmniprepError('INVALID_RESPONSE', `batch ${state.id}: results line ${i + 1} is not JSON`, { input: state.id });
        }
        const id = line.key ?? '';
        if (line.error)
          return {
            id,
            error: {
              message: `${line.error.status ? `${line.error.status}: ` : ''}${line.error.message ?? 'error'}`,
              ...(line.error.code ? { httpStatus: line.error.code } : {}),
            },
          };
        return { id, body: line.response };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
