// Optional packages (src/util/optional.ts): a missing one is one line naming what to install;
// any other failure of the import passes through unchanged.
import { describe, expect, it } from 'vitest';
import { OmniprepError } from '../../src/errors.js';
import { loadOptional, missingPackage } from '../../src/util/optional.js';

describe('loadOptional', () => {
  it('a package that is not installed is MISSING_PACKAGE, naming it and the command', async () => {
    const name = 'omniprep-no-such-package';
    const e = await loadOptional('the cost-curve chart', () => import(name)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OmniprepError);
    expect((e as OmniprepError).code).toBe('MISSING_PACKAGE');
    expect((e as OmniprepError).message).toBe(`the cost-curve chart needs the package ${name}, which is not installed: npm install ${name}`);
    expect((e as OmniprepError).input).toBe(name);
    // A scoped package with a subpath names the package.
    const scopedName = '@omniprep-none/sdk/sub.js';
    const scoped = await loadOptional('the Gemini provider', () => import(scopedName)).catch((x: unknown) => x);
    expect((scoped as OmniprepError).message).toBe(
      'the Gemini provider needs the package @omniprep-none/sdk, which is not installed: npm install @omniprep-none/sdk',
    );
  });

  it('loads an installed one, and lets other errors through', async () => {
    const z = await loadOptional('zod', () => import('zod'));
    expect(typeof z.z.string).toBe('function');
    const boom = new TypeError('boom');
    await expect(loadOptional('x', () => Promise.reject(boom))).rejects.toBe(boom);
    expect(missingPackage({ code: 'ERR_MODULE_NOT_FOUND', message: "Cannot find module '/a/b.js' imported from /c.js" })).toBeUndefined();
  });
});
