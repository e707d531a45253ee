/**
 * How an input reaches the service: an upload (streamed to disk, hashed, kept once by content),
 * a path under an allowed root, or a URL. A path is opened once, every component below the root
 * without following links (O_NOFOLLOW on each step), and copied into the content-addressed store
 * from that open file, so swapping a directory for a symlink after the check changes nothing; the
 * job never opens the client's path again. A URL is opened with the SSRF-guarded range reader:
 * an MP4/MOV or Matroska/WebM from a server that answers byte ranges stays at its URL and the job
 * reads only what it needs, pinned to the validators seen here; anything else is read whole once
 * and stored like an upload. ffmpeg never sees a URL or a client's path (a URL read by ranges is
 * decoded from a sparse local copy).
 */
import { constants, createReadStream, existsSync } from 'node:fs';
import { open, realpath, rm, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { OmniprepError } from '../errors.js';
import { download } from '../source/download.js';
import { RemoteInput, type RemoteOptions } from '../source/remote.js';
import type { ResolvedConfig } from './config.js';
import { extensionOf, uploadLimit, type DataDir } from './data.js';
import { ServiceError } from './errors.js';
import { readByRanges, type JobInput } from './store/types.js';

/** The allowed roots, resolved once (a root that does not exist is a configuration error). */
export async function resolveRoots(roots: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of roots) {
    try {
      out.push(await realpath(r));
    } catch {
      throw new OmniprepError('INVALID_OPTION', `option allow-root: ${r} does not exist`, { input: r });
    }
  }
  return out;
}

/** A path under one of the roots, symlinks resolved; refused when it leaves them. */
export async function confinePath(path: string, roots: string[]): Promise<string> {
  if (!roots.length) throw new ServiceError('FORBIDDEN_PATH', `${path}: path inputs are disabled on this server (start it with --allow-root DIR)`);
  if (path.includes('\0')) throw new ServiceError('FORBIDDEN_PATH', 'the path contains a NUL byte');
  const candidates = isAbsolute(path) ? [path] : roots.map((r) => resolve(r, path));
  let lastMissing: unknown;
  for (const c of candidates) {
    let real: string;
    try {
      real = await realpath(c);
    } catch (e) {
      lastMissing = e;
      continue;
    }
    if (roots.some((r) => real === r || real.startsWith(r.endsWith(sep) ? r : r + sep))) return real;
    throw new ServiceError('FORBIDDEN_PATH', `${path}: is outside the allowed roots`);
  }
  // A path that does not exist: say so only when it would be inside a root (no probing outside).
  const lexical = candidates.find((c) => roots.some((r) => resolve(c).startsWith(r + sep)));
  if (!lexical) throw new ServiceError('FORBIDDEN_PATH', `${path}: is outside the allowed roots`);
  const code = (lastMissing as NodeJS.ErrnoException | undefined)?.code;
  throw new OmniprepError('NOT_FOUND', `${path}: no such file${code && code !== 'ENOENT' ? ` (${code})` : ''}`, { input: path });
}

/** Opens a path inside a root one component at a time, never following a link (Linux: through /proc/self/fd). */
async function openBelow(root: string, rel: string, name: string): Promise<FileHandle> {
  const parts = rel.split(sep).filter(Boolean);
  const { O_RDONLY, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = constants;
  const viaProc = existsSync('/proc/self/fd');
  let dir = await open(root, O_RDONLY | O_DIRECTORY);
  try {
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      const target = viaProc ? `/proc/self/fd/${dir.fd}/${parts[i]}` : resolve(root, ...parts.slice(0, i + 1));
      let next: FileHandle;
      try {
        // The last one without blocking: a FIFO would wait for a writer.
        next = await open(target, O_RDONLY | O_NOFOLLOW | (last ? O_NONBLOCK : O_DIRECTORY));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') {
          throw new ServiceError('FORBIDDEN_PATH', `${name}: changed while it was opened (a link below the allowed root is not followed)`);
        }
        throw e;
      }
      await dir.close();
      dir = next;
    }
    return dir;
  } catch (e) {
    await dir.close().catch(() => {});
    throw e;
  }
}

/**
 * What a file is, from its open handle: device, inode, size, and the modification and change
 * times to the nanosecond. The change time moves on every write and cannot be set back by the
 * file's owner, so an equal identity means the same bytes as when it was last read.
 */
export type FileIdentity = string;

/**
 * A path under one of the roots, pinned: opened without following links below the root, checked
 * to be a file, and copied into the content-addressed store. The job reads the copy. `known`
 * answers with an input already stored for the same identity (the same file, unchanged since it
 * was copied): then nothing is read again.
 */
export async function intakePath(
  path: string,
  roots: string[],
  data: DataDir,
  known: (id: FileIdentity) => JobInput | undefined = () => undefined,
): Promise<{ input: JobInput; identity: FileIdentity }> {
  const real = await confinePath(path, roots);
  const root = roots.filter((r) => real === r || real.startsWith(r.endsWith(sep) ? r : r + sep)).sort((a, b) => b.length - a.length)[0]!;
  const handle = await openBelow(root, relative(root, real), path);
  try {
    const st = await handle.stat({ bigint: true });
    if (!st.isFile()) throw new OmniprepError('NOT_A_FILE', `${path}: is not a file`, { input: path });
    if (st.size === 0n) throw new OmniprepError('EMPTY', `${path}: is empty (0 bytes)`, { input: path });
    const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const stored = known(identity);
    if (stored && existsSync(inputFile(stored, data))) return { input: { ...stored, name: path }, identity };
    const got = await data.receive(handle.createReadStream({ start: 0, autoClose: false }), path);
    const file = await data.adopt(got.path, got.sha256, extensionOf(path));
    return { input: { kind: 'path', name: path, file: data.rel(file), sha256: got.sha256, bytes: got.bytes }, identity };
  } finally {
    await handle.close().catch(() => {});
  }
}

export async function intakeUpload(
  stream: Readable & { truncated?: boolean },
  filename: string | undefined,
  data: DataDir,
  maxBytes: number,
): Promise<JobInput> {
  const { name, tooLarge } = uploadLimit(filename, maxBytes);
  // Refused the moment the limit is crossed (busboy's 'limit'), not when the body has arrived.
  stream.once('limit', () => stream.destroy(tooLarge()));
  let got: Awaited<ReturnType<DataDir['receive']>>;
  try {
    got = await data.receive(stream, name);
  } catch (e) {
    if (stream.truncated) throw tooLarge();
    throw e;
  }
  if (stream.truncated) {
    await rm(got.path, { force: true });
    throw tooLarge();
  }
  if (got.bytes === 0) {
    await rm(got.path, { force: true });
    throw new OmniprepError('EMPTY', `${name}: is empty (0 bytes)`, { input: name });
  }
  const file = await data.adopt(got.path, got.sha256, extensionOf(name));
  return { kind: 'upload', name, file: data.rel(file), sha256: got.sha256, bytes: got.bytes };
}

/** The range reader's options for a URL input: the service's SSRF rule, size and time limits. */
export function urlOptions(config: ResolvedConfig, signal?: AbortSignal): RemoteOptions {
  return {
    allowPrivate: config.allowPrivateUrls,
    maxBytes: config.maxUploadBytes,
    timeoutMs: config.downloadTimeoutMs,
    maxRedirects: config.maxRedirects,
    ...(signal ? { signal } : {}),
  };
}

/**
 * The range reader's options for a job's URL input read by ranges: pinned to the validators
 * its submission saw, so a file that changed since is refused rather than mixed.
 */
export function jobUrlOptions(input: JobInput, config: ResolvedConfig, signal?: AbortSignal): RemoteOptions {
  const r = input.remote;
  return { ...urlOptions(config, signal), expect: { etag: r?.etag, lastModified: r?.lastModified, size: r?.sizeBytes } };
}

/**
 * A URL, opened with the range reader (src/source/remote.ts), never downloaded up front when it
 * need not be: MP4/MOV or Matroska/WebM from a server that answers byte ranges stays at its URL
 * (the job reads its index and the packets it keeps), and comes back with the open reader for the plan (its caller
 * closes it). Anything the opening read whole (another container, a server without ranges, `whole`
 * asked: scene mode decodes every frame) is stored like an upload; its report says why.
 */
export async function intakeUrl(
  url: string,
  data: DataDir,
  config: ResolvedConfig,
  o: { whole?: string | undefined; mode?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<{ input: JobInput; remote?: RemoteInput | undefined }> {
  const remote = await RemoteInput.open(url, { ...urlOptions(config, o.signal), ...(o.whole ? { whole: o.whole } : {}), ...(o.mode ? { mode: o.mode } : {}) });
  let keep = false;
  try {
    const report = remote.report();
    if (report.sizeBytes === 0) throw new OmniprepError('EMPTY', `${url}: the server sent 0 bytes`, { input: url });
    if (remote.ranged) {
      keep = true;
      return { input: { kind: 'url', name: url, file: '', bytes: report.sizeBytes, url, remote: report }, remote };
    }
    // Read whole: the copy is hashed and kept by content, as an upload is.
    const got = await data.receive(createReadStream(remote.path), url);
    const file = await data.adopt(got.path, got.sha256, extensionOf(new URL(remote.file.finalUrl).pathname));
    return { input: { kind: 'url', name: url, file: data.rel(file), sha256: got.sha256, bytes: got.bytes, url, remote: report } };
  } finally {
    if (!keep) await remote.close();
  }
}

/** A URL input read whole, downloaded again by a worker that does not share the stored copy. */
async function downloadAgain(input: JobInput & { url: string }, data: DataDir, config: ResolvedConfig, signal?: AbortSignal): Promise<string> {
  const tmp = data.tmpFile();
  const r = await download(input.url, tmp, { ...urlOptions(config), signal });
  const url = input.url;
  if (r.sha256 !== input.sha256) {
    await rm(tmp, { force: true });
    throw new OmniprepError(
      'CORRUPT',
      `${url}: the URL now serves other bytes than when the job was planned (sha256 ${r.sha256.slice(0, 12)}, planned ${input.sha256?.slice(0, 12)})`,
      { input: url },
    );
  }
  return data.adopt(tmp, r.sha256, extensionOf(new URL(r.finalUrl).pathname));
}

/** The absolute file of a job's input, as this node sees it. */
export function inputFile(input: JobInput, data: DataDir): string {
  return isAbsolute(input.file) ? input.file : data.abs(input.file);
}

/**
 * On a worker: what the job reads. A URL read by ranges is its URL (the library reads it by
 * ranges: jobUrlOptions); otherwise the stored file, fetched again by URL when this node does not
 * share the data directory (the hash must match what the API node planned).
 */
export async function ensureInput(input: JobInput, data: DataDir, config: ResolvedConfig, signal?: AbortSignal): Promise<string> {
  if (readByRanges(input)) return input.url!;
  const file = inputFile(input, data);
  if (
    await stat(file).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    return file;
  if (input.kind === 'url' && input.url) return downloadAgain({ ...input, url: input.url }, data, config, signal);
  throw new OmniprepError(
    'NOT_FOUND',
    `${input.name}: the stored input is not on this worker (workers on other machines need the shared --data directory, or a URL input)`,
    { input: input.name },
  );
}
