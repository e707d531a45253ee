/**
 * Uploads sent once (POST /v1/uploads), then planned, re-planned and submitted by id, in both
 * modes: the file streamed through the API into the object store (the data directory, or S3 with
 * --store) while it is hashed, kept once per SHA-256 (the same bytes again answer the same
 * upload, `deduplicated`, and the second copy goes); with --store, also a presigned PUT, or a
 * presigned multipart upload for a large file, that the client sends straight to the store.
 *
 * An upload expires --upload-ttl seconds after it was last uploaded or used, unless a job holds
 * it (`upload:ID`, the stores' reference counts); the sweeper removes an expired, unheld upload's
 * record and bytes. What a plan learned of its bytes (the probe and the packet index: the facts)
 * is kept beside them, so re-planning with other options reads nothing again (inputs.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { OmniprepError } from '../errors.js';
import { factsFromJson, factsToJson } from '../plan/facts.js';
import type { PlanFacts } from '../plan/planner.js';
import type { ResolvedConfig } from './config.js';
import { extensionOf, uploadLimit } from './data.js';
import { ServiceError } from './errors.js';
import { streamToStore } from './object-inputs.js';
import type { ObjectStore } from './objects/types.js';
import type { JobInput, JobStore } from './store/types.js';
import type { UploadRecord, UploadStore } from './store/uploads.js';

/** How long a presigned URL (a PUT, a part) works. */
export const UPLOAD_URL_TTL_SEC = 3600;
/** Presigned uploads of more than this (or asked with `multipart: true`) are multipart uploads. */
export const MULTIPART_THRESHOLD = 64 * 1024 ** 2;
/** The smallest part S3 takes (but the last), and the most parts an upload may have. */
const MIN_PART = 5 * 1024 ** 2;
const MAX_PARTS = 10_000;
/** Facts kept in memory, by upload key (the page re-plans the same few uploads). */
const FACTS_CACHE = 32;
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface UploadsDeps {
  config: ResolvedConfig;
  objects: ObjectStore;
  uploads: UploadStore;
  store: JobStore;
  /** Whether a submission on this node holds the upload now (Inputs.isPinned, by holdKey). */
  isPinned(key: string): boolean;
  /** The clock (tests move it). */
  now(): number;
}

/** What clients see of an upload. */
export function uploadView(u: UploadRecord, deduplicated?: boolean): Record<string, unknown> {
  return {
    id: u.id,
    sha256: u.sha256,
    size: u.size,
    name: u.name,
    state: u.state,
    createdAt: new Date(u.createdAt).toISOString(),
    expiresAt: new Date(u.expiresAt).toISOString(),
    ...(deduplicated === undefined ? {} : { deduplicated }),
  };
}

/** A presigned upload's parts: at least 5 MiB each (whole MiB), at most 10,000 of them. */
export function partsFor(size: number): { partSize: number; parts: number } {
  const partSize = Math.max(MIN_PART, Math.ceil(size / MAX_PARTS / 1024 ** 2) * 1024 ** 2);
  return { partSize, parts: Math.max(1, Math.ceil(size / partSize)) };
}

export class Uploads {
  private readonly facts = new Map<string, PlanFacts>();

  constructor(private readonly d: UploadsDeps) {}

  private expiry(): number {
    return this.d.now() + this.d.config.uploadTtlSec * 1000;
  }

  private newRecord(name: string, sha256: string | null, size: number): UploadRecord {
    const id = randomUUID();
    const ext = extensionOf(name);
    const key = this.d.objects.key('uploads', ext === 'bin' ? id : `${id}.${ext}`);
    const now = this.d.now();
    return { id, sha256, size, name, key, state: sha256 ? 'ready' : 'pending', createdAt: now, expiresAt: this.expiry() };
  }

  /**
   * A file sent through the API (multipart), streamed into the store while it is hashed (a
   * bounded buffer); over the size limit it is refused the moment the limit is crossed, and
   * nothing stays. The same bytes kept already answer that upload (`deduplicated`).
   */
  async receive(stream: Readable & { truncated?: boolean }, filename: string | undefined): Promise<{ upload: UploadRecord; deduplicated: boolean }> {
    const { objects, config } = this.d;
    const { name, tooLarge } = uploadLimit(filename, config.maxUploadBytes);
    const draft = this.newRecord(name, null, 0);
    const got = await streamToStore(stream, name, tooLarge, objects, draft.key);
    const added = await this.d.uploads.add({ ...draft, sha256: got.sha256, size: got.bytes, state: 'ready', etag: got.etag });
    if (added.deduplicated) await objects.delete(draft.key);
    return added;
  }

  /** With --store: a presigned PUT, or (large, or asked) a presigned multipart upload. */
  async presign(body: { name?: string; size?: number; multipart?: boolean }): Promise<Record<string, unknown>> {
    const { objects, config } = this.d;
    if (objects.kind !== 's3')
      throw new ServiceError(
        'BAD_REQUEST',
        'presigned uploads need an object store (start the service with --store s3://BUCKET/PREFIX); send the file as multipart/form-data in the field "file"',
      );
    const name = body.name || 'upload';
    if (body.size !== undefined && body.size > config.maxUploadBytes)
      throw new OmniprepError('TOO_LARGE', `${name}: ${body.size} bytes, over the ${config.maxUploadBytes}-byte limit`, { input: name });
    const u = this.newRecord(name, null, body.size ?? 0);
    const common = { id: u.id, expiresInSec: UPLOAD_URL_TTL_SEC, expiresAt: new Date(u.expiresAt).toISOString() };
    if (!(body.multipart || (body.size ?? 0) > MULTIPART_THRESHOLD)) {
      const url = await objects.presignPut(u.key, UPLOAD_URL_TTL_SEC);
      await this.d.uploads.add(u);
      return { ...common, url, method: 'PUT' };
    }
    if (body.size === undefined) throw new ServiceError('BAD_REQUEST', `${name}: a multipart upload needs the file's size (give "size" in bytes)`);
    const { partSize, parts } = partsFor(body.size);
    const uploadId = await objects.createMultipart(u.key);
    const urls = await Promise.all(Array.from({ length: parts }, (_, i) => objects.presignPart(u.key, uploadId, i + 1, UPLOAD_URL_TTL_SEC)));
    await this.d.uploads.add({ ...u, multipart: { uploadId, partSize, parts } });
    return { ...common, method: 'multipart', partSize, parts: urls.map((url, i) => ({ partNumber: i + 1, url })), complete: `/v1/uploads/${u.id}/complete` };
  }

  /** Joins a presigned multipart upload's parts; wrong or missing ETags are the client's 400, and it may try again. */
  async complete(id: string, parts: ReadonlyArray<{ partNumber: number; etag: string }>): Promise<UploadRecord> {
    const u = await this.live(id);
    if (!u.multipart) throw new ServiceError('CONFLICT', `upload ${id}: is not a multipart upload in progress`);
    try {
      await this.d.objects.completeMultipart(u.key, u.multipart.uploadId, parts);
    } catch (e) {
      const status = (e as OmniprepError).details?.status;
      if (status === 400 || status === 404)
        throw new ServiceError(
          'BAD_REQUEST',
          `upload ${id}: the store refused the parts (${(e as Error).message.replace(/^.*\((.*)\)$/, '$1')}); send every part's number with the ETag its PUT answered`,
        );
      throw e;
    }
    return this.arrived({ ...u, multipart: undefined });
  }

  /** A presigned upload whose bytes are in the store: checked (not empty, within the limit) and recorded as ready. */
  private async arrived(u: UploadRecord): Promise<UploadRecord> {
    const info = await this.d.objects.head(u.key);
    if (!info) throw new ServiceError('CONFLICT', `upload ${u.id}: its bytes have not arrived (PUT them to the URL POST /v1/uploads gave)`);
    const max = this.d.config.maxUploadBytes;
    if (info.size === 0 || info.size > max) {
      await this.d.uploads.remove(u.id);
      await this.drop(u);
      if (info.size === 0) throw new OmniprepError('EMPTY', `${u.name}: is empty (0 bytes)`, { input: u.name });
      throw new OmniprepError('TOO_LARGE', `${u.name}: ${info.size} bytes, over the ${max}-byte limit`, { input: u.name });
    }
    const ready: UploadRecord = { ...u, state: 'ready', size: info.size, etag: info.etag };
    await this.d.uploads.update(ready);
    return ready;
  }

  /** The upload, not expired: 404 when there is none, 410 past its expiry (until the sweeper takes it). */
  async live(id: string): Promise<UploadRecord> {
    if (!UPLOAD_ID.test(id)) throw new ServiceError('BAD_REQUEST', `upload ${JSON.stringify(id).slice(0, 80)}: not an upload id (POST /v1/uploads gives one)`);
    const u = await this.d.uploads.get(id);
    if (!u) throw new ServiceError('UPLOAD_NOT_FOUND', `upload ${id}: no such upload (it may have expired)`);
    if (u.expiresAt < this.d.now())
      throw new ServiceError('UPLOAD_EXPIRED', `upload ${id}: expired at ${new Date(u.expiresAt).toISOString()} (upload the file again)`);
    return u;
  }

  /** GET /v1/uploads/:id: a presigned single PUT is looked for in the store. */
  async get(id: string): Promise<UploadRecord> {
    const u = await this.live(id);
    if (u.state !== 'pending' || u.multipart) return u;
    // Not arrived yet: still pending (anything else, an empty or oversized file, is the answer).
    return this.arrived(u).catch((e: unknown) => {
      if (e instanceof ServiceError && e.code === 'CONFLICT') return u;
      throw e;
    });
  }

  /** `{ upload: ID }` of a plan or a job: the input, its expiry moved on (a use keeps it). */
  async input(id: string): Promise<JobInput> {
    let u = await this.live(id);
    if (u.multipart) throw new ServiceError('CONFLICT', `upload ${id}: the multipart upload is not complete (POST /v1/uploads/${id}/complete)`);
    if (u.state === 'pending') u = await this.arrived(u);
    u = (await this.d.uploads.touch(id, this.expiry(), this.d.now())) ?? u;
    const base = { kind: 'upload' as const, name: u.name, bytes: u.size, upload: u.id, ...(u.sha256 ? { sha256: u.sha256 } : {}) };
    // In S3 the job reads it like a URL (by byte ranges, pinned to its ETag); locally, the file.
    if (this.d.objects.kind === 's3') return { ...base, file: '', object: u.key, etag: u.etag };
    return { ...base, file: u.key };
  }

  /** DELETE /v1/uploads/:id: refused while a job holds it. */
  async delete(id: string): Promise<UploadRecord> {
    const u = await this.d.uploads.get(id);
    if (!u) throw new ServiceError('UPLOAD_NOT_FOUND', `upload ${id}: no such upload (it may have expired)`);
    if (await this.held(id)) throw new ServiceError('CONFLICT', `upload ${id}: a job holds it (delete the job first)`);
    await this.d.uploads.remove(id);
    await this.drop(u);
    return u;
  }

  private async held(id: string): Promise<boolean> {
    return this.d.isPinned(`upload:${id}`) || (await this.d.store.inputInUse(`upload:${id}`));
  }

  /** The upload's bytes and facts (and a multipart upload left incomplete). */
  private async drop(u: UploadRecord): Promise<void> {
    const { objects } = this.d;
    this.facts.delete(u.key);
    if (u.multipart) await objects.abortMultipart(u.key, u.multipart.uploadId).catch(() => {});
    await objects.delete(u.key);
    await objects.delete(`${u.key}.facts.json`);
  }

  /** After a job was deleted: its upload goes too when no other job (or submission) holds it. */
  async releasedBy(input: JobInput): Promise<boolean> {
    if (!input.upload || (await this.held(input.upload))) return false;
    const u = await this.d.uploads.remove(input.upload);
    if (u) await this.drop(u);
    return Boolean(u);
  }

  /** Removes expired uploads no job holds (records, bytes, facts); says how many went. */
  async sweep(): Promise<number> {
    const now = this.d.now();
    let removed = 0;
    for (const u of await this.d.uploads.expired(now, 1000)) {
      if (await this.held(u.id)) continue;
      const gone = await this.d.uploads.remove(u.id, now);
      if (!gone) continue;
      await this.drop(gone);
      removed++;
    }
    return removed;
  }

  /** What a plan of this upload learned (probe, packet index), if a plan was made: memory, then the store. */
  async knownFacts(input: JobInput): Promise<PlanFacts | undefined> {
    const key = input.object ?? input.file;
    const had = this.facts.get(key);
    if (had) return had;
    const info = await this.d.objects.head(`${key}.facts.json`).catch(() => undefined);
    if (!info) return undefined;
    const chunks: Buffer[] = [];
    for await (const c of await this.d.objects.get(`${key}.facts.json`)) chunks.push(c as Buffer);
    const facts = factsFromJson(JSON.parse(Buffer.concat(chunks).toString('utf8')), input.name);
    this.remember(key, facts);
    return facts;
  }

  /** Keeps what a plan of this upload learned, for the next plan. */
  async keepFacts(input: JobInput, facts: PlanFacts): Promise<void> {
    const key = input.object ?? input.file;
    if (this.facts.has(key)) return;
    this.remember(key, facts);
    await this.d.objects.put(`${key}.facts.json`, JSON.stringify(factsToJson(facts)), 'application/json');
  }

  private remember(key: string, facts: PlanFacts): void {
    this.facts.set(key, facts);
    if (this.facts.size > FACTS_CACHE) this.facts.delete(this.facts.keys().next().value as string);
  }
}
