/** POST /v1/plan: the estimate at once, from metadata alone (nothing is decoded or queued). */
import type { FastifyInstance } from 'fastify';
import { errorResponses, inputBody } from '../schemas.js';
import '../context.js';
import { clientGone } from '../inputs.js';

export async function planRoutes(app: FastifyInstance): Promise<void> {
  const svc = app.omniprep;
  app.post(
    '/v1/plan',
    {
      schema: {
        summary: 'Plan: frames, sizes, audio, tokens and dollars, without decoding',
        description: "The same inputs and options as POST /v1/jobs; answers with the library's full Plan (as `omniprep plan --json`).",
        tags: ['plan'],
        body: inputBody,
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const signal = clientGone(reply);
      const { input, options } = await svc.inputs.read(request, { signal });
      try {
        const plan = await svc.inputs.plan(input, options, signal);
        return { ...plan, input: input.name };
      } finally {
        await svc.inputs.discard(input);
      }
    },
  );
}
