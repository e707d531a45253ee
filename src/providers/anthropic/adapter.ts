/** The Anthropic adapter: the Messages API through `@anthropic-ai/sdk`. */
import type { ProviderAdapter } from '../types.js';
import { ANTHROPIC_BATCH } from './batch.js';
import { ANTHROPIC_ENV, callAnthropic, classifyAnthropic, createAnthropicClient, messagesAnswer } from './client.js';
import { MESSAGES_URL, messagesEnvelope, messagesPart } from './render.js';
import type { MessagesAnswerBody } from './shapes.js';

export const ANTHROPIC: ProviderAdapter = {
  name: 'anthropic',
  apis: ['messages'],
  registryProviders: ['anthropic'],
  foreignModels: false,
  env: ANTHROPIC_ENV,
  defaultApi: () => 'messages',
  url: () => MESSAGES_URL,
  barePayload: true,
  renderPart: (_api, part, payloadOf, o, where) => messagesPart(part, payloadOf, o, where),
  renderBody: (_api, parts, payloadOf, o, where) =>
    messagesEnvelope(
      parts.map((p) => messagesPart(p, payloadOf, o, where)),
      o,
    ),
  givenClient: (o) => o.anthropicClient,
  createClient: createAnthropicClient,
  call: (client, _api, body, o) => callAnthropic(client, body, o),
  answer: (_api, body) => messagesAnswer(body as MessagesAnswerBody),
  sdkErrorBase: 'AnthropicError',
  classify: classifyAnthropic,
  batch: ANTHROPIC_BATCH,
};
