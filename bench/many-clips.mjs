// Samples every clip named on the command line through sample() in this one process (the way a
// media app calls the library), for bench/everyday.mjs. Prints the frames written.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const { sample } = await import(join(ROOT, 'dist/src/index.js'));
//   node bench/many-clips.mjs EVERY MODE [--at-once N] CLIP...   (N clips sampled at a time, default 1)
const args = process.argv.slice(2);
const at = args.indexOf('--at-once');
const atOnce = at >= 0 ? Number(args.splice(at, 2)[1]) : 1;
const [every, mode, ...clips] = args;
const out = mkdtempSync(join(ROOT, '.cache', 'bench-many-'));
let frames = 0;
try {
  let next = 0;
  const lane = async () => {
    while (next < clips.length) {
      const i = next++;
      const m = await sample(clips[i], { out: join(out, String(i)), every: Number(every), mode, maxSide: 768, sizeSlack: 0, format: 'jpeg' }).manifest();
      frames += m.totals.frames;
    }
  };
  await Promise.all(Array.from({ length: atOnce }, lane));
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(JSON.stringify({ frames }));
