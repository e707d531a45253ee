/**
 * The data directory (--data): what a node keeps on disk.
 *
 *   DATA/omniprep.db         jobs, states and results (SQLite, embedded mode only)
 *   DATA/inputs/SHA256.EXT   files sent with a job, downloads, paths: content-addressed (the same bytes are kept once)
 *   DATA/uploads/ID.EXT      uploads sent once (POST /v1/uploads; records in SQLite), with the facts a plan learned
 *   DATA/outputs/JOB/        a job's frames (frames/) and audio chunks (audio/), with manifests
 *   DATA/plans/JOB.json      a job's plan and the facts it was made from (its worker executes it)
 *   DATA/tmp/                uploads and downloads in flight
 *
 * With Redis and workers on several machines, either every node has its own DATA and the objects
 * another node needs (uploads, frames, audio chunks, manifests) are in S3 (`--store`:
 * src/service/objects/, outputs.ts, object-inputs.ts), or DATA is a directory every node mounts
 * (NFS, a shared volume): workers read inputs from it and write outputs to it, and API nodes serve
 * frames from it. URL inputs also reach a worker without either (read by byte ranges, or
 * downloaded again).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { OmniprepError } from '../errors.js';
import { diskFull, storageError } from './errors.js';

export class DataDir {
  readonly root: string;
  readonly inputs: string;
  readonly outputs: string;
  readonly tmp: string;
  /** Each queued job's plan with the facts it was made from (job-plans.ts). */
  readonly plans: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.inputs = join(this.root, 'inputs');
    this.outputs = join(this.root, 'outputs');
    this.tmp = join(this.root, 'tmp');
    this.plans = join(this.root, 'plans');
  }

  async init(): Promise<void> {
    for (const d of [this.root, this.inputs, this.outputs, this.tmp, this.plans]) await mkdir(d, { recursive: true });
  }

  /** This process's directory for temporary work (audio cuts): tmp/node-HOST-PID. */
  nodeTmp(): string {
    return join(this.tmp, `node-${hostname()}-${process.pid}`);
  }

  /**
   * Removes what killed nodes left in tmp/: everything when this node owns the directory
   * (embedded); otherwise the work directories of dead processes on this host, and uploads in
   * flight older than an hour (other nodes' recent ones are left alone). Returns how many entries went.
   */
  async cleanTmp(exclusive: boolean): Promise<number> {
    const cutoff = Date.now() - 3600_000;
    const mine = `node-${hostname()}-`;
    let removed = 0;
    for (const name of await readdir(this.tmp).catch(() => [] as string[])) {
      const p = join(this.tmp, name);
      const pid = name.startsWith(mine) && /^\d+$/.test(name.slice(mine.length)) ? Number(name.slice(mine.length)) : 0;
      let gone = exclusive && pid !== process.pid;
      if (!gone && pid && pid !== process.pid) gone = !alive(pid);
      if (!gone && !name.startsWith('node-')) gone = ((await stat(p).catch(() => undefined))?.mtimeMs ?? Infinity) < cutoff;
      if (!gone) continue;
      await rm(p, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  tmpFile(): string {
    return join(this.tmp, randomUUID());
  }

  /** Moves a finished upload or download into inputs/ under its hash; returns the blob's path. */
  async adopt(tmpPath: string, sha256: string, ext: string): Promise<string> {
    const dest = join(this.inputs, `${sha256}.${ext}`);
    const existing = await stat(dest).catch(() => undefined);
    if (existing) {
      await rm(tmpPath, { force: true });
      const now = new Date();
      await utimes(dest, now, now).catch(() => {});
    } else {
      await rename(tmpPath, dest).catch(async (e: unknown) => {
        await rm(tmpPath, { force: true });
        throw e;
      });
    }
    return dest;
  }

  /**
   * Writes a stream to tmp/ while hashing it. A failure leaves nothing behind; a full disk is the
   * 507 line naming `name` when given (otherwise the request's error handler names the input).
   */
  async receive(stream: Readable, name?: string): Promise<{ path: string; sha256: string; bytes: number }> {
    const path = this.tmpFile();
    const tap = hashingTap();
    try {
      await pipeline(stream, tap.stream, createWriteStream(path));
    } catch (e) {
      await rm(path, { force: true });
      const full = diskFull(e);
      throw full && name !== undefined ? storageError(full, name) : e;
    }
    return { path, sha256: tap.sha256(), bytes: tap.bytes() };
  }

  outputDir(id: string): string {
    return join(this.outputs, id);
  }

  planFile(id: string): string {
    return join(this.plans, `${id}.json`);
  }

  /** Relative to the data directory (what job records keep, so nodes may mount it anywhere). */
  rel(p: string): string {
    return relative(this.root, p);
  }

  abs(rel: string): string {
    const p = resolve(this.root, rel);
    if (p !== this.root && !p.startsWith(this.root + sep)) throw new Error(`${rel} is outside the data directory`);
    return p;
  }

  isInput(p: string): boolean {
    return resolve(p).startsWith(this.inputs + sep);
  }
}

/** A pass-through stream that hashes (sha256) and counts what goes through it. */
export function hashingTap(): { stream: Transform; sha256(): string; bytes(): number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex'), bytes: () => bytes };
}

/** An upload's name (its file name, else "upload") and the refusal when it crosses `maxBytes`. */
export function uploadLimit(filename: string | undefined, maxBytes: number): { name: string; tooLarge(): OmniprepError } {
  const name = filename || 'upload';
  return { name, tooLarge: () => new OmniprepError('TOO_LARGE', `${name}: the upload is over the ${maxBytes}-byte limit`, { input: name }) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A safe extension for a stored input, from the client's file name ("bin" when there is none). */
export function extensionOf(name: string | undefined): string {
  const m = /\.([A-Za-z0-9]{1,5})$/.exec(name ?? '');
  return m ? m[1]!.toLowerCase() : 'bin';
}
