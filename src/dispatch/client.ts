/**
 * The SDK clients a dispatch uses: `Clients` holds one client per provider, made by the provider's
 * adapter (src/providers/) when first needed, and `callModel` sends one request through its
 * provider's adapter. The clients' own retries are off: the dispatcher retries, so it can honour
 * each provider's rate-limit hints and count each retry.
 */
import type { AnthropicClient } from '../providers/anthropic/shapes.js';
import type { GeminiClient } from '../providers/gemini/shapes.js';
import type { OpenAIClient } from '../providers/openai/shapes.js';
import { CLIENT_DEFAULTS } from '../providers/openai/client.js';
import { adapterOf, apiProvider, PROVIDER_NAMES, PROVIDERS, type Api, type Provider } from '../providers/registry.js';
import type { CallOptions, ClientOptions, ModelAnswer, Usage } from '../providers/types.js';

export { CLIENT_DEFAULTS, createClient } from '../providers/openai/client.js';
export type { ClientOptions, ModelAnswer, Usage };

/**
 * One SDK client per provider, made on first use from the same options: `apiKey` and `baseURL`
 * go to the provider of the requests (one dispatch usually talks to one provider); without them
 * each SDK reads its own environment variables.
 */
export class Clients {
  private readonly made = new Map<Provider, Promise<unknown>>();

  constructor(private readonly o: ClientOptions = {}) {
    for (const p of PROVIDER_NAMES) {
      const given = PROVIDERS[p].givenClient?.(o);
      if (given) this.made.set(p, Promise.resolve(given));
    }
  }

  /** The client of a provider; each SDK loads when its first client is made (the OpenAI and Anthropic SDKs take ~0.1-0.3 s to load). */
  of(provider: Provider): Promise<unknown> {
    let client = this.made.get(provider);
    if (!client) {
      client = adapterOf(provider).createClient({ ...this.o, timeoutMs: this.o.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs });
      this.made.set(provider, client);
    }
    return client;
  }

  openai(): Promise<OpenAIClient> {
    return this.of('openai') as Promise<OpenAIClient>;
  }

  anthropic(): Promise<AnthropicClient> {
    return this.of('anthropic') as Promise<AnthropicClient>;
  }

  gemini(): Promise<GeminiClient> {
    return this.of('gemini') as Promise<GeminiClient>;
  }

  /** Makes the clients of these providers now (a missing API key is an error before anything is sent). */
  async prepare(providers: Iterable<Provider>): Promise<this> {
    for (const p of new Set(providers)) await this.of(p);
    return this;
  }
}

/** Text and usage of an answer body of any API (also a batch result's body). */
export function answerOf(api: Api, body: unknown, provider: Provider = apiProvider(api)): ModelAnswer {
  return adapterOf(provider).answer(api, body);
}

/** One call, no retries. Rejects with the SDK's error (the dispatcher classifies it). */
export async function callModel(
  client: OpenAIClient | Clients,
  request: { provider?: Provider | undefined; api: Api; body: unknown },
  o: CallOptions = {},
): Promise<ModelAnswer> {
  const clients = client instanceof Clients ? client : new Clients({ client });
  const provider = request.provider ?? apiProvider(request.api);
  return adapterOf(provider).call(await clients.of(provider), request.api, request.body, o);
}
