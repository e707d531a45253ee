/** The Gemini adapter: generateContent through `@google/genai` (frames, audio, and video sent as video). */
import type { ProviderAdapter } from '../types.js';
import { apiModelName } from '../common.js';
import { GEMINI_BATCH, geminiRestRequest } from './batch.js';
import { callGemini, classifyGemini, createGeminiClient, GEMINI_ENV, geminiAnswer } from './client.js';
import { geminiEnvelope, geminiPart, geminiUrl } from './render.js';

export const GEMINI: ProviderAdapter = {
  name: 'gemini',
  apis: ['gemini'],
  registryProviders: ['google'],
  foreignModels: false,
  env: GEMINI_ENV,
  defaultApi: () => 'gemini',
  url: (_api, model) => geminiUrl(apiModelName(model)),
  barePayload: true,
  renderPart: (_api, part, payloadOf, o) => geminiPart(part, payloadOf, o),
  renderBody: (_api, parts, payloadOf, o) =>
    geminiEnvelope(
      parts.map((p) => geminiPart(p, payloadOf, o)),
      o,
    ),
  wireBody: (body) => geminiRestRequest(body as Parameters<typeof geminiRestRequest>[0]),
  givenClient: (o) => o.geminiClient,
  createClient: createGeminiClient,
  call: (client, _api, body, o) => callGemini(client, body, o),
  answer: (_api, body) => geminiAnswer(body as Parameters<typeof geminiAnswer>[0]),
  classify: classifyGemini,
  batch: GEMINI_BATCH,
};
