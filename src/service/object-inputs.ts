/**
 * Inputs in the S3 store: a file sent with POST /v1/jobs or /v1/plan streamed to it (hashed on
 * the way, a bounded buffer: lib-storage's parts), and an `s3://BUCKET/KEY` URL in the service's
 * own bucket (uploads sent once, POST /v1/uploads, are uploads.ts). Each is read
 * like a URL by the planner and the worker: through a presigned GET, by byte ranges when the
 * container allows (the range reader may reach the store's endpoint, and only it, even on a
 * loopback or private address), pinned to the object's ETag and size.
 */
import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { OmniprepError } from '../errors.js';
import type { RemoteOptions } from '../source/remote.js';
import type { ResolvedConfig } from './config.js';
import { extensionOf, hashingTap, uploadLimit } from './data.js';
import { jobUrlOptions } from './intake.js';
import type { ObjectStore } from './objects/types.js';
import type { JobInput } from './store/types.js';

/** A new upload's id: a UUID, with the file name's extension when it has one. */
function uploadId(name: string | undefined): string {
  const ext = extensionOf(name);
  return `${randomUUID()}${ext === 'bin' ? '' : `.${ext}`}`;
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
 * A file sent through the API, streamed into the object store at `key` while it is hashed (a
 * bounded buffer): over `maxBytes` it is refused the moment the limit is crossed (busboy's
 * 'limit'), an empty one too, and nothing stays in the store.
 */
export async function streamToStore(
  stream: Readable & { truncated?: boolean },
  name: string,
  tooLarge: () => OmniprepError,
  objects: ObjectStore,
  key: string,
): Promise<{ sha256: string; bytes: number; etag: string | undefined }> {
  const tap = hashingTap();
  stream.once('limit', () => stream.destroy(tooLarge()));
  try {
    // pipeline: an error of the upload (the limit) ends the hashing stream the store reads, once.
    await objects.put(
      key,
      pipeline(stream, tap.stream, () => {}),
    );
    if (stream.truncated) throw tooLarge();
    if (tap.bytes() === 0) throw new OmniprepError('EMPTY', `${name}: is empty (0 bytes)`, { input: name });
  } catch (e) {
    await objects.delete(key).catch(() => {});
    throw stream.truncated ? tooLarge() : e;
  }
  const etag = objects.kind === 's3' ? (await objects.head(key))?.etag : undefined;
  return { sha256: tap.sha256(), bytes: tap.bytes(), etag };
}

/** A multipart upload with POST /v1/jobs or /v1/plan into the S3 store: the job's own object. */
export async function uploadToStore(
  stream: Readable & { truncated?: boolean },
  filename: string | undefined,
  objects: ObjectStore,
  maxBytes: number,
): Promise<JobInput> {
  const { name, tooLarge } = uploadLimit(filename, maxBytes);
  const key = objects.key('uploads', uploadId(name));
  const got = await streamToStore(stream, name, tooLarge, objects, key);
  return { kind: 'upload', name, file: '', sha256: got.sha256, bytes: got.bytes, object: key, etag: got.etag, owned: true };
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
