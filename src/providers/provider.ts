/**
 * Providers: whose API a request is written for. Each model's registry entry names its provider
 * (`openai`, `anthropic`, `google`); `--provider` / `provider` may say otherwise (a model the
 * registry lists as `other`, or a gateway that speaks another provider's API). The provider picks
 * the wire format (the `Api`):
 *
 * | provider  | APIs                                     | SDK                |
 * |-----------|------------------------------------------|--------------------|
 * | openai    | `chat` (Chat Completions), `responses`   | `openai`           |
 * | anthropic | `messages` (Messages API)                | `@anthropic-ai/sdk`|
 * | gemini    | `gemini` (generateContent)               | `@google/genai`    |
 */
import { OmniprepError, invalidOption } from '../errors.js';
import type { ModelEntry } from '../models/registry.js';

import { PROVIDERS, type Api, type Provider } from '../models/constants.js';

export { APIS, PROVIDERS, type Api, type Provider } from '../models/constants.js';

/** The APIs each provider speaks. */
export const PROVIDER_APIS: Record<Provider, readonly Api[]> = {
  openai: ['responses', 'chat'],
  anthropic: ['messages'],
  gemini: ['gemini'],
};

/** The provider of a registry entry (`google` is Gemini; `other` speaks OpenAI's API). */
export function providerOf(model: Pick<ModelEntry, 'provider'>): Provider {
  switch (model.provider) {
    case 'anthropic':
      return 'anthropic';
    case 'google':
      return 'gemini';
    default:
      return 'openai';
  }
}

/** The provider of an API. */
export function apiProvider(api: Api): Provider {
  return api === 'messages' ? 'anthropic' : api === 'gemini' ? 'gemini' : 'openai';
}

/** The provider asked for, else the model's; INVALID_OPTION for an unknown one. */
export function resolveProvider(model: Pick<ModelEntry, 'provider'>, asked: string | undefined): Provider {
  if (asked === undefined) return providerOf(model);
  if (!(PROVIDERS as readonly string[]).includes(asked)) throw invalidOption('provider', PROVIDERS.join(', '), asked);
  return asked as Provider;
}

/** Checks an API against the provider (`--api chat` for a Claude model is refused, naming what fits). */
export function checkApi(api: Api, provider: Provider, modelName: string): Api {
  if (!PROVIDER_APIS[provider].includes(api)) {
    throw new OmniprepError(
      'INVALID_OPTION',
      `option api: ${api} is not an API of ${provider} (model ${modelName}); ${provider} takes ${PROVIDER_APIS[provider].join(' or ')}`,
      { details: { option: 'api' } },
    );
  }
  return api;
}

/** The model id sent to the provider: the registry's `apiModel`, else the registry name. */
export function apiModelName(model: Pick<ModelEntry, 'name' | 'apiModel'>): string {
  return model.apiModel ?? model.name;
}
