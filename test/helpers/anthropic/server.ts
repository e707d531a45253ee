/**
 * TEST CODE. An Anthropic Messages API server for omniprep's tests (the real `@anthropic-ai/sdk`
 * talks to it on 127.0.0.1); it never talks to Anthropic.
 *
 * - Routes: POST /v1/messages; Message Batches: POST /v1/messages/batches,
 *   GET /v1/messages/batches/:id, GET /v1/messages/batches/:id/results (JSONL).
 * - Bodies are validated against JSON Schemas derived from the SDK's own request types
 *   (`MessageCreateParamsNonStreaming`, `BatchCreateParams`: test/helpers/sdk/schemas.ts), and
 *   against Claude's documented request limits from the registry entry: images per request,
 *   the smaller side limit above `manyImages` images, bytes per request. A failure is a 400 (413
 *   for bytes) in Anthropic's error shape `{type: "error", error: {type, message}}`.
 * - `usage.input_tokens` is billed from the request itself (test/helpers/model-server.ts).
 * - 429 answers carry `retry-after` and the `anthropic-ratelimit-requests-*` headers; 529 is
 *   `overloaded_error`.
 */
import type { ModelRegistry } from '../../../src/models/registry.js';
import { validateSdk } from '../sdk/schemas.js';
import { Meter, ModelServerCore, newId, Problem, routeAnswer, type Control, type Measured, type ProviderAdapter, type ServerSurface } from '../model-server.js';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'api_error',
  504: 'api_error',
  529: 'overloaded_error',
};

type Block = { type: string; text?: string; source?: { type: string; data?: string; url?: string; media_type?: string } };

async function measureMessages(body: unknown, reg: ModelRegistry, control: Control, bytes?: number): Promise<Measured> {
  const check = validateSdk('anthropic.messages', body);
  if (!check.valid) throw new Problem(400, `Invalid request body: ${check.message}`, 'invalid_request_error');
  const b = body as {
    model: string;
    max_tokens: number;
    system?: string | Array<{ text: string }>;
    messages: Array<{ content: string | Block[] }>;
    output_config?: { format?: { schema?: Record<string, unknown> } };
  };
  let model;
  try {
    model = reg.get(b.model);
  } catch {
    throw new Problem(404, `model: ${b.model}`, 'not_found_error');
  }
  if (model.provider !== 'anthropic') throw new Problem(404, `model: ${b.model}`, 'not_found_error');
  const meter = new Meter(model, b.model);
  if (b.system !== undefined) {
    meter.message();
    meter.text(typeof b.system === 'string' ? b.system : b.system.map((s) => s.text).join(''));
  }
  let maxSide = 0;
  for (const msg of b.messages) {
    meter.message();
    if (typeof msg.content === 'string') {
      meter.text(msg.content);
      continue;
    }
    for (const block of msg.content) {
      if (block.type === 'text') meter.text(block.text ?? '');
      else if (block.type === 'image') {
        let size: { width: number; height: number };
        if (block.source?.type === 'base64') size = await meter.image(block.source.data ?? '', 'auto');
        else {
          const s = control.urlImageSize?.(block.source?.url ?? '');
          if (!s) throw new Problem(400, `Unable to download the image at ${block.source?.url} (the test server fetches nothing).`, 'invalid_request_error');
          meter.imageOfSize(s, 'auto');
          size = s;
        }
        maxSide = Math.max(maxSide, size.width, size.height);
        const l = model.limits;
        if (l.maxSide !== undefined && Math.max(size.width, size.height) > l.maxSide) {
          throw new Problem(400, `messages: image dimensions exceed max allowed size: ${l.maxSide} pixels`, 'invalid_request_error');
        }
      }
    }
  }
  const l = model.limits;
  const images = meter.m.images;
  if (images > l.imagesPerRequest)
    throw new Problem(400, `messages: too many images in the request (${images}; at most ${l.imagesPerRequest})`, 'invalid_request_error');
  if (l.manyImages !== undefined && l.maxSideManyImages !== undefined && images > l.manyImages && maxSide > l.maxSideManyImages) {
    throw new Problem(
      400,
      `messages: image dimensions exceed max allowed size for many-image requests: ${l.maxSideManyImages} pixels`,
      'invalid_request_error',
    );
  }
  if (bytes !== undefined && bytes > l.requestBytes)
    throw new Problem(413, `Request exceeds the maximum allowed number of bytes (${l.requestBytes}).`, 'request_too_large');
  meter.m.maxOutputTokens = b.max_tokens;
  meter.m.schema = b.output_config?.format?.schema;
  return meter.m;
}

function message(m: Measured, text: string, outputTokens: number): Record<string, unknown> {
  return {
    id: newId('msg_'),
    type: 'message',
    role: 'assistant',
    model: m.modelId,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: m.textTokens + m.imageTokens + m.audioTokens + m.videoTokens,
      output_tokens: outputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      service_tier: 'standard',
    },
  };
}

export const anthropicAdapter = (bytesOf: () => number | undefined): ProviderAdapter => ({
  error: (status, msg, o) => ({ type: 'error', error: { type: o?.type ?? ERROR_TYPES[status] ?? 'api_error', message: msg } }),
  errorHeaders(status, retryAfterSec): Record<string, string> {
    if (status !== 429) return {};
    const after = retryAfterSec ?? 1;
    return {
      'retry-after': String(after),
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': new Date(Date.now() + after * 1000).toISOString(),
    };
  },
  measure: (body, reg, control) => measureMessages(body, reg, control, bytesOf()),
  answer: message,
});

interface StoredBatch {
  id: string;
  type: 'message_batch';
  processing_status: 'in_progress' | 'canceling' | 'ended';
  request_counts: { processing: number; succeeded: number; errored: number; canceled: number; expired: number };
  ended_at: string | null;
  created_at: string;
  expires_at: string;
  archived_at: null;
  cancel_initiated_at: null;
  results_url: string | null;
}

export interface AnthropicTestServer extends ServerSurface {
  /** `http://127.0.0.1:<port>`: the `baseURL` for the SDK. */
  baseURL: string;
  batches: Map<string, StoredBatch>;
  /** Sizes of the batch create bodies received, in bytes. */
  batchBodies: number[];
}

/** Message Batches limits (documented): requests and bytes per batch. */
export const BATCH_LIMITS = { requests: 100_000, bytes: 256 * 1024 * 1024 };

export async function startAnthropicTestServer(o: { registry?: ModelRegistry; control?: Partial<Control> } = {}): Promise<AnthropicTestServer> {
  let currentBytes: number | undefined;
  const core = new ModelServerCore(
    anthropicAdapter(() => currentBytes),
    o,
  );
  const adapter = anthropicAdapter(() => undefined);
  const { app } = core;
  const batches = new Map<string, StoredBatch>();
  const results = new Map<string, string[]>();
  const batchBodies: number[] = [];
  let base = '';

  app.post('/v1/messages', async (request, reply) => {
    // The request's size as sent (the 32 MB limit is on the HTTP body).
    currentBytes = Number(request.headers['content-length'] ?? 0) || undefined;
    return routeAnswer(core, '/v1/messages', request.body, reply, () => ({ 'request-id': newId('req_') }));
  });

  app.post('/v1/messages/batches', async (request, reply) => {
    const bytes = Number(request.headers['content-length'] ?? 0);
    batchBodies.push(bytes);
    const check = validateSdk('anthropic.batch', request.body);
    if (!check.valid) return reply.code(400).send(adapter.error(400, `Invalid request body: ${check.message}`));
    const reqs = (request.body as { requests: Array<{ custom_id: string; params: unknown }> }).requests;
    if (reqs.length > BATCH_LIMITS.requests || bytes > BATCH_LIMITS.bytes) {
      return reply.code(413).send(adapter.error(413, `A batch holds at most ${BATCH_LIMITS.requests} requests and ${BATCH_LIMITS.bytes} bytes.`));
    }
    const ids = new Set<string>();
    for (const r of reqs) {
      if (!/^[a-zA-Z0-9_-]{1,64}$/.test(r.custom_id))
        return reply.code(400).send(adapter.error(400, `requests: custom_id ${r.custom_id} must match ^[a-zA-Z0-9_-]{1,64}$`));
      if (ids.has(r.custom_id)) return reply.code(400).send(adapter.error(400, `requests: custom_id ${r.custom_id} is used more than once`));
      ids.add(r.custom_id);
    }
    const now = new Date();
    const batch: StoredBatch = {
      id: newId('msgbatch_'),
      type: 'message_batch',
      processing_status: 'in_progress',
      request_counts: { processing: reqs.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + 24 * 3600 * 1000).toISOString(),
      archived_at: null,
      cancel_initiated_at: null,
      results_url: null,
    };
    batches.set(batch.id, batch);
    setImmediate(() => void run(batch, reqs));
    return batch;
  });

  async function run(batch: StoredBatch, reqs: Array<{ custom_id: string; params: unknown }>): Promise<void> {
    await core.batchDelay();
    const lines: string[] = [];
    for (const r of reqs) {
      const out = await core.answerLine('/v1/messages', r.params, r.custom_id);
      batch.request_counts.processing--;
      if (out.status === 200) {
        batch.request_counts.succeeded++;
        lines.push(JSON.stringify({ custom_id: r.custom_id, result: { type: 'succeeded', message: out.body } }));
      } else {
        batch.request_counts.errored++;
        lines.push(JSON.stringify({ custom_id: r.custom_id, result: { type: 'errored', error: out.body } }));
      }
    }
    results.set(batch.id, lines);
    batch.processing_status = 'ended';
    batch.ended_at = new Date().toISOString();
    batch.results_url = `${base}/v1/messages/batches/${batch.id}/results`;
  }

  app.get<{ Params: { id: string } }>('/v1/messages/batches/:id', async (request, reply) => {
    const b = batches.get(request.params.id);
    if (!b) return reply.code(404).send(adapter.error(404, `message batch ${request.params.id} not found`));
    return b;
  });

  app.get<{ Params: { id: string } }>('/v1/messages/batches/:id/results', async (request, reply) => {
    const lines = results.get(request.params.id);
    if (!lines) return reply.code(404).send(adapter.error(404, `results of ${request.params.id} are not ready`));
    return reply.header('content-type', 'application/binary').send(`${lines.join('\n')}\n`);
  });

  base = await core.listen();
  return { baseURL: base, ...core.surface(), batches, batchBodies };
}
