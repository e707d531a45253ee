/**
 * Request and response schemas: Fastify validates with them and @fastify/swagger writes
 * /docs/json from them, so the checks and the docs come from one source. The job options mirror
 * the library's PlanOptions (sampling, model, prompt, budget, audio) plus what a job does after
 * preparing (`call`).
 */
import { groupJsonSchema } from '../options/define.js';
import { JOB_OPTION_GROUPS } from './options.js';

export const jobOptionsSchema = groupJsonSchema(
  'JobOptions',
  'What to prepare, as in the library (plan/sample/prepare options), and whether to call the model.',
  ...JOB_OPTION_GROUPS,
);

const inputProps = {
  path: { type: 'string', minLength: 1, maxLength: 4096, description: "a file under one of the server's --allow-root directories" },
  url: {
    type: 'string',
    minLength: 1,
    maxLength: 8192,
    description:
      'an http(s) URL the server reads itself (SSRF-checked): an MP4/MOV or Matroska/WebM by byte ranges when its server answers them, anything else downloaded; with --store, also s3://BUCKET/KEY in the service bucket',
  },
  upload: { type: 'string', minLength: 1, maxLength: 64, description: 'the id POST /v1/uploads gave (the file is not sent again)' },
  options: { $ref: 'JobOptions#' },
} as const;

/** JSON body of POST /v1/jobs and POST /v1/plan: one of path or url, and options. */
export const jsonInputSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'exactly one of path, url or upload, and options',
  properties: inputProps,
} as const;

/** Documents the multipart form (not validated by Fastify: the fields are read as a stream). */
export const multipartInputSchema = {
  description: 'a file upload: the field `file`, and `options` as a JSON string (JobOptions)',
  properties: {
    file: { type: 'string', format: 'binary' },
    options: { type: 'string', description: 'JobOptions as JSON' },
  },
} as const;

export const inputBody = {
  content: {
    'application/json': { schema: jsonInputSchema },
    'multipart/form-data': { schema: multipartInputSchema },
  },
} as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

const anyObject = { type: 'object', additionalProperties: true } as const;
const nullableObject = { type: ['object', 'null'], additionalProperties: true } as const;

export const planSummarySchema = {
  $id: 'PlanSummary',
  type: 'object',
  additionalProperties: true,
  description: 'The estimate: plan() from metadata alone (no decoding)',
  properties: {
    model: { type: 'string' },
    mode: { type: 'string' },
    detail: { type: 'string' },
    every: { type: 'number' },
    frames: { type: 'integer' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    imageTokens: { type: 'integer' },
    audioSeconds: { type: 'number' },
    audioTokens: { type: 'integer' },
    textTokens: { type: 'integer' },
    inputTokens: { type: 'integer' },
    outputTokens: { type: 'integer' },
    costUsd: { type: 'number' },
    requests: { type: 'integer' },
  },
} as const;

export const jobSchema = {
  $id: 'Job',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'state', 'createdAt'],
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] },
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
    attempts: { type: 'integer', description: 'times a worker started the job' },
    worker: { type: ['string', 'null'] },
    input: anyObject,
    options: anyObject,
    progress: anyObject,
    plan: { $ref: 'PlanSummary#' },
    result: nullableObject,
    estimate: { ...anyObject, description: 'estimated (the plan) against actual (what was written and, when called, billed)' },
    error: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
    links: anyObject,
  },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
} as const;

export const frameParams = {
  type: 'object',
  required: ['id', 'n'],
  properties: { id: idParams.properties.id, n: { type: 'integer', minimum: 0 } },
} as const;

export const errorResponses = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  410: { $ref: 'Error#' },
  413: { $ref: 'Error#' },
  415: { $ref: 'Error#' },
  422: { $ref: 'Error#' },
  429: { $ref: 'Error#' },
  500: { $ref: 'Error#' },
  502: { $ref: 'Error#' },
  503: { $ref: 'Error#' },
  504: { $ref: 'Error#' },
  507: { $ref: 'Error#' },
} as const;

export const sharedSchemas = [jobOptionsSchema, errorSchema, planSummarySchema, jobSchema] as const;

/** POST /v1/uploads as JSON (with --store): a presigned PUT, or a presigned multipart upload. */
export const uploadBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 255, description: "the file's name (its extension is kept)" },
    size: { type: 'integer', minimum: 1, description: 'its size in bytes: over 64 MiB, a multipart upload (needed for one)' },
    multipart: { type: 'boolean', description: 'a multipart upload whatever the size' },
  },
} as const;

export const uploadInput = {
  content: {
    'multipart/form-data': {
      schema: { description: 'the file, in the field `file`: stored once by its SHA-256', properties: { file: { type: 'string', format: 'binary' } } },
    },
    'application/json': { schema: uploadBody },
  },
} as const;

export const uploadSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['id'],
  properties: {
    id: { type: 'string', description: 'give it to POST /v1/jobs or /v1/plan as { "upload": ID }' },
    sha256: { type: ['string', 'null'], description: "the bytes' SHA-256 (null for a presigned upload)" },
    size: { type: 'integer' },
    name: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'ready'] },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time', description: 'unless a job holds it; each use moves it on by --upload-ttl' },
    deduplicated: { type: 'boolean', description: 'the same bytes were uploaded already: this is that upload, nothing was stored twice' },
    url: { type: 'string', description: 'a presigned PUT: PUT the file here (no other header needed)' },
    method: { type: 'string', enum: ['PUT', 'multipart'] },
    partSize: { type: 'integer', description: 'multipart: every part but the last has this many bytes' },
    parts: {
      type: 'array',
      items: { type: 'object', properties: { partNumber: { type: 'integer' }, url: { type: 'string' } } },
      description: 'multipart: PUT each part to its URL, keep the ETag header each answers',
    },
    complete: { type: 'string', description: 'multipart: POST { parts: [{ partNumber, etag }] } here once every part is sent' },
    expiresInSec: { type: 'number', description: 'how long the presigned URLs work' },
  },
} as const;

export const uploadParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
} as const;

export const completeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['parts'],
  properties: {
    parts: {
      type: 'array',
      minItems: 1,
      maxItems: 10_000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['partNumber', 'etag'],
        properties: { partNumber: { type: 'integer', minimum: 1, maximum: 10_000 }, etag: { type: 'string', minLength: 1, maxLength: 200 } },
      },
    },
  },
} as const;
