/**
 * Uploads sent once (src/service/uploads.ts): POST /v1/uploads with the file (multipart, in both
 * modes: stored once by its SHA-256), or as JSON with --store (a presigned PUT, or a presigned
 * multipart upload completed by POST /v1/uploads/:id/complete); GET and DELETE /v1/uploads/:id.
 * POST /v1/jobs and /v1/plan then take `{ "upload": ID, "options": ... }`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { OmniprepError } from '../../errors.js';
import type { RouteContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { MULTIPART_SLACK, multipartError } from '../inputs.js';
import { completeBody, errorResponses, uploadInput, uploadParams, uploadSchema } from '../schemas.js';
import { uploadView } from '../uploads.js';

/** The one file of a multipart POST /v1/uploads, stored (or found stored) by its hash. */
async function receiveForm(svc: RouteContext, request: FastifyRequest): Promise<Record<string, unknown>> {
  const max = svc.config.maxUploadBytes;
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > max + MULTIPART_SLACK) throw new OmniprepError('TOO_LARGE', `the upload is over the ${max}-byte limit (Content-Length ${declared})`);
  let got: Awaited<ReturnType<RouteContext['uploads']['receive']>> | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file' || part.fieldname !== 'file' || got) {
        if (part.type === 'file') part.file.resume();
        throw new ServiceError('BAD_REQUEST', `multipart: one file only, in the field "file" (got "${part.fieldname}"${got ? ' again' : ''})`);
      }
      got = await svc.uploads.receive(part.file as Readable & { truncated?: boolean }, part.filename);
    }
  } catch (e) {
    throw multipartError(e, max);
  }
  if (!got) throw new ServiceError('BAD_REQUEST', 'multipart: no file (send it in the field "file")');
  return uploadView(got.upload, got.deduplicated);
}

export async function uploadRoutes(app: FastifyInstance): Promise<void> {
  const svc = app.omniprep;
  const params = uploadParams;
  const ok = { 200: uploadSchema, ...errorResponses };
  app.post(
    '/v1/uploads',
    {
      schema: {
        summary: 'Upload a file once; plan, re-plan and submit it by id',
        description:
          'multipart/form-data with the field `file`: streamed into the store and kept once by its SHA-256 (the same bytes again answer the same upload, `deduplicated: true`). With --store, JSON `{ name, size, multipart }` answers a presigned PUT (`url`), or for a file over 64 MiB (or `multipart: true`) presigned part URLs and the `complete` URL to POST their ETags to. Then `{ "upload": id, "options": ... }` to POST /v1/plan or /v1/jobs. An upload expires --upload-ttl seconds after its last use unless a job holds it.',
        tags: ['uploads'],
        body: uploadInput,
        response: { 201: uploadSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      if (request.isMultipart()) return reply.code(201).send(await receiveForm(svc, request));
      return reply.code(201).send(await svc.uploads.presign((request.body ?? {}) as { name?: string; size?: number; multipart?: boolean }));
    },
  );
  app.post(
    '/v1/uploads/:id/complete',
    {
      schema: {
        summary: 'Complete a presigned multipart upload with its parts’ ETags',
        tags: ['uploads'],
        params,
        body: completeBody,
        response: ok,
      },
    },
    async (request) => {
      const { parts } = request.body as { parts: Array<{ partNumber: number; etag: string }> };
      return uploadView(await svc.uploads.complete((request.params as { id: string }).id, parts));
    },
  );
  app.get(
    '/v1/uploads/:id',
    { schema: { summary: 'An upload: its hash, size, name, state and expiry', tags: ['uploads'], params, response: ok } },
    async (request) => uploadView(await svc.uploads.get((request.params as { id: string }).id)),
  );
  app.delete(
    '/v1/uploads/:id',
    { schema: { summary: 'Delete an upload (refused while a job holds it)', tags: ['uploads'], params, response: ok } },
    async (request) => uploadView(await svc.uploads.delete((request.params as { id: string }).id)),
  );
}
