/**
 * The plans of an eval: a grid of sampling options (every, mode, maxSide, detail), models and
 * ways of sending, every combination one plan. All option handling of `evaluate()` and
 * `omniprep eval` is here: the lists are checked value by value against the options' one
 * description (src/options), and a model without a detail or without video input skips that
 * combination with a warning (as the cost curve does).
 */
import { invalidOption } from '../errors.js';
import { DEFAULT_MODEL } from '../models/constants.js';
import { getModel } from '../models/tokens.js';
import type { ModelRegistry } from '../models/registry.js';
import { checkGroup, flagParser } from '../options/define.js';
import { ESTIMATE, SAMPLING, SENDS, type Mode, type Send } from '../options/sampling.js';
import { modelDetailPairs } from '../cost/curve.js';

export interface EvalGrid {
  /** Seconds between frames (default 5). */
  every?: readonly number[] | undefined;
  /** Sampling modes (default keyframe). */
  mode?: readonly Mode[] | undefined;
  /** Largest image sides in px (default: the model's size). */
  maxSide?: readonly number[] | undefined;
  /** Detail levels (default: each model's auto). */
  detail?: readonly string[] | undefined;
  /** Models (default gpt-5.5). */
  models?: readonly string[] | undefined;
  /** `frames` and/or `video` (default frames). */
  send?: readonly Send[] | undefined;
}

/** One plan of the grid: the options its questions are asked with. */
export interface PlanSpec {
  every: number;
  mode: Mode;
  model: string;
  /** The detail asked (`auto` when none). */
  detail: string;
  send: Send;
  /** null: the model's own size. */
  maxSide: number | null;
}

/** The grid's lists as commander hands them (comma-separated text). */
export type GridFlags = { [K in keyof EvalGrid]?: string | undefined };

const KEYS: Record<keyof EvalGrid, { option: string; group: 'sampling' | 'estimate'; def: string }> = {
  every: { option: 'every', group: 'sampling', def: 'every' },
  mode: { option: 'mode', group: 'sampling', def: 'mode' },
  maxSide: { option: 'maxSide', group: 'sampling', def: 'maxSide' },
  detail: { option: 'detail', group: 'sampling', def: 'detail' },
  models: { option: 'model', group: 'estimate', def: 'model' },
  send: { option: 'send', group: 'estimate', def: 'send' },
};

const defOf = (k: keyof EvalGrid) => (KEYS[k].group === 'sampling' ? SAMPLING : ESTIMATE)[KEYS[k].def as never] as Parameters<typeof flagParser>[1];

/** The grid from comma lists (`--every 1,2,5`): each value parsed and checked as its option is everywhere. */
export function gridFromFlags(flags: GridFlags): EvalGrid {
  const grid: Record<string, unknown[]> = {};
  for (const k of Object.keys(KEYS) as Array<keyof EvalGrid>) {
    const text = flags[k];
    if (text === undefined) continue;
    const items = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!items.length) throw invalidOption(KEYS[k].option, 'a comma-separated list', text);
    grid[k] = items.map((i) => flagParser(KEYS[k].option, defOf(k))(i));
  }
  return grid as EvalGrid;
}

function list<T>(k: keyof EvalGrid, v: readonly T[] | undefined, fallback: T[]): T[] {
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || !v.length) throw invalidOption(k, 'a non-empty list', v);
  const group = KEYS[k].group === 'sampling' ? SAMPLING : ESTIMATE;
  for (const x of v) checkGroup(group, { [KEYS[k].def]: x });
  return [...new Set(v)];
}

/** Every combination of the grid, in a fixed order (model, send, detail, mode, maxSide, every), and why some were skipped. */
export function expandGrid(grid: EvalGrid, o: { registry: ModelRegistry; rule?: string | undefined }): { plans: PlanSpec[]; warnings: string[] } {
  const every = list('every', grid.every, [SAMPLING.every.meta.default]);
  const modes = list<Mode>('mode', grid.mode, [SAMPLING.mode.meta.default]);
  const sides = list<number>('maxSide', grid.maxSide, []);
  const models = list('models', grid.models, [DEFAULT_MODEL]);
  const sends = list<Send>('send', grid.send, ['frames']);
  for (const s of sends) if (!(SENDS as readonly string[]).includes(s)) throw invalidOption('send', SENDS.join(', '), s);
  const warnings: string[] = [];
  const pairs = modelDetailPairs(models, grid.detail ? list('detail', grid.detail, []) : undefined, o.registry, o.rule, warnings);
  const plans: PlanSpec[] = [];
  for (const { model, detail } of pairs) {
    for (const send of sends) {
      if (send === 'video' && !getModel(model, o).video) {
        if (!warnings.some((w) => w.startsWith(`${model} takes no video`))) warnings.push(`${model} takes no video input: no video plans for it`);
        continue;
      }
      for (const mode of modes) {
        for (const maxSide of sides.length ? sides : [null]) {
          for (const e of every) plans.push({ every: e, mode, model, detail: detail ?? 'auto', send, maxSide });
        }
      }
    }
  }
  if (!plans.length) throw invalidOption('send', 'a way at least one of the models takes', sends.join(','));
  return { plans, warnings };
}

/** The plan options of a spec (detail `auto` is the model's default). */
export function specOptions(s: PlanSpec): { every: number; mode: Mode; model: string; detail: string | undefined; send: Send; maxSide: number | undefined } {
  return { every: s.every, mode: s.mode, model: s.model, detail: s.detail === 'auto' ? undefined : s.detail, send: s.send, maxSide: s.maxSide ?? undefined };
}
