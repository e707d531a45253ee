// Everyday inputs (issue 11): short clips, dense sampling, WebM/VP9/HEVC, long GOPs, many clips in
// one process. Each case runs omniprep, the one-line ffmpeg recipe it replaces, and the peers users
// pick (the cookbook's OpenCV loop, PyAV seeking per timestamp; Debian's python3-opencv and
// python3-av under /usr/bin/python3, skipped when missing) side by side in this one run, and
// reports wall time, ratios (recipe or peer time / omniprep time) and the peak memory of each
// process tree (PSS, and the plain sum of RSS).
//   node bench/everyday.mjs [case-substring ...]   (after npm run build)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { machine, measure, MEDIA_DIR, ROOT, SHARED, tools } from './lib.mjs';

const BIN = join(ROOT, 'bin/omniprep');
const PY = '/usr/bin/python3';
const only = process.argv.slice(2);
const tmp = (name) => mkdtempSync(join(ROOT, '.cache', `bench-${name}-`));
const hasPeers = existsSync(PY) && spawnSync(PY, ['-c', 'import av, cv2']).status === 0;
const { ffmpeg } = await tools();

async function make(path, args) {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  process.stderr.write(`making ${path}\n`);
  const t = `${path}.tmp${path.slice(path.lastIndexOf('.'))}`;
  await measure(ffmpeg, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args, t]);
  renameSync(t, path);
  return path;
}

async function inDir(name, fn) {
  const dir = tmp(name);
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const recipe = (input, every, maxSide) =>
  inDir('recipe', async (dir) => {
    const r = await measure(ffmpeg, [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      input,
      '-vf',
      `fps=1/${every},scale='min(${maxSide},iw)':-2`,
      '-q:v',
      '3',
      join(dir, '%05d.jpg'),
    ]);
    return { ...r, frames: readdirSync(dir).length };
  });

const ours = (input, every, mode, maxSide) =>
  inDir(mode, async (dir) => {
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
      String(maxSide),
      '--size-slack',
      '0',
      '--format',
      'jpeg',
      '--json',
    ]);
    const m = JSON.parse(r.stdout);
    return { ...r, frames: m.totals.frames, decodePaths: m.timings.decodePaths };
  });

// A peer gets 120 s: PyAV seeking in an HEVC MP4 sometimes hangs (no CPU) in the Debian build.
const peer = (kind, input, every, maxSide) =>
  inDir(kind, async (dir) => {
    try {
      const r = await measure(PY, [join(ROOT, 'bench/peers.py'), kind, input, dir, String(every), String(maxSide)], { timeoutMs: 120_000 });
      return { ...r, frames: Number(r.stdout.trim()) };
    } catch (e) {
      process.stderr.write(`${kind}: ${e.message}\n`);
      return undefined;
    }
  });

const row = (r, base) =>
  r === undefined
    ? { failed: true }
    : {
        seconds: +r.seconds.toFixed(2),
        peakMB: r.peakMB,
        peakRssSumMB: r.peakRssSumMB,
        frames: r.frames,
        ...(base ? { omniprepSpeedup: +(r.seconds / base.seconds).toFixed(2) } : {}),
      };

// ../shared/media's WebM, or (where it is absent) one like it made here: 44.65 s of 480x270 VP8 at
// 30 fps with stereo Vorbis, keyframes where libvpx puts them.
const sharedEcho = join(SHARED, 'echo-hereweare.webm');
const echo = existsSync(sharedEcho)
  ? sharedEcho
  : await make(
      join(MEDIA_DIR, 'echo-like.webm'),
      [
        '-f lavfi -i testsrc2=s=480x270:r=30:d=44.65 -f lavfi -i sine=frequency=440:sample_rate=44100:duration=44.65',
        '-c:v libvpx -deadline good -cpu-used 4 -b:v 500k -auto-alt-ref 0 -ac 2 -c:a libvorbis',
      ]
        .join(' ')
        .split(' '),
    );
const echoName = echo === sharedEcho ? 'echo-hereweare.webm' : 'echo-like.webm (made here: ../shared/media is absent)';
const flower = join(SHARED, 'flower.mp4');
const media = {
  vp9: () =>
    make(join(MEDIA_DIR, 'echo-vp9.webm'), ['-i', echo, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1M', '-g', '60', '-an']),
  hevc: () =>
    make(join(MEDIA_DIR, 'echo-hevc.mp4'), [
      '-i',
      echo,
      '-c:v',
      'libx265',
      '-preset',
      'ultrafast',
      '-x265-params',
      'keyint=60:min-keyint=60:log-level=error',
      '-tag:v',
      'hvc1',
      '-an',
    ]),
  // closed groups of pictures (every keyframe an IDR): the HEVC the Annex B stream paths take
  hevcIdr: () =>
    make(join(MEDIA_DIR, 'echo-hevc-idr.mp4'), [
      '-i',
      echo,
      '-c:v',
      'libx265',
      '-preset',
      'ultrafast',
      '-x265-params',
      'keyint=60:min-keyint=60:open-gop=0:log-level=error',
      '-tag:v',
      'hvc1',
      '-an',
    ]),
  gop10: async () => {
    const clip = await make(join(MEDIA_DIR, 'echo-320-gop10.mp4'), [
      '-i',
      echo,
      '-vf',
      'scale=320:240,fps=30',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-x264-params',
      'keyint=312:min-keyint=312:scenecut=0',
      '-an',
    ]);
    return make(join(MEDIA_DIR, 'tenmin-320-gop10.mp4'), ['-stream_loop', '14', '-i', clip, '-c', 'copy', '-t', '600']);
  },
  // 10 minutes of VP8 with a keyframe every 0.4 s (12 frames): a real WebM re-encoded, then looped
  denseVp8: async () => {
    const vp8 = '-c:v libvpx -deadline realtime -cpu-used 8 -b:v 1M -g 12 -keyint_min 12 -an'.split(' ');
    const clip = await make(join(MEDIA_DIR, 'echo-vp8-g12.webm'), ['-i', echo, ...vp8]);
    return make(join(MEDIA_DIR, 'tenmin-vp8-g12.webm'), ['-stream_loop', '14', '-i', clip, '-c', 'copy', '-t', '600']);
  },
  clips: async () => {
    const dir = join(MEDIA_DIR, 'clips');
    const paths = [];
    for (let i = 0; i < 100; i++)
      paths.push(await make(join(dir, `clip-${String(i).padStart(3, '0')}.webm`), ['-ss', String((i * 0.4) % 40), '-t', '4', '-i', echo, '-c', 'copy']));
    return paths;
  },
};

const cases = [
  ...(existsSync(flower) ? [{ name: 'flower.mp4 (5 s H.264), a frame a second, exact', input: async () => flower, every: 1, mode: 'exact', maxSide: 768 }] : []),
  { name: `${echoName} (44.7 s VP8), every 0.5 s, exact`, input: async () => echo, every: 0.5, mode: 'exact', maxSide: 448 },
  { name: `${echoName}, every 5 s, keyframe`, input: async () => echo, every: 5, mode: 'keyframe', maxSide: 448 },
  { name: 'VP9 clip (44.7 s), every 1 s, exact', input: media.vp9, every: 1, mode: 'exact', maxSide: 448 },
  { name: 'HEVC clip (44.7 s), every 1 s, exact', input: media.hevc, every: 1, mode: 'exact', maxSide: 448 },
  { name: 'HEVC clip, IDR keyframes (44.7 s), every 5 s, keyframe', input: media.hevcIdr, every: 5, mode: 'keyframe', maxSide: 448 },
  { name: 'HEVC clip, IDR keyframes (44.7 s), every 5 s, exact', input: media.hevcIdr, every: 5, mode: 'exact', maxSide: 448 },
  { name: '10 min 320x240 H.264, keyframes every 10.4 s, every 5 s, keyframe', input: media.gop10, every: 5, mode: 'keyframe', maxSide: 768 },
  { name: '10 min VP8 480x270, keyframes every 0.4 s, every 5 s, keyframe', input: media.denseVp8, every: 5, mode: 'keyframe', maxSide: 448 },
];

const results = [];
for (const c of cases.filter((c) => !only.length || only.some((o) => c.name.includes(o)))) {
  const input = await c.input();
  const o = await ours(input, c.every, c.mode, c.maxSide);
  const r = { case: c.name, omniprep: { ...row(o), decodePaths: o.decodePaths }, recipe: row(await recipe(input, c.every, c.maxSide), o) };
  if (hasPeers) {
    r.opencvLoop = row(await peer('opencv', input, c.every, c.maxSide), o);
    r.pyavSeek = row(await peer('pyav', input, c.every, c.maxSide), o);
  }
  results.push(r);
  console.log(JSON.stringify(r));
}

if ((!only.length || only.some((o) => 'many clips'.includes(o)))) {
  const clips = await media.clips();
  // One clip at a time, then two at a time (a media app's worker on 2 cores), for both.
  for (const atOnce of [1, 2]) {
    const lib = await measure('node', [join(ROOT, 'bench/many-clips.mjs'), '1', 'keyframe', '--at-once', String(atOnce), ...clips]);
    const t0 = performance.now();
    let peak = 0;
    let peakRss = 0;
    let next = 0;
    const lane = async () => {
      while (next < clips.length) {
        const one = await recipe(clips[next++], 1, 448);
        peak = Math.max(peak, one.peakMB);
        peakRss = Math.max(peakRss, one.peakRssSumMB);
      }
    };
    await Promise.all(Array.from({ length: atOnce }, lane));
    const spawned = { seconds: (performance.now() - t0) / 1000, peakMB: peak, peakRssSumMB: peakRss, frames: undefined };
    const r = {
      case: `100 clips of 4 s, a frame a second, ${atOnce} at a time: sample() in one process vs the recipe spawned per clip`,
      omniprep: { ...row(lib), frames: JSON.parse(lib.stdout).frames },
      recipe: row(spawned, lib),
    };
    results.push(r);
    console.log(JSON.stringify(r));
  }
}
console.log(
  JSON.stringify({ benchmark: 'everyday', machine: machine(), ffmpeg, note: "omniprepSpeedup = that recipe's seconds / omniprep's seconds", results }, null, 2),
);
