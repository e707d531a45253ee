/**
 * The object store in S3-compatible storage (`--store s3://BUCKET/PREFIX`), with the AWS SDK's
 * standard configuration: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the SDK's other
 * credential sources), AWS_REGION, and an endpoint for S3-compatible servers (AWS_ENDPOINT_URL_S3
 * or --s3-endpoint; path-style addressing then). Checksums only where the API requires them: the
 * SDK's default ones break some S3-compatible servers. Streams go up through lib-storage's Upload
 * (5 MiB parts, two in flight: a bounded buffer whatever the size).
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { OmniprepError } from '../../errors.js';
import type { ObjectInfo, ObjectStore } from './types.js';

export interface S3Location {
  bucket: string;
  /** Without a trailing slash; '' for the whole bucket. */
  prefix: string;
}

/** `s3://BUCKET/PREFIX` (the prefix may be empty). */
export function parseStoreUrl(url: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new OmniprepError('INVALID_OPTION', `option store: expected s3://BUCKET/PREFIX, got ${JSON.stringify(url)}`, { details: { option: 'store' } });
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

export interface S3StoreOptions {
  /** An S3-compatible server (default: AWS_ENDPOINT_URL_S3, else AWS). */
  endpoint?: string | undefined;
  region?: string | undefined;
}

type SdkError = Error & { name: string; code?: string; $metadata?: { httpStatusCode?: number } };

function statusOf(e: unknown): number | undefined {
  return (e as SdkError)?.$metadata?.httpStatusCode;
}

export class S3Objects implements ObjectStore {
  readonly kind = 's3' as const;
  readonly where: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly endpoint: string | undefined;
  readonly client: S3Client;

  constructor(url: string, o: S3StoreOptions = {}) {
    const loc = parseStoreUrl(url);
    this.bucket = loc.bucket;
    this.prefix = loc.prefix;
    this.where = `s3://${loc.bucket}${loc.prefix ? `/${loc.prefix}` : ''}`;
    this.endpoint = o.endpoint || process.env.AWS_ENDPOINT_URL_S3 || undefined;
    this.client = new S3Client({
      region: o.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
      ...(this.endpoint ? { endpoint: this.endpoint, forcePathStyle: true } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 5000, requestTimeout: 60_000 },
      maxAttempts: 3,
    });
  }

  key(...parts: string[]): string {
    return [this.prefix, ...parts].filter(Boolean).join('/');
  }

  /** One line for a failed call: what, where and the store's answer. */
  fail(what: string, key: string, e: unknown): OmniprepError {
    if (e instanceof OmniprepError) return e;
    const err = e as SdkError;
    const status = statusOf(e);
    const cause = status ? `${status} ${err.name}` : `${err?.code ?? err?.name ?? 'error'}: ${String(err?.message ?? e).slice(0, 200)}`;
    return new OmniprepError('REQUEST_FAILED', `object store s3://${this.bucket}/${key}: ${what} failed (${cause})`, {
      cause: e,
      details: { store: true, ...(status ? { status } : {}) },
    });
  }

  private async call<T>(what: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.fail(what, key, e);
    }
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      const status = statusOf(e);
      const at = this.endpoint ?? 'AWS';
      let why: string;
      if (status === 403 || status === 400) why = `the store refused the credentials (${status}; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`;
      else if (status === 404) why = `the bucket ${this.bucket} does not exist at ${at}`;
      else if (status) why = `${at} answered ${status}`;
      else why = `cannot reach ${at} (${(e as SdkError).code ?? (e as SdkError).name}: ${String((e as Error).message).slice(0, 120)})`;
      throw new OmniprepError(status === 404 ? 'NOT_FOUND' : status ? 'INVALID_OPTION' : 'REQUEST_FAILED', `option store: ${this.where}: ${why}`, {
        input: this.where,
        details: { option: 'store' },
      });
    }
  }

  put(key: string, body: Buffer | string | Readable, contentType?: string): Promise<number> {
    return this.call('put', key, async () => {
      const params = { Bucket: this.bucket, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) };
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        await this.client.send(new PutObjectCommand(params));
        return Buffer.byteLength(body);
      }
      let bytes = 0;
      body.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      await new Upload({ client: this.client, params, partSize: 5 * 1024 * 1024, queueSize: 2, leavePartsOnError: false }).done();
      return bytes;
    });
  }

  get(key: string): Promise<Readable> {
    return this.call('get', key, async () => (await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))).Body as Readable);
  }

  getRange(key: string, start: number, end: number): Promise<Buffer> {
    return this.call('ranged get', key, async () => {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end}` }));
      return Buffer.from(await r.Body!.transformToByteArray());
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: r.ContentLength ?? 0, etag: r.ETag, lastModified: r.LastModified };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw this.fail('head', key, e);
    }
  }

  list(prefix: string): Promise<string[]> {
    return this.call('list', prefix, async () => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return keys;
    });
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    for (let i = 0; i < keys.length; i += 1000) {
      const Objects = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      await this.call('delete', prefix, () => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } })));
    }
    return keys.length;
  }

  async delete(key: string): Promise<void> {
    await this.call('delete', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  createMultipart(key: string): Promise<string> {
    return this.call('multipart upload', key, async () => {
      const r = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
      if (!r.UploadId) throw new Error('the store answered no UploadId');
      return r.UploadId;
    });
  }

  presignPart(key: string, uploadId: string, partNumber: number, ttlSec: number): Promise<string> {
    const command = new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber });
    return this.call('presign', key, () => getSignedUrl(this.client, command, { expiresIn: ttlSec }));
  }

  async completeMultipart(key: string, uploadId: string, parts: ReadonlyArray<{ partNumber: number; etag: string }>): Promise<void> {
    const MultipartUpload = { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) };
    await this.call('multipart complete', key, () =>
      this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload })),
    );
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.call('multipart abort', key, () => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })));
  }

  presignGet(key: string, ttlSec: number): Promise<string> {
    return this.call('presign', key, () => getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: ttlSec }));
  }

  presignPut(key: string, ttlSec: number): Promise<string> {
    return this.call('presign', key, () => getSignedUrl(this.client, new PutObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: ttlSec }));
  }

  close(): void {
    this.client.destroy();
  }
}
