/**
 * The `openai` SDK, set up for omniprep: any OpenAI-compatible server (`baseURL`), the SDK's own
 * retries off (the dispatcher retries, so it can honour Retry-After and count each retry), and
 * answers reduced to their text and usage. `Clients` holds one SDK client per provider (the
 * Anthropic and Gemini ones from src/providers/clients.ts), made when first needed.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { GoogleGenAI } from '@google/genai';
import type OpenAI from 'openai';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { Response as ResponsesResponse } from 'openai/resources/responses/responses';
import { OmniprepError } from '../errors.js';
import type { Api } from '../request/options.js';
import type { ChatBody, GeminiBody, MessagesBody, RequestBody, ResponsesBody } from '../request/render.js';
import { geminiAnswer, messagesAnswer, type Usage } from '../providers/answers.js';
import { callAnthropic, callGemini, createAnthropicClient, createGeminiClient } from '../providers/clients.js';
import { apiProvider, type Provider } from '../providers/provider.js';

export type { Usage };

export interface ClientOptions {
  /** Default: OPENAI_API_KEY. */
  apiKey?: string | undefined;
  /** Any OpenAI-compatible server, e.g. `http://127.0.0.1:8000/v1`. Default: OPENAI_BASE_URL, else OpenAI. */
  baseURL?: string | undefined;
  organization?: string | undefined;
  project?: string | undefined;
  /** Per attempt, in ms (default 120,000). */
  timeoutMs?: number | undefined;
  /** A client made elsewhere (its own retries should be off). */
  client?: OpenAI | undefined;
  /** An Anthropic client made elsewhere (maxRetries 0). */
  anthropicClient?: Anthropic | undefined;
  /** A Gemini client made elsewhere (no retryOptions). */
  geminiClient?: GoogleGenAI | undefined;
}

export const CLIENT_DEFAULTS = { timeoutMs: 120_000 };

let openaiSdk: Promise<typeof import('openai')> | undefined;

/** An OpenAI client from the options; the SDK loads only when a client is made here. */
export async function createClient(o: ClientOptions = {}): Promise<OpenAI> {
  if (o.client) return o.client;
  const apiKey = o.apiKey ?? process.env.OPENAI_API_KEY;
  if (!apiKey) {
    throw new OmniprepError('INVALID_OPTION', 'option apiKey: no API key (set OPENAI_API_KEY, or pass --api-key on the command line, apiKey in code)', {
      details: { option: 'apiKey' },
    });
  }
  openaiSdk ??= import('openai');
  const { default: OpenAIClient } = await openaiSdk;
  return new OpenAIClient({
    apiKey,
    ...(o.baseURL ? { baseURL: o.baseURL } : {}),
    ...(o.organization ? { organization: o.organization } : {}),
    ...(o.project ? { project: o.project } : {}),
    timeout: o.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
    maxRetries: 0,
  });
}

export interface ModelAnswer {
  text: string;
  usage: Usage | undefined;
  /** The server's id of the answer. */
  responseId: string;
  raw: unknown;
}

/**
 * One SDK client per provider, made on first use from the same options: `apiKey` and `baseURL`
 * go to the provider of the requests (one dispatch usually talks to one provider); without them
 * each SDK reads its own environment variables.
 */
export class Clients {
  private openaiClient: Promise<OpenAI> | undefined;
  private anthropicClient: Promise<Anthropic> | undefined;
  private geminiClient: Promise<GoogleGenAI> | undefined;

  constructor(private readonly o: ClientOptions = {}) {
    if (o.client) this.openaiClient = Promise.resolve(o.client);
    if (o.anthropicClient) this.anthropicClient = Promise.resolve(o.anthropicClient);
    if (o.geminiClient) this.geminiClient = Promise.resolve(o.geminiClient);
  }

  /** Each SDK loads when its first client is made (the OpenAI and Anthropic SDKs take ~0.1-0.3 s to load). */
  openai(): Promise<OpenAI> {
    this.openaiClient ??= createClient(this.o);
    return this.openaiClient;
  }

  anthropic(): Promise<Anthropic> {
    this.anthropicClient ??= createAnthropicClient({ ...this.o, timeoutMs: this.o.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs });
    return this.anthropicClient;
  }

  gemini(): Promise<GoogleGenAI> {
    this.geminiClient ??= createGeminiClient({ ...this.o, timeoutMs: this.o.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs });
    return this.geminiClient;
  }

  /** Makes the clients of these providers now (a missing API key is an error before anything is sent). */
  async prepare(providers: Iterable<Provider>): Promise<this> {
    for (const p of new Set(providers)) {
      if (p === 'openai') await this.openai();
      else if (p === 'anthropic') await this.anthropic();
      else await this.gemini();
    }
    return this;
  }
}

function chatAnswer(r: ChatCompletion): ModelAnswer {
  const u = r.usage;
  return {
    text: r.choices?.[0]?.message?.content ?? '',
    usage: u && {
      inputTokens: u.prompt_tokens,
      outputTokens: u.completion_tokens,
      totalTokens: u.total_tokens,
      cachedTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
      audioTokens: u.prompt_tokens_details?.audio_tokens ?? 0,
      reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
    },
    responseId: r.id,
    raw: r,
  };
}

function responsesAnswer(r: ResponsesResponse): ModelAnswer {
  const text = (r.output ?? [])
    .flatMap((item) => (item.type === 'message' ? (item.content ?? []) : []))
    .flatMap((c) => (c.type === 'output_text' ? [c.text] : []))
    .join('');
  const u = r.usage;
  return {
    text,
    usage: u && {
      inputTokens: u.input_tokens,
      outputTokens: u.output_tokens,
      totalTokens: u.total_tokens,
      cachedTokens: u.input_tokens_details?.cached_tokens ?? 0,
      audioTokens: 0,
      reasoningTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
    },
    responseId: r.id,
    raw: r,
  };
}

/** Text and usage of an answer body of any API (also a batch result's body). */
export function answerOf(api: Api, body: unknown): ModelAnswer {
  switch (api) {
    case 'chat':
      return chatAnswer(body as ChatCompletion);
    case 'responses':
      return responsesAnswer(body as ResponsesResponse);
    case 'messages':
      return { ...messagesAnswer(body as Anthropic.Message), raw: body };
    case 'gemini':
      return { ...geminiAnswer(body as Parameters<typeof geminiAnswer>[0]), raw: body };
  }
}

/** One call, no retries. Rejects with the SDK's error (the dispatcher classifies it). */
export async function callModel(
  client: OpenAI | Clients,
  request: { api: Api; body: RequestBody },
  o: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined } = {},
): Promise<ModelAnswer> {
  const clients = client instanceof Clients ? client : new Clients({ client });
  const provider = apiProvider(request.api);
  if (provider === 'anthropic') return callAnthropic(await clients.anthropic(), request.body as MessagesBody, o);
  if (provider === 'gemini') return callGemini(await clients.gemini(), request.body as GeminiBody, o);
  const openai = await clients.openai();
  const options = { ...(o.signal ? { signal: o.signal } : {}), ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}), maxRetries: 0 };
  if (request.api === 'chat') return chatAnswer(await openai.chat.completions.create(request.body as ChatBody, options));
  return responsesAnswer(await openai.responses.create(request.body as ResponsesBody, options));
}
