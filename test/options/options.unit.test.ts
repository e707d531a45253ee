// One description per option (src/options/): the library, the CLI flags and the service's job
// options accept and refuse exactly the same values, with one-line messages that name the
// option, the value and what is allowed.
import { describe, expect, it } from 'vitest';
import AjvModule from 'ajv';
import { allowedText, checkGroup, flagParser, groupJsonSchema, type Group } from '../../src/options/define.js';
import { ESTIMATE, SAMPLING, checkWorkBounds, MAX_TARGETS } from '../../src/options/sampling.js';
import { DISPATCH, REQUEST } from '../../src/options/request.js';
import { AUDIO_CUTS, AUDIO_ENCODING } from '../../src/options/audio.js';
import { parseJobOptions } from '../../src/service/options.js';
import { resolveSampling } from '../../src/plan/options.js';

const Ajv = AjvModule.default;

/** Values around every option's edges, and of the wrong type. */
const PROBES: unknown[] = [
  -1,
  0,
  1e-7,
  0.0009,
  0.001,
  0.5,
  1,
  1.5,
  2,
  8,
  9,
  15,
  16,
  100,
  101,
  128,
  129,
  1e9,
  Number.NaN,
  'keyframe',
  'exact',
  'fast',
  'jpeg',
  'gif',
  'standard',
  'x',
  '',
  true,
  false,
  null,
  ['x'],
  { cols: 2, rows: 2 },
  { cols: 9, rows: 1 },
];

function cliText(v: unknown): string | undefined {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'cols' in v) return `${(v as { cols: number }).cols}x${(v as unknown as { rows: number }).rows}`;
  return undefined;
}

describe('every option described once', () => {
  const groups: Array<[string, Group]> = [
    ['sampling', SAMPLING],
    ['estimate', ESTIMATE],
    ['request', REQUEST],
    ['dispatch', DISPATCH],
    ['audio cuts', AUDIO_CUTS],
    ['audio encoding', AUDIO_ENCODING],
  ];
  // A job takes the audio cuts nested, as options.audioOptions.
  const asJob = (group: Group, key: string, v: unknown): unknown => (group === AUDIO_CUTS ? { audioOptions: { [key]: v } } : { [key]: v });
  const ajv = new Ajv({ strict: false, coerceTypes: false });

  for (const [name, group] of groups) {
    it(`${name}: library, service JSON Schema and service parser agree on every probe value`, () => {
      const validate = ajv.compile(groupJsonSchema(`Group-${name}`, name, group));
      let refused = 0;
      for (const [key, def] of Object.entries(group)) {
        for (const v of PROBES) {
          const lib = (() => {
            try {
              checkGroup(group, { [key]: v });
              return true;
            } catch (e) {
              expect((e as Error).message).toBe(
                `option ${key}: expected ${allowedText(def)}, got ${v === null ? 'null' : (JSON.stringify(v) ?? String(v))}`.replace('got NaN', 'got null'),
              );
              return false;
            }
          })();
          if (v === null) continue; // null means "not given" to JSON parsing of a whole options object
          const svc = (() => {
            if (group === AUDIO_ENCODING || key === 'send' || key === 'provider') return lib; // not job options
            try {
              parseJobOptions(asJob(group, key, v));
              return true;
            } catch {
              return false;
            }
          })();
          const schema = validate({ [key]: v });
          expect([key, v, svc]).toEqual([key, v, lib]);
          if (!Number.isNaN(v)) expect([key, v, schema]).toEqual([key, v, lib]);
          if (!lib) refused++;
        }
      }
      expect(refused).toBeGreaterThan(0);
    });

    it(`${name}: the CLI flag accepts exactly what the library accepts`, () => {
      for (const [key, def] of Object.entries(group)) {
        // Options with their own flag syntax (sizes such as 1.5MB, bit rates such as 64k) are
        // checked after parsing, by the same schema.
        if (def.meta.cli === false || (def.meta.cli?.parse && key !== 'grid')) continue;
        const parse = flagParser(key, def);
        for (const v of PROBES) {
          const text = cliText(v);
          if (text === undefined || typeof v === 'boolean') continue;
          // A number option given as text is the number; a string option keeps the text.
          const libValue = typeof v === 'string' && /^(-?\d|NaN)/.test(v) ? Number(v) : v;
          let lib = true;
          try {
            checkGroup(group, { [key]: libValue });
          } catch {
            lib = false;
          }
          let cli = true;
          try {
            parse(text);
          } catch (e) {
            cli = false;
            expect((e as Error).message).toMatch(new RegExp(`^option ${key}: expected `));
          }
          // Text given to a number option is a number (so "x" is refused by both); a number given to a
          // string option is text on the command line (so --model 1 is a model named "1").
          const numeric = ['number', 'integer'].includes(
            String((groupJsonSchema('x', '', { [key]: def }).properties as Record<string, { type?: string }>)[key]!.type),
          );
          if (numeric || typeof v === 'string') expect([key, text, cli]).toEqual([key, text, lib]);
        }
      }
    });
  }

  it('messages name the option, the value and what is allowed', () => {
    expect(() => resolveSampling({ every: 0 })).toThrow('option every: expected a number from 0.001 to 86400, got 0');
    expect(() => resolveSampling({ mode: 'fast' as 'exact' })).toThrow('option mode: expected one of keyframe, exact, scene, got "fast"');
    expect(() => resolveSampling({ quality: 1.5 })).toThrow('option quality: expected a whole number from 1 to 100, got 1.5');
    expect(() => resolveSampling({ grid: { cols: 9, rows: 1 } })).toThrow(
      'option grid: expected COLSxROWS with 1 to 8 of each, e.g. 2x2 or 3x2, got {"cols":9,"rows":1}',
    );
    expect(() => resolveSampling({ start: 5, end: 5 })).toThrow('option end: expected a time after start (5), got 5');
    expect(() => parseJobOptions({ every: 5, colour: 'red' })).toThrow(/^option colour: not an option \(allowed: every, mode, /);
    expect(() => parseJobOptions({ every: '5' })).toThrow('option every: expected a number from 0.001 to 86400, got "5"');
    expect(() => parseJobOptions('{"every": ')).toThrow('the options field is not valid JSON');
    expect(flagParser('every', SAMPLING.every)('0.5')).toBe(0.5);
    expect(() => flagParser('every', SAMPLING.every)('')).toThrow('option every: expected a number from 0.001 to 86400, got ""');
  });

  it('work is bounded in O(1) before any list is built', () => {
    expect(() => checkWorkBounds(4 * 3600, { every: 0.001, mode: 'keyframe' })).toThrow(
      /^option every: expected at least 0\.144 s here \(14400\.000 s of media; at most 100000 target times per plan\), got 0\.001$/,
    );
    expect(() => checkWorkBounds(3600, { every: (3600 / MAX_TARGETS) * 1.001, mode: 'exact' })).not.toThrow();
    expect(() => checkWorkBounds(3600, { every: 5, windowSec: 0.1, mode: 'exact' })).toThrow(/^option windowSec: /);
    expect(() => checkWorkBounds(3600, { every: 5, maxGap: 0.01, mode: 'scene' })).toThrow(/^option maxGap: /);
  });
});
