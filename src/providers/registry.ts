/**
 * The providers omniprep sends to, one adapter each, and the only place a provider is looked up by
 * name. Each model's registry entry names its provider (`openai`, `anthropic`, `google`, `local`,
 * `other`); `--provider` / `provider` may say otherwise (a gateway that speaks another provider's
 * API, a model served by a local OpenAI-compatible server).
 *
 * | provider  | APIs                                     | SDK                |
 * |-----------|------------------------------------------|--------------------|
 * | openai    | `responses` (Responses), `chat` (Chat Completions) | `openai` |
 * | anthropic | `messages` (Messages API)                | `@anthropic-ai/sdk`|
 * | gemini    | `gemini` (generateContent)               | `@google/genai`    |
 * | local     | `chat` (an OpenAI-compatible server: vLLM, Ollama, LM Studio) | `openai` |
 *
 * Adding a provider is one adapter (src/providers/<name>/adapter.ts), one entry here (and its name
 * in `PROVIDER_NAMES`, src/models/constants.ts), and one test server (test/helpers/<name>/).
 */
import { OmniprepError, invalidOption, isOmniprepError } from '../errors.js';
import { PROVIDER_NAMES, type Api, type Provider } from '../models/constants.js';
import type { ModelEntry } from '../models/registry.js';
import { ANTHROPIC } from './anthropic/adapter.js';
import { MESSAGES_URL, type MessagesBody } from './anthropic/render.js';
import { AttemptTimeoutError, connectionFailure, sdkErrorBase, type Failure } from './failure.js';
import { GEMINI } from './gemini/adapter.js';
import { geminiUrl, type GeminiBody } from './gemini/render.js';
import { LOCAL } from './local/adapter.js';
import { OPENAI } from './openai/adapter.js';
import { OPENAI_URLS, type ChatBody, type ResponsesBody } from './openai/render.js';
import type { ProviderAdapter } from './types.js';

export { APIS, PROVIDER_NAMES, type Api, type Provider } from '../models/constants.js';

export type RequestBody = ChatBody | ResponsesBody | MessagesBody | GeminiBody;

/** The provider of a request that names none (and of a model the registry calls `other`). */
export const DEFAULT_PROVIDER: Provider = 'openai';

/** Each API's endpoint (Gemini's names the model). */
export const API_URLS = { ...OPENAI_URLS, messages: MESSAGES_URL, gemini: geminiUrl('{model}') } as const;
/** The endpoint a request goes to (Gemini's names the model: `/v1beta/models/gemini-2.5-flash:generateContent`). */
export type ApiUrl = (typeof API_URLS)[Exclude<Api, 'gemini'>] | `/v1beta/models/${string}:generateContent`;

/** The adapters, by provider name. */
export const PROVIDERS: Readonly<Record<Provider, ProviderAdapter>> = {
  openai: OPENAI,
  anthropic: ANTHROPIC,
  gemini: GEMINI,
  local: LOCAL,
};

const ADAPTERS: readonly ProviderAdapter[] = PROVIDER_NAMES.map((p) => PROVIDERS[p]);

/** The APIs each provider speaks (the default first). */
export const PROVIDER_APIS: Readonly<Record<Provider, readonly Api[]>> = Object.fromEntries(ADAPTERS.map((a) => [a.name, a.apis])) as Record<
  Provider,
  readonly Api[]
>;

/** The adapter of a provider. */
export function adapterOf(provider: Provider): ProviderAdapter {
  const a = PROVIDERS[provider];
  if (!a) throw invalidOption('provider', PROVIDER_NAMES.join(', '), provider);
  return a;
}

/** The provider of a registry entry (`google` is Gemini; `other` speaks OpenAI's API). */
export function providerOf(model: Pick<ModelEntry, 'provider'>): Provider {
  return ADAPTERS.find((a) => a.registryProviders.includes(model.provider))?.name ?? DEFAULT_PROVIDER;
}

/** The first provider that speaks an API (for a request that does not say its provider). */
export function apiProvider(api: Api): Provider {
  return ADAPTERS.find((a) => a.apis.includes(api))?.name ?? DEFAULT_PROVIDER;
}

/**
 * The provider asked for, else the model's; INVALID_OPTION for an unknown one, and for a provider
 * whose API takes its own models only (Anthropic's, Gemini's) asked for another's model: an
 * OpenAI-compatible server (`openai`, a gateway; `local`) may serve any model.
 */
export function resolveProvider(model: Pick<ModelEntry, 'provider' | 'name'>, asked: string | undefined): Provider {
  const own = providerOf(model);
  if (asked === undefined) return own;
  if (!(PROVIDER_NAMES as readonly string[]).includes(asked)) throw invalidOption('provider', PROVIDER_NAMES.join(', '), asked);
  const p = asked as Provider;
  if (p !== own && !PROVIDERS[p].foreignModels) {
    throw new OmniprepError(
      'INVALID_OPTION',
      `option provider: ${p} serves its own models only, and model ${model.name} is ${own}'s; send it to ${own}, or to an OpenAI-compatible server with provider openai or local`,
      { details: { option: 'provider' } },
    );
  }
  return p;
}

/** Checks an API against the provider (`--api chat` for a Claude model is refused, naming what fits). */
export function checkApi(api: Api, provider: Provider, modelName: string): Api {
  const apis = adapterOf(provider).apis;
  if (!apis.includes(api)) {
    throw new OmniprepError('INVALID_OPTION', `option api: ${api} is not an API of ${provider} (model ${modelName}); ${provider} takes ${apis.join(' or ')}`, {
      details: { option: 'api' },
    });
  }
  return api;
}

/** The provider of a batch id, unless the options say (`msgbatch_...` Anthropic, `batches/...` Gemini, else OpenAI). */
export function batchProvider(id: string, o: { provider?: Provider | undefined } = {}): Provider {
  if (o.provider) return o.provider;
  return ADAPTERS.find((a) => a.batch?.ownsId?.(id))?.name ?? DEFAULT_PROVIDER;
}

const SDK_BASES = ADAPTERS.flatMap((a) => (a.sdkErrorBase ? [a.sdkErrorBase] : []));

/** What kind of failure an SDK error is (any provider's), and whether to try again. */
export function classifyFailure(e: unknown): Failure {
  if (sdkErrorBase(e, 'APIUserAbortError', SDK_BASES) || (isOmniprepError(e) && e.code === 'ABORTED')) {
    return { kind: 'aborted', retryable: false, message: 'cancelled', maybeBilled: true };
  }
  if (sdkErrorBase(e, 'APIConnectionTimeoutError', SDK_BASES) || e instanceof AttemptTimeoutError) {
    return { kind: 'timeout', retryable: true, message: 'timed out', maybeBilled: true };
  }
  if (sdkErrorBase(e, 'APIConnectionError', SDK_BASES)) return connectionFailure(e as Error);
  for (const a of ADAPTERS) {
    const f = a.classify(e);
    if (f) return f;
  }
  // fetch (the Gemini SDK) fails with a TypeError whose cause says why.
  if (e instanceof TypeError && e.message === 'fetch failed') return connectionFailure(e);
  return { kind: 'other', retryable: false, message: e instanceof Error ? e.message : String(e), maybeBilled: false };
}
