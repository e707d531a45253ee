/**
 * The one place where ffmpeg and ffprobe are found.
 *
 * Order, first match wins:
 *   1. an explicit path (`{ ffmpegPath }` / `{ ffprobePath }`), or OMNIPREP_FFMPEG / OMNIPREP_FFPROBE;
 *   2. the `ffmpeg` / `ffprobe` on PATH (a system build) when it is newer than the packaged one
 *      (by the year its copyright line ends with, then its release number), or when no package has one;
 *   3. a maintained package: `ffmpeg-static` (an optional dependency; ffmpeg only; its download
 *      fails offline and npm carries on without it);
 *   4. last resort, `@ffmpeg-installer/ffmpeg` (a 2018 build) and `@ffprobe-installer/ffprobe`
 *      (a 2023 build), binaries shipped inside npm.
 * Each binary's version is read once per path and cached. Comparing a system binary with a
 * packaged one runs both with `-version` once per process (only when both exist).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { OmniprepError } from '../errors.js';
import { runProcess, runProcessSync } from './runner.js';

export type BinaryName = 'ffmpeg' | 'ffprobe';
export type BinarySource = 'option' | 'env' | 'ffmpeg-static' | 'npm-installer' | 'path';

export interface ResolvedBinary {
  name: BinaryName;
  path: string;
  source: BinarySource;
  /** Where it came from, for `doctor`: the variable, option or package, or PATH and why it won. */
  origin: string;
}

export interface BinaryVersion {
  /** The version string the binary prints, e.g. `7.1.1` or `N-47683-g0e8eb07980-static`. */
  version: string;
  /** Major.minor when the version is a release number, else null (git snapshot builds). */
  release: [number, number] | null;
  /** The last year in the binary's copyright line: the year of its release branch or snapshot. */
  year: number | null;
  /** Whether the build has the options newer code paths use (`-fps_mode`, 5.1+). */
  hasFpsMode: boolean;
}

export interface BinaryOptions {
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
}

const require = createRequire(import.meta.url);
const ENV: Record<BinaryName, string> = { ffmpeg: 'OMNIPREP_FFMPEG', ffprobe: 'OMNIPREP_FFPROBE' };

/** The oldest release that carries the 2024-2026 demuxer fixes; older builds get a warning. */
export const MIN_PATCHED_RELEASE: [number, number] = [7, 1];

interface PackagedBinary {
  module: string;
  source: BinarySource;
  /** The binary's path from what the module exports. */
  path(exported: unknown): unknown;
}

/** The packages that carry a binary, maintained ones first, the 2018 build last. */
const PACKAGES: Record<BinaryName, readonly PackagedBinary[]> = {
  ffmpeg: [
    { module: 'ffmpeg-static', source: 'ffmpeg-static', path: (e) => e },
    { module: '@ffmpeg-installer/ffmpeg', source: 'npm-installer', path: (e) => (e as { path?: unknown }).path },
  ],
  ffprobe: [{ module: '@ffprobe-installer/ffprobe', source: 'npm-installer', path: (e) => (e as { path?: unknown }).path }],
};

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fromPackage(name: BinaryName): (PackagedBinary & { file: string }) | undefined {
  for (const pkg of PACKAGES[name]) {
    try {
      const file = pkg.path(require(pkg.module));
      if (typeof file === 'string' && isExecutableFile(file)) return { ...pkg, file };
    } catch {
      /* not installed, or no binary for this platform */
    }
  }
  return undefined;
}

function fromPath(name: BinaryName): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

const syncVersions = new Map<string, BinaryVersion | null>();

/** A binary's version read synchronously (once per path), or null when it does not run. */
function versionNow(path: string): BinaryVersion | null {
  if (!syncVersions.has(path)) {
    let v: BinaryVersion | null = null;
    try {
      v = parseVersion(runProcessSync({ command: path, args: ['-hide_banner', '-version'], input: path, timeoutMs: 15_000 }));
    } catch {
      /* a PATH entry that does not run is not a candidate */
    }
    syncVersions.set(path, v);
    if (v) versions.set(path, Promise.resolve(v));
  }
  return syncVersions.get(path) ?? null;
}

/** Whether build `a` is newer than build `b`: the later copyright year, then the higher release. */
export function isNewerBuild(a: BinaryVersion, b: BinaryVersion): boolean {
  const ya = a.year ?? 0;
  const yb = b.year ?? 0;
  if (ya !== yb) return ya > yb;
  if (!a.release || !b.release) return false;
  return a.release[0] !== b.release[0] ? a.release[0] > b.release[0] : a.release[1] > b.release[1];
}

/** The system binary when it is newer than the packaged one (or there is none), else the package. */
function fromInstalled(name: BinaryName): ResolvedBinary | undefined {
  const pkg = fromPackage(name);
  const onPath = fromPath(name);
  if (onPath && !pkg) return { name, path: onPath, source: 'path', origin: 'PATH, no packaged build installed' };
  if (!pkg) return undefined;
  if (onPath) {
    const sys = versionNow(onPath);
    const packaged = versionNow(pkg.file);
    if (sys && (!packaged || isNewerBuild(sys, packaged))) {
      return { name, path: onPath, source: 'path', origin: `PATH, newer than ${pkg.module}'s build` };
    }
  }
  return { name, path: pkg.file, source: pkg.source, origin: pkg.module };
}

const resolved = new Map<string, ResolvedBinary>();

/** Finds a binary (see the order above). Throws BINARY_NOT_FOUND with every place it looked. */
export function resolveBinary(name: BinaryName, options: BinaryOptions = {}): ResolvedBinary {
  const explicit = name === 'ffmpeg' ? options.ffmpegPath : options.ffprobePath;
  const env = process.env[ENV[name]];
  const key = `${name}\0${explicit ?? ''}\0${env ?? ''}\0${explicit !== undefined || env ? '' : (process.env.PATH ?? '')}`;
  const cached = resolved.get(key);
  if (cached) return cached;

  let result: ResolvedBinary | undefined;
  if (explicit !== undefined || env) {
    const path = (explicit ?? env) as string;
    const source: BinarySource = explicit !== undefined ? 'option' : 'env';
    const named = source === 'env' ? ENV[name] : `the ${name}Path option`;
    if (!isExecutableFile(path)) {
      throw new OmniprepError('BINARY_NOT_FOUND', `${name}: ${named} names ${path}, which is not an executable file`);
    }
    result = { name, path, source, origin: named };
  } else {
    result = fromInstalled(name);
  }
  if (!result) {
    throw new OmniprepError(
      'BINARY_NOT_FOUND',
      `${name}: not found (looked at ${ENV[name]}, PATH and ${PACKAGES[name].map((p) => p.module).join(', ')}); install one or set ${ENV[name]}`,
    );
  }
  resolved.set(key, result);
  return result;
}

const versions = new Map<string, Promise<BinaryVersion>>();

/** Parses the first lines of `ffmpeg -version`. Exported for tests. */
export function parseVersion(text: string): BinaryVersion {
  const m = /^ff(?:mpeg|probe) version (\S+)/m.exec(text);
  const version = m?.[1] ?? 'unknown';
  const rel = /^n?(\d+)\.(\d+)/.exec(version);
  const release: [number, number] | null = rel ? [Number(rel[1]), Number(rel[2])] : null;
  const years = /Copyright \(c\) \d{4}-(\d{4})/.exec(text);
  const year = years ? Number(years[1]) : null;
  // -fps_mode arrived in 5.1 (2022). Snapshot builds are judged by their year.
  const hasFpsMode = release ? release[0] > 5 || (release[0] === 5 && release[1] >= 1) : (year ?? 0) >= 2023;
  return { version, release, year, hasFpsMode };
}

/** Reads a binary's version once per path (through the safe runner) and caches it. */
export function binaryVersion(bin: ResolvedBinary): Promise<BinaryVersion> {
  let cached = versions.get(bin.path);
  if (!cached) {
    cached = runProcess({ command: bin.path, args: ['-hide_banner', '-version'], input: bin.path, timeoutMs: 15_000 })
      .then((r) => parseVersion(r.stdout.toString('utf8')))
      .catch((e: unknown) => {
        versions.delete(bin.path);
        throw new OmniprepError('BINARY_NOT_FOUND', `${bin.name}: ${bin.path} did not run (${(e as Error).message})`, {
          cause: e,
        });
      });
    versions.set(bin.path, cached);
  }
  return cached;
}

export interface Tool extends ResolvedBinary {
  version: BinaryVersion;
}

export interface Toolchain {
  ffmpeg: Tool;
  ffprobe: Tool;
}

/** Both binaries, resolved and versioned (cached). */
export async function toolchain(options: BinaryOptions = {}): Promise<Toolchain> {
  const ffmpeg = resolveBinary('ffmpeg', options);
  const ffprobe = resolveBinary('ffprobe', options);
  const [fv, pv] = await Promise.all([binaryVersion(ffmpeg), binaryVersion(ffprobe)]);
  return { ffmpeg: { ...ffmpeg, version: fv }, ffprobe: { ...ffprobe, version: pv } };
}

/** Whether this build is older than the oldest release we consider patched. */
export function isOutdated(v: BinaryVersion): boolean {
  if (v.release) {
    const [maj, min] = v.release;
    return maj < MIN_PATCHED_RELEASE[0] || (maj === MIN_PATCHED_RELEASE[0] && min < MIN_PATCHED_RELEASE[1]);
  }
  return v.year === null || v.year < 2024;
}
