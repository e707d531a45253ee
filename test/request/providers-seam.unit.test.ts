// The provider seam (ARCHITECTURE.md, "A provider"): outside src/providers/, no module compares a
// provider or API name (===, !==, a switch case, includes/has/indexOf of the literal). A provider
// is reached through its adapter in the PROVIDERS table, so adding one touches no other folder.
// The names come from the table itself, so a new provider's names are checked too.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APIS, PROVIDER_NAMES } from '../../src/models/constants.js';
import { PROVIDERS } from '../../src/providers/registry.js';
import { ROOT } from '../helpers/fixtures.js';

const NAMES = [...new Set([...Object.keys(PROVIDERS), ...APIS, ...Object.values(PROVIDERS).flatMap((a) => [...a.apis, ...a.registryProviders])])];

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every comparison of a name as a string literal in `text`, as `line: code`. */
function nameComparisons(text: string, names: readonly string[] = NAMES): string[] {
  const alt = names.map(escapeRe).join('|');
  const lit = `(['"\`])(?:${alt})\\`;
  const patterns = [
    new RegExp(`(?:===|!==|==|!=)\\s*${lit}1`),
    new RegExp(`${lit}1\\s*(?:===|!==|==|!=)`),
    new RegExp(`\\bcase\\s+${lit}1\\s*:`),
    new RegExp(`\\.(?:includes|has|indexOf)\\(\\s*${lit}1\\s*\\)`),
  ];
  // Comments may quote code; they compare nothing.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/^\s*\/\/.*$/gm, '');
  return code.split('\n').flatMap((line, i) => (patterns.some((p) => p.test(line)) ? [`${i + 1}: ${line.trim()}`] : []));
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the provider seam', () => {
  it('the check finds each kind of comparison, and not a mention', () => {
    const sample = [
      "if (provider === 'anthropic') x();",
      'if ("gemini" !== api) y();',
      '  case `chat`:',
      "if (['a'].includes('responses')) z();",
      "const seen = new Set(); seen.has('openai');",
      "const api = 'chat'; // default",
      "/* if (api === 'messages') */ const help = 'openai, anthropic or gemini';",
      "// if (api === 'gemini')",
      "if (provider === 'openaix') w();",
    ].join('\n');
    expect(nameComparisons(sample)).toEqual([
      "1: if (provider === 'anthropic') x();",
      '2: if ("gemini" !== api) y();',
      '3: case `chat`:',
      "4: if (['a'].includes('responses')) z();",
      "5: const seen = new Set(); seen.has('openai');",
    ]);
  });

  it('the names are every provider, API and registry provider the table knows', () => {
    expect(NAMES).toEqual(expect.arrayContaining([...PROVIDER_NAMES, ...APIS, 'google', 'other']));
  });

  it('no module outside src/providers/ compares a provider or API name', () => {
    const src = join(ROOT, 'src');
    const found = sources(src)
      .filter((f) => !relative(src, f).startsWith('providers/'))
      .flatMap((f) => nameComparisons(readFileSync(f, 'utf8')).map((c) => `${relative(ROOT, f)}:${c}`));
    expect(found).toEqual([]);
  });
});
