// The keyframe map of an hour of 720p H.264, next to `ffprobe -show_packets` over the same file.
//   node bench/keyframes.mjs   (after npm run build)
import { join } from 'node:path';
import { benchMedia, machine, measure, ROOT, tools } from './lib.mjs';

const { ffprobe } = await tools();
const media = await benchMedia();
const { probe } = await import(join(ROOT, 'dist/src/probe/probe.js'));
const { keyframes } = await import(join(ROOT, 'dist/src/probe/keyframes.js'));

const runs = 3;
const ours = [];
for (let i = 0; i < runs; i++) {
  // a fresh import each time would re-read nothing: the cache is per file, so clear it by copying the info with a new mtime key
  const info = { ...(await probe(media.hour720)), mtimeMs: Date.now() + i };
  const t0 = performance.now();
  const map = await keyframes(info);
  ours.push({ seconds: (performance.now() - t0) / 1000, keyframes: map.times.length });
}
const base = [];
for (let i = 0; i < runs; i++) {
  const r = await measure(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_packets', media.hour720]);
  base.push({ seconds: r.seconds, lines: r.stdout.split('\n').length });
}
const best = (xs) => Math.min(...xs.map((x) => x.seconds));
const result = {
  benchmark: 'keyframe map',
  machine: machine(),
  input: '1 h 720p H.264 (keyframes every 2 s)',
  keyframeMapSeconds: +best(ours).toFixed(3),
  keyframes: ours[0].keyframes,
  ffprobeShowPacketsSeconds: +best(base).toFixed(3),
  ratio: +(best(base) / best(ours)).toFixed(2),
  note: 'best of 3; the keyframe map reads the packet index in two time ranges at once (both cores)',
};
console.log(JSON.stringify(result, null, 2));
