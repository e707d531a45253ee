// `node --import test/helpers/loaded/register.mjs ...`: records every module the process loads, one
// file URL a line, in the file OMNIPREP_LOADED_LOG names. ES modules through a resolve hook (hooks.mjs,
// which appends as each one resolves); CommonJS modules (require, createRequire, a package's own
// requires) from require's cache when the process exits. test/api/startup.test.ts reads the list.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const log = process.env.OMNIPREP_LOADED_LOG;
if (!log) throw new Error('OMNIPREP_LOADED_LOG: the file to record loaded modules in');
register(new URL('./hooks.mjs', import.meta.url), { data: { log } });
const { cache } = createRequire(import.meta.url);
process.on('exit', () => {
  appendFileSync(
    log,
    Object.keys(cache)
      .map((f) => `${pathToFileURL(f).href}\n`)
      .join(''),
  );
});
