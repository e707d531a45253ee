/** The OpenAI adapter: Responses (the default) and Chat Completions (when audio is sent), through the `openai` SDK. */
import type { Api, ProviderAdapter } from '../types.js';
import { OPENAI_BATCH } from './batch.js';
import { callOpenAI, classifyOpenAI, createOpenAIClient, OPENAI_CALLS, OPENAI_ENV } from './client.js';
import { OPENAI_RENDER, OPENAI_URLS, type OpenAIApi } from './render.js';

const api = (a: Api): OpenAIApi => a as OpenAIApi;

/** The OpenAI-shaped adapter every OpenAI-compatible server starts from (the local adapter narrows it). */
export const OPENAI: ProviderAdapter = {
  name: 'openai',
  apis: ['responses', 'chat'],
  registryProviders: ['openai', 'other'],
  foreignModels: true,
  env: OPENAI_ENV,
  // The Responses API takes no audio input.
  defaultApi: (audio) => (audio ? 'chat' : 'responses'),
  url: (a) => OPENAI_URLS[api(a)],
  barePayload: false,
  renderPart: (a, part, payloadOf, o, where) => OPENAI_RENDER[api(a)].part(part, payloadOf, o, where),
  renderBody: (a, parts, payloadOf, o, where) => OPENAI_RENDER[api(a)].body(parts, payloadOf, o, where),
  givenClient: (o) => o.client,
  createClient: (o) => createOpenAIClient(o),
  call: callOpenAI,
  answer: (a, body) => OPENAI_CALLS[api(a)].answer(body),
  sdkErrorBase: 'OpenAIError',
  classify: classifyOpenAI,
  batch: OPENAI_BATCH,
};
