/** An ffprobe (or ffmpeg) that writes each call's arguments to a log, then runs the real one: tests count probes and decodes with it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';

export function loggingBinary(dir: string, name: 'ffprobe' | 'ffmpeg'): { path: string; calls: () => string[] } {
  const log = join(dir, `${name}-calls.log`);
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${resolveBinary(name).path}' "$@"\n`, { mode: 0o755 });
  return { path, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

export function loggingFfprobe(dir: string): { path: string; calls: () => string[] } {
  return loggingBinary(dir, 'ffprobe');
}
