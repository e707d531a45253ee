/** What omniprep runs with: which ffmpeg and ffprobe won (and why), their versions, sharp and Node. */

import { loadSharp } from './util/sharp.js';
import { isOutdated, MIN_PATCHED_RELEASE, toolchain, type BinaryOptions, type BinarySource } from './ffmpeg/binaries.js';

export interface DoctorReport {
  ffmpeg: { path: string; version: string; source: BinarySource };
  ffprobe: { path: string; version: string; source: BinarySource };
  sharp: string;
  libvips: string;
  node: string;
  warnings: string[];
}

export async function doctor(options: BinaryOptions = {}): Promise<DoctorReport> {
  const tc = await toolchain(options);
  const warnings: string[] = [];
  for (const tool of [tc.ffmpeg, tc.ffprobe]) {
    if (isOutdated(tool.version)) {
      const age = tool.version.year ? `a ${tool.version.year} build` : 'an old build';
      warnings.push(
        `${tool.name} ${tool.version.version} (${tool.source}) is ${age}, older than the patched ${MIN_PATCHED_RELEASE.join('.')} release: ` +
          `fine for development, but decode untrusted uploads with a current ffmpeg (set OMNIPREP_${tool.name.toUpperCase()}, or install ffmpeg-static or the distribution package)`,
      );
    }
  }
  return {
    ffmpeg: { path: tc.ffmpeg.path, version: tc.ffmpeg.version.version, source: tc.ffmpeg.source },
    ffprobe: { path: tc.ffprobe.path, version: tc.ffprobe.version.version, source: tc.ffprobe.source },
    sharp: loadSharp().versions.sharp ?? 'unknown',
    libvips: loadSharp().versions.vips,
    node: process.versions.node,
    warnings,
  };
}
