/**
 * A job's outputs in the object store. prepare() writes them to a local directory; with an S3
 * store the worker then puts every file under PREFIX/jobs/JOB/ (frames/, audio/, request bodies)
 * and the manifest last, so a job is done only when its manifest is stored, and removes the local
 * copy. With the local store they stay where they were written (DATA/outputs/JOB), as always.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { createReadStream } from 'node:fs';
import pLimit from 'p-limit';
import { MIME } from '../media/formats.js';
import type { ImageFormat } from '../plan/types.js';
import type { ObjectStore } from './objects/types.js';

/** Where a job's outputs are: DATA/outputs/JOB (local) or PREFIX/jobs/JOB (S3). */
export function jobPrefix(objects: ObjectStore, id: string): string {
  return objects.kind === 's3' ? objects.key('jobs', id) : objects.key('outputs', id);
}

/** The key of one output file of a job (e.g. frames/000001.jpg). */
export function outputKey(objects: ObjectStore, id: string, rel: string): string {
  return `${jobPrefix(objects, id)}/${rel}`;
}

export const MANIFEST = 'manifest.json';
/** Outputs put at once, and the size up to which one goes up as one PutObject of its bytes. */
const PUTS_AT_ONCE = 8;
const SMALL_OUTPUT = 8 * 1024 * 1024;

function contentType(name: string): string | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (ext === 'json') return 'application/json';
  if (ext === 'jpg') return MIME.jpeg;
  return ext && ext in MIME ? MIME[ext as ImageFormat] : undefined;
}

/**
 * Puts the job's output files, then its manifest (last), into an S3 store, and removes the local
 * directory; nothing with the local store. Says how many objects were written.
 */
export async function publishOutputs(objects: ObjectStore, id: string, dir: string, manifest: unknown): Promise<number> {
  if (objects.kind !== 's3') return 0;
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const limit = pLimit(PUTS_AT_ONCE);
  await Promise.all(
    files.map((f) =>
      limit(async () => {
        const rel = relative(dir, f).split(sep).join('/');
        // A frame is one PUT of its bytes; only a large file (an audio chunk) streams in parts.
        const body = (await stat(f)).size <= SMALL_OUTPUT ? await readFile(f) : createReadStream(f);
        return objects.put(outputKey(objects, id, rel), body, contentType(rel));
      }),
    ),
  );
  await objects.put(outputKey(objects, id, MANIFEST), JSON.stringify(manifest), 'application/json');
  await rm(dir, { recursive: true, force: true });
  return files.length + 1;
}

/** Removes a job's outputs: the local directory, and its objects in an S3 store. */
export async function dropOutputs(objects: ObjectStore, id: string, localDir: string): Promise<void> {
  await rm(localDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  if (objects.kind === 's3') await objects.deletePrefix(`${jobPrefix(objects, id)}/`);
}
