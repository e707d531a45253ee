// resolveOptions(): unknown keys refused with the nearest option named, values and relations
// checked once, the model looked up once, and a Resolved object taken as it is.
import { Command } from 'commander';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { ModelRegistry, registry } from '../../src/models/registry.js';
import { didYouMean, editDistance, nearestNames } from '../../src/options/nearest.js';
import { isResolved, resolveOptions, withOptions, type KnownOption } from '../../src/options/resolve.js';
import { SAMPLING } from '../../src/options/sampling.js';
import type { PlanOptions } from '../../src/plan/types.js';
import type { PrepareOptions } from '../../src/prepare.js';
import { estimateRequest, type BuildOptions } from '../../src/request/build.js';
import type { RunOptions } from '../../src/run.js';
import type { SampleOptions } from '../../src/sample/sample.js';

/** What the CLI's commander suggests for an unknown flag among `names` ('' for nothing). */
function commanderSuggests(typo: string, names: string[]): string {
  const cmd = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  for (const n of names) cmd.option(`--${n} <v>`);
  try {
    cmd.parse([`--${typo}`, '1'], { from: 'user' });
  } catch (e) {
    const m = /\n\(Did you mean (.*)\?\)/.exec((e as Error).message);
    return m ? m[1]!.replace(/--/g, '') : '';
  }
  return 'accepted';
}

function refusal(f: () => unknown): { code?: string; message: string } {
  try {
    f();
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  return { message: 'accepted' };
}

afterEach(() => vi.restoreAllMocks());

describe('the nearest name', () => {
  it('counts edits, a swap of two neighbours as one', () => {
    expect(editDistance('every', 'every')).toBe(0);
    expect(editDistance('evry', 'every')).toBe(1);
    expect(editDistance('mdoe', 'mode')).toBe(1);
    expect(editDistance('maxframe', 'maxFrames')).toBe(2);
    expect(editDistance('a', 'abcdef')).toBe(6);
  });

  it("names what the CLI's commander names for the same typo", () => {
    const names = Object.keys(SAMPLING);
    for (const typo of ['evry', 'mdoe', 'maxframes', 'maxSid', 'qualty', 'grd', 'dedupThresold', 'colour', 'x', 'tolerence', 'minGp']) {
      const ours = /^ \(did you mean (.*)\?\)$/.exec(didYouMean(typo, names))?.[1] ?? '';
      expect(ours, typo).toBe(commanderSuggests(typo, names));
    }
    expect(nearestNames('evry', names)).toEqual(['every']);
    expect(nearestNames('colour', names)).toEqual([]);
  });
});

describe('resolveOptions', () => {
  it('refuses an unknown key in one line naming the nearest option', () => {
    expect(refusal(() => resolveOptions({ evry: 5 }))).toEqual({ code: 'INVALID_OPTION', message: 'option evry: not an option (did you mean every?)' });
    expect(refusal(() => resolveOptions({ every: 5, maxFrame: 3 })).message).toBe('option maxFrame: not an option (did you mean maxFrames?)');
    expect(refusal(() => resolveOptions({ brightness: 2 })).message).toMatch(
      /^option brightness: not an option \(allowed: every, mode, start, end, maxFrames, /,
    );
    // An unknown key is refused on every surface, before anything else.
    expect(refusal(() => resolveOptions({ evry: 5 }, { surface: 'cli' })).message).toBe('option evry: not an option (did you mean every?)');
    expect(refusal(() => resolveOptions({ evry: 5 }, { surface: 'service' })).message).toBe('option evry: not an option (did you mean every?)');
    // A key left undefined is no option given.
    expect(resolveOptions({ evry: undefined }).sampling.every).toBe(5);
    expect(refusal(() => resolveOptions(null)).message).toBe('options: expected an object, got null');
    expect(refusal(() => resolveOptions([1])).message).toBe('options: expected an object, got [1]');
  });

  it('checks values and relations with the messages every surface prints', () => {
    expect(refusal(() => resolveOptions({ every: 0 })).message).toBe('option every: expected a number from 0.001 to 86400, got 0');
    expect(refusal(() => resolveOptions({ concurrency: 33 })).message).toBe('option concurrency: expected a whole number from 1 to 32, got 33');
    expect(refusal(() => resolveOptions({ start: 5, end: 5 })).message).toBe('option end: expected a time after start (5), got 5');
    expect(refusal(() => resolveOptions({ model: 'gpt-nope' }))).toMatchObject({ code: 'UNKNOWN_MODEL' });
    // The CLI's and the service's own parsers have checked each value: only the relations are checked again.
    expect(resolveOptions({ every: 0 }, { surface: 'cli' }).sampling.every).toBe(0);
    expect(refusal(() => resolveOptions({ start: 5, end: 5 }, { surface: 'service' })).message).toBe('option end: expected a time after start (5), got 5');
  });

  it('fills in the defaults, carries the registry entry, and is frozen', () => {
    const r = resolveOptions<PlanOptions>({ every: 2, maxOutputTokens: 2000, outputTokens: 500 });
    expect(r.surface).toBe('library');
    expect(r.sampling).toMatchObject({ every: 2, mode: 'keyframe', start: 0, format: 'jpeg', quality: 80, tier: 'standard', outputTokens: 2000 });
    expect(r.model).toEqual(registry().get('gpt-5.5'));
    expect(r.registry).toBe(registry());
    expect(Object.isFrozen(r) && Object.isFrozen(r.options) && Object.isFrozen(r.sampling)).toBe(true);
    expect(() => {
      (r.options as { every: number }).every = 3;
    }).toThrow(TypeError);
    expect(isResolved(r)).toBe(true);
    // A copy of its options is options again, not a Resolved object.
    expect(isResolved({ ...r })).toBe(false);
    expect(isResolved({ every: 2 })).toBe(false);
  });

  it('takes a Resolved object as it is: no value parsed, no model looked up again', () => {
    const r = resolveOptions<PlanOptions>({ every: 2 });
    const parse = vi.spyOn(SAMPLING.every.schema, 'safeParse');
    const get = vi.spyOn(ModelRegistry.prototype, 'get');
    expect(resolveOptions(r)).toBe(r);
    expect([parse.mock.calls.length, get.mock.calls.length]).toEqual([0, 0]);
    // A patch checks its own values alone and keeps the model entry.
    const s = withOptions(r, { out: '/tmp/x' } as Partial<PlanOptions>);
    expect([parse.mock.calls.length, get.mock.calls.length]).toEqual([0, 0]);
    expect(s.model).toBe(r.model);
    expect(isResolved(s) && s.options.every === 2).toBe(true);
    expect(refusal(() => withOptions(r, { every: -1 })).message).toBe('option every: expected a number from 0.001 to 86400, got -1');
    expect(refusal(() => withOptions(r, { evry: 1 } as Partial<PlanOptions>)).message).toBe('option evry: not an option (did you mean every?)');
    // Another model is looked up (once).
    expect(withOptions(r, { model: 'gpt-4o' }).model.name).toBe('gpt-4o');
    expect(get.mock.calls.map((c) => c[0])).toEqual(['gpt-4o']);
    expect(refusal(() => withOptions(resolveOptions<PlanOptions>({ start: 5 }), { end: 4 })).message).toBe(
      'option end: expected a time after start (5), got 4',
    );
  });

  it('the request builders refuse an unknown key the same way', () => {
    const segment = { index: 0, startSec: 0, endSec: 10, frames: [], audio: [] };
    expect(estimateRequest(segment, { model: 'gpt-5.5', prompt: 'x', system: 'be brief' }).textTokens).toBeGreaterThan(0);
    expect(refusal(() => estimateRequest(segment, { model: 'gpt-5.5', prompt: 'x', sytem: 'be brief' } as BuildOptions & { model: string }))).toEqual({
      code: 'INVALID_OPTION',
      message: 'option sytem: not an option (did you mean system?)',
    });
  });

  it('knows every key the library functions take (else a typed option would be refused)', () => {
    type Taken = keyof PlanOptions | keyof SampleOptions | keyof PrepareOptions | keyof RunOptions | keyof BuildOptions;
    expectTypeOf<Exclude<Taken, KnownOption>>().toEqualTypeOf<never>();
  });
});
