/**
 * TEST CODE. How the OpenAI test server (./server.ts) validates, measures and answers Chat
 * Completions and Responses bodies on the shared base (../model-server.ts): every body is checked
 * against OpenAI's OpenAPI description (./spec.ts), billed from the request itself (../meter.ts),
 * and answered, or refused, in OpenAI's shapes.
 */
import type { ModelEntry, ModelRegistry } from '../../../src/models/registry.js';
import { imageSizeOf, Meter, newId, Problem, promptTokens, type Control, type Measured, type ProviderAdapter, type Refusal } from '../model-server.js';
import { specValidator } from './spec.js';

export type Api = 'chat' | 'responses';

export const API_PATHS: Record<Api, string> = { chat: '/v1/chat/completions', responses: '/v1/responses' };

const apiOf = (path: string): Api => (path === API_PATHS.chat ? 'chat' : 'responses');

export interface ImageInfo {
  model: string;
  width: number;
  height: number;
  detail: string;
  api: Api;
}

export interface ServerControl extends Control {
  /** Image billing (default: the omniprep registry's rule for the model at the image's real size). */
  imageTokens?: ((img: ImageInfo) => number) | undefined;
}

/** Seconds since the epoch, as OpenAI's objects give times. */
export const now = (): number => Math.floor(Date.now() / 1000);

export function openaiError(status: number, message: string, code: string | null, param: string | null = null): { error: Record<string, unknown> } {
  const type = status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param, code } };
}

/** The codes of the errors the shared base answers itself: unparseable JSON, an unknown URL, a hang. */
const BASE_CODES: Record<number, string> = { 400: 'invalid_json', 404: 'unknown_url', 504: 'timeout' };

type Part = Record<string, unknown>;

async function imageSize(url: string, control: ServerControl): Promise<{ width: number; height: number }> {
  const m = /^data:([^;,]+);base64,/.exec(url);
  if (!m) {
    const size = control.urlImageSize?.(url);
    if (size) return size;
    throw new Problem(400, `Error while downloading ${url} (the test server fetches nothing).`, 'invalid_image_url', 'url');
  }
  try {
    return await imageSizeOf(url.slice(m[0].length));
  } catch {
    throw new Problem(400, 'You uploaded an unsupported image. Please make sure your image is valid.', 'invalid_image', 'image_url');
  }
}

async function addImage(meter: Meter, url: string, detail: string, api: Api, control: ServerControl): Promise<void> {
  const size = await imageSize(url, control);
  const inline = /^data:[^;,]+;base64,/.exec(url);
  if (inline) meter.m.imageData.push(url.slice(inline[0].length));
  meter.imageOfSize(size, detail, control.imageTokens?.({ model: meter.m.modelId, ...size, detail, api }));
}

function addAudio(meter: Meter, data: string, format: string): void {
  try {
    meter.audio(data, format === 'wav' ? 'wav' : 'mp3');
  } catch (e) {
    if (e instanceof Problem) throw new Problem(400, e.message, 'invalid_value', 'input_audio');
    throw e;
  }
}

async function addPart(meter: Meter, p: Part, api: Api, control: ServerControl): Promise<void> {
  switch (p.type) {
    case 'text':
    case 'input_text':
      return meter.text(String(p.text));
    case 'image_url': {
      const iu = p.image_url as { url: string; detail?: string };
      return addImage(meter, iu.url, iu.detail ?? 'auto', api, control);
    }
    case 'input_image':
      return addImage(meter, String(p.image_url), String(p.detail), api, control);
    case 'input_audio': {
      const ia = p.input_audio as { data: string; format: string };
      return addAudio(meter, ia.data, ia.format);
    }
    default:
      return;
  }
}

/** The messages' contents, the output bound and the structured-output schema of a valid body. */
function readBody(api: Api, b: Record<string, unknown>): { contents: unknown[]; maxOut: number; schema: Record<string, unknown> | undefined } {
  if (api === 'chat') {
    const rf = b.response_format as { type?: string; json_schema?: { schema?: Record<string, unknown> } } | undefined;
    return {
      contents: (b.messages as Array<{ content: unknown }>).map((m) => m.content),
      maxOut: Number(b.max_completion_tokens ?? b.max_tokens ?? 0),
      schema: rf?.type === 'json_schema' ? (rf.json_schema?.schema ?? {}) : undefined,
    };
  }
  const contents: unknown[] = [];
  if (typeof b.instructions === 'string') contents.push(b.instructions);
  if (typeof b.input === 'string') contents.push(b.input);
  else contents.push(...(b.input as Array<{ content?: unknown }>).map((m) => m.content ?? ''));
  const tf = (b.text as { format?: { type?: string; schema?: Record<string, unknown> } } | undefined)?.format;
  return { contents, maxOut: Number(b.max_output_tokens ?? 0), schema: tf?.type === 'json_schema' ? (tf.schema ?? {}) : undefined };
}

/** What the server bills for a body, measured from the body itself, after checking it against the spec. */
async function measure(api: Api, body: unknown, reg: ModelRegistry, control: ServerControl): Promise<Measured> {
  const check = specValidator().validate(api, body);
  if (!check.valid) throw new Problem(400, `Invalid request body: ${check.message}`, 'invalid_request_body');
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string') throw new Problem(400, "Missing required parameter: 'model'.", 'missing_required_parameter', 'model');
  let model: ModelEntry;
  try {
    model = reg.get(b.model);
  } catch {
    throw new Problem(404, `The model \`${b.model}\` does not exist or you do not have access to it.`, 'model_not_found', 'model');
  }
  const meter = new Meter(model, b.model);
  const { contents, maxOut, schema } = readBody(api, b);
  for (const content of contents) {
    meter.message();
    if (typeof content === 'string') meter.text(content);
    else if (Array.isArray(content)) for (const p of content as Part[]) await addPart(meter, p, api, control);
  }
  meter.m.maxOutputTokens = Number.isFinite(maxOut) ? maxOut : 0;
  meter.m.schema = schema;
  return meter.m;
}

function chatCompletion(m: Measured, text: string, outputTokens: number): Record<string, unknown> {
  const prompt = promptTokens(m);
  return {
    id: newId('chatcmpl-'),
    object: 'chat.completion',
    created: now(),
    model: m.modelId,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: outputTokens,
      total_tokens: prompt + outputTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: m.audioTokens },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_omniprep_test',
  };
}

function response(m: Measured, text: string, outputTokens: number, b: Record<string, unknown>): Record<string, unknown> {
  const prompt = promptTokens(m);
  const created = now();
  return {
    id: newId('resp_'),
    object: 'response',
    created_at: created,
    status: 'completed',
    completed_at: created,
    error: null,
    incomplete_details: null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: m.modelId,
    output: [
      { type: 'message', id: newId('msg_'), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] },
    ],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: b.store ?? true,
    temperature: 1,
    text: b.text ?? { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: {
      input_tokens: prompt,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: prompt + outputTokens,
    },
    metadata: {},
  };
}

/** A refusal as OpenAI answers it: 429 with Retry-After / retry-after-ms, 5xx as server_error, 400 with a code. */
function refusal(action: Refusal): { body: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (action.status === 429) {
    if (action.retryAfter !== undefined) headers['retry-after'] = String(action.retryAfter);
    if (action.retryAfterMs !== undefined) headers['retry-after-ms'] = String(action.retryAfterMs);
  }
  const message =
    action.message ??
    (action.status === 429
      ? 'Rate limit reached for requests (test server).'
      : action.status >= 500
        ? 'The server had an error while processing your request (test server).'
        : 'Bad request (test server).');
  const code = action.status === 429 ? 'rate_limit_exceeded' : action.status === 400 ? (action.code ?? 'invalid_request') : null;
  return { body: openaiError(action.status, message, code), headers };
}

export const openaiAdapter: ProviderAdapter<ServerControl> = {
  error: (status, message, o) => openaiError(status, message, o?.type ?? BASE_CODES[status] ?? null, o?.param ?? null),
  refusal,
  notFound: (method, url) => `Invalid URL (${method} ${url})`,
  measure: (body, reg, control, path) => measure(apiOf(path), body, reg, control),
  answer: (m, text, outputTokens, req) => (apiOf(req.path) === 'chat' ? chatCompletion(m, text, outputTokens) : response(m, text, outputTokens, req.body)),
};
