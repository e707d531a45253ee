/** What every command shares: option parsers, output (`--json` or text), errors and exit codes. */
import { InvalidArgumentError, type Command } from 'commander';
import { isOmniprepError, OmniprepError } from '../errors.js';
import { killAllProcesses } from '../ffmpeg/runner.js';
import { runInterruptCleanups, stopAllWork } from '../util/temp.js';

export interface Output {
  /** The document printed with --json. */
  json: unknown;
  /** The text printed otherwise. */
  text: string;
}

export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
}

export function numberArg(name: string, o: { min?: number; max?: number; integer?: boolean } = {}) {
  return (value: string): number => {
    const n = Number(value);
    const kind = o.integer ? 'an integer' : 'a number';
    const range = o.min !== undefined && o.max !== undefined ? ` from ${o.min} to ${o.max}` : o.min !== undefined ? ` >= ${o.min}` : '';
    if (
      !value.trim() ||
      !Number.isFinite(n) ||
      (o.integer && !Number.isInteger(n)) ||
      (o.min !== undefined && n < o.min) ||
      (o.max !== undefined && n > o.max)
    ) {
      throw new InvalidArgumentError(`${name} must be ${kind}${range}, got "${value}"`);
    }
    return n;
  };
}

export function listArg<T extends string>(name: string, allowed?: readonly T[]) {
  return (value: string): T[] => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean) as T[];
    if (!items.length) throw new InvalidArgumentError(`${name} needs at least one value`);
    if (allowed) for (const i of items) if (!allowed.includes(i)) throw new InvalidArgumentError(`${name}: "${i}" is not one of ${allowed.join(', ')}`);
    return items;
  };
}

export function choiceArg<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!allowed.includes(value as T)) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    return value as T;
  };
}

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/**
 * The line a user reads: one line; an input named once (a layer that prefixed the URL to a
 * message that already began with it printed it twice); a refused private address says which
 * flag allows it.
 */
export function userMessage(e: unknown): string {
  let m = (isOmniprepError(e) ? e.message : e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, '; ');
  for (let before = ''; before !== m; ) {
    before = m;
    m = m.replace(/^(\S+): \1: /, '$1: ');
  }
  if (isOmniprepError(e) && e.code === 'FORBIDDEN_URL' && /private addresses are refused$/.test(m)) {
    m += ' (--allow-private-urls allows them, on trusted networks)';
  }
  return m;
}

/** An input that names a URL scheme omniprep does not read (ftp://, file://, s3://): one line, not "no such file". */
export function checkInputScheme(input: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input)?.[1];
  if (scheme && !/^https?$/i.test(scheme)) {
    throw new OmniprepError('UNSUPPORTED_FORMAT', `${input}: ${scheme.toLowerCase()}:// URLs are not read (an http(s) URL or a local path is)`, { input });
  }
}

/** Prints an error as one line (a stack only with --verbose) and sets the exit code. */
export function reportError(e: unknown, verbose: boolean): number {
  const usage = isOmniprepError(e) && e.isUsageError;
  process.stderr.write(`omniprep: ${userMessage(e)}\n`);
  if (verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  if (verbose && e instanceof OmniprepError && e.details) process.stderr.write(`${JSON.stringify(e.details, null, 2)}\n`);
  return usage ? 2 : 1;
}

/** Wraps a command's action: runs it, prints its Output, turns errors into one line and an exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<Output | undefined>) {
  return async (...args: A): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const g = globals(cmd);
    try {
      // Operands (an input, or a list of them) that name a URL scheme omniprep does not read.
      for (const a of args.slice(0, -2)) for (const input of Array.isArray(a) ? a : [a]) if (typeof input === 'string') checkInputScheme(input);
      const out = await fn(...args);
      if (out) {
        if (g.json) process.stdout.write(`${JSON.stringify(out.json, null, 2)}\n`);
        else if (out.text) process.stdout.write(out.text.endsWith('\n') ? out.text : `${out.text}\n`);
      }
    } catch (e) {
      // Interrupted: the signal handler reports it (the work it stopped fails on its way out).
      if (interrupted) return;
      process.exitCode = reportError(e, Boolean(g.verbose));
    }
  };
}

let interrupted = false;
/** On Ctrl-C or SIGTERM: kill every ffmpeg child, stop the worker threads, remove what the run wrote, exit 130/143. */
export function installSignalHandlers(): void {
  const onSignal = (sig: NodeJS.Signals, why: string = sig): void => {
    if (interrupted) return;
    interrupted = true;
    killAllProcesses();
    process.stderr.write(`omniprep: interrupted (${why}); stopped all work\n`);
    const cleanups = runInterruptCleanups();
    for (const line of cleanups.said) process.stderr.write(`omniprep: ${line}\n`);
    // A worker thread may have been writing a frame: stop the threads (bounded), then sweep
    // again, so that no file the run wrote appears after the sweep.
    void stopAllWork().then(() => {
      cleanups.again();
      process.exit(sig === 'SIGINT' ? 130 : sig === 'SIGHUP' ? 129 : 143);
    });
  };
  // Kept for the whole run: a second signal while the first one's cleanup runs (Ctrl-C pressed
  // twice, a supervisor that signals the process and its group) is absorbed, where a one-time
  // handler let it kill the process half-way through the cleanup, frames left and no manifest.
  process.on('SIGINT', (sig) => onSignal(sig));
  process.on('SIGTERM', (sig) => onSignal(sig));
  watchNpmParent(() => onSignal('SIGHUP', 'the npm process that started it ended'));
}

/**
 * Started by npm (`npx omniprep`, `npm exec`, a script of `npm run`): npm hands a SIGINT or
 * SIGTERM to the shell it runs the command in, not to the command, and that shell dies of it,
 * so this process would run on, orphaned, writing frames nobody waits for. When the parent it
 * was started by goes, it stops as if interrupted. (A command started otherwise keeps running
 * when its parent goes, as `nohup` expects.)
 */
function watchNpmParent(stop: () => void): void {
  if (!process.env.npm_command && !process.env.npm_lifecycle_event) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, 200);
  timer.unref();
}

export function table(rows: Array<Array<string | number>>): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (typeof c === 'number' ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
