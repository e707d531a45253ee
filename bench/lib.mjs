// Shared benchmark helpers: run a command, measure wall time and the peak resident memory of its
// whole process tree (sampled from /proc every 100 ms), and make the benchmark media once.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MEDIA_DIR = process.env.OMNIPREP_BENCH_MEDIA ?? join(ROOT, '.cache', 'bench-media');
export const SHARED = join(ROOT, '..', 'shared', 'media');
const _require = createRequire(import.meta.url);

export async function tools() {
  const { resolveBinary } = await import(join(ROOT, 'dist/src/ffmpeg/binaries.js'));
  return { ffmpeg: resolveBinary('ffmpeg').path, ffprobe: resolveBinary('ffprobe').path };
}

function children() {
  const kids = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(e));
    } catch {}
  }
  return kids;
}

function memKb(pid) {
  // RSS counts pages shared between processes (two ffmpeg children share their binary's code) once
  // per process; PSS divides each shared page among the processes that map it, so it adds up.
  let rss = 0;
  let pss = 0;
  try {
    rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {}
  return { rss, pss };
}

function treeKb(root) {
  const kids = children();
  const total = { rss: 0, pss: 0 };
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    const m = memKb(pid);
    total.rss += m.rss;
    total.pss += m.pss;
    for (const k of kids.get(pid) ?? []) stack.push(k);
  }
  return total;
}

/** Runs a command; returns wall seconds and the peak memory of its process tree: PSS (MB, shared pages split) and the plain sum of RSS. */
export function measure(command, args, { env, timeoutMs } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let timedOut = false;
    const limit = timeoutMs ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), timeoutMs) : undefined;
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const peak = { rss: 0, pss: 0 };
    const timer = setInterval(() => {
      const m = treeKb(child.pid);
      peak.rss = Math.max(peak.rss, m.rss);
      peak.pss = Math.max(peak.pss, m.pss);
    }, 100);
    child.on('close', (code) => {
      clearInterval(timer);
      clearTimeout(limit);
      const seconds = (performance.now() - t0) / 1000;
      if (timedOut) reject(new Error(`${command} ${args.join(' ')} did not finish in ${timeoutMs / 1000} s`));
      else if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
      else resolve({ seconds, peakMB: Math.round(peak.pss / 1024), peakRssSumMB: Math.round(peak.rss / 1024), stdout, stderr });
    });
  });
}

export async function run(command, args) {
  const r = await measure(command, args);
  return r;
}

export function machine() {
  return `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 1024 ** 3)} GB, Node ${process.versions.node}`;
}

/** Makes (once) the benchmark media: an hour and 10 min of 720p H.264 with ~2 s keyframes, 10 min of 1080p with 10 s GOPs. */
export async function benchMedia() {
  const { ffmpeg } = await tools();
  mkdirSync(MEDIA_DIR, { recursive: true });
  const src = join(SHARED, 'echo-hereweare.webm');
  if (!existsSync(src)) throw new Error(`benchmark media need ${src}`);
  const out = {
    clip720: join(MEDIA_DIR, 'echo720.mp4'),
    hour720: join(MEDIA_DIR, 'hour720.mp4'),
    tenMin720: join(MEDIA_DIR, 'tenmin720.mp4'),
    clip1080: join(MEDIA_DIR, 'echo1080-gop10.mp4'),
    tenMin1080: join(MEDIA_DIR, 'tenmin1080-gop10.mp4'),
  };
  const make = async (path, args) => {
    if (existsSync(path)) return;
    const tmp = `${path}.tmp.mp4`;
    process.stderr.write(`making ${path}\n`);
    await measure(ffmpeg, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args, tmp]);
    renameSync(tmp, path);
  };
  // keyframes every 2 s exactly (no extra I-frames at the clip's many cuts)
  await make(out.clip720, [
    '-i',
    src,
    '-vf',
    'scale=1280:720',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-g',
    '60',
    '-keyint_min',
    '60',
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
  ]);
  await make(out.hour720, ['-stream_loop', '81', '-i', out.clip720, '-c', 'copy', '-t', '3600']);
  await make(out.tenMin720, ['-stream_loop', '14', '-i', out.clip720, '-c', 'copy', '-t', '600']);
  await make(out.clip1080, [
    '-i',
    src,
    '-vf',
    'scale=1920:1080',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-x264-params',
    'keyint=300:min-keyint=300:scenecut=0',
    '-c:a',
    'aac',
  ]);
  await make(out.tenMin1080, ['-stream_loop', '14', '-i', out.clip1080, '-c', 'copy', '-t', '600']);
  return out;
}

export function sizeMB(path) {
  return Math.round(statSync(path).size / 1024 / 1024);
}
