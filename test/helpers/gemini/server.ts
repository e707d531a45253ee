/**
 * TEST CODE. A Gemini API server for omniprep's tests (the real `@google/genai` SDK talks to it
 * on 127.0.0.1); it never talks to Google.
 *
 * - POST /v1beta/models/{model}:generateContent. The REST body is turned back into the SDK's
 *   `GenerateContentParameters` (`generationConfig` and `systemInstruction` into `config`) and
 *   validated against the JSON Schema derived from that SDK type (test/helpers/sdk/schemas.ts).
 *   Errors have Google's shape `{error: {code, message, status, details}}`; a 429 carries a
 *   `google.rpc.RetryInfo` detail with `retryDelay`.
 * - Usage (`usageMetadata.promptTokenCount`, with `promptTokensDetails` per modality) is billed
 *   from the request itself: images (inlineData) by the registry's rule at their real size and
 *   the part's `mediaResolution` level, audio by the duration of its bytes, text with the model's
 *   tokenizer and overhead, and video (`fileData` naming an uploaded file, with `videoMetadata`)
 *   by the registry's video rule over the clip's window (src/models/video.ts).
 * - The File API (resumable upload: POST /upload/v1beta/files `start`, then `upload, finalize` on
 *   the upload URL; GET /v1beta/files/{id}; GET /v1beta/files/{id}:download) and batch mode
 *   (POST /v1beta/models/{model}:batchGenerateContent with a JSONL file of `{key, request}`
 *   lines; GET /v1beta/batches/{id}; the results file has `{key, response}` or `{key, error}`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyReply } from 'fastify';
import type { ModelRegistry } from '../../../src/models/registry.js';
import { geminiDetail } from '../../../src/providers/gemini/render.js';
import { probe } from '../../../src/probe/probe.js';
import { geminiVideoTokens } from '../../../src/models/video.js';
import { validateSdk } from '../sdk/schemas.js';
import { jsonlLines, Meter, ModelServerCore, newId, Problem, routeAnswer, type Control, type Measured, type ServerSurface } from '../model-server.js';

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export interface StoredFile {
  name: string;
  displayName: string;
  mimeType: string;
  bytes: Buffer;
  /** Duration of a video or audio file (probed at upload). */
  durationSec?: number;
  hasAudio?: boolean;
}

type RestPart = {
  text?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { fileUri: string; mimeType?: string };
  videoMetadata?: { fps?: number; startOffset?: string; endOffset?: string };
  mediaResolution?: { level?: string };
};
export type RestBody = {
  contents: Array<{ role?: string; parts: RestPart[] }>;
  systemInstruction?: { parts: RestPart[] };
  generationConfig?: Record<string, unknown>;
};

/** "12.5s" -> 12.5 (a protobuf Duration as JSON). */
export function durationSec(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(s);
  if (!m) throw new Problem(400, `Invalid duration ${JSON.stringify(s)} (expected seconds like "12.5s").`, 'INVALID_ARGUMENT');
  return Number(m[1]);
}

/** The REST body as the SDK's GenerateContentParameters (what the tests' schema describes). */
export function asSdkParameters(model: string, b: RestBody): Record<string, unknown> {
  const config = { ...(b.generationConfig ?? {}), ...(b.systemInstruction ? { systemInstruction: b.systemInstruction } : {}) };
  return { model, contents: b.contents, ...(Object.keys(config).length ? { config } : {}) };
}

async function measureGemini(modelId: string, body: unknown, reg: ModelRegistry, files: Map<string, StoredFile>, control: Control): Promise<Measured> {
  const b = body as RestBody;
  const check = validateSdk('gemini.generateContent', asSdkParameters(modelId, b));
  if (!check.valid) throw new Problem(400, `Invalid JSON payload received. ${check.message}`, 'INVALID_ARGUMENT');
  let model;
  try {
    model = reg.get(modelId);
  } catch {
    throw new Problem(404, `models/${modelId} is not found for API version v1beta`, 'NOT_FOUND');
  }
  if (model.provider !== 'google') throw new Problem(404, `models/${modelId} is not found for API version v1beta`, 'NOT_FOUND');
  const meter = new Meter(model, modelId);
  const part = async (p: RestPart): Promise<void> => {
    if (typeof p.text === 'string') meter.text(p.text);
    if (p.inlineData) {
      const mime = p.inlineData.mimeType;
      if (mime.startsWith('image/')) await meter.image(p.inlineData.data, geminiDetail(p.mediaResolution?.level));
      else if (mime === 'audio/mp3' || mime === 'audio/mpeg') meter.audio(p.inlineData.data, 'mp3');
      else if (mime === 'audio/wav') meter.audio(p.inlineData.data, 'wav');
      else throw new Problem(400, `Unsupported MIME type: ${mime}`, 'INVALID_ARGUMENT');
    }
    if (p.fileData) {
      const id = /files\/([^/?]+)$/.exec(p.fileData.fileUri)?.[1];
      const f = id ? files.get(`files/${id}`) : undefined;
      if (!f) {
        const size = control.urlImageSize?.(p.fileData.fileUri);
        if (size && p.fileData.mimeType?.startsWith('image/')) return meter.imageOfSize(size, geminiDetail(p.mediaResolution?.level));
        throw new Problem(400, `File ${p.fileData.fileUri} is not found or not accessible.`, 'INVALID_ARGUMENT');
      }
      if (!f.mimeType.startsWith('video/') || f.durationSec === undefined)
        throw new Problem(400, `File ${f.name} is not a video the test server can bill.`, 'INVALID_ARGUMENT');
      const start = durationSec(p.videoMetadata?.startOffset) ?? 0;
      const end = Math.min(durationSec(p.videoMetadata?.endOffset) ?? f.durationSec, f.durationSec);
      if (!(end > start)) throw new Problem(400, `videoMetadata: the window ${start}s-${end}s is empty.`, 'INVALID_ARGUMENT');
      const v = geminiVideoTokens(model, {
        startSec: start,
        endSec: end,
        fps: p.videoMetadata?.fps,
        hasAudio: Boolean(f.hasAudio),
        detail: geminiDetail(p.mediaResolution?.level),
      });
      meter.m.videoTokens += v.frameTokens;
      meter.m.audioTokens += v.audioTokens;
      meter.m.images += v.frames;
    }
  };
  if (b.systemInstruction) {
    meter.message();
    for (const p of b.systemInstruction.parts) await part(p);
  }
  for (const c of b.contents) {
    meter.message();
    for (const p of c.parts) await part(p);
  }
  const g = b.generationConfig ?? {};
  meter.m.maxOutputTokens = Number(g.maxOutputTokens ?? 0);
  meter.m.schema = (g.responseJsonSchema as Record<string, unknown> | undefined) ?? (g.responseSchema as Record<string, unknown> | undefined);
  if (meter.m.schema && g.responseSchema && !g.responseJsonSchema) meter.m.schema = {};
  return meter.m;
}

function answerBody(m: Measured, text: string, outputTokens: number): Record<string, unknown> {
  const prompt = m.textTokens + m.imageTokens + m.audioTokens + m.videoTokens;
  const details = [
    { modality: 'TEXT', tokenCount: m.textTokens },
    ...(m.imageTokens ? [{ modality: 'IMAGE', tokenCount: m.imageTokens }] : []),
    ...(m.videoTokens ? [{ modality: 'VIDEO', tokenCount: m.videoTokens }] : []),
    ...(m.audioTokens ? [{ modality: 'AUDIO', tokenCount: m.audioTokens }] : []),
  ];
  return {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: prompt, candidatesTokenCount: outputTokens, totalTokenCount: prompt + outputTokens, promptTokensDetails: details },
    modelVersion: m.modelId,
    responseId: newId(''),
  };
}

function errorBody(status: number, message: string, o: { type?: string | undefined; retryAfterSec?: number | undefined } = {}): unknown {
  return {
    error: {
      code: status,
      message,
      status: o.type ?? STATUS[status] ?? 'UNKNOWN',
      ...(status === 429 ? { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${o.retryAfterSec ?? 1}s` }] } : {}),
    },
  };
}

interface StoredBatch {
  name: string;
  metadata: {
    '@type': string;
    model: string;
    displayName: string;
    state: 'BATCH_STATE_PENDING' | 'BATCH_STATE_RUNNING' | 'BATCH_STATE_SUCCEEDED' | 'BATCH_STATE_FAILED';
    createTime: string;
    updateTime: string;
    endTime?: string;
    batchStats: { requestCount: string; successfulRequestCount: string; failedRequestCount: string; pendingRequestCount: string };
    output?: { responsesFile: string };
    inputConfig: { fileName: string };
  };
  done: boolean;
}

export interface GeminiTestServer extends ServerSurface {
  /** `http://127.0.0.1:<port>`: the SDK's `httpOptions.baseUrl`. */
  baseURL: string;
  files: Map<string, StoredFile>;
  batches: Map<string, StoredBatch>;
}

/** The path a model's generateContent is answered on (the model is read back from it). */
const generatePath = (model: string): string => `/v1beta/models/${model}:generateContent`;
const modelOf = (path: string): string => path.slice('/v1beta/models/'.length, -':generateContent'.length);

export async function startGeminiTestServer(o: { registry?: ModelRegistry; control?: Partial<Control> } = {}): Promise<GeminiTestServer> {
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, StoredBatch>();
  const uploads = new Map<string, { displayName: string; mimeType: string }>();
  const core = new ModelServerCore(
    { error: errorBody, measure: (body, reg, control, path) => measureGemini(modelOf(path), body, reg, files, control), answer: answerBody },
    o,
  );
  const { app } = core;
  let base = '';

  const modelAction = async (request: { params: { '*': string }; body: unknown }, reply: FastifyReply): Promise<unknown> => {
    const m = /^([^:/]+):(generateContent|batchGenerateContent)$/.exec(request.params['*']);
    if (!m) return reply.code(404).send(errorBody(404, `Not found: models/${request.params['*']}`));
    const [, model, action] = m as unknown as [string, string, string];
    if (action === 'generateContent') {
      return routeAnswer(core, generatePath(model), request.body, reply, () => ({}));
    }
    const b = request.body as { batch?: { displayName?: string; inputConfig?: { fileName?: string } } };
    const fileName = b.batch?.inputConfig?.fileName;
    const input = fileName ? files.get(fileName) : undefined;
    if (!input) return reply.code(400).send(errorBody(400, `batch.inputConfig.fileName: no such file ${fileName}`));
    const now = new Date().toISOString();
    const batch: StoredBatch = {
      name: `batches/${newId('')}`,
      metadata: {
        '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
        model: `models/${model}`,
        displayName: b.batch?.displayName ?? '',
        state: 'BATCH_STATE_PENDING',
        createTime: now,
        updateTime: now,
        batchStats: { requestCount: '0', successfulRequestCount: '0', failedRequestCount: '0', pendingRequestCount: '0' },
        inputConfig: { fileName: input.name },
      },
      done: false,
    };
    batches.set(batch.name, batch);
    setImmediate(() => void runBatch(batch, model, input));
    return batch;
  };
  app.post<{ Params: { '*': string } }>('/v1beta/models/*', (request, reply) => modelAction(request, reply));

  async function runBatch(batch: StoredBatch, model: string, input: StoredFile): Promise<void> {
    batch.metadata.state = 'BATCH_STATE_RUNNING';
    await core.batchDelay();
    const lines = jsonlLines(input.bytes);
    const out: string[] = [];
    const keys = new Set<string>();
    let ok = 0;
    let failed = 0;
    for (const [i, text] of lines.entries()) {
      let line: { key?: string; request?: unknown };
      try {
        line = JSON.parse(text) as typeof line;
      } catch {
        batch.metadata.state = 'BATCH_STATE_FAILED';
        return;
      }
      const key = line.key ?? `line-${i + 1}`;
      if (keys.has(key)) {
        out.push(JSON.stringify({ key, error: errorBody(400, `duplicate key ${key}`) }));
        failed++;
        continue;
      }
      keys.add(key);
      const res = await core.answerLine(generatePath(model), line.request, key);
      if (res.status === 200) {
        ok++;
        out.push(JSON.stringify({ key, response: res.body }));
      } else {
        failed++;
        out.push(JSON.stringify({ key, error: (res.body as { error: unknown }).error }));
      }
    }
    const result: StoredFile = {
      name: `files/${newId('')}`,
      displayName: `${batch.name}-results.jsonl`,
      mimeType: 'application/jsonl',
      bytes: Buffer.from(`${out.join('\n')}\n`),
    };
    files.set(result.name, result);
    Object.assign(batch.metadata.batchStats, {
      requestCount: String(lines.length),
      successfulRequestCount: String(ok),
      failedRequestCount: String(failed),
      pendingRequestCount: '0',
    });
    batch.metadata.output = { responsesFile: result.name };
    batch.metadata.state = 'BATCH_STATE_SUCCEEDED';
    batch.metadata.endTime = new Date().toISOString();
    batch.done = true;
  }

  app.get<{ Params: { id: string } }>('/v1beta/batches/:id', async (request, reply) => {
    const b = batches.get(`batches/${request.params.id}`);
    if (!b) return reply.code(404).send(errorBody(404, `batches/${request.params.id} not found`));
    return b;
  });

  const fileResource = (f: StoredFile): Record<string, unknown> => ({
    name: f.name,
    displayName: f.displayName,
    mimeType: f.mimeType,
    sizeBytes: String(f.bytes.length),
    uri: `${base}/v1beta/${f.name}`,
    state: 'ACTIVE',
    source: 'UPLOADED',
    ...(f.durationSec !== undefined ? { videoMetadata: { videoDuration: `${f.durationSec}s` } } : {}),
  });

  // Resumable upload: `start` hands out an upload URL; `upload, finalize` there stores the bytes
  // (sent with the SDK's `content-type: application/json` whatever they are: read as bytes).
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post('/upload/v1beta/files', upload);
  });
  async function upload(request: import('fastify').FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const h = request.headers;
    const command = String(h['x-goog-upload-command'] ?? '');
    if (command === 'start') {
      const id = newId('');
      const meta = (Buffer.isBuffer(request.body) ? JSON.parse(request.body.toString('utf8') || '{}') : request.body) as {
        file?: { displayName?: string; mimeType?: string };
      };
      uploads.set(id, {
        displayName: meta.file?.displayName ?? String(h['x-goog-upload-file-name'] ?? id),
        mimeType: String(h['x-goog-upload-header-content-type'] ?? meta.file?.mimeType ?? 'application/octet-stream'),
      });
      return reply.header('x-goog-upload-url', `${base}/upload/v1beta/files?upload_id=${id}`).header('x-goog-upload-status', 'active').send({});
    }
    const id = String((request.query as { upload_id?: string }).upload_id ?? '');
    const pending = uploads.get(id);
    if (!pending) return reply.code(404).send(errorBody(404, `no upload ${id}`));
    const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.from(JSON.stringify(request.body ?? ''));
    if (!command.includes('finalize')) return reply.code(400).send(errorBody(400, 'the test server takes an upload in one chunk'));
    uploads.delete(id);
    const f: StoredFile = { name: `files/${id}`, displayName: pending.displayName, mimeType: pending.mimeType, bytes };
    if (f.mimeType.startsWith('video/')) {
      const dir = mkdtempSync(join(tmpdir(), 'omniprep-gemini-'));
      try {
        const path = join(dir, 'upload');
        writeFileSync(path, bytes);
        const info = await probe(path);
        f.durationSec = info.durationSec;
        f.hasAudio = Boolean(info.audio);
      } catch {
        return reply.code(400).send(errorBody(400, `the uploaded ${f.mimeType} could not be read`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    files.set(f.name, f);
    return reply.header('x-goog-upload-status', 'final').send({ file: fileResource(f) });
  }

  app.get<{ Params: { '*': string } }>('/v1beta/files/*', async (request, reply) => {
    const rest = request.params['*'];
    const download = rest.endsWith(':download');
    const f = files.get(`files/${download ? rest.slice(0, -':download'.length) : rest}`);
    if (!f) return reply.code(404).send(errorBody(404, `files/${rest} not found`));
    if (download) return reply.header('content-type', 'application/octet-stream').send(f.bytes);
    return fileResource(f);
  });

  base = await core.listen();
  return { baseURL: base, ...core.surface(), files, batches };
}
