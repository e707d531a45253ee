/**
 * TEST CODE. The OpenAI test server's Files and Batch APIs (POST /v1/files, GET /v1/files/:id,
 * GET /v1/files/:id/content, POST /v1/batches, GET /v1/batches/:id). Batches are processed for
 * real: the uploaded JSONL is checked like the Batch API checks it (a malformed file fails the
 * whole batch), every line is answered (or refused) by the shared base, and output and error
 * files are written.
 */
import type { FastifyInstance } from 'fastify';
import { jsonlLines, newId, type ModelServerCore } from '../model-server.js';
import { API_PATHS, now, openaiError, type ServerControl } from './adapter.js';
import { specValidator } from './spec.js';

export interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  bytes: Buffer;
  createdAt: number;
}

type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed';
type BatchError = { code: string; message: string; line: number | null; param: string | null };

export interface StoredBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  model?: string;
  errors?: { object: 'list'; data: BatchError[] };
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  // Absent until known: the spec types them as strings and integers, not nullable.
  output_file_id?: string;
  error_file_id?: string;
  created_at: number;
  in_progress_at?: number;
  expires_at: number;
  finalizing_at?: number;
  completed_at?: number;
  failed_at?: number;
  request_counts: { total: number; completed: number; failed: number };
  usage?: {
    input_tokens: number;
    input_tokens_details: { cached_tokens: number };
    output_tokens: number;
    output_tokens_details: { reasoning_tokens: number };
    total_tokens: number;
  };
  metadata: Record<string, string> | null;
}

const fileObject = (f: StoredFile): Record<string, unknown> => ({
  id: f.id,
  object: 'file',
  bytes: f.bytes.length,
  created_at: f.createdAt,
  expires_at: null,
  filename: f.filename,
  purpose: f.purpose,
  status: 'processed',
});

const noFile = (id: string, param: string): { error: Record<string, unknown> } => openaiError(404, `No such File object: ${id}`, null, param);

export function fileRoutes(app: FastifyInstance, files: Map<string, StoredFile>): void {
  app.post('/v1/files', async (request, reply) => {
    let purpose: string | undefined;
    let file: { filename: string; bytes: Buffer } | undefined;
    for await (const part of request.parts()) {
      if (part.type === 'file') file = { filename: part.filename, bytes: await part.toBuffer() };
      else if (part.fieldname === 'purpose') purpose = String(part.value);
    }
    const check = specValidator().validate('file', { purpose, ...(file ? { file: file.filename } : {}) });
    if (!check.valid || !file) {
      return reply.code(400).send(openaiError(400, `Invalid file upload: ${file ? check.message : 'no file part'}`, 'invalid_request_body'));
    }
    const stored: StoredFile = { id: newId('file-'), filename: file.filename, purpose: purpose!, bytes: file.bytes, createdAt: now() };
    files.set(stored.id, stored);
    return fileObject(stored);
  });

  app.get<{ Params: { id: string } }>('/v1/files/:id', async (request, reply) => {
    const f = files.get(request.params.id);
    if (!f) return reply.code(404).send(noFile(request.params.id, 'id'));
    return fileObject(f);
  });

  app.get<{ Params: { id: string } }>('/v1/files/:id/content', async (request, reply) => {
    const f = files.get(request.params.id);
    if (!f) return reply.code(404).send(noFile(request.params.id, 'id'));
    return reply.header('content-type', 'application/octet-stream').send(f.bytes);
  });
}

export function batchRoutes(core: ModelServerCore<ServerControl>, files: Map<string, StoredFile>, batches: Map<string, StoredBatch>): void {
  core.app.post('/v1/batches', async (request, reply) => {
    const check = specValidator().validate('batch', request.body);
    if (!check.valid) return reply.code(400).send(openaiError(400, `Invalid request body: ${check.message}`, 'invalid_request_body'));
    const body = request.body as { input_file_id: string; endpoint: string; completion_window: string; metadata?: Record<string, string> };
    const input = files.get(body.input_file_id);
    if (!input) return reply.code(404).send(noFile(body.input_file_id, 'input_file_id'));
    if (input.purpose !== 'batch')
      return reply.code(400).send(openaiError(400, `File ${input.id} was not uploaded with purpose batch.`, 'invalid_file', 'input_file_id'));
    if (body.endpoint !== API_PATHS.chat && body.endpoint !== API_PATHS.responses) {
      return reply
        .code(400)
        .send(openaiError(400, `The test server runs batches for /v1/chat/completions and /v1/responses only.`, 'invalid_endpoint', 'endpoint'));
    }
    const created = now();
    const batch: StoredBatch = {
      id: newId('batch_'),
      object: 'batch',
      endpoint: body.endpoint,
      input_file_id: input.id,
      completion_window: body.completion_window,
      status: 'validating',
      created_at: created,
      expires_at: created + 24 * 3600,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: body.metadata ?? null,
    };
    batches.set(batch.id, batch);
    setImmediate(() => void runBatch(core, files, batch, input));
    return batch;
  });

  core.app.get<{ Params: { id: string } }>('/v1/batches/:id', async (request, reply) => {
    const b = batches.get(request.params.id);
    if (!b) return reply.code(404).send(openaiError(404, `No such Batch object: ${request.params.id}`, null, 'id'));
    return b;
  });
}

type Line = { custom_id: string; method: string; url: string; body: Record<string, unknown> };

/** The lines of a batch file, and what makes the Batch API fail the whole file. */
function readLines(batch: StoredBatch, input: StoredFile): { lines: Line[]; models: Set<string>; problems: BatchError[] } {
  const texts = jsonlLines(input.bytes);
  const lines: Line[] = [];
  const ids = new Set<string>();
  const models = new Set<string>();
  const problems: BatchError[] = [];
  texts.forEach((text, i) => {
    const at = (code: string, message: string, param: string | null): number => problems.push({ code, message, line: i + 1, param });
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      at('invalid_json_line', `Line ${i + 1} is not valid JSON.`, null);
      return;
    }
    if (typeof line.custom_id !== 'string' || !line.custom_id) at('missing_custom_id', `Line ${i + 1} has no custom_id.`, 'custom_id');
    else if (ids.has(line.custom_id)) at('duplicate_custom_id', `The custom_id ${line.custom_id} is used more than once.`, 'custom_id');
    ids.add(line.custom_id);
    if (line.method !== 'POST') at('invalid_method', `Line ${i + 1}: method must be POST.`, 'method');
    if (line.url !== batch.endpoint) at('mismatched_url', `Line ${i + 1}: url ${line.url} differs from the batch endpoint ${batch.endpoint}.`, 'url');
    if (line.body && typeof line.body.model === 'string') models.add(line.body.model);
    lines.push(line);
  });
  if (!texts.length) problems.push({ code: 'empty_file', message: 'The input file is empty.', line: null, param: null });
  if (models.size > 1)
    problems.push({ code: 'model_mismatch', message: `A batch file must use one model; it uses ${[...models].join(', ')}.`, line: null, param: 'model' });
  return { lines, models, problems };
}

/** Checks the JSONL, then answers each line and writes the output and error files. */
async function runBatch(core: ModelServerCore<ServerControl>, files: Map<string, StoredFile>, batch: StoredBatch, input: StoredFile): Promise<void> {
  const { lines, models, problems } = readLines(batch, input);
  if (problems.length) {
    Object.assign(batch, { status: 'failed', failed_at: now(), errors: { object: 'list', data: problems } });
    return;
  }
  Object.assign(batch, { model: [...models][0], status: 'in_progress', in_progress_at: now() });
  batch.request_counts.total = lines.length;
  await core.batchDelay();
  const out: string[] = [];
  const err: string[] = [];
  let inTok = 0;
  let outTok = 0;
  for (const line of lines) {
    const res = await core.answerLine(line.url, line.body, line.custom_id);
    const entry = JSON.stringify({
      id: newId('batch_req_'),
      custom_id: line.custom_id,
      response: { status_code: res.status, request_id: newId('req_'), body: res.body },
      error: null,
    });
    if (res.status === 200) {
      out.push(entry);
      batch.request_counts.completed++;
      inTok += res.record.promptTokens;
      outTok += res.record.outputTokens;
    } else {
      err.push(entry);
      batch.request_counts.failed++;
    }
  }
  batch.status = 'finalizing';
  batch.finalizing_at = now();
  const store = (name: string, content: string[]): string | undefined => {
    if (!content.length) return undefined;
    const f: StoredFile = { id: newId('file-'), filename: name, purpose: 'batch_output', bytes: Buffer.from(`${content.join('\n')}\n`), createdAt: now() };
    files.set(f.id, f);
    return f.id;
  };
  const outputId = store(`${batch.id}_output.jsonl`, out);
  const errorId = store(`${batch.id}_error.jsonl`, err);
  if (outputId) batch.output_file_id = outputId;
  if (errorId) batch.error_file_id = errorId;
  batch.usage = {
    input_tokens: inTok,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outTok,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inTok + outTok,
  };
  batch.status = 'completed';
  batch.completed_at = now();
}
