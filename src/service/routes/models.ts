/**
 * GET /v1/models: the models this server can plan for (its registry), for clients' pickers: each
 * model's provider (the adapter that speaks its API), its image token rule, its prices per tier as
 * the registry has them (US dollars per 1M tokens), and whether it takes video natively.
 */
import type { FastifyInstance } from 'fastify';
import { TIERS, registry, type ModelEntry } from '../../models/registry.js';
import { acceptsAudio, getModel, modelDetails } from '../../models/tokens.js';
import { APIS, PROVIDER_APIS, PROVIDER_NAMES, providerOf } from '../../providers/registry.js';
import { errorResponses } from '../schemas.js';

const price = {
  type: 'object',
  additionalProperties: false,
  required: ['input', 'output'],
  properties: {
    input: { type: 'number', description: 'USD per 1M input tokens' },
    output: { type: 'number', description: 'USD per 1M output tokens' },
    audioInput: { type: 'number', description: 'USD per 1M audio input tokens, where the model bills audio apart' },
    audioOutput: { type: 'number' },
  },
} as const;

const modelSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'provider', 'apis', 'images', 'details', 'tiers', 'prices', 'rule', 'audio', 'video'],
  properties: {
    name: { type: 'string' },
    provider: { type: 'string', enum: [...PROVIDER_NAMES], description: 'the provider whose API a job for it speaks (unless the job names another)' },
    apis: { type: 'array', items: { type: 'string', enum: [...APIS] }, description: "the APIs its provider speaks (the default first): a job's `api`" },
    images: { type: 'boolean', description: 'whether it takes images' },
    details: { type: 'array', items: { type: 'string' }, description: 'its image detail levels (none when it takes no images)' },
    tiers: { type: 'array', items: { type: 'string' } },
    prices: { type: 'object', additionalProperties: false, properties: Object.fromEntries(TIERS.map((t) => [t, price])) },
    rule: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['name', 'type', 'date'],
      properties: { name: { type: 'string' }, type: { type: 'string' }, date: { type: 'string' } },
      description: 'its image token rule (null when it takes no images)',
    },
    audio: { type: 'boolean' },
    video: { type: 'boolean', description: 'whether it takes video natively (`send: "video"`)' },
    retired: { type: 'string', description: 'the day the provider retired it, when it has' },
  },
} as const;

/** One model as the route lists it. */
function describeModel(m: ModelEntry) {
  let details: string[] = [];
  try {
    details = modelDetails(m);
  } catch {
    /* a model without images (audio only) */
  }
  const provider = providerOf(m);
  return {
    name: m.name,
    provider,
    apis: PROVIDER_APIS[provider],
    images: details.length > 0,
    details,
    tiers: TIERS.filter((t) => m.prices[t] !== undefined),
    prices: m.prices,
    rule: m.image ? { name: m.image.name, type: m.image.type, date: m.image.date } : null,
    audio: acceptsAudio(m),
    video: m.video !== undefined,
    ...(m.retired ? { retired: m.retired } : {}),
  };
}

export async function modelRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'The models of the registry: provider, token rule, prices per tier, detail levels, whether they take audio and video',
        tags: ['plan'],
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['registryVersion', 'models'],
            properties: { registryVersion: { type: 'string' }, models: { type: 'array', items: modelSchema } },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const reg = registry();
      return { registryVersion: reg.version, models: reg.names().map((name) => describeModel(getModel(name, { registry: reg }))) };
    },
  );
}
