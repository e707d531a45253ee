// npm run bench: every benchmark, one after the other, each printing its JSON.
//   node bench/run.mjs [name ...]   names: startup, keyframes, sample, everyday, scene, audio, dispatch, service, remote, eval, store
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const all = {
  startup: ['node', ['bench/startup.mjs']],
  keyframes: ['node', ['bench/keyframes.mjs']],
  sample: ['node', ['bench/sample.mjs']],
  everyday: ['node', ['bench/everyday.mjs']],
  scene: ['node', ['bench/scene.mjs']],
  audio: ['npx', ['tsx', 'bench/audio.ts']],
  dispatch: ['npx', ['tsx', 'bench/dispatch.ts']],
  service: ['npx', ['tsx', 'bench/service.ts']],
  remote: ['npx', ['tsx', 'bench/remote.ts']],
  eval: ['npx', ['tsx', 'bench/eval.ts']],
  store: ['npx', ['tsx', 'bench/store.ts']],
};
const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(all);
let failed = 0;
for (const name of names) {
  const job = all[name];
  if (!job) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(all).join(', ')}`);
    process.exit(2);
  }
  const script = join(ROOT, job[1][job[1].length - 1]);
  if (!existsSync(script)) {
    console.error(`skip ${name}: ${script} is missing`);
    continue;
  }
  console.error(`== ${name}`);
  const r = spawnSync(job[0], job[1], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
