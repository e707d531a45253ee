/**
 * POST /v1/uploads (with --store): a presigned PUT, so a client sends its file straight to the
 * store; POST /v1/jobs and /v1/plan then take `{ "upload": ID }`.
 */
import type { FastifyInstance } from 'fastify';
import { newUpload } from '../object-inputs.js';
import { errorResponses, uploadBody, uploadSchema } from '../schemas.js';

export async function uploadRoutes(app: FastifyInstance): Promise<void> {
  const svc = app.omniprep;
  app.post(
    '/v1/uploads',
    {
      schema: {
        summary: 'A presigned PUT URL for one file in the object store',
        description:
          'Needs --store. PUT the file to `url` (within `expiresInSec`), then submit `{ "upload": id, "options": ... }` to POST /v1/jobs or /v1/plan. Large files: one PUT of up to 5 GB (multipart uploads are not offered yet).',
        tags: ['jobs'],
        body: uploadBody,
        response: { 201: uploadSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as { name?: string };
      const u = await newUpload(svc.objects, body.name);
      return reply.code(201).send({ id: u.id, url: u.url, method: 'PUT', expiresInSec: u.expiresInSec });
    },
  );
}
