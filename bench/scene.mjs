// Scene mode (issue 11): omniprep's scene scan with each detector against PySceneDetect's
// ContentDetector and AdaptiveDetector (defaults, OpenCV backend), on a 24-s 720p clip with five
// known cuts (one of them black -> dark grey 0x202020) and on 10 minutes of that clip looped (149
// cuts). Reports wall time, the ratio (PySceneDetect's seconds / omniprep's), the peak memory of
// each process tree, and the cuts found: how many, how many true (within a frame of a known cut),
// missed and false.
//   OMNIPREP_PYSCENEDETECT=DIR node bench/scene.mjs   (after npm run build)
// DIR holds PySceneDetect's `scenedetect` package (its source, run by /usr/bin/python3 with
// python3-opencv); without it the PySceneDetect columns are skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { machine, measure, MEDIA_DIR, ROOT, tools } from './lib.mjs';

const BIN = join(ROOT, 'bin/omniprep');
const PY = '/usr/bin/python3';
const PSD = process.env.OMNIPREP_PYSCENEDETECT;
const pyEnv = PSD ? { PYTHONPATH: PSD } : {};
const hasPsd = existsSync(PY) && spawnSync(PY, ['-c', 'import scenedetect, cv2'], { env: { ...process.env, ...pyEnv } }).status === 0;
const { ffmpeg } = await tools();

const FPS = 30;
const SEG = 4;
/** The 24-s clip: six 4-s shots, each cut a new source; 5 cuts, and a cut at each loop. */
const SHOTS = [
  'testsrc2=s=1280x720',
  'testsrc=s=1280x720',
  // a pan across SMPTE bars twice the width
  "smptehdbars=s=2560x720,crop=1280:720:x='t*200':y=0",
  'life=s=1280x720:mold=10:ratio=0.1:life_color=#00ff00:death_color=#c83232',
  'color=c=black:s=1280x720',
  'color=c=0x202020:s=1280x720',
];
const CLIP_SEC = SHOTS.length * SEG;
const clipCuts = SHOTS.slice(1).map((_, i) => (i + 1) * SEG);

async function make(path, args) {
  if (existsSync(path)) return path;
  mkdirSync(MEDIA_DIR, { recursive: true });
  process.stderr.write(`making ${path}\n`);
  const t = `${path}.tmp.mp4`;
  await measure(ffmpeg, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args, t]);
  renameSync(t, path);
  return path;
}

async function media() {
  // each source at 30 fps, cut to 4 s (life has no duration of its own)
  const inputs = SHOTS.flatMap((s) => ['-f', 'lavfi', '-i', s.replace(/^([a-z0-9]+)=/, `$1=r=${FPS}:`)]);
  const shot = (i) => `[${i}]trim=duration=${SEG},setpts=PTS-STARTPTS,setsar=1,format=yuv420p[v${i}]`;
  const graph = `${SHOTS.map((_, i) => shot(i)).join(';')};${SHOTS.map((_, i) => `[v${i}]`).join('')}concat=n=${SHOTS.length}:v=1[out]`;
  const clip = await make(join(MEDIA_DIR, 'scene-cuts-720p.mp4'), [
    ...inputs,
    '-filter_complex',
    graph,
    '-map',
    '[out]',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-g',
    '60',
  ]);
  const loops = Math.ceil(600 / CLIP_SEC);
  const long = await make(join(MEDIA_DIR, 'scene-cuts-720p-10min.mp4'), ['-stream_loop', String(loops - 1), '-i', clip, '-c', 'copy', '-t', '600']);
  const longCuts = [];
  for (let k = 0; k < loops; k++) for (const c of [0, ...clipCuts]) if (k * CLIP_SEC + c > 0 && k * CLIP_SEC + c < 600) longCuts.push(k * CLIP_SEC + c);
  return [
    { name: '24 s 720p H.264, 5 cuts (one black -> 0x202020)', input: clip, cuts: clipCuts },
    { name: '10 min 720p H.264 (that clip looped), 149 cuts', input: long, cuts: longCuts },
  ];
}

/** How many found cuts are true (within a frame of a known one), missed and false. */
function score(found, truth) {
  const tol = 1 / FPS + 1e-3;
  const hit = new Set();
  let falseCuts = 0;
  for (const t of found) {
    const i = truth.findIndex((c, k) => !hit.has(k) && Math.abs(c - t) <= tol);
    if (i < 0) falseCuts++;
    else hit.add(i);
  }
  return { found: found.length, true: hit.size, missed: truth.length - hit.size, false: falseCuts };
}

async function ours(input, detector) {
  const r = await measure(BIN, [
    'plan',
    input,
    '--mode',
    'scene',
    '--scene-detector',
    detector,
    '--every',
    '5',
    // PySceneDetect's minimum scene length, 15 frames; no max-gap fills
    '--min-gap',
    '0.5',
    '--max-gap',
    '1000000',
    '--json',
  ]);
  const p = JSON.parse(r.stdout);
  return { ...r, cuts: p.frames.filter((f, i) => i > 0 && f.source === 'scene').map((f) => f.timestampSec) };
}

async function pyscenedetect(input, detector) {
  const r = await measure(PY, [join(ROOT, 'bench/peers.py'), 'scenedetect', input, detector], { env: pyEnv });
  return { ...r, cuts: JSON.parse(r.stdout) };
}

const row = (r, truth) => ({
  seconds: +r.seconds.toFixed(2),
  peakMB: r.peakMB,
  cuts: score(r.cuts, truth),
});

const cases = await media();
const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
const results = [];
for (const c of cases) {
  const r = { case: c.name };
  const o = {};
  for (const d of ['adaptive', 'content', 'ffmpeg']) {
    o[d] = await ours(c.input, d);
    r[`omniprep ${d}`] = row(o[d], c.cuts);
  }
  if (hasPsd) {
    for (const d of ['content', 'adaptive']) {
      const p = await pyscenedetect(c.input, d);
      // ratio: PySceneDetect's time over omniprep's with the same kind of detector
      r[`PySceneDetect ${d}`] = { ...row(p, c.cuts), vsOmniprep: +(p.seconds / o[d].seconds).toFixed(2) };
    }
  } else r.PySceneDetect = 'skipped: set OMNIPREP_PYSCENEDETECT to a directory holding its scenedetect package';
  results.push(r);
  console.log(JSON.stringify(r));
}
const loadAfter = readFileSync('/proc/loadavg', 'utf8').trim();
console.log(
  JSON.stringify(
    {
      benchmark: 'scene',
      machine: machine(),
      loadavg: { before: loadBefore, after: loadAfter },
      ffmpeg,
      note: "vsOmniprep = PySceneDetect's seconds / omniprep's with the same detector; cuts.true = within a frame of a known cut",
      results,
    },
    null,
    2,
  ),
);
