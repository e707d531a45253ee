/**
 * What another node needs from this one, behind one interface: an object store. The embedded
 * default keeps everything in the data directory (local.ts); `--store s3://BUCKET/PREFIX` puts
 * uploads, frames, audio chunks, request bodies and manifests in S3-compatible storage (s3.ts), so
 * nodes share no disk. Keys are full keys in the store (`key()` puts the prefix in front).
 *
 *   PREFIX/uploads/ID.EXT           uploads (through the API, presigned PUTs or multipart), and ID.EXT.facts.json
 *   PREFIX/jobs/JOB/frames/...      a job's outputs, as prepare() wrote them (frames/, audio/, ...)
 *   PREFIX/jobs/JOB/manifest.json   written last: a job is done only when it is stored
 */
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  size: number;
  etag: string | undefined;
  lastModified: Date | undefined;
}

export interface ObjectStore {
  readonly kind: 'local' | 's3';
  /** Where it is, for messages: s3://BUCKET/PREFIX or the directory. */
  readonly where: string;
  /** The full key of a path under the store's prefix. */
  key(...parts: string[]): string;
  /** Fails with one line when the store cannot be used (wrong credentials, no bucket, unreachable). */
  check(): Promise<void>;
  /** Writes an object from bytes or a stream (streamed with a bounded buffer); says how many bytes went. */
  put(key: string, body: Buffer | string | Readable, contentType?: string): Promise<number>;
  get(key: string): Promise<Readable>;
  /** Bytes start..end inclusive. */
  getRange(key: string, start: number, end: number): Promise<Buffer>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every key under a prefix. */
  list(prefix: string): Promise<string[]>;
  /** Removes one object (nothing when it is not there). */
  delete(key: string): Promise<void>;
  /** Removes every object under a prefix; says how many went. */
  deletePrefix(prefix: string): Promise<number>;
  /** A URL that reads the object for `ttlSec` seconds without credentials. */
  presignGet(key: string, ttlSec: number): Promise<string>;
  /** A URL that writes the object for `ttlSec` seconds without credentials. */
  presignPut(key: string, ttlSec: number): Promise<string>;
  /** Starts a multipart upload a client sends part by part to presigned URLs (S3 only); its upload id. */
  createMultipart(key: string): Promise<string>;
  /** A URL that writes part `partNumber` (1-based) of a multipart upload for `ttlSec` seconds. */
  presignPart(key: string, uploadId: string, partNumber: number, ttlSec: number): Promise<string>;
  /** Joins the parts (their numbers and the ETags their PUTs answered) into the object. */
  completeMultipart(key: string, uploadId: string, parts: ReadonlyArray<{ partNumber: number; etag: string }>): Promise<void>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
  close(): void;
}
