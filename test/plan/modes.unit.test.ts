// A sampling mode is a row of MODE_TRAITS (src/media/formats.ts) and an entry of SELECT
// (src/plan/planner.ts): no other module branches on a mode's name.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODE_TRAITS, MODES } from '../../src/media/formats.js';
import { ROOT } from '../helpers/fixtures.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

describe('sampling modes', () => {
  it('every mode has its traits', () => {
    expect(Object.keys(MODE_TRAITS).sort()).toEqual([...MODES].sort());
  });

  it('no module compares a mode by name', () => {
    const names = MODES.join('|');
    const compare = new RegExp(`\\bmode\\s*[!=]==\\s*'(${names})'|'(${names})'\\s*[!=]==\\s*[\\w.]*mode\\b`);
    const isCase = new RegExp(`case '(${names})':`);
    // A \`case 'exact':\` counts inside a switch on a mode (an eval's scoring kind 'exact' is not one).
    const found = sources(join(ROOT, 'src')).flatMap((file) => {
      let onMode = false;
      return readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${relative(ROOT, file)}:${i + 1}` }))
        .filter(({ line }) => {
          if (/\bswitch\s*\(/.test(line)) onMode = /mode/i.test(line);
          return compare.test(line) || (onMode && isCase.test(line));
        })
        .map(({ at, line }) => `${at}: ${line.trim()}`);
    });
    expect(found).toEqual([]);
    // The pattern itself finds what it must.
    expect(compare.test("if (o.mode === 'scene') x();")).toBe(true);
    expect(isCase.test("    case 'exact':")).toBe(true);
  });
});
