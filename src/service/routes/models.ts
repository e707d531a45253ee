/** GET /v1/models: the models this server can plan for (its registry), for clients' pickers. */
import type { FastifyInstance } from 'fastify';
import { TIERS, registry } from '../../models/registry.js';
import { acceptsAudio, getModel, modelDetails } from '../../models/tokens.js';
import { errorResponses } from '../schemas.js';

export async function modelRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'The models of the registry: detail levels, price tiers, whether they take audio',
        tags: ['plan'],
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['registryVersion', 'models'],
            properties: {
              registryVersion: { type: 'string' },
              models: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['name', 'images', 'details', 'tiers', 'audio'],
                  properties: {
                    name: { type: 'string' },
                    images: { type: 'boolean', description: 'whether it takes images' },
                    details: { type: 'array', items: { type: 'string' }, description: 'its image detail levels (none when it takes no images)' },
                    tiers: { type: 'array', items: { type: 'string' } },
                    audio: { type: 'boolean' },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const reg = registry();
      const models = reg.names().map((name) => {
        const m = getModel(name, { registry: reg });
        let details: string[] = [];
        try {
          details = modelDetails(m);
        } catch {
          /* a model without images (audio only) */
        }
        return { name, images: details.length > 0, details, tiers: TIERS.filter((t) => m.prices[t] !== undefined), audio: acceptsAudio(m) };
      });
      return { registryVersion: reg.version, models };
    },
  );
}
