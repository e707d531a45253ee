/** Runs the built CLI (dist/, made by `npm run build`) as a user would, and checks what it leaves behind. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** The private temp dir the run was given (OMNIPREP_TMPDIR). */
  tmp: string;
  /** A marker in the child's environment: processes that still carry it were left behind. */
  marker: string;
}

export function cli(args: string[], o: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const tmp = mkdtempSync(join(ROOT, '.cache', 'tmp', 'cli-'));
  const marker = `OMNIPREP_TEST_MARKER=${tmp}`;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: o.cwd ?? ROOT,
      env: { ...process.env, ...o.env, OMNIPREP_TMPDIR: tmp, OMNIPREP_TEST_MARKER: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`omniprep ${args.join(' ')} did not finish in ${o.timeoutMs ?? 60_000} ms`));
    }, o.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, tmp, marker });
    });
  });
}

/** Processes (other than this one) whose environment carries the marker. */
export function processesWithMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (env.split('\0').includes(marker)) pids.push(Number(entry));
    } catch {
      /* gone, or not ours */
    }
  }
  return pids;
}

/**
 * What a finished CLI run left: files in its temp dir, and processes carrying its marker. A child
 * the CLI killed at exit (SIGKILL to its group) may not have been scheduled to die yet on a busy
 * machine: such processes get up to 5 s to go; one that outlives that was left running.
 */
export function leftovers(r: CliResult): { files: string[]; processes: number[] } {
  let processes = processesWithMarker(r.marker);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 100 && processes.length; i++) {
    Atomics.wait(pause, 0, 0, 50);
    processes = processesWithMarker(r.marker);
  }
  return { files: readdirSync(r.tmp), processes };
}
