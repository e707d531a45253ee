/**
 * Inputs in the S3 store: an upload through the API streamed to it (hashed on the way, a bounded
 * buffer: lib-storage's parts), an upload a client PUT to a presigned URL (`POST /v1/uploads`,
 * then `{ upload: ID }`), and an `s3://BUCKET/KEY` URL in the service's own bucket. Each is read
 * like a URL by the planner and the worker: through a presigned GET, by byte ranges when the
 * container allows (the range reader may reach the store's endpoint, and only it, even on a
 * loopback or private address), pinned to the object's ETag and size.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { OmniprepError } from '../errors.js';
import type { RemoteOptions } from '../source/remote.js';
import type { ResolvedConfig } from './config.js';
import { extensionOf, hashingTap, uploadLimit } from './data.js';
import { ServiceError } from './errors.js';
import { jobUrlOptions } from './intake.js';
import type { ObjectStore } from './objects/types.js';
import type { JobInput } from './store/types.js';

/** How long a presigned upload URL works. */
export const UPLOAD_URL_TTL_SEC = 3600;
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:\.[a-z0-9]{1,5})?$/;

/** A new upload's id: a UUID, with the file name's extension when it has one. */
function uploadId(name: string | undefined): string {
  const ext = extensionOf(name);
  return `${randomUUID()}${ext === 'bin' ? '' : `.${ext}`}`;
}

/** A new upload slot: its id (with the file's extension) and a presigned PUT for it. */
export async function newUpload(objects: ObjectStore, name: string | undefined): Promise<{ id: string; url: string; expiresInSec: number }> {
  if (objects.kind !== 's3')
    throw new ServiceError('BAD_REQUEST', 'presigned uploads need an object store (start the service with --store s3://BUCKET/PREFIX)');
  const id = uploadId(name);
  return { id, url: await objects.presignPut(objects.key('uploads', id), UPLOAD_URL_TTL_SEC), expiresInSec: UPLOAD_URL_TTL_SEC };
}

/** `{ upload: ID }`: the object a client put to its presigned URL. */
export async function storedUpload(objects: ObjectStore, id: string, maxBytes: number): Promise<JobInput> {
  if (objects.kind !== 's3') throw new ServiceError('BAD_REQUEST', 'upload ids need an object store (start the service with --store s3://BUCKET/PREFIX)');
  if (!UPLOAD_ID.test(id)) throw new ServiceError('BAD_REQUEST', `upload ${JSON.stringify(id).slice(0, 80)}: not an upload id (POST /v1/uploads gives one)`);
  return objectInput(objects, objects.key('uploads', id), { kind: 'upload', name: id }, maxBytes);
}

/** `s3://BUCKET/KEY` in the service's bucket. */
export async function s3UrlInput(objects: ObjectStore & { bucket?: string }, url: string, maxBytes: number): Promise<JobInput> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new OmniprepError('INVALID_OPTION', `${url}: expected s3://BUCKET/KEY`, { input: url });
  if (objects.kind !== 's3' || m[1] !== objects.bucket)
    throw new OmniprepError(
      'FORBIDDEN_URL',
      `${url}: this service reads s3:// inputs only in its own bucket${objects.bucket ? ` (${objects.bucket})` : ' (start it with --store)'}`,
      {
        input: url,
      },
    );
  return objectInput(objects, m[2]!, { kind: 'url', name: url, url }, maxBytes);
}

/** The object's size and ETag, checked: it exists, is not empty, and is within the upload limit. */
async function objectInput(objects: ObjectStore, key: string, base: Pick<JobInput, 'kind' | 'name' | 'url'>, maxBytes: number): Promise<JobInput> {
  const info = await objects.head(key);
  if (!info) throw new OmniprepError('NOT_FOUND', `${base.name}: no such object in the store`, { input: base.name });
  if (info.size === 0) throw new OmniprepError('EMPTY', `${base.name}: is empty (0 bytes)`, { input: base.name });
  if (info.size > maxBytes) throw new OmniprepError('TOO_LARGE', `${base.name}: ${info.size} bytes, over the ${maxBytes}-byte limit`, { input: base.name });
  return { ...base, file: '', bytes: info.size, object: key, etag: info.etag };
}

/**
 * A multipart upload through the API, streamed to the store while it is hashed: over `maxBytes`
 * it is refused the moment the limit is crossed, and nothing stays in the store.
 */
export async function uploadToStore(
  stream: Readable & { truncated?: boolean },
  filename: string | undefined,
  objects: ObjectStore,
  maxBytes: number,
): Promise<JobInput> {
  const { name, tooLarge } = uploadLimit(filename, maxBytes);
  const key = objects.key('uploads', uploadId(name));
  const tap = hashingTap();
  stream.once('limit', () => stream.destroy(tooLarge()));
  stream.once('error', (e) => tap.stream.destroy(e));
  try {
    await objects.put(key, stream.pipe(tap.stream));
    if (stream.truncated) throw tooLarge();
    if (tap.bytes() === 0) throw new OmniprepError('EMPTY', `${name}: is empty (0 bytes)`, { input: name });
  } catch (e) {
    await objects.deletePrefix(key).catch(() => {});
    throw stream.truncated ? tooLarge() : e;
  }
  const info = await objects.head(key);
  return { kind: 'upload', name, file: '', sha256: tap.sha256(), bytes: tap.bytes(), object: key, etag: info?.etag, owned: true };
}

/** A presigned GET for an input in the store, valid for `ttlSec`. */
export function objectUrl(objects: ObjectStore, input: JobInput, ttlSec: number): Promise<string> {
  return objects.presignGet(input.object!, ttlSec);
}

/** The range reader's options for an object input: the service's limits, pinned to the object, its endpoint reachable. */
export function objectUrlOptions(input: JobInput, config: ResolvedConfig, endpoint: ReadonlySet<string>, signal?: AbortSignal): RemoteOptions {
  const base = jobUrlOptions(input, config, signal);
  return { ...base, allowAddress: (a) => endpoint.has(a), expect: { etag: input.etag, size: input.bytes } };
}
