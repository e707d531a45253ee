/**
 * TEST CODE. An OpenAI-compatible server for omniprep's tests and benchmarks; it is not part of
 * the library and never talks to OpenAI.
 *
 * - Routes: POST /v1/chat/completions, POST /v1/responses, POST /v1/files (multipart, purpose
 *   batch), GET /v1/files/:id, GET /v1/files/:id/content, POST /v1/batches, GET /v1/batches/:id.
 * - Every JSON request body is validated against the official OpenAPI description
 *   (OpenAI's official OpenAPI description, kept in test/fixtures/openai-openapi.yaml.gz) with Ajv: the YAML is parsed, the request schemas' `$ref`s are
 *   resolved by Ajv, and the OpenAPI-only keywords are turned into JSON Schema (see `toJsonSchema`).
 *   An invalid body gets 400 with an OpenAI-style error.
 * - Answers carry `usage` computed from the request itself: image parts by the omniprep registry's
 *   rule for the model at the image's real pixel size (read from the data URL with sharp), audio
 *   from the real duration of the WAV or MP3 bytes, text with the model's tokenizer and overhead.
 *   So tests can compare omniprep's estimates with what a server measured.
 * - `control` makes it misbehave, per test: latency, 429 with Retry-After, 5xx, hanging.
 * - `stats` counts requests in flight (now and at most) and records each request's arrival time
 *   and tokens, so tests can check concurrency and tokens per window.
 * - Batches are processed for real: the uploaded JSONL is read, every line answered (or refused),
 *   and output and error files are written.
 *
 *   const server = await startOpenAITestServer();
 *   const client = new OpenAI({ apiKey: 'test', baseURL: server.baseURL });
 *   ...
 *   await server.close();
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { parse as parseYaml } from 'yaml';
import Ajv2019Module from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import sharp from 'sharp';
import { audioTokens, imageTokens, textTokens } from '../../../src/models/tokens.js';
import { registry as processRegistry, type ModelEntry, type ModelRegistry } from '../../../src/models/registry.js';
import { ROOT } from '../fixtures.js';

const Ajv2019 = Ajv2019Module.default;
const addFormats = addFormatsModule.default;

/**
 * OpenAI's official API description (openai/openai-openapi, August 2026, MIT): the workplace copy
 * from the workplace's shared copy beside the checkout when it is there, else the same file kept
 * gzipped in test/fixtures/openai-openapi.yaml.gz (a clean clone elsewhere has only that).
 */
const SHARED_OPENAPI = join(ROOT, '..', 'shared', 'openai', 'openapi.yaml');
const VENDORED_OPENAPI = join(ROOT, 'test', 'fixtures', 'openai-openapi.yaml.gz');
export const OPENAPI_PATH = process.env.OMNIPREP_OPENAPI ?? (existsSync(SHARED_OPENAPI) ? SHARED_OPENAPI : VENDORED_OPENAPI);

function readSpecText(): string {
  const bytes = readFileSync(OPENAPI_PATH);
  return (OPENAPI_PATH.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI validator
// ---------------------------------------------------------------------------------------------

/** Request and response schemas the server (and the tests) validate against. */
export const SPEC_SCHEMAS = {
  chat: 'CreateChatCompletionRequest',
  responses: 'CreateResponse',
  batch: 'CreateBatchRequest',
  file: 'CreateFileRequest',
  chatResponse: 'CreateChatCompletionResponse',
  responsesResponse: 'Response',
  batchObject: 'Batch',
} as const;
export type SpecSchema = keyof typeof SPEC_SCHEMAS;

type Json = unknown;

/**
 * OpenAPI keywords that JSON Schema (2019-09, which Ajv runs) does not have:
 * - `nullable: true` becomes `type: [T, 'null']` (or `anyOf [..., {type: null}]` without a type);
 * - a `oneOf` with a `discriminator` is checked like `anyOf`: with a discriminator, OpenAPI picks
 *   the branch by the property, so a value that also fits another branch is not ambiguous (an
 *   input message without `type` fits both EasyInputMessage and InputMessage); a value whose
 *   property names a branch is checked against that branch (see `discriminated`), and a value
 *   naming no branch (`type: "audio"`) matches none and is rejected.
 * Everything else (`x-*`, `example`, `discriminator` itself) is an annotation Ajv ignores.
 */
export function toJsonSchema(node: Json, all: Record<string, Json> = {}): Json {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, all));
  if (!node || typeof node !== 'object') return node;
  const n = node as Record<string, Json>;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(n)) {
    if (k === 'nullable' || k === 'discriminator') continue;
    out[k] =
      k === 'properties' && v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v as Record<string, Json>).map(([p, s]) => [p, toJsonSchema(s, all)]))
        : toJsonSchema(v, all);
  }
  const discriminator = n.discriminator as { propertyName?: string } | undefined;
  if (discriminator && Array.isArray(out.oneOf)) {
    const branches = out.oneOf as Json[];
    delete out.oneOf;
    Object.assign(out, discriminated(discriminator.propertyName ?? 'type', branches, all));
  }
  if (n.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type)) out.type = [...new Set([...(out.type as string[]), 'null'])];
    else return { anyOf: [out, { type: 'null' }] };
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

/** The values a branch allows for the discriminating property (through `$ref` and `allOf`), or undefined. */
function branchValues(branch: Json, prop: string, all: Record<string, Json>, depth = 0): Json[] | undefined {
  if (!branch || typeof branch !== 'object' || depth > 8) return undefined;
  const b = branch as Record<string, Json>;
  if (typeof b.$ref === 'string') return branchValues(all[b.$ref.split('/').pop()!], prop, all, depth + 1);
  const p = (b.properties as Record<string, Record<string, Json>> | undefined)?.[prop];
  if (p && 'const' in p) return [p.const];
  if (p && Array.isArray(p.enum)) return p.enum;
  if (Array.isArray(b.allOf)) {
    for (const part of b.allOf) {
      const v = branchValues(part, prop, all, depth + 1);
      if (v) return v;
    }
  }
  return undefined;
}

/** Whether a branch requires the property (through `$ref` and `allOf`). */
function branchRequires(branch: Json, prop: string, all: Record<string, Json>, depth = 0): boolean {
  if (!branch || typeof branch !== 'object' || depth > 8) return false;
  const b = branch as Record<string, Json>;
  if (typeof b.$ref === 'string') return branchRequires(all[b.$ref.split('/').pop()!], prop, all, depth + 1);
  if (Array.isArray(b.required) && b.required.includes(prop)) return true;
  return Array.isArray(b.allOf) && b.allOf.some((part) => branchRequires(part, prop, all, depth + 1));
}

/**
 * A discriminated `oneOf` as JSON Schema that accepts what `anyOf` accepts, but when the value
 * names a known branch (`type: "input_image"`), checks it against that branch alone: the errors
 * then say what is wrong with the input_image ("must have required property 'detail'"), not
 * why it is not every other kind of part. Without the property, any branch that does not require
 * it may match.
 */
function discriminated(prop: string, branches: Json[], all: Record<string, Json>): Record<string, Json> {
  const values = branches.map((b) => branchValues(b, prop, all));
  if (values.some((v) => !v)) return { anyOf: branches };
  const known = [...new Set(values.flat())];
  // Without the property, only branches that do not require it can match.
  const optional = branches.filter((b) => !branchRequires(b, prop, all));
  return {
    if: { type: 'object', required: [prop], properties: { [prop]: { enum: known } } },
    then: {
      allOf: known.map((v) => ({
        if: { properties: { [prop]: { const: v } } },
        then: { anyOf: branches.filter((_, i) => values[i]!.includes(v)) },
      })),
    },
    else: { anyOf: optional.length ? optional : branches },
  };
}

/** The schemas reachable from `roots` through `$ref`s (`#/components/schemas/X`). */
function reachable(schemas: Record<string, Json>, roots: string[]): Record<string, Json> {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    if (!(name in schemas)) throw new Error(`openapi.yaml has no schema ${name}`);
    seen.add(name);
    walk(schemas[name]);
  };
  const walk = (n: Json): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      for (const [k, v] of Object.entries(n)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) visit(v.slice('#/components/schemas/'.length));
        else walk(v);
      }
    }
  };
  roots.forEach(visit);
  return Object.fromEntries([...seen].map((k) => [k, schemas[k]]));
}

/** The parsed, converted schemas, cached on disk (keyed by the spec's size and mtime): parsing 3 MB of YAML takes a second. */
function loadSpecSchemas(): Record<string, Json> {
  const st = statSync(OPENAPI_PATH);
  const key = createHash('sha256')
    .update(`${st.size}:${st.mtimeMs}:${Object.values(SPEC_SCHEMAS).join(',')}:v3`)
    .digest('hex')
    .slice(0, 12);
  const cache = join(ROOT, '.cache', `openapi-schemas-${key}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Record<string, Json>;
  const doc = parseYaml(readSpecText(), { maxAliasCount: -1 }) as { components: { schemas: Record<string, Json> } };
  const raw = reachable(doc.components.schemas, Object.values(SPEC_SCHEMAS));
  const schemas = toJsonSchema(raw, raw) as Record<string, Json>;
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  writeFileSync(`${cache}.${process.pid}.tmp`, JSON.stringify(schemas));
  // rename is atomic: two processes making the cache at once both write the same content
  renameSync(`${cache}.${process.pid}.tmp`, cache);
  return schemas;
}

export interface SpecCheck {
  valid: boolean;
  errors: ErrorObject[];
  /** One line: the most specific problems. */
  message: string;
}

export interface SpecValidator {
  validate(schema: SpecSchema, body: unknown): SpecCheck;
}

/** Picks the deepest errors (the most specific place in the body) and writes them on one line. */
export function describeErrors(errors: readonly ErrorObject[]): string {
  if (!errors.length) return 'valid';
  // "must match a schema in anyOf" and its kin only say that something below failed.
  const structural = new Set(['if', 'anyOf', 'oneOf', 'allOf', 'not']);
  const specific = errors.filter((e) => !structural.has(e.keyword));
  const pool = specific.length ? specific : errors;
  const depth = (e: ErrorObject): number => e.instancePath.split('/').length;
  const max = Math.max(...pool.map(depth));
  const deepest = pool.filter((e) => depth(e) === max);
  // Enum failures at one place (one per oneOf/anyOf branch) merge into one list of allowed values.
  const allowed = new Map<string, unknown[]>();
  const lines = new Set<string>();
  for (const e of deepest) {
    const at = e.instancePath || '(body)';
    if (e.keyword === 'enum') {
      allowed.set(at, [...(allowed.get(at) ?? []), ...(e.params as { allowedValues: unknown[] }).allowedValues]);
      continue;
    }
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
    lines.add(`${at} ${e.message ?? e.keyword}${extra}`);
  }
  const enums = [...allowed].map(([at, values]) => `${at} must be one of ${[...new Set(values.map((v) => JSON.stringify(v)))].join(', ')}`);
  return [...enums, ...lines].slice(0, 4).join('; ');
}

let shared: SpecValidator | undefined;

/** The validator over openapi.yaml (one per process; compiling takes a few hundred ms). */
export function specValidator(): SpecValidator {
  if (shared) return shared;
  const schemas = loadSpecSchemas();
  const ajv = new Ajv2019({ strict: false, allErrors: true, logger: false, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat('binary', true);
  ajv.addFormat('unixtime', true);
  ajv.addSchema({ $id: 'openapi.json', components: { schemas } });
  const compiled = new Map<SpecSchema, ValidateFunction>();
  const get = (name: SpecSchema): ValidateFunction => {
    let fn = compiled.get(name);
    if (!fn) compiled.set(name, (fn = ajv.compile({ $ref: `openapi.json#/components/schemas/${SPEC_SCHEMAS[name]}` })));
    return fn;
  };
  shared = {
    validate(name, body) {
      const fn = get(name);
      const valid = fn(body) as boolean;
      const errors = valid ? [] : [...(fn.errors ?? [])];
      return { valid, errors, message: valid ? 'valid' : describeErrors(errors) };
    },
  };
  return shared;
}

// ---------------------------------------------------------------------------------------------
// Measuring media in a request
// ---------------------------------------------------------------------------------------------

const MP3_BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MP3_BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MP3_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/**
 * Duration of MPEG audio layer III bytes: frames counted, a leading Xing/Info frame skipped, and
 * the encoder delay and padding of its LAME tag taken off (what a gapless decoder plays).
 */
export function mp3Seconds(buf: Buffer): number | undefined {
  let i = 0;
  if (buf.length > 10 && buf.toString('latin1', 0, 3) === 'ID3') {
    const size = ((buf[6]! & 0x7f) << 21) | ((buf[7]! & 0x7f) << 14) | ((buf[8]! & 0x7f) << 7) | (buf[9]! & 0x7f);
    i = 10 + size + (buf[5]! & 0x10 ? 10 : 0);
  }
  let samples = 0;
  let rate = 0;
  let first = true;
  let trim = 0;
  while (i + 4 <= buf.length) {
    const b1 = buf[i + 1]!;
    const b2 = buf[i + 2]!;
    if (buf[i] !== 0xff || (b1 & 0xe0) !== 0xe0) {
      i++;
      continue;
    }
    const ver = (b1 >> 3) & 3;
    const layer = (b1 >> 1) & 3;
    const brIdx = b2 >> 4;
    const srIdx = (b2 >> 2) & 3;
    if (ver === 1 || layer !== 1 || brIdx === 0 || brIdx === 15 || srIdx === 3) {
      i++;
      continue;
    }
    const bitrate = (ver === 3 ? MP3_BITRATES_V1 : MP3_BITRATES_V2)[brIdx]! * 1000;
    const sr = MP3_RATES[ver]![srIdx]!;
    const perFrame = ver === 3 ? 1152 : 576;
    const len = Math.floor(((perFrame / 8) * bitrate) / sr) + ((b2 >> 1) & 1);
    if (first) {
      first = false;
      const mono = buf[i + 3]! >> 6 === 3;
      const side = ver === 3 ? (mono ? 17 : 32) : mono ? 9 : 17;
      const at = i + 4 + side;
      const tag = buf.toString('latin1', at, at + 4);
      if (tag === 'Xing' || tag === 'Info') {
        const flags = buf.readUInt32BE(at + 4);
        let lame = at + 8;
        for (const [bit, size] of [
          [1, 4],
          [2, 4],
          [4, 100],
          [8, 4],
        ] as const)
          if (flags & bit) lame += size;
        if (lame + 24 <= buf.length && /^(LAME|Lavc|Lavf)/.test(buf.toString('latin1', lame, lame + 4))) {
          const b = lame + 21;
          trim = ((buf[b]! << 4) | (buf[b + 1]! >> 4)) + (((buf[b + 1]! & 0x0f) << 8) | buf[b + 2]!);
        }
        i += len;
        continue;
      }
    }
    samples += perFrame;
    rate = sr;
    i += len;
  }
  return rate ? Math.max(0, samples - trim) / rate : undefined;
}

/** Duration of a RIFF WAVE: data bytes / byte rate. */
export function wavSeconds(buf: Buffer): number | undefined {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let i = 12;
  let byteRate = 0;
  while (i + 8 <= buf.length) {
    const id = buf.toString('latin1', i, i + 4);
    const size = buf.readUInt32LE(i + 4);
    if (id === 'fmt ') byteRate = buf.readUInt32LE(i + 16);
    if (id === 'data') return byteRate ? Math.min(size, buf.length - i - 8) / byteRate : undefined;
    i += 8 + size + (size % 2);
  }
  return undefined;
}

export interface ImageInfo {
  model: string;
  width: number;
  height: number;
  detail: string;
  api: 'chat' | 'responses';
}

class RequestProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

interface Measured {
  model: string;
  promptTokens: number;
  imageTokens: number;
  audioTokens: number;
  textTokens: number;
  images: number;
  audioSeconds: number;
  maxOutputTokens: number;
  /** Every text part, joined with newlines (for `control` functions and replies). */
  text: string;
  schema: Record<string, unknown> | undefined;
}

type Part = Record<string, unknown>;

/** Sizes of images seen lately (by data URL): the benchmark sends one image hundreds of times. */
const sizeCache = new Map<string, { width: number; height: number }>();

async function imageSize(url: string, control: ServerControl): Promise<{ width: number; height: number }> {
  const cached = sizeCache.get(url);
  if (cached) return cached;
  const size = await readImageSize(url, control);
  if (url.startsWith('data:')) {
    if (sizeCache.size >= 256) sizeCache.clear();
    sizeCache.set(url, size);
  }
  return size;
}

async function readImageSize(url: string, control: ServerControl): Promise<{ width: number; height: number }> {
  const m = /^data:([^;,]+);base64,/.exec(url);
  if (!m) {
    const size = control.urlImageSize?.(url);
    if (size) return size;
    throw new RequestProblem(400, `Error while downloading ${url} (the test server fetches nothing).`, 'invalid_image_url', 'url');
  }
  try {
    const meta = await sharp(Buffer.from(url.slice(m[0].length), 'base64')).metadata();
    if (!meta.width || !meta.height) throw new Error('no size');
    return { width: meta.width, height: meta.height };
  } catch {
    throw new RequestProblem(400, 'You uploaded an unsupported image. Please make sure your image is valid.', 'invalid_image', 'image_url');
  }
}

/** What the server bills for a request body, measured from the body itself. */
async function measure(api: 'chat' | 'responses', body: Record<string, unknown>, reg: ModelRegistry, control: ServerControl): Promise<Measured> {
  if (typeof body.model !== 'string') throw new RequestProblem(400, "Missing required parameter: 'model'.", 'missing_required_parameter', 'model');
  const modelName = body.model;
  let model: ModelEntry;
  try {
    model = reg.get(modelName);
  } catch {
    throw new RequestProblem(404, `The model \`${modelName}\` does not exist or you do not have access to it.`, 'model_not_found', 'model');
  }
  let text = 0;
  let images = 0;
  let imageTok = 0;
  let audioSec = 0;
  let audioTok = 0;
  const texts: string[] = [];
  const addText = (t: string): void => {
    texts.push(t);
    text += textTokens(model, t);
  };
  const addImage = async (url: string, detail: string): Promise<void> => {
    const { width, height } = await imageSize(url, control);
    images++;
    imageTok += control.imageTokens ? control.imageTokens({ model: modelName, width, height, detail, api }) : imageTokens(model, width, height, detail).tokens;
  };
  const addAudio = (data: string, format: string): void => {
    const bytes = Buffer.from(data, 'base64');
    const seconds = format === 'wav' ? wavSeconds(bytes) : mp3Seconds(bytes);
    if (seconds === undefined) throw new RequestProblem(400, `The audio data is not valid ${format}.`, 'invalid_value', 'input_audio');
    audioSec += seconds;
    audioTok += audioTokens(model, seconds);
  };
  const messages: Array<{ content: unknown }> = [];
  let schema: Record<string, unknown> | undefined;
  let maxOut = 0;
  if (api === 'chat') {
    messages.push(...(body.messages as Array<{ content: unknown }>));
    const rf = body.response_format as { type?: string; json_schema?: { schema?: Record<string, unknown> } } | undefined;
    if (rf?.type === 'json_schema') schema = rf.json_schema?.schema ?? {};
    maxOut = Number(body.max_completion_tokens ?? body.max_tokens ?? 0);
  } else {
    if (typeof body.instructions === 'string') messages.push({ content: body.instructions });
    if (typeof body.input === 'string') messages.push({ content: body.input });
    else messages.push(...(body.input as Array<{ content?: unknown }>).map((m) => ({ content: m.content ?? '' })));
    const tf = (body.text as { format?: { type?: string; schema?: Record<string, unknown> } } | undefined)?.format;
    if (tf?.type === 'json_schema') schema = tf.schema ?? {};
    maxOut = Number(body.max_output_tokens ?? 0);
  }
  text += model.text.perRequest;
  for (const m of messages) {
    text += model.text.perMessage;
    if (typeof m.content === 'string') addText(m.content);
    else if (Array.isArray(m.content)) {
      for (const p of m.content as Part[]) {
        switch (p.type) {
          case 'text':
          case 'input_text':
            addText(String(p.text));
            break;
          case 'image_url': {
            const iu = p.image_url as { url: string; detail?: string };
            await addImage(iu.url, iu.detail ?? 'auto');
            break;
          }
          case 'input_image':
            await addImage(String(p.image_url), String(p.detail));
            break;
          case 'input_audio': {
            const ia = p.input_audio as { data: string; format: string };
            addAudio(ia.data, ia.format);
            break;
          }
          default:
            break;
        }
      }
    }
  }
  return {
    model: modelName,
    promptTokens: text + imageTok + audioTok,
    imageTokens: imageTok,
    audioTokens: audioTok,
    textTokens: text,
    images,
    audioSeconds: audioSec,
    maxOutputTokens: Number.isFinite(maxOut) ? maxOut : 0,
    text: texts.join('\n'),
    schema,
  };
}

/** A small value that fits a JSON Schema (the default answer to a structured-output request). */
export function sampleFor(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object') return null;
  const s = schema as Record<string, unknown>;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(s[k])) return sampleFor((s[k] as unknown[])[0]);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sampleFor(v)]));
    }
    case 'array':
      return s.minItems === 0 ? [] : [sampleFor(s.items)];
    case 'string':
      return typeof s.minLength === 'number' ? 'x'.repeat(s.minLength) : 'text';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 0;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Control and statistics
// ---------------------------------------------------------------------------------------------

export interface IncomingRequest {
  /** 1-based arrival number over all API requests (batch lines included). */
  seq: number;
  path: '/v1/chat/completions' | '/v1/responses';
  body: Record<string, unknown>;
  /** The request's text parts, joined with newlines. */
  text: string;
  /** Set for a line of a batch. */
  customId?: string;
  /** How many times a request with this text arrived before (0 on the first time). */
  previousAttempts: number;
}

/** What the server does with one request, instead of answering at once. */
export type ServerAction =
  | { status: 429; retryAfter?: number | string; retryAfterMs?: number; message?: string }
  | { status: 500 | 502 | 503 | 504; message?: string }
  | { status: 400; message?: string; code?: string }
  | { hang: true }
  | { latencyMs?: number; reply?: string };

export interface ServerControl {
  /** Milliseconds before each answer (default 0). */
  latencyMs: number;
  /** Called with every API request before it is answered; return an action to misbehave. */
  onRequest?: ((req: IncomingRequest) => ServerAction | undefined) | undefined;
  /** The answer's text (default: structured-output sample, or a line about what was seen). */
  reply?: ((req: IncomingRequest) => string) | undefined;
  /** Image billing (default: the omniprep registry's rule for the model at the image's real size). */
  imageTokens?: ((img: ImageInfo) => number) | undefined;
  /** Pixel size of an image given by URL (the server fetches nothing). */
  urlImageSize?: ((url: string) => { width: number; height: number } | undefined) | undefined;
  /** Milliseconds a batch spends in_progress before it completes (default 0). */
  batchDelayMs: number;
}

export interface RequestRecord {
  seq: number;
  path: string;
  /** `performance.now()` when the request arrived and when it was answered. */
  receivedAt: number;
  finishedAt?: number;
  status?: number;
  /** Prompt tokens the server measured, and the output bound the request set (0 when none). */
  promptTokens: number;
  maxOutputTokens: number;
  outputTokens: number;
  text: string;
  closedByClient: boolean;
  /** The OpenAI-Organization and OpenAI-Project headers, when sent. */
  organization?: string;
  project?: string;
}

export interface ServerStats {
  inFlight: number;
  maxInFlight: number;
  /** Requests received on the model routes (valid or not). */
  total: number;
  records: RequestRecord[];
  /** Bodies refused by the schema validator: path and message. */
  invalid: Array<{ path: string; message: string }>;
}

/** The largest sum of `weight` over requests that arrived within any window of `windowMs` (half-open). */
export function maxInWindow<T extends { receivedAt: number }>(items: readonly T[], windowMs: number, weight: (r: T) => number): number {
  const sorted = [...items].sort((a, b) => a.receivedAt - b.receivedAt);
  let best = 0;
  let sum = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    sum += weight(sorted[hi]!);
    while (sorted[hi]!.receivedAt - sorted[lo]!.receivedAt >= windowMs) sum -= weight(sorted[lo++]!);
    best = Math.max(best, sum);
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  bytes: Buffer;
  createdAt: number;
}

type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed';

interface StoredBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  model?: string;
  errors?: { object: 'list'; data: Array<{ code: string; message: string; line: number | null; param: string | null }> };
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

export interface TestServerOptions {
  /** Registry the server bills with (default: the process registry). */
  registry?: ModelRegistry;
  /** Largest request body in bytes (default 600 MB). */
  bodyLimit?: number;
  control?: Partial<ServerControl>;
}

export interface OpenAITestServer {
  /** `http://127.0.0.1:<port>/v1`: the `baseURL` for the SDK. */
  baseURL: string;
  control: ServerControl;
  stats: ServerStats;
  files: Map<string, StoredFile>;
  batches: Map<string, StoredBatch>;
  /** Largest prompt tokens + output bound received in any `windowMs` (by arrival time). */
  maxTokensInWindow(windowMs: number): number;
  maxRequestsInWindow(windowMs: number): number;
  /** Waits until no request is in flight (or `timeoutMs` passes); returns the count then. */
  settled(timeoutMs?: number): Promise<number>;
  /** Clears statistics and control (files and batches stay). */
  reset(): void;
  close(): Promise<void>;
}

const now = (): number => Math.floor(Date.now() / 1000);
const newId = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;

function openaiError(status: number, message: string, code: string | null, param: string | null = null): { error: Record<string, unknown> } {
  const type = status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param, code } };
}

export async function startOpenAITestServer(options: TestServerOptions = {}): Promise<OpenAITestServer> {
  const validator = specValidator();
  const reg = (): ModelRegistry => options.registry ?? processRegistry();
  const defaults = (): ServerControl => ({ latencyMs: 0, batchDelayMs: 0 });
  const control: ServerControl = { ...defaults(), ...options.control };
  const stats: ServerStats = { inFlight: 0, maxInFlight: 0, total: 0, records: [], invalid: [] };
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, StoredBatch>();
  const attemptsByText = new Map<string, number>();
  const releases = new Set<() => void>();
  let seq = 0;
  let closing = false;

  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 600 * 1024 * 1024, forceCloseConnections: true });
  await app.register(multipart, { limits: { fileSize: options.bodyLimit ?? 600 * 1024 * 1024 } });
  // Unparseable JSON, bodies over the limit, unknown routes: OpenAI-style errors too.
  app.setErrorHandler((err: { statusCode?: number; message: string }, _request, reply) => {
    const status = err.statusCode ?? 500;
    void reply.code(status).send(openaiError(status, err.message, status === 400 ? 'invalid_json' : null));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(openaiError(404, `Invalid URL (${request.method} ${request.url})`, 'unknown_url'));
  });

  /** Waits `ms`, or until the client goes away or the server closes; true when the wait was cut short. */
  const wait = (ms: number, reply: FastifyReply | undefined): Promise<boolean> =>
    new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (cut: boolean): void => {
        if (timer) clearTimeout(timer);
        releases.delete(release);
        reply?.raw.off('close', onClose);
        resolve(cut);
      };
      const release = (): void => done(true);
      const onClose = (): void => {
        if (!reply?.raw.writableFinished) done(true);
      };
      releases.add(release);
      reply?.raw.on('close', onClose);
      if (Number.isFinite(ms)) timer = setTimeout(() => done(false), ms);
    });

  /** Answers one API request (a route call, or a batch line): the status and the JSON body. */
  async function answer(
    api: 'chat' | 'responses',
    body: unknown,
    reply: FastifyReply | undefined,
    record: RequestRecord,
    customId?: string,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const path = api === 'chat' ? '/v1/chat/completions' : '/v1/responses';
    const check = validator.validate(api, body);
    if (!check.valid) {
      stats.invalid.push({ path, message: check.message });
      return { status: 400, body: openaiError(400, `Invalid request body: ${check.message}`, 'invalid_request_body') };
    }
    const b = body as Record<string, unknown>;
    let m: Measured;
    try {
      m = await measure(api, b, reg(), control);
    } catch (e) {
      if (e instanceof RequestProblem) return { status: e.status, body: openaiError(e.status, e.message, e.code, e.param) };
      throw e;
    }
    record.promptTokens = m.promptTokens;
    record.maxOutputTokens = m.maxOutputTokens;
    record.text = m.text;
    const previousAttempts = attemptsByText.get(m.text) ?? 0;
    attemptsByText.set(m.text, previousAttempts + 1);
    const incoming: IncomingRequest = { seq: record.seq, path, body: b, text: m.text, previousAttempts, ...(customId ? { customId } : {}) };
    const action = control.onRequest?.(incoming);
    let latency = control.latencyMs;
    let replyText: string | undefined;
    if (action) {
      if ('hang' in action) {
        await wait(Infinity, reply);
        return { status: 504, body: openaiError(504, 'The server hung up (test server: hang).', 'timeout') };
      }
      if ('status' in action) {
        if (latency > 0 && reply) await wait(latency, reply);
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
        const code = action.status === 429 ? 'rate_limit_exceeded' : action.status === 400 ? ((action as { code?: string }).code ?? 'invalid_request') : null;
        return { status: action.status, body: openaiError(action.status, message, code), headers };
      }
      if (action.latencyMs !== undefined) latency = action.latencyMs;
      replyText = action.reply;
    }
    if (latency > 0 && reply) {
      const cut = await wait(latency, reply);
      if (cut) return { status: 499, body: openaiError(499, 'Client closed the request.', null) };
    }
    const text =
      replyText ??
      control.reply?.(incoming) ??
      (m.schema ? JSON.stringify(sampleFor(m.schema)) : `Seen ${m.images} images and ${Math.round(m.audioSeconds * 10) / 10} s of audio.`);
    const model = reg().get(m.model);
    const outputTokens = textTokens(model, text);
    record.outputTokens = outputTokens;
    const created = now();
    if (api === 'chat') {
      return {
        status: 200,
        body: {
          id: newId('chatcmpl-'),
          object: 'chat.completion',
          created,
          model: m.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
          usage: {
            prompt_tokens: m.promptTokens,
            completion_tokens: outputTokens,
            total_tokens: m.promptTokens + outputTokens,
            prompt_tokens_details: { cached_tokens: 0, audio_tokens: m.audioTokens },
            completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
          },
          service_tier: 'default',
          system_fingerprint: 'fp_omniprep_test',
        },
      };
    }
    return {
      status: 200,
      body: {
        id: newId('resp_'),
        object: 'response',
        created_at: created,
        status: 'completed',
        completed_at: created,
        error: null,
        incomplete_details: null,
        instructions: b.instructions ?? null,
        max_output_tokens: b.max_output_tokens ?? null,
        model: m.model,
        output: [
          {
            type: 'message',
            id: newId('msg_'),
            status: 'completed',
            role: 'assistant',
            content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
          },
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
          input_tokens: m.promptTokens,
          input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
          output_tokens: outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: m.promptTokens + outputTokens,
        },
        metadata: {},
      },
    };
  }

  const modelRoute = (api: 'chat' | 'responses') => async (request: FastifyRequest, reply: FastifyReply) => {
    const record: RequestRecord = {
      seq: ++seq,
      path: request.url,
      receivedAt: performance.now(),
      promptTokens: 0,
      maxOutputTokens: 0,
      outputTokens: 0,
      text: '',
      closedByClient: false,
    };
    const org = request.headers['openai-organization'];
    const project = request.headers['openai-project'];
    if (typeof org === 'string') record.organization = org;
    if (typeof project === 'string') record.project = project;
    stats.total++;
    stats.records.push(record);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let counted = true;
    const leave = (): void => {
      if (!counted) return;
      counted = false;
      stats.inFlight--;
      record.finishedAt = performance.now();
    };
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) record.closedByClient = true;
      leave();
    });
    try {
      const out = await answer(api, request.body, reply, record);
      record.status = out.status;
      if (record.closedByClient || closing) return reply.hijack();
      void reply.code(out.status).headers({ 'x-request-id': newId('req_'), ...(out.headers ?? {}) });
      return out.body;
    } finally {
      leave();
    }
  };

  app.post('/v1/chat/completions', modelRoute('chat'));
  app.post('/v1/responses', modelRoute('responses'));

  app.post('/v1/files', async (request, reply) => {
    let purpose: string | undefined;
    let file: { filename: string; bytes: Buffer } | undefined;
    for await (const part of request.parts()) {
      if (part.type === 'file') file = { filename: part.filename, bytes: await part.toBuffer() };
      else if (part.fieldname === 'purpose') purpose = String(part.value);
    }
    const check = validator.validate('file', { purpose, ...(file ? { file: file.filename } : {}) });
    if (!check.valid || !file) {
      return reply.code(400).send(openaiError(400, `Invalid file upload: ${file ? check.message : 'no file part'}`, 'invalid_request_body'));
    }
    const stored: StoredFile = { id: newId('file-'), filename: file.filename, purpose: purpose!, bytes: file.bytes, createdAt: now() };
    files.set(stored.id, stored);
    return fileObject(stored);
  });

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

  app.get<{ Params: { id: string } }>('/v1/files/:id', async (request, reply) => {
    const f = files.get(request.params.id);
    if (!f) return reply.code(404).send(openaiError(404, `No such File object: ${request.params.id}`, null, 'id'));
    return fileObject(f);
  });

  app.get<{ Params: { id: string } }>('/v1/files/:id/content', async (request, reply) => {
    const f = files.get(request.params.id);
    if (!f) return reply.code(404).send(openaiError(404, `No such File object: ${request.params.id}`, null, 'id'));
    return reply.header('content-type', 'application/octet-stream').send(f.bytes);
  });

  app.post('/v1/batches', async (request, reply) => {
    const check = validator.validate('batch', request.body);
    if (!check.valid) return reply.code(400).send(openaiError(400, `Invalid request body: ${check.message}`, 'invalid_request_body'));
    const body = request.body as { input_file_id: string; endpoint: string; completion_window: string; metadata?: Record<string, string> };
    const input = files.get(body.input_file_id);
    if (!input) return reply.code(404).send(openaiError(404, `No such File object: ${body.input_file_id}`, null, 'input_file_id'));
    if (input.purpose !== 'batch')
      return reply.code(400).send(openaiError(400, `File ${input.id} was not uploaded with purpose batch.`, 'invalid_file', 'input_file_id'));
    if (body.endpoint !== '/v1/chat/completions' && body.endpoint !== '/v1/responses') {
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
    setImmediate(() => void runBatch(batch, input));
    return batch;
  });

  app.get<{ Params: { id: string } }>('/v1/batches/:id', async (request, reply) => {
    const b = batches.get(request.params.id);
    if (!b) return reply.code(404).send(openaiError(404, `No such Batch object: ${request.params.id}`, null, 'id'));
    return b;
  });

  /** Validates the JSONL like the Batch API (a malformed file fails the whole batch), then answers each line. */
  async function runBatch(batch: StoredBatch, input: StoredFile): Promise<void> {
    const lines = input.bytes
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim());
    const fail = (errors: NonNullable<StoredBatch['errors']>['data']): void => {
      batch.status = 'failed';
      batch.failed_at = now();
      batch.errors = { object: 'list', data: errors };
    };
    type Line = { custom_id: string; method: string; url: string; body: Record<string, unknown> };
    const parsed: Line[] = [];
    const ids = new Set<string>();
    const models = new Set<string>();
    const problems: NonNullable<StoredBatch['errors']>['data'] = [];
    lines.forEach((text, i) => {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        problems.push({ code: 'invalid_json_line', message: `Line ${i + 1} is not valid JSON.`, line: i + 1, param: null });
        return;
      }
      if (typeof line.custom_id !== 'string' || !line.custom_id)
        problems.push({ code: 'missing_custom_id', message: `Line ${i + 1} has no custom_id.`, line: i + 1, param: 'custom_id' });
      else if (ids.has(line.custom_id))
        problems.push({ code: 'duplicate_custom_id', message: `The custom_id ${line.custom_id} is used more than once.`, line: i + 1, param: 'custom_id' });
      ids.add(line.custom_id);
      if (line.method !== 'POST') problems.push({ code: 'invalid_method', message: `Line ${i + 1}: method must be POST.`, line: i + 1, param: 'method' });
      if (line.url !== batch.endpoint)
        problems.push({
          code: 'mismatched_url',
          message: `Line ${i + 1}: url ${line.url} differs from the batch endpoint ${batch.endpoint}.`,
          line: i + 1,
          param: 'url',
        });
      if (line.body && typeof line.body.model === 'string') models.add(line.body.model);
      parsed.push(line);
    });
    if (!lines.length) problems.push({ code: 'empty_file', message: 'The input file is empty.', line: null, param: null });
    if (models.size > 1)
      problems.push({ code: 'model_mismatch', message: `A batch file must use one model; it uses ${[...models].join(', ')}.`, line: null, param: 'model' });
    if (problems.length) return fail(problems);
    batch.model = [...models][0];
    batch.status = 'in_progress';
    batch.in_progress_at = now();
    batch.request_counts.total = parsed.length;
    if (control.batchDelayMs > 0) await wait(control.batchDelayMs, undefined);
    const out: string[] = [];
    const err: string[] = [];
    let inTok = 0;
    let outTok = 0;
    for (const line of parsed) {
      const record: RequestRecord = {
        seq: ++seq,
        path: line.url,
        receivedAt: performance.now(),
        promptTokens: 0,
        maxOutputTokens: 0,
        outputTokens: 0,
        text: '',
        closedByClient: false,
      };
      stats.records.push(record);
      const res = await answer(line.url === '/v1/chat/completions' ? 'chat' : 'responses', line.body, undefined, record, line.custom_id);
      record.status = res.status;
      record.finishedAt = performance.now();
      const entry = JSON.stringify({
        id: newId('batch_req_'),
        custom_id: line.custom_id,
        response: { status_code: res.status, request_id: newId('req_'), body: res.body },
        error: null,
      });
      if (res.status === 200) {
        out.push(entry);
        batch.request_counts.completed++;
        inTok += record.promptTokens;
        outTok += record.outputTokens;
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

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('test server: no TCP address');

  const apiRecords = (): RequestRecord[] => stats.records.filter((r) => r.path === '/v1/chat/completions' || r.path === '/v1/responses');

  return {
    baseURL: `http://127.0.0.1:${address.port}/v1`,
    control,
    stats,
    files,
    batches,
    maxTokensInWindow: (windowMs) => maxInWindow(apiRecords(), windowMs, (r) => r.promptTokens + r.maxOutputTokens),
    maxRequestsInWindow: (windowMs) => maxInWindow(apiRecords(), windowMs, () => 1),
    async settled(timeoutMs = 2000) {
      const end = performance.now() + timeoutMs;
      while (stats.inFlight > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
      return stats.inFlight;
    },
    reset() {
      Object.assign(control, { onRequest: undefined, reply: undefined, imageTokens: undefined, urlImageSize: undefined }, defaults());
      stats.inFlight = 0;
      stats.maxInFlight = 0;
      stats.total = 0;
      stats.records = [];
      stats.invalid = [];
      attemptsByText.clear();
      seq = 0;
    },
    async close() {
      closing = true;
      for (const release of [...releases]) release();
      await app.close();
    },
  };
}
