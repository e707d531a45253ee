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

/** Bounds on one eval: what a body may ask for before anything is read. */
export const EVAL_LIMITS = { videos: 32, questions: 2000, plans: 64, asks: 20_000, needles: 1000 };

const numbers = (what: string) => ({ type: 'array', minItems: 1, maxItems: 32, items: { type: 'number' }, description: what }) as const;
const strings = (what: string) => ({ type: 'array', minItems: 1, maxItems: 32, items: { type: 'string', maxLength: 200 }, description: what }) as const;

/** POST /v1/evals: the videos, the question set (or needles), the plan grid and how to run it. */
export const evalBody = {
  type: 'object',
  additionalProperties: false,
  required: ['videos'],
  properties: {
    videos: {
      type: 'array',
      minItems: 1,
      maxItems: EVAL_LIMITS.videos,
      description:
        "the eval's videos: each a path under --allow-root, a URL (read whole), or an upload id; `name` is what questions call it (default the file name)",
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { ...(({ options: _o, ...rest }) => rest)(inputProps), name: { type: 'string', minLength: 1, maxLength: 255 } },
      },
    },
    questions: {
      description:
        "the question set: JSONL text (one {id, video, question, choices?, answer, scoring?, ...} a line), Video-MME's JSON as text ([{video_id, questions}]: video_id names a video), or an array of question objects; each question's `video` is a video's name",
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, maxItems: EVAL_LIMITS.questions, items: { type: 'object' } },
      ],
    },
    needles: {
      type: 'integer',
      description: 'instead of questions: burn N code words into a copy of the one video and ask for each (as `omniprep eval --needles`)',
    },
    seed: { type: 'integer', minimum: 0, description: 'seed of the needles (default 1)' },
    grid: {
      type: 'object',
      additionalProperties: false,
      description: 'the plan grid: every combination is one plan (the lists of `omniprep eval`)',
      properties: {
        every: numbers('seconds between frames (default [5])'),
        mode: strings('sampling modes (default [keyframe])'),
        maxSide: numbers("largest image sides in px (default the model's size)"),
        detail: strings("detail levels (default each model's auto)"),
        models: strings('models (default [gpt-5.5])'),
        send: strings('frames and/or video (default [frames])'),
      },
    },
    budgetUsd: { type: 'number', description: 'refused at once when the estimate is over; sending stops before the request that would go over' },
    judgeModel: { type: 'string', maxLength: 200, description: "the model that grades questions with scoring judge (default each plan's model)" },
    judgeRubric: { type: 'string', maxLength: 65536, description: "the judge's rubric" },
    outputTokens: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'output tokens each answer is estimated at (default 100)' },
    concurrency: { type: 'integer', description: 'questions in flight at once (default 8)' },
    targetAccuracy: { type: 'number', description: 'recommend the cheapest plan with at least this accuracy (0-1)' },
    dryRun: { type: 'boolean', description: 'answer 200 with the estimate and run nothing' },
  },
} as const;

const evalPlan = {
  type: 'object',
  additionalProperties: true,
  description:
    'one plan of the grid: every, mode, model, detail, send, maxSide, and (after a run) its questions, answered, correct, accuracy, ci95, estimatedUsd, billedUsd, judgeUsd, inputTokens, frames, latencyMs',
} as const;

/** The estimate, as `omniprep eval --dry-run --json` prints it. */
export const evalEstimateSchema = {
  $id: 'EvalEstimate',
  type: 'object',
  additionalProperties: true,
  required: ['plans', 'frontier', 'recommended', 'requests', 'total'],
  properties: {
    plans: { type: 'array', items: evalPlan },
    frontier: { type: 'array', items: { type: 'integer' } },
    recommended: { type: ['integer', 'null'] },
    requests: anyObject,
    total: { ...anyObject, description: 'estimatedUsd, estimatedInputTokens, estimatedJudgeUsd (and after a run billedUsd, judgeUsd)' },
  },
} as const;

export const evalSchema = {
  $id: 'Eval',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'state', 'createdAt', 'estimate'],
  properties: {
    id: { type: 'string' },
    state: jobSchema.properties.state,
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
    attempts: { type: 'integer' },
    progress: {
      ...anyObject,
      description:
        'stage; questionsDone of questionsTotal (each question once per plan); spentUsd; answer: the last answer ({plan, question, answered, correct, billedUsd})',
    },
    estimate: { $ref: 'EvalEstimate#' },
    spentUsd: { type: 'number', description: "dollars billed so far (the judge's included)" },
    videos: { type: 'array', items: { type: 'string' }, description: 'the names of the videos' },
    questions: { type: 'integer' },
    plans: { type: 'integer' },
    grid: anyObject,
    settings: { ...anyObject, description: 'budgetUsd, outputTokens, concurrency, judgeModel, targetAccuracy, needles' },
    warnings: { type: 'array', items: { type: 'string' } },
    summary: { ...nullableObject, description: 'once it has succeeded: the report (plans, frontier, recommended, requests, total), and why sending stopped' },
    error: jobSchema.properties.error,
    links: anyObject,
  },
} as const;

/** GET /v1/evals/:id/results. */
export const evalResultsSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['id', 'plans', 'frontier', 'recommended', 'questions'],
  properties: {
    id: { type: 'string' },
    plans: {
      type: 'array',
      items: {
        ...evalPlan,
        description: `${evalPlan.description}; its label (what sets it apart from the other plans, as the chart names it); onFrontier and recommended flags`,
      },
    },
    frontier: { type: 'array', items: { type: 'integer' }, description: 'indices of the plans on the frontier, cheapest first' },
    recommended: { type: ['integer', 'null'] },
    requests: anyObject,
    total: anyObject,
    stopped: { type: ['string', 'null'], description: 'why sending stopped (the budget), when it did' },
    warnings: { type: 'array', items: { type: 'string' } },
    questions: {
      type: 'array',
      description: 'per question: which plan got it right, and the frame times (s) that plan sent',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          id: { type: 'string' },
          video: { type: 'string' },
          question: { type: 'string' },
          expected: { type: 'string' },
          plans: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: true,
              properties: {
                plan: { type: 'integer' },
                answered: { type: 'boolean' },
                correct: { type: 'boolean' },
                answer: { type: ['string', 'null'] },
                frameTimes: { type: 'array', items: { type: 'number' } },
              },
            },
          },
        },
      },
    },
  },
} as const;

export const sharedSchemas = [jobOptionsSchema, errorSchema, planSummarySchema, jobSchema, evalEstimateSchema, evalSchema] as const;
