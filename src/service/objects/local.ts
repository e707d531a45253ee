/**
 * The embedded object store: files under a directory (the data directory), keys as relative
 * paths. It has no URLs to sign: a node with a local store serves its files itself.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OmniprepError } from '../../errors.js';
import type { ObjectInfo, ObjectStore } from './types.js';

export class LocalObjects implements ObjectStore {
  readonly kind = 'local' as const;
  readonly where: string;

  constructor(root: string) {
    this.where = resolve(root);
  }

  key(...parts: string[]): string {
    return parts.join('/');
  }

  private path(key: string): string {
    const p = resolve(this.where, key);
    if (!p.startsWith(this.where + sep)) throw new OmniprepError('INVALID_OPTION', `object key ${key}: is outside ${this.where}`);
    return p;
  }

  async check(): Promise<void> {
    await mkdir(this.where, { recursive: true });
  }

  async put(key: string, body: Buffer | string | Readable): Promise<number> {
    const p = this.path(key);
    await mkdir(dirname(p), { recursive: true });
    const tmp = `${p}.${randomUUID()}.part`;
    try {
      if (typeof body === 'string' || Buffer.isBuffer(body)) await writeFile(tmp, body);
      else await pipeline(body, createWriteStream(tmp));
      await rename(tmp, p);
    } finally {
      await rm(tmp, { force: true });
    }
    return (await stat(p)).size;
  }

  async get(key: string): Promise<Readable> {
    const p = this.path(key);
    await stat(p);
    return createReadStream(p);
  }

  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    const h = await open(this.path(key), 'r');
    try {
      const buf = Buffer.alloc(end - start + 1);
      const { bytesRead } = await h.read(buf, 0, buf.length, start);
      return buf.subarray(0, bytesRead);
    } finally {
      await h.close();
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const st = await stat(this.path(key)).catch(() => undefined);
    return st?.isFile() ? { size: st.size, etag: undefined, lastModified: st.mtime } : undefined;
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.path(prefix);
    const entries = await readdir(base, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile()).map((e) => relative(this.where, join(e.parentPath, e.name)).split(sep).join('/'));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const n = (await this.list(prefix)).length;
    await rm(this.path(prefix), { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    return n;
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  presignGet(key: string): Promise<string> {
    return Promise.reject(new OmniprepError('INVALID_OPTION', `object ${key}: a local store has no URLs to sign (start the service with --store s3://BUCKET)`));
  }

  presignPut(key: string): Promise<string> {
    return this.presignGet(key);
  }

  createMultipart(key: string): Promise<string> {
    return this.presignGet(key);
  }

  presignPart(key: string): Promise<string> {
    return this.presignGet(key);
  }

  async completeMultipart(key: string): Promise<void> {
    await this.presignGet(key);
  }

  async abortMultipart(): Promise<void> {}

  close(): void {}
}
