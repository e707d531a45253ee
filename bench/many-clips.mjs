// Samples every clip named on the command line through sample() in this one process (the way a
// media app calls the library), for bench/everyday.mjs. Prints the frames written.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const { sample } = await import(join(ROOT, 'dist/src/index.js'));
const [every, mode, ...clips] = process.argv.slice(2);
const out = mkdtempSync(join(ROOT, '.cache', 'bench-many-'));
let frames = 0;
try {
  for (const [i, clip] of clips.entries()) {
    const m = await sample(clip, { out: join(out, String(i)), every: Number(every), mode, maxSide: 768, sizeSlack: 0, format: 'jpeg' }).manifest();
    frames += m.totals.frames;
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(JSON.stringify({ frames }));
