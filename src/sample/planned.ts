/**
 * A plan made earlier, executed from the facts it was made from (`sample(input, { plan, facts })`):
 * nothing is probed or planned again. The input must be the file that was planned: the same size,
 * and the same modification time or, when `sha256` is given (a content-addressed copy whose time
 * was touched), the same bytes. Otherwise the run fails as CORRUPT naming the input. A URL's plan
 * (planRemote) is executed on the URL it was made from, opened again by the range reader pinned
 * to what the planning saw (size, ETag, Last-Modified: `remote.expect`, else the plan's reading).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { inputError } from '../errors.js';
import type { PlanFacts } from '../plan/planner.js';
import type { Plan } from '../plan/types.js';
import { withIndex } from '../probe/keyframes.js';
import type { MediaInfo } from '../probe/types.js';
import type { RemoteOptions } from '../source/remote.js';

export interface PlannedOptions {
  /** A plan made earlier (plan(), or planWithFacts() with its facts): executed as it is. */
  plan?: Plan | undefined;
  /** The facts `plan` was made from (planWithFacts(); factsFromJson() reads them back). */
  facts?: PlanFacts | undefined;
  /** The planned file's SHA-256 (hex): when its modification time changed, its bytes are compared instead. */
  sha256?: string | undefined;
}

async function sha256Of(path: string, signal: AbortSignal | undefined): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

function changed(input: string, what: string): Error {
  return inputError('CORRUPT', input, `changed since it was planned (${what}); plan it again`);
}

/**
 * The facts of the planned file as this input's, carrying its packet index (withIndex): throws
 * CORRUPT when the input is not the file that was planned.
 */
export async function plannedInfo(input: string, o: PlannedOptions, signal?: AbortSignal): Promise<MediaInfo> {
  const facts = o.facts!;
  const path = resolve(input);
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) throw inputError('NOT_FOUND', input, 'is not there any more (it was planned, then removed)');
  const planned = facts.info;
  if (st.size !== planned.sizeBytes) throw changed(input, `${st.size} bytes, planned with ${planned.sizeBytes}`);
  if (st.mtimeMs !== planned.mtimeMs) {
    if (!o.sha256) throw changed(input, 'its modification time is not the one planned');
    if ((await sha256Of(path, signal)) !== o.sha256) throw changed(input, 'its SHA-256 is not the one planned');
  }
  const info: MediaInfo = { ...planned, input, path, mtimeMs: st.mtimeMs };
  return facts.index ? withIndex(info, facts.index) : info;
}

/** Whether the plan was made from this URL by its range reader (planRemote: the plan names the URL it read). */
export function plannedFromUrl(url: string, o: PlannedOptions): boolean {
  return o.plan?.remote?.url === url;
}

/** The range reader's options for a planned URL: pinned to the file the plan was made from. */
export function plannedRemote(o: PlannedOptions & { remote?: RemoteOptions | undefined }): RemoteOptions | undefined {
  const r = o.plan?.remote;
  if (!r || o.remote?.expect) return o.remote;
  return { ...o.remote, expect: { etag: r.etag, lastModified: r.lastModified, size: r.sizeBytes } };
}

/** The facts of a planned URL as its reader's (the sparse local copy), carrying the planned packet index. */
export function plannedRemoteInfo(remote: { url: string; path: string }, o: PlannedOptions): MediaInfo {
  const facts = o.facts!;
  const info: MediaInfo = { ...facts.info, input: remote.url, path: remote.path };
  return facts.index ? withIndex(info, facts.index) : info;
}
