/**
 * A dataset of tiny clips for the many-input tests: three clips made once with ffmpeg (64x48,
 * 1 s, 10 fps: H.264 MP4 with a tone, H.264 MP4 without audio, VP8 WebM), cached under
 * .cache/fixtures, copied under many names into a directory tree, plus one broken file.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { CACHE } from './fixtures.js';

const SOURCE = ['-f', 'lavfi', '-i', 'testsrc=s=64x48:r=10:d=1'];
const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '5'];
const CLIPS = {
  'tone.mp4': [...SOURCE, '-f', 'lavfi', '-i', 'sine=f=440:d=1', '-shortest', ...H264, '-c:a', 'aac'],
  'mute.mp4': [...SOURCE, ...H264],
  'vp8.webm': [...SOURCE, '-c:v', 'libvpx', '-deadline', 'realtime', '-g', '5', '-b:v', '200k'],
} as const;
export type ClipName = keyof typeof CLIPS;
export const CLIP_NAMES = Object.keys(CLIPS) as ClipName[];

let made: Promise<Record<ClipName, string>> | undefined;

/** The three source clips (made on first use). */
export function sourceClips(): Promise<Record<ClipName, string>> {
  made ??= (async () => {
    const dir = join(CACHE, 'many-clips-v1');
    mkdirSync(dir, { recursive: true });
    const ffmpeg = resolveBinary('ffmpeg').path;
    const out = {} as Record<ClipName, string>;
    for (const name of CLIP_NAMES) {
      const path = join(dir, name);
      if (!existsSync(path)) {
        const tmp = join(dir, `.${process.pid}.${name}`);
        await runProcess({ command: ffmpeg, args: ['-nostdin', '-loglevel', 'error', '-y', ...CLIPS[name], tmp], input: `clip ${name}`, timeoutMs: 120_000 });
        renameSync(tmp, path);
      }
      out[name] = path;
    }
    return out;
  })();
  return made;
}

export interface ClipTree {
  dir: string;
  /** Each copied clip's path below `dir`, and the source it is a copy of. */
  clips: Array<{ below: string; source: ClipName }>;
  /** The broken file's path below `dir`. */
  broken: string;
}

/**
 * `count` copies of the clips in `dir`, in turn tone.mp4, mute.mp4, vp8.webm: even ones at the
 * top, odd ones in `sub/`, named `clip-NN.mp4|webm` with NN = i / 2 (so `clip-00.mp4` and
 * `sub/clip-00.mp4` share a file name), plus `sub/broken.mp4` (bytes that are no container) and
 * a `notes.txt` that is not media.
 */
export async function clipTree(dir: string, count: number): Promise<ClipTree> {
  const src = await sourceClips();
  const clips: ClipTree['clips'] = [];
  for (let i = 0; i < count; i++) {
    const source = CLIP_NAMES[i % 3]!;
    const ext = source.endsWith('.webm') ? 'webm' : 'mp4';
    const name = `clip-${String(Math.floor(i / 2)).padStart(2, '0')}.${ext}`;
    const below = i % 2 ? join('sub', name) : name;
    mkdirSync(dirname(join(dir, below)), { recursive: true });
    copyFileSync(src[source], join(dir, below));
    clips.push({ below, source });
  }
  const broken = join('sub', 'broken.mp4');
  rmSync(join(dir, broken), { force: true });
  writeFileSync(join(dir, broken), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
  writeFileSync(join(dir, 'notes.txt'), 'not media\n');
  return { dir, clips, broken };
}
