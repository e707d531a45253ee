/**
 * A piscina worker entry under `workers/` (frames, plan): the compiled file next to dist/src, or,
 * when the library runs from source (the tests), the TypeScript file loaded through tsx.
 */
import { fileURLToPath } from 'node:url';

export function workerEntry(name: string): { filename: string; execArgv?: string[] } {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  // src/util/worker-entry.ts -> workers/NAME.ts; dist/src/util/worker-entry.js -> dist/workers/NAME.js
  const filename = fileURLToPath(new URL(`../../workers/${name}.${fromSource ? 'ts' : 'js'}`, here));
  return fromSource ? { filename, execArgv: [...process.execArgv, '--import', 'tsx'] } : { filename };
}
