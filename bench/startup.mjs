// Start-up (issue 11, "start-up paid only for what a command uses"): the best of N wall times of
// bare `node -e 0`, of the command line's `--version` and `tokens`, and of importing the package
// root, each run side by side (round-robin, so a busy machine slows every case alike), and the
// difference of each to bare node against its target. Which modules load is a test
// (test/api/startup.test.ts); this only measures.
//   node bench/startup.mjs [runs]   (after npm run build; default 15 runs)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine, ROOT } from './lib.mjs';

const RUNS = Number(process.argv[2] ?? 15);
const CLI = join(ROOT, 'dist/src/cli/main.js');
const node = process.execPath;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const cases = [
  { name: 'bare node -e 0', args: ['-e', '0'] },
  { name: 'omniprep --version', args: [CLI, '--version'], targetOverBare: 0.15 },
  { name: "import('omniprep')", args: ['--input-type=module', '-e', "await import('omniprep')"], targetOverBare: 0.35 },
  { name: 'omniprep tokens --width 1920 --height 1080', args: [CLI, 'tokens', '--width', '1920', '--height', '1080'] },
  { name: 'bin/omniprep --version (the sh wrapper)', command: join(ROOT, 'bin/omniprep'), args: ['--version'] },
];

function once(c) {
  const t0 = performance.now();
  const r = spawnSync(c.command ?? node, c.args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr.toString().slice(-500)}`);
  return seconds;
}

const before = loadavg();
const times = cases.map(() => []);
for (const c of cases) once(c); // warm the file cache
for (let i = 0; i < RUNS; i++) cases.forEach((c, k) => times[k].push(once(c)));
const best = times.map((t) => Math.min(...t));
const median = times.map((t) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]);
const bare = best[0];
const results = cases.map((c, k) => ({
  case: c.name,
  bestSeconds: +best[k].toFixed(3),
  medianSeconds: +median[k].toFixed(3),
  ...(k ? { overBareSeconds: +(best[k] - bare).toFixed(3) } : {}),
  ...(c.targetOverBare !== undefined ? { targetOverBare: c.targetOverBare, met: best[k] - bare <= c.targetOverBare } : {}),
}));
for (const r of results) console.log(JSON.stringify(r));
console.log(
  JSON.stringify(
    {
      benchmark: 'startup',
      machine: machine(),
      runs: RUNS,
      loadavg: { before, after: loadavg() },
      note: 'best of the runs; overBareSeconds = best - best of bare node',
      results,
    },
    null,
    2,
  ),
);
