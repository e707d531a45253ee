/**
 * The provider adapter: everything omniprep knows about one provider, behind one interface (its
 * APIs, request rendering, client creation and call, usage parsing, error classification, batch
 * format and submission). src/request/, src/dispatch/ and src/batch/ reach a provider only through
 * its adapter, looked up in the `PROVIDERS` table (./registry.ts).
 */
import type { AnthropicClient } from './anthropic/shapes.js';
import type { GeminiClient } from './gemini/shapes.js';
import type { OpenAIClient } from './openai/shapes.js';
import type { Api, Provider } from '../models/constants.js';
import type { ModelEntry, Tier } from '../models/registry.js';
import type { Failure } from './failure.js';
import type { Part, PayloadOf } from './parts.js';

export type { Api, Provider };

/** A JSON Schema object (any draft Ajv reads). */
export type JsonSchema = Record<string, unknown>;

/** What rendering a body needs of the request options. */
export interface RenderOptions {
  model: ModelEntry;
  system: string | undefined;
  maxOutputTokens: number | undefined;
  schema: JsonSchema | undefined;
  schemaName: string;
  strict: boolean;
  tier: Tier;
}

/** Token usage as every API reports it. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cachedTokens: number;
  /** Audio input tokens, when the server says (Chat Completions, Gemini). */
  audioTokens: number;
  reasoningTokens: number;
}

export interface ModelAnswer {
  text: string;
  usage: Usage | undefined;
  /** The server's id of the answer. */
  responseId: string;
  raw: unknown;
}

export interface ClientOptions {
  /** Default: the provider's environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, ...). */
  apiKey?: string | undefined;
  /** The provider's server, e.g. `http://127.0.0.1:8000/v1`. Default: the provider's environment variable, else the provider. */
  baseURL?: string | undefined;
  organization?: string | undefined;
  project?: string | undefined;
  /** Per attempt, in ms (default 120,000). */
  timeoutMs?: number | undefined;
  /** An OpenAI client made elsewhere (its own retries should be off). */
  client?: OpenAIClient | undefined;
  /** An Anthropic client made elsewhere (maxRetries 0). */
  anthropicClient?: AnthropicClient | undefined;
  /** A Gemini client made elsewhere (no retryOptions). */
  geminiClient?: GeminiClient | undefined;
}

/** Where a provider's client finds its server and key when none is given. */
export interface ProviderEnv {
  baseURL: string;
  apiKey: readonly string[];
  /** Whether the provider's own server is the default (a key is then what a call needs); a local server has none and needs its URL. */
  hosted: boolean;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/** A batch's state in omniprep's words (`done`: it will not change any more). */
export interface BatchState {
  id: string;
  /** The provider's own state word (`completed`, `ended`, `JOB_STATE_SUCCEEDED`, ...). */
  status: string;
  done: boolean;
  endpoint: string;
  inputFileId: string;
  /** OpenAI: the output file; Gemini: the results file, once there is one. */
  outputFileId: string | null;
  errorFileId: string | null;
  requestCounts: { total: number; completed: number; failed: number };
  /** Problems that failed the whole batch (a malformed file), one line each. */
  errors: string[];
  createdAt: number;
  completedAt: number | null;
}

/** One result line of a batch, in the Batch API's output shape (every provider's results are read into it). */
export interface BatchOutputLine {
  custom_id?: string;
  response?: { status_code?: number; body?: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

/** One shard to submit: the JSONL file and its bytes. */
export interface BatchShard {
  path: string;
  /** The file's name beside its mapping (a display name). */
  file: string;
  bytes: Buffer;
  model: ModelEntry;
  /** The endpoint every line goes to (the mapping's). */
  endpoint: string;
  metadata?: Record<string, string> | undefined;
}

export interface SubmittedShard {
  fileId?: string | undefined;
  batchId: string;
  status: string;
}

/** A provider's batch API: the JSONL line, submission, state and results. */
export interface BatchApi {
  /** One JSONL line of a request. */
  line(customId: string, request: { url: string; body: unknown }): unknown;
  /** The custom id as the provider allows it (default: as it is). */
  customId?(id: string): string;
  /** Bytes the submission adds around a shard's lines (the shard is kept that much under the limit). */
  wrapBytes: number;
  /** Whether submission uploads a file first (a file with a batch id but no file id is then submitted again). */
  uploadsFile: boolean;
  /** Set when the file is run offline (no batch endpoint): why, and what runs it; submission is refused. */
  offline?: string | undefined;
  /** Whether a batch id is this provider's (`msgbatch_...`, `batches/...`). */
  ownsId?(id: string): boolean;
  /** The API of a mapping's endpoint. */
  apiOf(endpoint: string): Api;
  /** Submits one shard; `uploaded` is told the file id as soon as there is one. */
  submit(client: unknown, shard: BatchShard, uploaded: (fileId: string) => void): Promise<SubmittedShard>;
  state(client: unknown, id: string): Promise<BatchState>;
  /** Every result line (none while the batch runs, where the provider gives none then). */
  results(client: unknown, state: BatchState): Promise<BatchOutputLine[]>;
}

export interface ProviderAdapter {
  name: Provider;
  /** The APIs it speaks, the default first. */
  apis: readonly Api[];
  /** The registry's `provider` values whose models it sends unless told otherwise. */
  registryProviders: readonly string[];
  /**
   * Whether its API is spoken for models the registry lists under another provider (an
   * OpenAI-compatible gateway or a local server); Anthropic's and Gemini's take their own models only.
   */
  foreignModels: boolean;
  /** The environment variables its client reads when no `baseURL` or `apiKey` is given (the keys in order). */
  env: ProviderEnv;
  /** The API of a request, given whether audio is sent as audio. */
  defaultApi(audio: boolean): Api;
  /** The endpoint of an API for a model (records and batch mappings). */
  url(api: Api, model: ModelEntry): string;
  /** Whether media payloads are bare base64 beside their MIME type (not data URLs). */
  barePayload: boolean;
  renderPart(api: Api, part: Part, payloadOf: PayloadOf, o: RenderOptions, where: string): unknown;
  renderBody(api: Api, parts: readonly Part[], payloadOf: PayloadOf, o: RenderOptions, where: string): unknown;
  /** A body as the provider's HTTP API takes it (default: the body itself; Gemini's SDK arguments become its REST body). */
  wireBody?(body: unknown): unknown;
  /** The model as this provider bills it, with a note when it has no price (default: as the registry says). */
  billing?(model: ModelEntry): { model: ModelEntry; note?: string };
  /** A client made elsewhere and given in the options, if any. */
  givenClient?(o: ClientOptions): unknown;
  /** A new SDK client (the SDK loads here, on first use). */
  createClient(o: ClientOptions & { timeoutMs: number }): Promise<unknown>;
  /** One call, no retries; rejects with the SDK's error. */
  call(client: unknown, api: Api, body: unknown, o: CallOptions): Promise<ModelAnswer>;
  /** Text and usage of an answer body (also a batch result's). */
  answer(api: Api, body: unknown): ModelAnswer;
  /** The SDK's error classes' base class name (Stainless SDKs), for the shared checks. */
  sdkErrorBase?: string;
  /** Its SDK's HTTP errors as a failure; undefined for an error that is not its SDK's. */
  classify(e: unknown): Failure | undefined;
  batch?: BatchApi | undefined;
}
