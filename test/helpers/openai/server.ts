/**
 * TEST CODE. An OpenAI-compatible server for omniprep's tests and benchmarks; it is not part of
 * the library and never talks to OpenAI. It stands on the base the Anthropic and Gemini test
 * servers share (../model-server.ts).
 *
 * - Routes: POST /v1/chat/completions, POST /v1/responses, and the Files and Batch APIs
 *   (./batches.ts): POST /v1/files (multipart, purpose batch), GET /v1/files/:id,
 *   GET /v1/files/:id/content, POST /v1/batches, GET /v1/batches/:id.
 * - Every JSON request body is validated against OpenAI's official OpenAPI description (kept in
 *   test/fixtures/openai-openapi.yaml.gz) with Ajv (./spec.ts). An invalid body gets 400 with an
 *   OpenAI-style error.
 * - Answers carry `usage` computed from the request itself (./adapter.ts, ../meter.ts): image
 *   parts by the omniprep registry's rule for the model at the image's real pixel size (read from
 *   the data URL with sharp), audio from the real duration of the WAV or MP3 bytes, text with the
 *   model's tokenizer and overhead. So tests can compare omniprep's estimates with what a server
 *   measured.
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
import type { FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import {
  type Action,
  type CoreOptions,
  DEFAULT_BODY_LIMIT,
  type Incoming,
  ModelServerCore,
  newId,
  type Record_,
  routeAnswer,
  type ServerSurface,
  type Stats,
} from '../model-server.js';
import { type Api, API_PATHS, openaiAdapter, type ServerControl } from './adapter.js';
import { batchRoutes, fileRoutes, type StoredBatch, type StoredFile } from './batches.js';

export { maxInWindow, sampleFor } from '../model-server.js';
export { mp3Seconds, wavSeconds } from '../audio-length.js';
export { describeErrors, OPENAPI_PATH, SPEC_SCHEMAS, type SpecCheck, type SpecSchema, type SpecValidator, specValidator, toJsonSchema } from './spec.js';
export type { ImageInfo, ServerControl } from './adapter.js';

/** A request as `control` sees it (the shared base's `Incoming`). */
export type IncomingRequest = Incoming;
/** What the server does with one request, instead of answering at once (the shared base's `Action`). */
export type ServerAction = Action;
export type RequestRecord = Record_;
export type ServerStats = Stats;
export type TestServerOptions = CoreOptions<ServerControl>;

export interface OpenAITestServer extends ServerSurface<ServerControl> {
  /** `http://127.0.0.1:<port>/v1`: the `baseURL` for the SDK. */
  baseURL: string;
  files: Map<string, StoredFile>;
  batches: Map<string, StoredBatch>;
}

export async function startOpenAITestServer(options: TestServerOptions = {}): Promise<OpenAITestServer> {
  const core = new ModelServerCore<ServerControl>(openaiAdapter, options);
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, StoredBatch>();
  await core.app.register(multipart, { limits: { fileSize: options.bodyLimit ?? DEFAULT_BODY_LIMIT } });

  const modelRoute = (api: Api) => (request: FastifyRequest, reply: FastifyReply) =>
    routeAnswer(
      core,
      API_PATHS[api],
      request.body,
      reply,
      () => ({ 'x-request-id': newId('req_') }),
      (record) => {
        const org = request.headers['openai-organization'];
        const project = request.headers['openai-project'];
        if (typeof org === 'string') record.organization = org;
        if (typeof project === 'string') record.project = project;
      },
    );
  core.app.post(API_PATHS.chat, modelRoute('chat'));
  core.app.post(API_PATHS.responses, modelRoute('responses'));
  fileRoutes(core.app, files);
  batchRoutes(core, files, batches);

  return { baseURL: `${await core.listen()}/v1`, ...core.surface(), files, batches };
}
