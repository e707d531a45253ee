/**
 * One progress bar for long commands (frames decoded, inputs done, requests sent): drawn on a
 * TTY stream only, redrawn in place with `\r`, at most every `intervalMs` (the first and the last
 * state always), with an ETA from the rate so far; nothing until it has a total or a first update. On a stream that is not a TTY, or when
 * `enabled` is false (`--json`), it writes nothing at all.
 */

export interface ProgressStream {
  isTTY?: boolean | undefined;
  write(chunk: string): unknown;
}

export interface ProgressOptions {
  /** Units of work expected (0 or unknown: no bar, only the count). `update()` may change it. */
  total: number;
  /** What is counted, printed after the numbers: `frames`, `inputs`. */
  label: string;
  /** Where to draw; default `process.stderr`. */
  stream?: ProgressStream | undefined;
  /** False draws nothing (e.g. with `--json`); default true. */
  enabled?: boolean | undefined;
  /** Milliseconds between redraws; default 100. */
  intervalMs?: number | undefined;
  /** The clock (tests inject one); default `Date.now`. */
  now?: (() => number) | undefined;
}

export interface Progress {
  /** `n` more units done (default 1). */
  tick(n?: number): void;
  /** Set the count done (and the total, when it became known or changed). */
  update(done: number, total?: number): void;
  /** Draw the last state and end the line; later calls do nothing. */
  done(): void;
}

const WIDTH = 24;

/** `75` -> `1m15s`, `9.2` -> `10s`. */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The line drawn for `done` of `total` after `elapsedMs` (pure, exported for tests). */
export function progressLine(label: string, done: number, total: number, elapsedMs: number): string {
  if (!(total > 0)) return `${done} ${label}`;
  const shown = Math.min(done, total);
  const fill = Math.round((shown / total) * WIDTH);
  const bar = `[${'#'.repeat(fill)}${'.'.repeat(WIDTH - fill)}] ${shown}/${total} ${label}`;
  if (shown >= total) return bar;
  if (shown === 0 || elapsedMs <= 0) return `${bar}, ETA --`;
  return `${bar}, ETA ${formatEta(((elapsedMs / shown) * (total - shown)) / 1000)}`;
}

const SILENT: Progress = { tick() {}, update() {}, done() {} };

export function createProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  if (o.enabled === false || !stream.isTTY) return SILENT;
  const now = o.now ?? Date.now;
  const interval = o.intervalMs ?? 100;
  const start = now();
  let total = o.total;
  let count = 0;
  let drawnAt = Number.NEGATIVE_INFINITY;
  let drawn = '';
  let finished = false;
  const draw = (force: boolean): void => {
    const t = now();
    if (!force && t - drawnAt < interval && count < total) return;
    const line = progressLine(o.label, count, total, t - start);
    if (line === drawn) return;
    // Clear what a longer previous line left.
    stream.write(`\r${line}${' '.repeat(Math.max(0, drawn.length - line.length))}`);
    drawn = line;
    drawnAt = t;
  };
  // Nothing is drawn before there is something to count: a total, or a first update.
  if (total > 0) draw(true);
  return {
    tick(n = 1) {
      if (finished) return;
      count += n;
      draw(false);
    },
    update(d, t) {
      if (finished) return;
      count = d;
      if (t !== undefined) total = t;
      draw(false);
    },
    done() {
      if (finished) return;
      finished = true;
      if (!drawn) return; // never started: no line to end (an error before the first update)
      draw(true);
      stream.write('\n');
    },
  };
}
