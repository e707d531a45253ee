/**
 * A command over many inputs (`omniprep sample|plan|audio|request DIR ...`): the inputs run
 * `--jobs` at a time (runMany, src/util/many.ts), each into its own folder under --out; a line
 * per input as it ends (one JSON line with --json), failures on stderr naming the input, a
 * progress bar on a TTY, then the totals and DIR/summary.json. Exit code 1 when some failed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { checkInputScheme, numberArg } from './util.js';
import { inputList, type NamedInput } from './inputs.js';
import { OmniprepError } from '../errors.js';
import { runMany, type ManyResult } from '../util/many.js';
import { progressLine } from './progress.js';

/** What one input counted (frames, tokens, usd, chunks, ...): summed over the inputs. */
export type Counts = Record<string, number>;

export interface ManyCommand<T> {
  inputs: readonly NamedInput[];
  /** The root of the per-input folders and summary.json (none: nothing is written but what `work` writes). */
  out?: string | undefined;
  jobs?: number | undefined;
  json: boolean;
  /** One input's work; `dir` is its folder under --out. */
  work: (input: string, dir: string | undefined, signal: AbortSignal) => Promise<T>;
  /** What an input's result counts, and (plan) its dollars per tier. */
  counts: (r: T) => { counts: Counts; usdByTier?: Record<string, number> | undefined };
}

type Item = { index: number; input: string; out?: string | undefined; ok: boolean } & Record<string, unknown>;

const usd = (x: number): string => `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`;

/** `3 frames, 765 tokens, $0.0019`: counts in a line, dollars as dollars. */
export function countsText(c: Counts): string {
  return Object.entries(c)
    .map(([k, v]) => (k === 'usd' ? usd(v) : `${Number.isInteger(v) ? v : v.toFixed(3)} ${k}`))
    .join(', ');
}

function add(into: Counts, c: Counts): void {
  for (const [k, v] of Object.entries(c)) into[k] = (into[k] ?? 0) + v;
}

/** Sums without the float tail of many additions (0.07350999999999999 is 0.07351). */
function rounded(c: Counts): Counts {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Math.round(v * 1e9) / 1e9]));
}

/** The totals of a finished run, as text. */
function totalsText(s: { inputs: number; ok: number; failed: number; totals: Counts; usdByTier?: Counts }, out: string | undefined): string {
  const tiers =
    s.usdByTier && Object.keys(s.usdByTier).length
      ? `\ndataset cost by tier: ${Object.entries(s.usdByTier)
          .map(([t, v]) => `${t} ${usd(v)}`)
          .join(', ')}`
      : '';
  const where = out ? `\nsummary: ${join(out, 'summary.json')}` : '';
  const total = Object.keys(s.totals).length ? `; total ${countsText(s.totals)}` : '';
  return `${s.inputs} inputs: ${s.ok} ok, ${s.failed} failed${total}${tiers}${where}`;
}

/** Writes `value` as DIR/NAME (pretty JSON), making DIR. */
export async function writeJson(dir: string, name: string, value: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
}

/** The inputs that ended, each one's line of summary.json, and the frames so far for the progress bar. */
class Tally<T> {
  readonly items: Item[] = [];
  /** Frames written or planned so far (undefined: the command counts none, as audio). */
  frames: number | undefined;
  constructor(private readonly c: ManyCommand<T>) {}

  /** Counts an input's outcome; returns its item (its --json line). */
  add(r: ManyResult<T>): Item {
    const item: Item = { index: r.index, input: r.input, ...(this.c.out && r.ok ? { out: this.c.inputs[r.index]!.folder } : {}), ok: r.ok };
    if (r.ok) {
      const { counts, usdByTier } = this.c.counts(r.result);
      Object.assign(item, counts, usdByTier ? { usdByTier } : {});
      if (counts.frames !== undefined) this.frames = (this.frames ?? 0) + counts.frames;
    } else item.error = r.error;
    this.items.push(item);
    return item;
  }

  /** The items in the inputs' order, and their totals summed in that order (the same sums whatever order they ended in). */
  summary(): { inputs: number; ok: number; failed: number; totals: Counts; usdByTier?: Counts; items: Item[] } {
    const items = [...this.items].sort((a, b) => a.index - b.index);
    const totals: Counts = {};
    let usdByTier: Counts | undefined;
    for (const i of items.filter((x) => x.ok)) {
      const { index: _x, input: _i, out: _o, ok: _k, usdByTier: tiers, ...counts } = i;
      add(totals, counts as Counts);
      if (tiers) {
        usdByTier ??= {};
        add(usdByTier, tiers as Counts);
      }
    }
    const ok = items.filter((i) => i.ok).length;
    return { inputs: items.length, ok, failed: items.length - ok, totals: rounded(totals), ...(usdByTier ? { usdByTier: rounded(usdByTier) } : {}), items };
  }
}

/** Runs the inputs and prints as they end; returns the exit code (1 when an input failed). */
export async function runManyCommand<T>(c: ManyCommand<T>): Promise<number> {
  const tty = Boolean(process.stderr.isTTY) && !c.json;
  const started = performance.now();
  const tally = new Tally(c);
  const folderOf = (index: number): string | undefined => (c.out ? join(c.out, c.inputs[index]!.folder) : undefined);
  if (c.out) await mkdir(c.out, { recursive: true });
  const work = (input: string, index: number, signal: AbortSignal): Promise<T> => {
    checkInputScheme(input);
    return c.work(input, folderOf(index), signal);
  };
  const clear = (): void => {
    if (tty) process.stderr.write('\r\x1b[K');
  };
  for await (const r of runMany<T>(
    c.inputs.map((i) => i.input),
    work,
    { concurrency: c.jobs },
  )) {
    const item = tally.add(r);
    clear();
    if (c.json) process.stdout.write(`${JSON.stringify(item)}\n`);
    else if (r.ok) process.stdout.write(`${r.input}: ${countsText(c.counts(r.result).counts)}${item.out ? ` -> ${folderOf(r.index)}` : ''}\n`);
    if (!r.ok) process.stderr.write(`omniprep: ${r.error.message}\n`);
    if (tty)
      process.stderr.write(
        `\r${progressLine(tally.frames === undefined ? 'inputs' : `inputs, ${tally.frames} frames`, tally.items.length, c.inputs.length, performance.now() - started)}`,
      );
  }
  clear();
  const summary = tally.summary();
  if (c.out) await writeJson(c.out, 'summary.json', summary);
  const { items: _i, ...head } = summary;
  process.stdout.write(c.json ? `${JSON.stringify({ summary: head })}\n` : `${totalsText(summary, c.out)}\n`);
  return summary.failed ? 1 : 0;
}

/** The flags of a many-input command: --from LIST and --jobs N. */
export interface ManyCliOptions {
  from?: string;
  jobs?: number;
}

/** Adds --from and --jobs to a command that takes `[inputs...]`. */
export function withManyOptions(cmd: Command): Command {
  return cmd
    .option('--from <list>', 'read inputs from LIST: one path or URL a line (blank lines and # comments skipped)')
    .option(
      '--jobs <n>',
      'inputs worked on side by side, when there are many (default: the machine cores)',
      numberArg('--jobs', { min: 1, max: 1024, integer: true }),
    );
}

/**
 * A command's inputs: when they call for the many-input form (several, a directory, --from, or
 * `force`), runs it (exit code 1 when some failed) and returns undefined; else returns the one
 * input, for the command's single form, which prints what it always did.
 */
export async function manyOrOne<T>(
  program: Command,
  inputs: readonly string[],
  o: ManyCliOptions & { out?: string | undefined },
  spec: Pick<ManyCommand<T>, 'work' | 'counts'> & { force?: boolean; needsOut?: boolean },
): Promise<string | undefined> {
  const list = await inputList(inputs, o.from, o.out);
  if (!list.many && !spec.force) return list.inputs[0]!.input;
  if (spec.needsOut && !o.out) throw new OmniprepError('INVALID_OPTION', 'option --out: many inputs need a directory for what each one writes');
  process.exitCode = await runManyCommand({ inputs: list.inputs, out: o.out, jobs: o.jobs, json: Boolean(program.opts().json), ...spec });
  return undefined;
}
