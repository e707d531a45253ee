/**
 * Many inputs through one function, a bounded number at a time (`sampleMany`, `planMany`, the
 * command line's many-input commands): results come out in completion order, one per input, a
 * failure as its code and one-line message, and one input's failure does not stop the rest.
 */
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { isOmniprepError, OmniprepError, type ErrorCode } from '../errors.js';

/** One input's outcome: its result, or the code and one-line message of what stopped it. */
export type ManyResult<T> =
  | { input: string; index: number; ok: true; result: T }
  | { input: string; index: number; ok: false; error: { code: ErrorCode; message: string } };

export interface ManyOptions {
  /** Inputs worked on at once (default: the machine's cores). */
  concurrency?: number | undefined;
  /** Cancels the inputs running, starts no other; the iteration then throws ABORTED. */
  signal?: AbortSignal | undefined;
}

/** The work done for one input; it stops (and removes what it wrote) when `signal` aborts. */
export type ManyWork<T> = (input: string, index: number, signal: AbortSignal) => Promise<T>;

export type Inputs = Iterable<string> | AsyncIterable<string>;

function concurrencyOf(n: number | undefined): number {
  if (n === undefined) return availableParallelism();
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new OmniprepError('INVALID_OPTION', `option concurrency: expected an integer from 1 to 1024, got ${n}`);
  return n;
}

/** An error as the code and line a user reads; anything not an OmniprepError is named after the input. */
export function errorOf(e: unknown, input: string): { code: ErrorCode; message: string } {
  if (isOmniprepError(e)) return { code: e.code, message: e.message.replace(/\s*\n\s*/g, '; ') };
  const cause = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, '; ');
  return { code: 'PROCESS_FAILED', message: `${input}: ${cause}` };
}

function iteratorOf(inputs: Inputs): AsyncIterator<string> | Iterator<string> {
  return Symbol.asyncIterator in inputs ? inputs[Symbol.asyncIterator]() : inputs[Symbol.iterator]();
}

/**
 * Runs `work` on each input, at most `concurrency` at once, and yields each outcome as it
 * completes. A slot is freed when its outcome is taken, so at most `concurrency` outcomes are
 * ever held: memory stays flat however many inputs there are (they are read lazily). Stopping
 * the iteration early, or aborting `signal`, cancels the inputs running and waits for them.
 */
export async function* runMany<T>(inputs: Inputs, work: ManyWork<T>, options: ManyOptions = {}): AsyncGenerator<ManyResult<T>> {
  const limit = concurrencyOf(options.concurrency);
  const ac = new AbortController();
  const outer = options.signal;
  const onAbort = (): void => ac.abort();
  if (outer?.aborted) ac.abort();
  outer?.addEventListener('abort', onAbort, { once: true });
  const source = iteratorOf(inputs);
  const running = new Set<Promise<void>>();
  const settled: Array<ManyResult<T>> = [];
  let wake: (() => void) | undefined;
  ac.signal.addEventListener('abort', () => wake?.(), { once: true });
  let next = 0;
  let exhausted = false;
  const start = async (): Promise<void> => {
    const item = await source.next();
    if (item.done) {
      exhausted = true;
      return;
    }
    const input = item.value;
    const index = next++;
    const task: Promise<void> = Promise.resolve()
      .then(() => work(input, index, ac.signal))
      .then(
        (result): ManyResult<T> => ({ input, index, ok: true, result }),
        (e: unknown): ManyResult<T> => ({ input, index, ok: false, error: errorOf(e, input) }),
      )
      .then((r) => {
        settled.push(r);
        running.delete(task);
        wake?.();
      });
    running.add(task);
  };
  try {
    for (;;) {
      while (!exhausted && !ac.signal.aborted && running.size + settled.length < limit) await start();
      if (ac.signal.aborted) throw new OmniprepError('ABORTED', `cancelled: ${running.size} input(s) running were stopped, none other started`);
      const r = settled.shift();
      if (r) {
        yield r;
        continue;
      }
      if (!running.size) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    // Done, failed, stopped early or aborted: whatever still runs is cancelled and waited for.
    ac.abort();
    await Promise.allSettled([...running]);
    outer?.removeEventListener('abort', onAbort);
    await source.return?.();
  }
}

/** An input's name as a folder label: a URL's last path segment, a path's file name. */
export function inputLabel(input: string): string {
  if (/^https?:\/\//i.test(input)) {
    try {
      const u = new URL(input);
      return u.pathname.split('/').filter(Boolean).pop() ?? u.hostname;
    } catch {
      return input;
    }
  }
  return basename(input);
}

/** Characters a folder name keeps; any other becomes `_`. */
const UNSAFE = /[^A-Za-z0-9._-]+/g;

/**
 * Unique folder names for inputs, one per input, in the order they are asked for: the input's
 * label (a file's path below the directory it was found in, or its file name; a URL's last
 * segment) with `/` and unsafe characters as `_`; a name already given (case-insensitively) or
 * reserved gets `-2`, `-3`, ...
 */
export class FolderNames {
  private readonly taken = new Set<string>();
  constructor(reserved: readonly string[] = []) {
    for (const r of reserved) this.taken.add(r.toLowerCase());
  }

  name(label: string): string {
    const base =
      label
        .replace(UNSAFE, '_')
        .replace(/^[._]+/, '')
        .slice(0, 120) || 'input';
    let name = base;
    for (let n = 2; this.taken.has(name.toLowerCase()); n++) name = `${base}-${n}`;
    this.taken.add(name.toLowerCase());
    return name;
  }
}
