/** What omniprep runs with: which ffmpeg and ffprobe won (and why), their versions, sharp and Node. */

import { loadSharp } from './util/sharp.js';
import { isOutdated, MIN_PATCHED_RELEASE, toolchain, type BinaryOptions, type BinarySource, type Tool } from './ffmpeg/binaries.js';
import { resolveDecoder, type DecoderReport } from './extract/decoder.js';

export interface DoctorTool {
  path: string;
  version: string;
  source: BinarySource;
  /** Where it came from: the variable or option, the package, or PATH and why PATH won. */
  origin: string;
  /** The year of its release branch or snapshot (the end of its copyright line), when it prints one. */
  year: number | null;
  /** Older than the patched release (MIN_PATCHED_RELEASE): fine for development, not for untrusted uploads. */
  outdated: boolean;
}

export interface DoctorReport {
  ffmpeg: DoctorTool;
  ffprobe: DoctorTool;
  /** What decodes frames (option decoder / OMNIPREP_DECODER / auto): node-av's FFmpeg or the ffmpeg binary, its version, origin and why. */
  decoder: DecoderReport;
  /** One line: what decodes frames, and the ffmpeg that decodes audio and scene scans, with versions and origins. */
  decodes: string;
  sharp: string;
  libvips: string;
  node: string;
  warnings: string[];
}

function describe(tool: Tool): DoctorTool {
  const v = tool.version;
  return { path: tool.path, version: v.version, source: tool.source, origin: tool.origin, year: v.year, outdated: isOutdated(v) };
}

/** `ffmpeg N-47683-... (@ffmpeg-installer/ffmpeg), a 2018 build older than the patched 7.1 release`. */
export function outdatedBuild(tool: Tool): string {
  const age = tool.version.year ? `a ${tool.version.year} build` : 'an old build';
  return `${tool.name} ${tool.version.version} (${tool.origin}), ${age} older than the patched ${MIN_PATCHED_RELEASE.join('.')} release`;
}

/** What to do about it: the variable that wins over everything, or a newer build on PATH. */
export function currentBuildHint(tool: Tool): string {
  const install = tool.name === 'ffmpeg' ? "on PATH (the distribution's package) or ffmpeg-static" : "on PATH (the distribution's ffmpeg package)";
  return `set OMNIPREP_${tool.name.toUpperCase()} to a current ${tool.name}, or install one ${install}`;
}

export async function doctor(options: BinaryOptions & { decoder?: unknown } = {}): Promise<DoctorReport> {
  const [tc, decoder] = await Promise.all([toolchain(options), resolveDecoder(options)]);
  const onNodeAv = decoder.decoder === 'node-av';
  const warnings = [tc.ffmpeg, tc.ffprobe]
    .filter((t) => isOutdated(t.version))
    .map((t) => {
      const uses = onNodeAv && t.name === 'ffmpeg' ? 'frames decode with node-av, but audio and scene scans use it' : 'fine for development';
      return `${outdatedBuild(t)}: ${uses}; to decode untrusted uploads, ${currentBuildHint(t)}`;
    });
  const f = describe(tc.ffmpeg);
  const binary = `ffmpeg ${f.version}${f.year ? ` (${f.year} build)` : ''} from ${f.origin}: ${f.path}`;
  return {
    ffmpeg: f,
    ffprobe: describe(tc.ffprobe),
    decoder,
    decodes: onNodeAv ? `frames: node-av FFmpeg ${decoder.version} from ${decoder.origin} (${decoder.why}); audio and scene scans: ${binary}` : binary,
    sharp: loadSharp().versions.sharp ?? 'unknown',
    libvips: loadSharp().versions.vips,
    node: process.versions.node,
    warnings,
  };
}

/** The report as `omniprep doctor` prints it. */
export function doctorText(r: DoctorReport): string {
  const line = (name: string, t: DoctorTool): string => `${name.padEnd(8)} ${t.version}${t.year ? ` (${t.year})` : ''}  (${t.origin})  ${t.path}`;
  return [
    line('ffmpeg', r.ffmpeg),
    line('ffprobe', r.ffprobe),
    `decodes  ${r.decodes}`,
    `sharp    ${r.sharp} (libvips ${r.libvips})`,
    `node     ${r.node}`,
    ...r.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}
