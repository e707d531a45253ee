// Model lifecycle (src/models/lifecycle.ts): the registry's deprecated / retires / retired dates,
// judged on an injected day, and the one-line refusal naming the model, its date and a replacement.
import { describe, expect, it } from 'vitest';
import { OmniprepError } from '../../src/errors.js';
import { checkLifecycle, isLifecycleWarning, isoDay, lifecycleOf } from '../../src/models/lifecycle.js';
import { builtinRegistry } from '../../src/models/registry.js';

const reg = builtinRegistry();

function thrown(f: () => unknown): OmniprepError {
  try {
    f();
  } catch (e) {
    return e as OmniprepError;
  }
  throw new Error('did not throw');
}

describe('the built-in lifecycle dates', () => {
  it('claude-sonnet-4.5: deprecated until its end of life on 2026-11-30 (the Anthropic SDK), then retired', () => {
    const m = reg.get('claude-sonnet-4.5');
    expect([m.retires, m.replacement]).toEqual(['2026-11-30', 'claude-sonnet-4.6']);
    expect(lifecycleOf(m, reg, '2026-11-29')).toEqual({ status: 'deprecated', date: '2026-11-30', replacement: 'claude-sonnet-4.6' });
    expect(lifecycleOf(m, reg, '2026-11-30')).toEqual({ status: 'retired', date: '2026-11-30', replacement: 'claude-sonnet-4.6' });
    expect(checkLifecycle(m, reg, { today: '2026-11-29' })).toBe('model claude-sonnet-4.5 is deprecated and retires on 2026-11-30: use claude-sonnet-4.6');
    const e = thrown(() => checkLifecycle(m, reg, { today: '2026-12-07' }));
    expect(e).toBeInstanceOf(OmniprepError);
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.isUsageError).toBe(true);
    expect(e.message).toBe('model claude-sonnet-4.5 was retired on 2026-11-30: use claude-sonnet-4.6 (allowRetired: true or --allow-retired to go on anyway)');
    expect(e.details).toEqual({ option: 'model', retired: '2026-11-30', replacement: 'claude-sonnet-4.6' });
    expect(checkLifecycle(m, reg, { today: '2026-12-07', allowRetired: true })).toBe(
      'model claude-sonnet-4.5 was retired on 2026-11-30: its provider may refuse the requests (use claude-sonnet-4.6)',
    );
  });

  it('the others the SDKs and deprecation pages date; current models have none', () => {
    const day = '2026-12-07';
    expect(checkLifecycle(reg.get('claude-opus-4.5'), reg, { today: day })).toBe(
      'model claude-opus-4.5 is deprecated and retires on 2027-01-22: use claude-opus-4.7',
    );
    expect(thrown(() => checkLifecycle(reg.get('claude-3-5-sonnet'), reg, { today: day })).message).toMatch(
      /^model claude-3-5-sonnet was retired on 2025-10-22: use claude-sonnet-4\.6 /,
    );
    expect(thrown(() => checkLifecycle(reg.get('gpt-4.5'), reg, { today: day })).message).toMatch(/^model gpt-4\.5 was retired on 2025-07-14: use gpt-4\.1 /);
    const current = reg.names().filter((n) => lifecycleOf(reg.get(n), reg, day).status === 'current');
    expect(reg.names().filter((n) => !current.includes(n))).toEqual(['claude-3-5-sonnet', 'claude-opus-4.5', 'claude-sonnet-4.5', 'gpt-4.5']);
    for (const n of current) expect(checkLifecycle(reg.get(n), reg, { today: day })).toBeUndefined();
    // Every replacement named is a model that is current on that day.
    for (const n of reg.names()) {
      const r = lifecycleOf(reg.get(n), reg, day).replacement;
      if (r) expect(current, `${n} -> ${r}`).toContain(r);
    }
  });

  it("a provider's snapshot id resolves to the family and keeps its dates", () => {
    expect(lifecycleOf(reg.get('claude-sonnet-4-5'), reg, '2026-12-07').status).toBe('retired');
    expect(lifecycleOf(reg.get('claude-sonnet-4.5-2025-09-29'), reg, '2026-12-07').status).toBe('retired');
  });
});

describe('lifecycle from overrides', () => {
  it('a deprecation date alone warns from that day; a replacement retired too is followed to a current one', () => {
    const r = reg.withOverrides({
      models: {
        'gpt-5': { deprecated: '2026-06-01', replacement: 'gpt-5.4' },
        'gpt-5.4': { retired: '2026-10-01', replacement: 'gpt-5.5' },
      },
    });
    expect(checkLifecycle(r.get('gpt-5'), r, { today: '2026-05-31' })).toBeUndefined();
    expect(checkLifecycle(r.get('gpt-5'), r, { today: '2026-06-01' })).toBe('model gpt-5 is deprecated since 2026-06-01: use gpt-5.4');
    expect(checkLifecycle(r.get('gpt-5'), r, { today: '2026-10-01' })).toBe('model gpt-5 is deprecated since 2026-06-01: use gpt-5.5');
    expect(thrown(() => checkLifecycle(r.get('gpt-5.4'), r, { today: '2026-10-01' })).message).toMatch(
      /^model gpt-5\.4 was retired on 2026-10-01: use gpt-5\.5 /,
    );
  });

  it('another name borrows the rules, not the lifecycle (extends, --rule); the same name keeps it', () => {
    const r = reg.withOverrides({
      models: { 'my-claude': { extends: 'claude-sonnet-4.5', apiModel: 'my-claude' }, 'claude-sonnet-4.5': { maxOutputTokens: 1000 } },
    });
    expect(lifecycleOf(r.get('my-claude'), r, '2026-12-07')).toEqual({ status: 'current' });
    expect(lifecycleOf(r.get('claude-sonnet-4.5'), r, '2026-12-07').status).toBe('retired');
    expect(lifecycleOf(reg.get('unknown-model', { rule: 'claude-sonnet-4.5' }), reg, '2026-12-07')).toEqual({ status: 'current' });
  });

  it('refuses bad dates and unknown replacements in one line', () => {
    expect(() => reg.withOverrides({ models: { 'gpt-5': { retired: '30.11.2026' } } }, 'm.json')).toThrow('m.json: model gpt-5: retired: a date YYYY-MM-DD');
    expect(() => reg.withOverrides({ models: { 'gpt-5': { replacement: 'gpt-9' } } }, 'm.json')).toThrow(
      'm.json: model gpt-5 names replacement gpt-9, which is not known',
    );
    expect(thrown(() => isoDay('yesterday')).message).toBe('option today: expected a date YYYY-MM-DD, got "yesterday"');
    expect(thrown(() => isoDay(new Date(Number.NaN))).code).toBe('INVALID_OPTION');
    expect(isoDay(new Date(Date.UTC(2026, 11, 7, 23, 59)))).toBe('2026-12-07');
    expect(isoDay(undefined)).toBe(new Date().toISOString().slice(0, 10));
  });

  it("tells its warnings from the plan's others", () => {
    expect(isLifecycleWarning('model claude-opus-4.5 is deprecated and retires on 2027-01-22: use claude-opus-4.7')).toBe(true);
    expect(isLifecycleWarning('model x was retired on 2026-11-30: its provider may refuse the requests (use y)')).toBe(true);
    expect(isLifecycleWarning('--dedup: the frame count is an upper bound (duplicates are found while sampling)')).toBe(false);
  });
});
