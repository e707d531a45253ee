/**
 * A local OpenAI-compatible server (vLLM, Ollama, LM Studio, llama.cpp's server): Chat Completions
 * (the one API all of them serve) through the `openai` SDK, at the server's own URL, which is
 * required (`baseURL`, `--base-url`, or OMNIPREP_LOCAL_BASE_URL); the key is optional
 * (OMNIPREP_LOCAL_API_KEY, else a placeholder: most local servers take none).
 *
 * Token rules and limits (images per request, sizes, context window) come from the model's
 * registry entry, or `--rule MODEL` for a model the registry does not know, and can be overridden
 * (`--models FILE`). A price is never borrowed: a model is priced only by a registry entry of its
 * own whose `provider` is `local` (the user's); any other is sent at $0 with a note saying why.
 * Batches: the JSONL is written in the OpenAI Batch API's line format (what `vllm run-batch` reads);
 * a local server has no batch endpoint to submit it to.
 */
import { OmniprepError } from '../../errors.js';
import { TIERS } from '../../models/constants.js';
import type { ModelEntry, Price } from '../../models/registry.js';
import { OPENAI_BATCH } from '../openai/batch.js';
import { callOpenAI, classifyOpenAI, createOpenAIClient, OPENAI_CALLS } from '../openai/client.js';
import { OPENAI_RENDER, OPENAI_URLS } from '../openai/render.js';
import type { BatchApi, ClientOptions, ProviderAdapter } from '../types.js';

export const LOCAL_ENV = { baseURL: 'OMNIPREP_LOCAL_BASE_URL', apiKey: ['OMNIPREP_LOCAL_API_KEY'], hosted: false } as const;

/** Why the batch file cannot be submitted, and what runs it. */
const OFFLINE = 'a local server has no batch API to submit to; run the JSONL with its offline runner (vLLM: `vllm run-batch -i FILE -o RESULTS`)';

const refuse = (): never => {
  throw new OmniprepError('INVALID_OPTION', `provider local: ${OFFLINE}`, { details: { option: 'provider' } });
};

const LOCAL_BATCH: BatchApi = { ...OPENAI_BATCH, offline: OFFLINE, submit: refuse, state: refuse, results: refuse };

/** The price of a model on a local server: its own local entry's, else none ($0, with the note). */
export function localBilling(model: ModelEntry): { model: ModelEntry; note?: string } {
  if (model.provider === 'local') return { model };
  const free: Price = { input: 0, output: 0, audioInput: 0, audioOutput: 0 };
  return {
    model: { ...model, prices: Object.fromEntries(TIERS.map((t) => [t, free])) as ModelEntry['prices'] },
    note: `model ${model.name} has no price on a local server: costs are shown as $0 (unknown); give one with a registry entry of provider local (--models FILE)`,
  };
}

async function createLocalClient(o: ClientOptions & { timeoutMs: number }): Promise<unknown> {
  if (!o.client && !o.baseURL && !process.env[LOCAL_ENV.baseURL]) {
    throw new OmniprepError(
      'INVALID_OPTION',
      `option baseURL: provider local needs its server's URL (pass --base-url, baseURL in code, or set ${LOCAL_ENV.baseURL}), e.g. http://127.0.0.1:8000/v1`,
      { details: { option: 'baseURL' } },
    );
  }
  return createOpenAIClient(o, { apiKey: LOCAL_ENV.apiKey[0], baseURL: LOCAL_ENV.baseURL, defaultKey: 'local' });
}

export const LOCAL: ProviderAdapter = {
  name: 'local',
  apis: ['chat'],
  registryProviders: ['local'],
  foreignModels: true,
  env: LOCAL_ENV,
  defaultApi: () => 'chat',
  url: () => OPENAI_URLS.chat,
  barePayload: false,
  renderPart: (_api, part, payloadOf, o, where) => OPENAI_RENDER.chat.part(part, payloadOf, o, where),
  renderBody: (_api, parts, payloadOf, o, where) => OPENAI_RENDER.chat.body(parts, payloadOf, o, where),
  billing: localBilling,
  givenClient: (o) => o.client,
  createClient: createLocalClient,
  call: callOpenAI,
  answer: (_api, body) => OPENAI_CALLS.chat.answer(body),
  classify: classifyOpenAI,
  batch: LOCAL_BATCH,
};
