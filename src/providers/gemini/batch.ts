/**
 * Gemini batch mode: a line is `{key, request}` with the REST `GenerateContentRequest`; a shard is
 * uploaded with `files.upload()` and the batch made with `batches.create({model, src: <file
 * name>})`; when it has succeeded, its `dest.fileName` is downloaded (`files.download()`) and read
 * as JSONL of `{key, response}` or `{key, error}`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GoogleGenAI } from '@google/genai';
import type { GeminiContent } from './shapes.js';
import { OmniprepError } from '../../errors.js';
import { apiModelName, jsonlLines, outputLine, seconds } from '../common.js';
import type { BatchApi, BatchOutputLine, BatchState } from '../types.js';
import type { GeminiBody } from './render.js';

/** The REST `GenerateContentRequest` of a body (a Gemini batch JSONL line's `request`). */
export interface GeminiRestRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  generationConfig?: Record<string, unknown>;
}

/** A line of a Gemini batch file. */
export interface GeminiBatchLine {
  key: string;
  request: GeminiRestRequest;
}

/**
 * A body as the REST API takes it, the way the SDK writes it: `config.systemInstruction` (a
 * string here) becomes a top-level `systemInstruction` content, the other config fields omniprep
 * sets become `generationConfig`; `contents` are the same in both.
 */
export function geminiRestRequest(body: GeminiBody): GeminiRestRequest {
  const { systemInstruction, ...generation } = body.config ?? {};
  if (systemInstruction !== undefined && typeof systemInstruction !== 'string') throw new Error('geminiRestRequest: systemInstruction must be a string');
  const known = ['maxOutputTokens', 'responseMimeType', 'responseJsonSchema', 'mediaResolution'] as const;
  for (const k of Object.keys(generation))
    if (!(known as readonly string[]).includes(k)) throw new Error(`geminiRestRequest: config.${k} has no REST mapping here`);
  return {
    contents: body.contents,
    ...(systemInstruction !== undefined ? { systemInstruction: { parts: [{ text: systemInstruction }] } } : {}),
    ...(Object.keys(generation).length ? { generationConfig: generation as Record<string, unknown> } : {}),
  };
}

const GEMINI_DONE = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED']);

type ResultLine = { key?: string; response?: unknown; error?: { code?: number; message?: string; status?: string } };

function readLine(l: string, i: number, id: string): BatchOutputLine {
  let line: ResultLine;
  try {
    line = JSON.parse(l) as ResultLine;
  } catch {
    throw new OmniprepError('INVALID_RESPONSE', `batch ${id}: results line ${i + 1} is not JSON`, { input: id });
  }
  const key = line.key ?? '';
  if (!line.error) return outputLine(key, { body: line.response });
  const message = `${line.error.status ? `${line.error.status}: ` : ''}${line.error.message ?? 'error'}`;
  return outputLine(key, { error: { message, httpStatus: line.error.code || undefined } });
}

async function results(client: GoogleGenAI, state: BatchState): Promise<BatchOutputLine[]> {
  if (!state.done || !state.outputFileId) return [];
  const dir = mkdtempSync(join(tmpdir(), 'omniprep-gemini-batch-'));
  try {
    const path = join(dir, 'results.jsonl');
    await client.files.download({ file: state.outputFileId, downloadPath: path });
    return jsonlLines(readFileSync(path, 'utf8')).map((l, i) => readLine(l, i, state.id));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const GEMINI_BATCH: BatchApi = {
  line: (customId, r): GeminiBatchLine => ({ key: customId, request: geminiRestRequest(r.body as GeminiBody) }),
  wrapBytes: 0,
  uploadsFile: true,
  ownsId: (id) => id.startsWith('batches/'),
  apiOf: () => 'gemini',
  async submit(client, shard, uploaded) {
    const c = client as GoogleGenAI;
    const file = await c.files.upload({ file: shard.path, config: { mimeType: 'jsonl', displayName: shard.file } });
    if (!file.name) throw new OmniprepError('INVALID_RESPONSE', `${shard.path}: the File API returned no file name`, { input: shard.path });
    uploaded(file.name);
    const b = await c.batches.create({ model: apiModelName(shard.model), src: file.name, config: { displayName: shard.file } });
    if (!b.name) throw new OmniprepError('INVALID_RESPONSE', `${shard.path}: the batch API returned no batch name`, { input: shard.path });
    return { fileId: file.name, batchId: b.name, status: String(b.state ?? 'JOB_STATE_PENDING') };
  },
  async state(client, id) {
    const b = await (client as GoogleGenAI).batches.get({ name: id });
    const state = String(b.state ?? 'JOB_STATE_UNSPECIFIED');
    return {
      id: b.name ?? id,
      status: state,
      done: GEMINI_DONE.has(state),
      endpoint: '',
      inputFileId: '',
      outputFileId: b.dest?.fileName ?? null,
      errorFileId: null,
      requestCounts: { total: 0, completed: 0, failed: 0 },
      errors: b.error?.message ? [b.error.message] : [],
      createdAt: seconds(b.createTime) ?? 0,
      completedAt: seconds(b.endTime),
    };
  },
  results: (client, state) => results(client as GoogleGenAI, state),
};
