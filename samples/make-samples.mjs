// Makes the small sample media committed in samples/ (run: npm run samples).
// demo.mp4: 30 s, 640x360 H.264 + AAC; five shots with hard cuts at 6, 12, 18 and 24 s
// (test pattern, colour bars, a fractal, RGB test bands, a gradient), keyframes every 2 s,
// a running clock, and a tone with pauses at 5-6 s, 14-15 s and 22-23 s.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const ffmpeg = process.env.OMNIPREP_FFMPEG ?? require('@ffmpeg-installer/ffmpeg').path;

const shots = [
  'testsrc2=s=640x360:r=30:d=6',
  'smptehdbars=s=640x360:r=30:d=6',
  'mandelbrot=s=640x360:r=30,trim=duration=6',
  'rgbtestsrc=s=640x360:r=30:d=6',
  'gradients=s=640x360:r=30:d=6',
];
const fallbackLast = 'color=c=0x3050a0:s=640x360:r=30:d=6';
const tone = "aevalsrc='0.4*sin(2*PI*330*t)*sin(2*PI*3*t)*(1-between(t,5,6)-between(t,14,15)-between(t,22,23))':s=44100:d=30";

function make(lastShot) {
  const inputs = [...shots.slice(0, 4), lastShot].flatMap((s) => ['-f', 'lavfi', '-i', s]);
  const chain = [0, 1, 2, 3, 4].map((i) => `[${i}:v]setsar=1,format=yuv420p,setpts=PTS-STARTPTS[v${i}]`).join(';');
  const filter = `${chain};[v0][v1][v2][v3][v4]concat=n=5:v=1:a=0[cat];[cat]drawbox=x=0:y=0:w=iw:h=6:color=white@0.6:t=fill[v]`;
  return spawnSync(
    ffmpeg,
    [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      ...inputs,
      '-f',
      'lavfi',
      '-i',
      tone,
      '-filter_complex',
      filter,
      '-map',
      '[v]',
      '-map',
      '5:a',
      '-c:v',
      'libx264',
      '-preset',
      'slow',
      '-crf',
      '38',
      '-g',
      '60',
      '-keyint_min',
      '60',
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-b:a',
      '48k',
      '-movflags',
      '+faststart',
      '-t',
      '30',
      join(here, 'demo.mp4'),
    ],
    { stdio: 'inherit' },
  );
}

let r = make(shots[4]);
if (r.status !== 0) r = make(fallbackLast); // older builds have no `gradients` source
if (r.status !== 0) process.exit(1);
console.log(`wrote ${join(here, 'demo.mp4')}`);
