// Samples every clip named on the command line through sampleMany() in this one process (the way a
// media app calls the library), for bench/everyday.mjs. Prints the frames written and how they were
// decoded. The decoder is OMNIPREP_DECODER's (auto, node-av or ffmpeg).
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const { sampleMany } = await import(join(ROOT, 'dist/src/index.js'));
//   node bench/many-clips.mjs EVERY MODE [--at-once N] CLIP...   (N clips sampled at a time, default 1)
const args = process.argv.slice(2);
const at = args.indexOf('--at-once');
const atOnce = at >= 0 ? Number(args.splice(at, 2)[1]) : 1;
const [every, mode, ...clips] = args;
const out = mkdtempSync(join(ROOT, '.cache', 'bench-many-'));
let frames = 0;
const decodePaths = {};
try {
  const options = { out, every: Number(every), mode, maxSide: 768, sizeSlack: 0, format: 'jpeg', concurrency: atOnce };
  for await (const r of sampleMany(clips, options)) {
    if (!r.ok) throw new Error(r.error.message);
    frames += r.result.totals.frames;
    for (const [k, n] of Object.entries(r.result.timings.decodePaths)) decodePaths[k] = (decodePaths[k] ?? 0) + n;
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(JSON.stringify({ frames, decodePaths }));
