/**
 * A model's lifecycle, from the registry's dates (`deprecated`, `retires`, `retired`, each
 * `YYYY-MM-DD`, with a `replacement` model): current, deprecated (a warning) or retired (refused
 * unless `allowRetired`). Dates compare with `today` (default: the UTC date now; tests pass one).
 */
import { OmniprepError } from '../errors.js';
import type { ModelEntry, ModelRegistry } from './registry.js';

export interface LifecycleOptions {
  /** Plan, build or send for a model its provider has retired (default false: refused). */
  allowRetired?: boolean | undefined;
  /** The date the lifecycle is judged on, `YYYY-MM-DD` or a Date (default: today, UTC). */
  today?: string | Date | undefined;
}

export interface Lifecycle {
  status: 'current' | 'deprecated' | 'retired';
  /** The date that applies: when it was or will be retired, else when it was deprecated. */
  date?: string;
  /** A current model of the registry to use instead. */
  replacement?: string;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether a plan's warning is the model's lifecycle warning (commands that print no plan show it alone). */
export const isLifecycleWarning = (w: string): boolean => /^model \S+ (is deprecated|was retired) /.test(w);

/** `today` as `YYYY-MM-DD` (UTC). */
export function isoDay(today: string | Date | undefined): string {
  if (today === undefined) return new Date().toISOString().slice(0, 10);
  if (typeof today === 'string') {
    if (!ISO_DAY.test(today) || Number.isNaN(Date.parse(today))) {
      throw new OmniprepError('INVALID_OPTION', `option today: expected a date YYYY-MM-DD, got ${JSON.stringify(today)}`, { details: { option: 'today' } });
    }
    return today;
  }
  if (Number.isNaN(today.getTime()))
    throw new OmniprepError('INVALID_OPTION', 'option today: expected a valid Date, got an invalid one', { details: { option: 'today' } });
  return today.toISOString().slice(0, 10);
}

type Dates = Pick<ModelEntry, 'deprecated' | 'retires' | 'retired'>;

function statusOf(m: Dates, day: string): Omit<Lifecycle, 'replacement'> {
  const end = m.retired ?? m.retires;
  if (end !== undefined && end <= day) return { status: 'retired', date: end };
  if (end !== undefined) return { status: 'deprecated', date: end };
  if (m.deprecated !== undefined && m.deprecated <= day) return { status: 'deprecated', date: m.deprecated };
  return { status: 'current' };
}

/**
 * Where a model stands on `today`. The replacement is followed through the registry past models
 * retired by then (at most 10 steps), so the one named is current.
 */
export function lifecycleOf(m: ModelEntry, registry: ModelRegistry | undefined, today?: string | Date): Lifecycle {
  const day = isoDay(today);
  const s = statusOf(m, day);
  if (s.status === 'current') return s;
  let replacement = m.replacement;
  for (let i = 0; replacement && registry?.has(replacement) && i < 10; i++) {
    const next = registry.get(replacement);
    if (statusOf(next, day).status !== 'retired' || !next.replacement) break;
    replacement = next.replacement;
  }
  return { ...s, ...(replacement ? { replacement } : {}) };
}

/**
 * Checks a model before it is planned for: refuses a retired one (INVALID_OPTION, one line naming
 * the model, the date and the replacement) unless `allowRetired`; returns the warning to show for
 * a deprecated one (or a retired one allowed), undefined for a current one.
 */
export function checkLifecycle(m: ModelEntry, registry: ModelRegistry | undefined, o: LifecycleOptions = {}): string | undefined {
  const l = lifecycleOf(m, registry, o.today);
  const use = l.replacement ? `use ${l.replacement}` : 'use a current model';
  if (l.status === 'retired') {
    if (o.allowRetired) return `model ${m.name} was retired on ${l.date}: its provider may refuse the requests (${use})`;
    throw new OmniprepError('INVALID_OPTION', `model ${m.name} was retired on ${l.date}: ${use} (allowRetired: true or --allow-retired to go on anyway)`, {
      input: m.name,
      details: { option: 'model', retired: l.date, replacement: l.replacement },
    });
  }
  if (l.status === 'deprecated') {
    const when = (m.retired ?? m.retires) ? `and retires on ${l.date}` : `since ${l.date}`;
    return `model ${m.name} is deprecated ${when}: ${use}`;
  }
  return undefined;
}
