/**
 * A job's outputs in the S3 store as the routes answer them: a redirect to a short-lived
 * presigned GET, or (--proxy-store) the bytes through this node; and a local copy for the routes
 * that read every frame (request bodies, batch lines).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyReply } from 'fastify';
import type { RouteContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { jobPrefix, outputKey } from '../outputs.js';

/** How long a redirect to an output in the store works. */
const OUTPUT_URL_TTL_SEC = 300;

/** Sends output `rel` (e.g. frames/000001.jpg) of job `id` from the S3 store. */
export async function sendStored(svc: RouteContext, reply: FastifyReply, id: string, rel: string, type: string): Promise<FastifyReply> {
  const key = outputKey(svc.objects, id, rel);
  if (!svc.config.proxyStore) return reply.redirect(await svc.objects.presignGet(key, OUTPUT_URL_TTL_SEC), 302);
  const info = await svc.objects.head(key);
  if (!info) throw new ServiceError('JOB_NOT_FOUND', `job ${id}: ${rel} is not in the store (its files were deleted)`);
  return reply
    .type(type)
    .header('content-length', info.size)
    .send(await svc.objects.get(key));
}

/** The job's outputs copied from the S3 store into a temporary directory (removed by `done`). */
export async function localOutputs(svc: RouteContext, id: string): Promise<{ dir: string; done(): Promise<void> }> {
  const dir = svc.data.tmpFile();
  const prefix = `${jobPrefix(svc.objects, id)}/`;
  try {
    for (const key of await svc.objects.list(prefix)) {
      const file = join(dir, key.slice(prefix.length));
      await mkdir(dirname(file), { recursive: true });
      await pipeline(await svc.objects.get(key), createWriteStream(file));
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { dir, done: () => rm(dir, { recursive: true, force: true }) };
}
