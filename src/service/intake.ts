/**
 * How an input reaches the service: an upload (streamed to disk, hashed, kept once by content),
 * a path under an allowed root, or a URL the service downloads itself with the SSRF-safe
 * downloader. Whatever comes in becomes a content-addressed file under DATA/inputs before it is
 * planned: a path is opened once, every component below the root without following links
 * (O_NOFOLLOW on each step), and copied from that open file, so swapping a directory for a
 * symlink after the check changes nothing; the job never opens the client's path again.
 * ffmpeg never sees a URL or a client's path.
 */
import { constants, existsSync } from 'node:fs';
import { open, realpath, rm, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { OmniprepError } from '../errors.js';
import { download } from '../source/download.js';
import type { ResolvedConfig } from './config.js';
import { extensionOf, type DataDir } from './data.js';
import { ServiceError } from './errors.js';
import type { JobInput } from './store/types.js';

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
 * A path under one of the roots, pinned: opened without following links below the root, checked
 * to be a file, and copied into the content-addressed store. The job reads the copy.
 */
export async function intakePath(path: string, roots: string[], data: DataDir): Promise<JobInput> {
  const real = await confinePath(path, roots);
  const root = roots.filter((r) => real === r || real.startsWith(r.endsWith(sep) ? r : r + sep)).sort((a, b) => b.length - a.length)[0]!;
  const handle = await openBelow(root, relative(root, real), path);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new OmniprepError('NOT_A_FILE', `${path}: is not a file`, { input: path });
    if (st.size === 0) throw new OmniprepError('EMPTY', `${path}: is empty (0 bytes)`, { input: path });
    const got = await data.receive(handle.createReadStream({ start: 0, autoClose: false }));
    const file = await data.adopt(got.path, got.sha256, extensionOf(path));
    return { kind: 'path', name: path, file: data.rel(file), sha256: got.sha256, bytes: got.bytes };
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
  const name = filename || 'upload';
  const tooLarge = (): OmniprepError => new OmniprepError('TOO_LARGE', `${name}: the upload is over the ${maxBytes}-byte limit`, { input: name });
  // Refused the moment the limit is crossed (busboy's 'limit'), not when the body has arrived.
  stream.once('limit', () => stream.destroy(tooLarge()));
  let got: Awaited<ReturnType<DataDir['receive']>>;
  try {
    got = await data.receive(stream);
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

export async function intakeUrl(url: string, data: DataDir, config: ResolvedConfig, signal?: AbortSignal): Promise<JobInput> {
  const tmp = data.tmpFile();
  const r = await download(url, tmp, {
    allowPrivate: config.allowPrivateUrls,
    maxBytes: config.maxUploadBytes,
    timeoutMs: config.downloadTimeoutMs,
    maxRedirects: config.maxRedirects,
    signal,
  });
  if (r.bytes === 0) {
    await rm(tmp, { force: true });
    throw new OmniprepError('EMPTY', `${url}: the server sent 0 bytes`, { input: url });
  }
  const file = await data.adopt(tmp, r.sha256, extensionOf(new URL(r.finalUrl).pathname));
  return { kind: 'url', name: url, file: data.rel(file), sha256: r.sha256, bytes: r.bytes, url };
}

/** The absolute file of a job's input, as this node sees it. */
export function inputFile(input: JobInput, data: DataDir): string {
  return isAbsolute(input.file) ? input.file : data.abs(input.file);
}

/**
 * On a worker: the input file, fetched again by URL when this node does not share the upload
 * directory (the hash must match what the API node planned).
 */
export async function ensureInput(input: JobInput, data: DataDir, config: ResolvedConfig, signal?: AbortSignal): Promise<string> {
  const file = inputFile(input, data);
  if (
    await stat(file).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    return file;
  if (input.kind === 'url' && input.url) {
    const again = await intakeUrl(input.url, data, config, signal);
    if (again.sha256 !== input.sha256) {
      throw new OmniprepError(
        'CORRUPT',
        `${input.url}: the URL now serves other bytes than when the job was planned (sha256 ${again.sha256?.slice(0, 12)}, planned ${input.sha256?.slice(0, 12)})`,
        { input: input.url },
      );
    }
    return inputFile(again, data);
  }
  throw new OmniprepError(
    'NOT_FOUND',
    `${input.name}: the stored input is not on this worker (workers on other machines need the shared --data directory, or a URL input)`,
    { input: input.name },
  );
}
