/**
 * Test media made at test time with ffmpeg's lavfi sources, cached under .cache/fixtures and
 * reused (the cache key is the recipe and the ffmpeg version). Every video frame carries its own
 * frame number as 16 black/white bars across the top quarter (Gray code, most significant bit
 * left, so one bar changes from frame to frame and scene detection barely notices), which survives
 * resizing and JPEG: `readFrameNumber()` tells which frame an image really is.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { binaryVersion, resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = join(ROOT, '.cache', 'fixtures');
export const SHARED_MEDIA = join(ROOT, '..', 'shared', 'media');

const BITS = 16;

/** geq luma for the frame-number strip (rows 0-1 of an 8-row grid) over a body level. */
export function pattern(body: string): string {
  // Gray code bit k = bit k of N xor bit k+1 of N
  const bit = `255*mod(floor(N/pow(2\\,${BITS - 1}-floor(X)))+floor(N/pow(2\\,${BITS}-floor(X)))\\,2)`;
  return `lum='if(lt(Y\\,2)\\,${bit}\\,${body})'`;
}

export interface Recipe {
  ext: string;
  /** ffmpeg arguments after the global flags; OUT is replaced by the output path. */
  args: string[];
  /** Set rotation metadata in a second, stream-copy pass: degrees counter-clockwise, as ffmpeg stores it. */
  rotateCcw?: number;
}

export function timecodeVideo(o: { seconds: number; fps?: number; size?: string; gop: number; extra?: string[]; audio?: boolean; body?: string }): string[] {
  const fps = o.fps ?? 30;
  const size = o.size ?? '640x360';
  const args = ['-f', 'lavfi', '-i', `nullsrc=s=16x8:r=${fps}:d=${o.seconds},format=gray,geq=${pattern(o.body ?? '128')}`];
  if (o.audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${o.seconds}`);
  args.push(
    '-vf',
    `scale=${size.replace('x', ':')}:flags=neighbor,setsar=1,format=yuv420p`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-threads',
    '2',
    '-g',
    String(o.gop),
    '-keyint_min',
    String(o.gop),
    '-sc_threshold',
    '0',
    '-bf',
    '2',
    ...(o.audio ? ['-c:a', 'aac', '-b:a', '64k', '-shortest'] : []),
    ...(o.extra ?? []),
    'OUT',
  );
  return args;
}

/**
 * The timecode bars in another codec and container: `codec` is the encoder's arguments (its
 * group of pictures included). 320x180 at 30 fps, so every frame's number reads back.
 */
function codecVideo(o: { seconds: number; codec: string[]; fps?: number; source?: string; audio?: string; size?: string }): string[] {
  const fps = o.fps ?? 30;
  return [
    '-f',
    'lavfi',
    '-i',
    o.source ?? `nullsrc=s=16x8:r=${fps}:d=${o.seconds},format=gray,geq=${pattern('128')}`,
    ...(o.audio ? ['-f', 'lavfi', '-i', o.audio] : []),
    '-vf',
    `scale=${o.size ?? '320:180'}:flags=neighbor,setsar=1,format=yuv420p`,
    ...o.codec,
    'OUT',
  ];
}

/** libvpx's VP8 encoder at its fastest. */
const VP8_FAST = ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'];

/** libx265 with a keyframe every 10 s, each an IDR (no open groups of pictures), B-frames. */
const HEVC_CLOSED = ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=300:min-keyint=300:scenecut=0:open-gop=0:bframes=2:log-level=error'];

/** Codec fixtures: name -> seconds and group of pictures (frames), for the tests that walk them. */
export const CODEC_FIXTURES = {
  vp8: { seconds: 6, gop: 30 },
  vp9: { seconds: 6, gop: 30 },
  av1: { seconds: 2, gop: 15 },
  hevc: { seconds: 6, gop: 30 },
  mjpeg: { seconds: 4, gop: 1 },
  mpegts: { seconds: 6, gop: 30 },
  theora: { seconds: 6, gop: 30 },
} as const;

/** Silences of the tone-and-silence fixture, in seconds. */
export const SILENCES: Array<[number, number]> = [
  [4.0, 4.8],
  [9.5, 10.5],
  [15.0, 15.6],
  [21.0, 22.0],
  [26.2, 27.0],
];
export const TONE_SECONDS = 30;

function toneExpr(): string {
  const gate = SILENCES.map(([a, b]) => `between(t\\,${a}\\,${b})`).join('+');
  return `0.5*sin(2*PI*440*t)*(1-(${gate}))`;
}

/** Scene cuts of the scene fixture (seconds). */
export const SCENE_CUTS = [4, 9, 13, 18];
export const SCENE_SECONDS = 24;
const SCENE_LEVELS = [40, 200, 90, 230, 20];

function sceneBody(): string {
  // Luma of the body per scene, switching at the cut frames (30 fps), plus a per-scene gradient.
  let expr = String(SCENE_LEVELS[SCENE_LEVELS.length - 1]);
  for (let i = SCENE_CUTS.length - 1; i >= 0; i--) expr = `if(lt(N\\,${SCENE_CUTS[i]! * 30})\\,${SCENE_LEVELS[i]}\\,${expr})`;
  return expr;
}

/** The lowContrast fixture's cut: black to dark grey 0x202020 (under the timecode bars) at 3 s, frame 90. */
export const LOW_CONTRAST_CUT = 3;
/** The patternCut fixture's cut: two moving test patterns, testsrc then testsrc2, at 3 s (frame 90). */
export const PATTERN_CUT = 3;

/** VFR fixture: frame n's presentation time. 30 fps for 2 s, 10 fps for 3 s, then 30 fps again. */
export function vfrTime(n: number): number {
  if (n < 60) return n / 30;
  if (n < 90) return 2 + (n - 60) / 10;
  return 5 + (n - 90) / 30;
}
export const VFR_FRAMES = 240;
/** The VFR fixtures' source: the timecode bars at vfrTime()'s times. */
const VFR_SOURCE = `nullsrc=s=16x8:r=30:d=${VFR_FRAMES / 30},format=gray,geq=${pattern('128')},setpts='round((if(lt(N\\,60)\\,N/30\\,if(lt(N\\,90)\\,2+(N-60)/10\\,5+(N-90)/30)))/TB)'`;

export const RECIPES = {
  /** 20 s, 640x360, 30 fps, keyframes every 2 s, B-frames, a 440 Hz tone. */
  timecode: { ext: 'mp4', args: timecodeVideo({ seconds: 20, gop: 60, audio: true }) },
  /** 60 s, keyframes every 10 s (screen-recording-like). */
  longgop: { ext: 'mp4', args: timecodeVideo({ seconds: 60, gop: 300 }) },
  /** 24 s with hard cuts at SCENE_CUTS; x264 puts keyframes at cuts only (and every 250 frames). */
  scene: {
    ext: 'mp4',
    args: [
      '-f',
      'lavfi',
      '-i',
      `nullsrc=s=16x8:r=30:d=${SCENE_SECONDS},format=gray,geq=${pattern(sceneBody())}`,
      '-vf',
      'scale=640:360:flags=neighbor,setsar=1,format=yuv420p',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-threads',
      '2',
      '-g',
      '250',
      'OUT',
    ],
  },
  /** 6 s of timecode bars over black, then over dark grey 0x202020 from LOW_CONTRAST_CUT: a cut ffmpeg's scene score misses. */
  lowContrast: { ext: 'mp4', args: timecodeVideo({ seconds: 6, gop: 250, body: `if(lt(N\\,${LOW_CONTRAST_CUT * 30})\\,0\\,32)` }) },
  /** 6 s, 640x360: testsrc (moving) cut to testsrc2 (moving) at PATTERN_CUT. */
  patternCut: {
    ext: 'mp4',
    args: [
      '-f',
      'lavfi',
      '-i',
      `testsrc=s=640x360:r=30:d=${PATTERN_CUT}`,
      '-f',
      'lavfi',
      '-i',
      'testsrc2=s=640x360:r=30:d=3',
      '-filter_complex',
      '[0][1]concat=n=2:v=1,format=yuv420p',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-threads',
      '2',
      '-g',
      '250',
      'OUT',
    ],
  },
  /**
   * 8 s, 640x360, no cut: a fade in from black (0-2 s) on a pan across testsrc2 (60 px/s), which
   * dissolves (2-6 s) into a pan the other way across SMPTE HD bars.
   */
  fadePan: {
    ext: 'mp4',
    args: [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=s=1280x360:r=30:d=8',
      '-f',
      'lavfi',
      '-i',
      'smptehdbars=s=1280x360:r=30:d=8',
      '-filter_complex',
      "[0]crop=640:360:x='t*60':y=0,format=yuv444p[a];[1]crop=640:360:x='560-t*60':y=0,format=yuv444p[b];" +
        "[a][b]blend=all_expr='A*(1-clip((T-2)/4\\,0\\,1))+B*clip((T-2)/4\\,0\\,1)',fade=t=in:st=0:d=2,format=yuv420p",
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-threads',
      '2',
      '-g',
      '250',
      'OUT',
    ],
  },
  /** Variable frame rate: see vfrTime(). */
  vfr: {
    ext: 'mp4',
    args: [
      '-f',
      'lavfi',
      '-i',
      VFR_SOURCE,
      '-vf',
      'scale=320:180:flags=neighbor,setsar=1,format=yuv420p',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-threads',
      '2',
      '-g',
      '30',
      '-bf',
      '0',
      'VSYNC0',
      '-video_track_timescale',
      '90000',
      'OUT',
    ],
  },
  /**
   * Coded 320x180 (the upright picture turned clockwise), tagged to be turned 90 degrees
   * counter-clockwise for display (rotation 270 clockwise): upright it is 180x320 with readable bars.
   */
  rotated: {
    ext: 'mp4',
    args: [
      '-f',
      'lavfi',
      '-i',
      `nullsrc=s=16x8:r=30:d=6,format=gray,geq=${pattern('128')}`,
      '-vf',
      'scale=180:320:flags=neighbor,setsar=1,transpose=1,format=yuv420p',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-threads',
      '2',
      '-g',
      '30',
      'OUT',
    ],
    rotateCcw: 90,
  },
  /** 30 s, slides that change at 10 s and 20 s and are otherwise static (for --dedup). */
  slides: {
    ext: 'mp4',
    args: [
      '-f',
      'lavfi',
      '-i',
      `nullsrc=s=64x36:r=30:d=30,format=gray,geq=lum='if(lt(N\\,300)\\,40+2*X\\,if(lt(N\\,600)\\,220-3*Y\\,mod(X*Y\\,255)))'`,
      '-vf',
      'scale=640:360:flags=neighbor,setsar=1,format=yuv420p',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-threads',
      '2',
      '-g',
      '60',
      'OUT',
    ],
  },
  /** 30 s of 440 Hz tone with silences at SILENCES, 16 kHz mono WAV. */
  tones: { ext: 'wav', args: ['-f', 'lavfi', '-i', `aevalsrc=${toneExpr()}:s=16000:d=${TONE_SECONDS}`, '-c:a', 'pcm_s16le', 'OUT'] },
  /** The same as a video with an AAC track (audio second, like most files). */
  tonesVideo: {
    ext: 'mp4',
    args: [
      '-f',
      'lavfi',
      '-i',
      `nullsrc=s=16x8:r=10:d=${TONE_SECONDS},format=gray,geq=${pattern('128')}`,
      '-f',
      'lavfi',
      '-i',
      `aevalsrc=${toneExpr()}:s=44100:d=${TONE_SECONDS}`,
      '-vf',
      'scale=160:90:flags=neighbor,setsar=1,format=yuv420p',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-g',
      '20',
      '-c:a',
      'aac',
      '-b:a',
      '96k',
      '-shortest',
      'OUT',
    ],
  },
  /** Audio only: 8 s of tone as MP3. */
  audioOnly: { ext: 'mp3', args: ['-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=44100:duration=8', '-c:a', 'libmp3lame', '-b:a', '96k', 'OUT'] },
  /** An 8 s video whose index is written at the end: cut in half, it is a truncated upload. */
  truncatedSource: { ext: 'mp4', args: timecodeVideo({ seconds: 8, gop: 30, audio: true }) },
  /** MP3 with a cover picture (an attached picture, not a video). */
  coverArt: {
    ext: 'mp3',
    args: [
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=550:sample_rate=44100:duration=5',
      '-f',
      'lavfi',
      '-i',
      // One frame from the source itself: `-frames:v 1` ends the whole output at that frame from 7.0 on.
      'color=c=red:s=300x300:d=0.04:r=25',
      '-map',
      '0:a',
      '-map',
      '1:v',
      '-c:a',
      'libmp3lame',
      '-b:a',
      '96k',
      '-c:v',
      'png',
      '-disposition:v',
      'attached_pic',
      '-id3v2_version',
      '3',
      'OUT',
    ],
  },
  /** A video whose first stream is audio (like friday.mp4). */
  audioFirst: {
    ext: 'mp4',
    args: [
      '-f',
      'lavfi',
      '-i',
      `nullsrc=s=16x8:r=25:d=4,format=gray,geq=${pattern('128')}`,
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000:duration=4',
      '-map',
      '1:a',
      '-map',
      '0:v',
      '-vf',
      'scale=320:240:flags=neighbor,setsar=1,format=yuv420p',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-g',
      '25',
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      'OUT',
    ],
  },
  /** VP8 in WebM, a keyframe every second (30 frames): keyframe mode decodes them alone (-skip_frame nokey). */
  vp8: {
    ext: 'webm',
    args: codecVideo({ seconds: 6, codec: [...VP8_FAST, '-b:v', '1M', '-g', '30', '-keyint_min', '30'] }),
  },
  /** VP9 in WebM, a keyframe every second (30 frames). */
  vp9: {
    ext: 'webm',
    args: codecVideo({
      seconds: 6,
      codec: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-crf', '20', '-b:v', '0', '-g', '30', '-keyint_min', '30', '-threads', '2'],
    }),
  },
  /**
   * 60 s of the timecode bars (320x180, 30 fps) in VP9 with an Opus tone, a keyframe every 2 s: a
   * WebM with Cues, long enough to be read in part by byte ranges (its audio blocks come before
   * each cluster's keyframe).
   */
  webmLong: {
    ext: 'webm',
    args: [
      '-f',
      'lavfi',
      '-i',
      `nullsrc=s=16x8:r=30:d=60,format=gray,geq=${pattern('128')}`,
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000:duration=60',
      '-vf',
      'scale=320:180:flags=neighbor,setsar=1,format=yuv420p',
      '-c:v',
      'libvpx-vp9',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-crf',
      '20',
      '-b:v',
      '0',
      '-g',
      '60',
      '-keyint_min',
      '60',
      '-threads',
      '2',
      '-c:a',
      'libopus',
      '-b:a',
      '48k',
      'OUT',
    ],
  },
  /** VP8 with a Vorbis tone in WebM, 4 s, a keyframe every second (as echo-hereweare.webm is made). */
  vorbisWebm: {
    ext: 'webm',
    args: codecVideo({
      seconds: 4,
      audio: 'sine=frequency=440:sample_rate=44100:duration=4',
      codec: [...VP8_FAST, '-b:v', '1M', '-g', '30', '-ac', '2', '-c:a', 'libvorbis'],
    }),
  },
  /** Variable frame rate (vfrTime()) in VP9 WebM: no DefaultDuration holds, the packets' times tell. */
  vfrWebm: {
    ext: 'webm',
    args: codecVideo({
      seconds: VFR_FRAMES / 30,
      source: VFR_SOURCE,
      codec: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-crf', '30', '-b:v', '0', '-g', '30', '-threads', '2', 'VSYNC0'],
    }),
  },
  /** VP8 at 160x90 with a keyframe every 10 frames (a third of a second), 60 s: dense keyframes, sought rather than decoded all. */
  denseVp8: { ext: 'webm', args: codecVideo({ seconds: 60, size: '160:90', codec: [...VP8_FAST, '-b:v', '300k', '-g', '10', '-keyint_min', '10'] }) },
  /** AV1 (libaom) in Matroska, 2 s, a keyframe every 15 frames. */
  av1: {
    ext: 'mkv',
    args: codecVideo({
      seconds: 2,
      codec: ['-c:v', 'libaom-av1', '-strict', 'experimental', '-cpu-used', '8', '-crf', '20', '-b:v', '0', '-g', '15', '-keyint_min', '15', '-threads', '2'],
    }),
  },
  /** HEVC in MP4 (hvc1), a keyframe every second, B-frames. */
  hevc: {
    ext: 'mp4',
    args: codecVideo({
      seconds: 6,
      codec: ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=30:min-keyint=30:scenecut=0:bframes=2:log-level=error', '-tag:v', 'hvc1'],
    }),
  },
  /**
   * HEVC with closed groups of pictures (every keyframe an IDR) every 10 s, B-frames, 60 s: the
   * stream paths' fixture (longgop's HEVC twin, at 320x180). In MP4 (hvc1) and in Matroska.
   */
  hevcLonggop: { ext: 'mp4', args: codecVideo({ seconds: 60, codec: [...HEVC_CLOSED, '-tag:v', 'hvc1'] }) },
  hevcLonggopMkv: { ext: 'mkv', args: codecVideo({ seconds: 60, codec: HEVC_CLOSED }) },
  /** Motion JPEG in AVI: every frame a keyframe. */
  mjpeg: { ext: 'avi', args: codecVideo({ seconds: 4, codec: ['-c:v', 'mjpeg', '-q:v', '3'] }) },
  /** H.264 in MPEG-TS, a keyframe every second, B-frames. */
  mpegts: {
    ext: 'ts',
    args: codecVideo({
      seconds: 6,
      codec: ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '2', '-f', 'mpegts'],
    }),
  },
  /** Theora in Ogg, a keyframe every second (Ogg packets share their page's byte position). */
  theora: { ext: 'ogv', args: codecVideo({ seconds: 6, codec: ['-c:v', 'libtheora', '-q:v', '8', '-g', '30'] }) },
  /** VP8 WebM written as a live stream: no duration in its header (as MediaRecorder writes). */
  liveWebm: {
    ext: 'webm',
    args: codecVideo({
      seconds: 3,
      codec: [...VP8_FAST, '-b:v', '1M', '-g', '30', '-f', 'webm', '-live', '1'],
    }),
  },
  /** H.264 MP4 encrypted with Common Encryption (AES-CTR, a test key). */
  cenc: {
    ext: 'mp4',
    args: codecVideo({
      seconds: 2,
      codec: [
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-g',
        '30',
        '-encryption_scheme',
        'cenc-aes-ctr',
        '-encryption_key',
        '76a6c65c5ea762046bd749a2e632ccbb',
        '-encryption_kid',
        'a7e61c373e219033c21091fa607bf3b8',
      ],
    }),
  },
} satisfies Record<string, Recipe>;

export type FixtureName = keyof typeof RECIPES;

let versionKey: Promise<string> | undefined;
async function ffmpegInfo(): Promise<{ path: string; key: string; modern: boolean }> {
  const bin = resolveBinary('ffmpeg');
  versionKey ??= binaryVersion(bin).then((v) => v.version);
  const v = await binaryVersion(bin);
  return { path: bin.path, key: await versionKey, modern: v.hasFpsMode };
}

function expand(args: string[], out: string, modern: boolean): string[] {
  return args.flatMap((a) => {
    if (a === 'OUT') return [out];
    if (a === 'VSYNC0') return modern ? ['-fps_mode', 'passthrough'] : ['-vsync', '0'];
    return [a];
  });
}

/** Rotation by stream copy: before 6.0 a `rotate` tag (which the mov muxer stores counter-clockwise); since, `-display_rotation`. */
function rotateArgs(src: string, out: string, ccw: number, modern: boolean): string[] {
  return modern ? ['-display_rotation:v:0', String(ccw), '-i', src, '-c', 'copy', out] : ['-i', src, '-c', 'copy', '-metadata:s:v:0', `rotate=${ccw}`, out];
}

const pending = new Map<string, Promise<string>>();

/** The path of a fixture, made on first use and cached. */
export function fixture(name: FixtureName): Promise<string> {
  return cachedMedia(name, RECIPES[name]);
}

/** The path of media made by a recipe, made on first use and cached under `name` and the recipe's hash. */
export function cachedMedia(name: string, recipe: Recipe): Promise<string> {
  const hit = pending.get(`${name}:${JSON.stringify(recipe.args)}`);
  if (hit) return hit;
  const p = (async () => {
    const ff = await ffmpegInfo();
    const hash = createHash('sha256')
      .update(JSON.stringify([recipe.args, ff.key]))
      .digest('hex')
      .slice(0, 12);
    const path = join(CACHE, `${name}-${hash}.${recipe.ext}`);
    if (existsSync(path)) return path;
    mkdirSync(CACHE, { recursive: true });
    const tmp = join(CACHE, `.${name}-${process.pid}-${Date.now()}.${recipe.ext}`);
    try {
      const head = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];
      const encoded = recipe.rotateCcw === undefined ? tmp : `${tmp}.pass1.${recipe.ext}`;
      await runProcess({ command: ff.path, args: [...head, ...expand(recipe.args, encoded, ff.modern)], input: `fixture ${name}`, timeoutMs: 120_000 });
      if (recipe.rotateCcw !== undefined) {
        await runProcess({
          command: ff.path,
          args: [...head, ...rotateArgs(encoded, tmp, recipe.rotateCcw, ff.modern)],
          input: `fixture ${name}`,
          timeoutMs: 60_000,
        });
        rmSync(encoded, { force: true });
      }
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
      rmSync(`${tmp}.pass1.${recipe.ext}`, { force: true });
    }
    return path;
  })();
  pending.set(`${name}:${JSON.stringify(recipe.args)}`, p);
  return p;
}

/** A still PNG (320x240 gradient) and a JPEG with EXIF orientation 6 (shown turned 90 degrees clockwise). */
export async function stillImages(): Promise<{ png: string; jpegRotated: string }> {
  mkdirSync(CACHE, { recursive: true });
  const png = join(CACHE, 'still.png');
  const jpegRotated = join(CACHE, 'still-orient6.jpg');
  if (!existsSync(png) || !existsSync(jpegRotated)) {
    const w = 320;
    const h = 240;
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([x % 256, y % 256, (x + y) % 256], (y * w + x) * 3);
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(`${png}.tmp`);
    renameSync(`${png}.tmp`, png);
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(`${jpegRotated}.tmp`);
    renameSync(`${jpegRotated}.tmp`, jpegRotated);
  }
  return { png, jpegRotated };
}

/**
 * Writes a file only when its bytes differ. Test files run in parallel and share these inputs: a
 * rewrite changes the file's modification time, and a browser that has the file selected then
 * fails its upload (Chromium's ERR_UPLOAD_FILE_CHANGED, which the page sees as a network error).
 */
function writeIfChanged(path: string, data: string | Buffer): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  if (existsSync(path) && readFileSync(path).equals(bytes)) return;
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/** Broken inputs: every one must be refused with a clear one-line error. */
export async function brokenInputs(): Promise<Record<string, string>> {
  const dir = join(CACHE, 'broken');
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    empty: join(dir, 'empty.mp4'),
    random: join(dir, 'random.mp4'),
    truncated: join(dir, 'truncated.mp4'),
    text: join(dir, 'notes.txt'),
    textAsMp4: join(dir, 'notes.mp4'),
    hls: join(dir, 'playlist.mp4'),
    concat: join(dir, 'concat.mp4'),
  };
  writeIfChanged(files.empty!, '');
  // Deterministic pseudo-random bytes (xorshift), so the test is the same every run.
  const rnd = Buffer.alloc(64 * 1024);
  let x = 0x9e3779b9;
  for (let i = 0; i < rnd.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    rnd[i] = x & 0xff;
  }
  writeIfChanged(files.random!, rnd);
  // Truncated: the first half of an MP4 whose index (moov) is written at the end.
  const source = await fixture('truncatedSource');
  const whole = readFileSync(source);
  writeIfChanged(files.truncated!, whole.subarray(0, Math.floor(whole.length / 2)));
  writeIfChanged(files.text!, 'These are notes, not media.\nSecond line.\n');
  writeIfChanged(files.textAsMp4!, 'These are notes, not media.\n');
  // The playlist points at another local video; it must never be opened.
  writeIfChanged(files.hls!, `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile://${source}\n#EXT-X-ENDLIST\n`);
  writeIfChanged(files.concat!, `ffconcat version 1.0\nfile '${source}'\n`);
  return files;
}

/** A private temp directory for a test's outputs. */
export function tempDir(prefix = 'omniprep-test-'): string {
  mkdirSync(join(ROOT, '.cache', 'tmp'), { recursive: true });
  return mkdtempSync(join(ROOT, '.cache', 'tmp', prefix));
}

/** Reads the frame number from the top-quarter bars of an image (any size, any format sharp reads). */
export async function readFrameNumber(file: string | Buffer): Promise<number> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  const y = Math.floor(info.height / 8);
  let n = 0;
  let prev = 0;
  for (let b = 0; b < BITS; b++) {
    const x = Math.floor(((b + 0.5) * info.width) / BITS);
    const gray = data[(y * info.width + x) * info.channels]! > 127 ? 1 : 0;
    prev ^= gray; // binary bit = previous binary bit xor Gray bit
    n = n * 2 + prev;
  }
  return n;
}

export function sharedMedia(name: string): string | undefined {
  const p = join(SHARED_MEDIA, name);
  return existsSync(p) ? p : undefined;
}
