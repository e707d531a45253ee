/** An ffprobe that writes each call's arguments to a log, then runs the real one: tests count probes with it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';

export function loggingFfprobe(dir: string): { path: string; calls: () => string[] } {
  const log = join(dir, 'calls.log');
  const path = join(dir, 'ffprobe');
  writeFileSync(path, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${resolveBinary('ffprobe').path}' "$@"\n`, { mode: 0o755 });
  return { path, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}
