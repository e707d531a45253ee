/**
 * Jobs: submit (202 with the plan), read, stream progress (SSE), manifest, frames, cancel.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { MIME } from '../../media/formats.js';
import type { ImageFormat } from '../../plan/types.js';
import { ServiceError } from '../errors.js';
import { clientGone } from '../inputs.js';
import { removeJobPlan, writeJobPlan } from '../job-plans.js';
import { errorResponses, frameParams, idParams, inputBody } from '../schemas.js';
import { queuedRecord, type JobRecord } from '../store/types.js';
import { MANIFEST } from '../outputs.js';
import { cancelRecord, streamEvents } from './events.js';
import { sendStored } from './stored.js';
import { enqueue, type RouteContext } from '../context.js';
import { jobView, planSummary } from '../view.js';

const notFound = (id: string): ServiceError => new ServiceError('JOB_NOT_FOUND', `job ${id}: no such job (it may have expired)`);

async function load(svc: RouteContext, id: string): Promise<JobRecord> {
  const job = await svc.store.get(id);
  // An eval is a record of the same store: it is read at /v1/evals/:id.
  if (!job || job.kind === 'eval') throw notFound(id);
  return job;
}

export async function jobRoutes(app: FastifyInstance): Promise<void> {
  submitRoute(app);
  readRoutes(app);
  eventsRoute(app);
  cancelRoute(app);
}

/** POST /v1/jobs: read the input, plan it, store the job, queue it; 202 with the job. */
function submitRoute(app: FastifyInstance): void {
  const svc = app.omniprep;
  app.post(
    '/v1/jobs',
    {
      schema: {
        summary: 'Submit a job',
        description:
          'An upload (multipart: file, options), or JSON naming a path under an allowed root or a URL the server reads (an MP4/MOV or Matroska/WebM by byte ranges when its server answers them: only its index and the frames kept are fetched). Answers at once with the job and its plan; a full queue answers 429 with Retry-After.',
        tags: ['jobs'],
        body: inputBody,
        response: { 202: { $ref: 'Job#' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const release = await svc.admit();
      // A client that goes away before its job is stored cancels the submission (and its place in the queue).
      const signal = clientGone(reply);
      try {
        const { input, options } = await svc.inputs.read(request, { signal });
        const id = randomUUID();
        let plan;
        try {
          if (options.call) svc.inputs.checkCallable(options, input.name);
          const planned = await svc.inputs.planWithFacts(input, options, signal);
          plan = planned.plan;
          // The plan and its facts go with the job: its worker executes them (it probes and plans nothing).
          if (planned.facts) await writeJobPlan(svc.data, id, { plan, facts: planned.facts }, input.name);
        } catch (e) {
          await svc.inputs.discard(input);
          throw e;
        }
        const now = Date.now();
        const job: JobRecord = {
          ...queuedRecord(id, now),
          input,
          options,
          plan: { ...planSummary(plan), input: input.name },
          progress: { stage: 'queued', framesDone: 0, framesTotal: plan.frames.length },
          result: null,
          error: null,
          outputDir: svc.data.rel(svc.data.outputDir(id)),
        };
        await svc.store.create(job).catch(async (e: unknown) => {
          await removeJobPlan(svc.data, id);
          throw e;
        });
        svc.inputs.unpin(input);
        await enqueue(svc, id);
        return reply.code(202).header('location', `/v1/jobs/${id}`).send(jobView(job));
      } finally {
        release();
      }
    },
  );
}

/** GET the job, its manifest and its frames. */
function readRoutes(app: FastifyInstance): void {
  const svc = app.omniprep;
  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'A job: state, progress, plan, result, estimate against actual',
        tags: ['jobs'],
        params: idParams,
        response: { 200: { $ref: 'Job#' }, ...errorResponses },
      },
    },
    async (request) => jobView(await load(svc, (request.params as { id: string }).id)),
  );

  app.get(
    '/v1/jobs/:id/manifest',
    {
      schema: {
        summary: 'The frames manifest, the audio chunks and the request segments of a finished job',
        tags: ['jobs'],
        params: idParams,
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const job = await load(svc, (request.params as { id: string }).id);
      if (job.state !== 'succeeded' || !job.result)
        throw new ServiceError('NOT_READY', `job ${job.id}: is ${job.state}; the manifest exists once it has succeeded`);
      if (svc.objects.kind === 's3') return sendStored(svc, reply, job.id, MANIFEST, 'application/json');
      return { id: job.id, frames: job.result.manifest, audio: job.result.audioManifest, segments: job.result.segments };
    },
  );

  imageRoute(app, 'frames');
  imageRoute(app, 'grids');
}

type Image = { index: number; file: string; sha256?: string };

/** GET /v1/jobs/:id/frames/:n and /grids/:n: the image's bytes (a file here, or the object in the store). */
function imageRoute(app: FastifyInstance, kind: 'frames' | 'grids'): void {
  const svc = app.omniprep;
  const one = kind === 'frames' ? 'frame' : 'grid';
  app.get(
    `/v1/jobs/:id/${kind}/:n`,
    {
      schema: {
        summary:
          kind === 'frames' ? 'Frame n (its index in the manifest): the image bytes' : 'Grid n (its index in the manifest, a job with grid): the image bytes',
        tags: ['jobs'],
        params: frameParams,
        produces: ['image/jpeg', 'image/webp', 'image/png'],
        response: { 200: { type: 'string', format: 'binary' }, ...errorResponses },
      },
    },
    async (request, reply: FastifyReply) => {
      const { id, n } = request.params as { id: string; n: number };
      const job = await load(svc, id);
      if (job.state !== 'succeeded' || !job.result) throw new ServiceError('NOT_READY', `job ${id}: is ${job.state}; ${kind} are served once it has succeeded`);
      const manifest = job.result.manifest as { format: ImageFormat; frames: Image[]; grids?: Image[] };
      const images = manifest[kind] ?? [];
      const image = images.find((f) => f.index === n);
      if (!image) throw new ServiceError('JOB_NOT_FOUND', `job ${id}: has no ${one} ${n} (${kind}: ${images.map((f) => f.index).join(', ') || 'none'})`);
      if (!/^[\w.-]+$/.test(image.file)) throw new ServiceError('INTERNAL', `job ${id}: bad ${one} file name`);
      if (svc.objects.kind === 's3') return sendStored(svc, reply, id, `frames/${image.file}`, MIME[manifest.format]);
      const path = join(svc.data.abs(job.outputDir), 'frames', image.file);
      const st = await stat(path).catch(() => undefined);
      if (!st)
        throw new ServiceError(
          'JOB_NOT_FOUND',
          `job ${id}: ${one} ${n} is not here (its files were deleted, or this node does not share the --data directory where it was made)`,
        );
      if (image.sha256) {
        const etag = `"${image.sha256}"`;
        reply.header('etag', etag).header('cache-control', 'private, max-age=3600');
        if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      }
      return reply.type(MIME[manifest.format]).header('content-length', st.size).send(createReadStream(path));
    },
  );
}

/** GET /v1/jobs/:id/events: server-sent events until the job ends. */
function eventsRoute(app: FastifyInstance): void {
  const svc = app.omniprep;
  app.get(
    '/v1/jobs/:id/events',
    {
      schema: {
        summary: 'Server-sent events: state and progress until the job ends',
        description: 'Events: `state` ({ state, attempts, error }), `progress` ({ stage, framesDone, framesTotal, ... }), and `end` with the final job.',
        tags: ['jobs'],
        params: idParams,
        produces: ['text/event-stream'],
        response: { 200: { type: 'string', description: 'text/event-stream' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      return streamEvents(svc, reply, id, { load: (i) => load(svc, i), end: (last) => ['end', last ? jobView(last) : { id }] });
    },
  );
}

/** POST /v1/jobs/:id/cancel (stop it, keep what it made) and DELETE /v1/jobs/:id (stop it and delete everything). */
function cancelRoute(app: FastifyInstance): void {
  const svc = app.omniprep;
  const action = (method: 'POST' | 'DELETE', url: string, summary: string, description: string, then: (job: JobRecord) => Promise<void>): void => {
    app.route({
      method,
      url,
      schema: { summary, description, tags: ['jobs'], params: idParams, response: { 200: { $ref: 'Job#' }, ...errorResponses } },
      handler: async (request) => {
        const { id } = request.params as { id: string };
        const job = await cancelRecord(svc, id, () => load(svc, id));
        await then(job).catch((e: Error) => request.log.warn(`job ${id}: its files could not all be removed yet (${e.message})`));
        return jobView(job);
      },
    });
  };
  action(
    'POST',
    '/v1/jobs/:id/cancel',
    'Cancel a job, keeping its record and what it made',
    'A queued job leaves the queue and a running one has its processes stopped; a finished job keeps its state. Nothing is deleted.',
    async () => {},
  );
  // A worker elsewhere that is still stopping removes its own outputs (its record is gone), and
  // retention takes anything left.
  action(
    'DELETE',
    '/v1/jobs/:id',
    'Delete a job: cancel it, then remove its record and its stored data',
    'Cancels the job if it is queued or running, then removes its frames, grids, manifests, audio chunks, request bodies and plan (files, or objects in the --store), its record, and its input when no other job holds it (an upload another job holds stays). Answers with the job as it was last; GET then answers 404.',
    (job) => svc.remove(job),
  );
}
