/**
 * Benchmark: remote MP4 by byte ranges against the full download, and the moov index against the
 * ffprobe packet pass.
 *
 *   npm run build && npx tsx bench/remote.ts [--runs N]
 *
 * Media (made once by bench/lib.mjs's benchMedia, plus a 10-minute cut of its hour): an hour of
 * 720p H.264 (keyframes every 2 s, AAC audio, moov at the end) and its first 10 minutes (stream
 * copy). Both are served by the range test server (test/helpers/range-server.ts) on 127.0.0.1.
 *
 *   ranges        omniprep sample http://.../ten.mp4 --every 10 (keyframe mode): fetches the first
 *                 block, moov and the kept keyframes;
 *   download      the SSRF-safe downloader fetches the whole file, then omniprep samples it locally;
 *   plan hour     omniprep plan http://.../hour.mp4: bytes fetched against the file's size;
 *   moov index    the packet index of the local hour from moov (src/probe/mp4.ts) against the
 *                 ffprobe pass over every packet (src/probe/keyframes.ts, indexSource 'ffprobe').
 *
 * Each recipe runs in its own child process, so wall time and peak memory (PSS of the process tree,
 * sampled by bench/lib.mjs) are its own; both sampling recipes must write byte-identical frames.
 * Prints one JSON document on stdout.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface Lib {
  ROOT: string;
  MEDIA_DIR: string;
  tools(): Promise<{ ffmpeg: string; ffprobe: string }>;
  benchMedia(): Promise<{ hour720: string }>;
  machine(): string;
  measure(command: string, args: string[]): Promise<{ seconds: number; peakMB: number; stdout: string; stderr: string }>;
}
const libPath = './lib.mjs';
const { benchMedia, machine, measure, MEDIA_DIR, ROOT, tools } = (await import(libPath)) as Lib;

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 1;
const recipe = process.argv[2];

type Mod<T> = Promise<T>;
const dist = <T>(p: string): Mod<T> => import(join(ROOT, 'dist', p)) as Mod<T>;

// --- child side: one recipe, one JSON line ---------------------------------------------------
if (recipe && recipe.startsWith('--') === false) {
  const [url, out] = [process.argv[3]!, process.argv[4]!];
  const allowAddress = (a: string): boolean => a === '127.0.0.1';
  const t0 = performance.now();
  let result: Record<string, unknown> = {};
  if (recipe === 'ranges') {
    const { sample } = await dist<typeof import('../src/sample/sample.js')>('src/sample/sample.js');
    const m = await sample(url, { every: 10, out, remote: { allowAddress } }).manifest();
    result = { frames: m.frames.length, remote: m.remote, decodePaths: m.timings.decodePaths };
  } else if (recipe === 'download') {
    const { download } = await dist<typeof import('../src/source/download.js')>('src/source/download.js');
    const { sample } = await dist<typeof import('../src/sample/sample.js')>('src/sample/sample.js');
    const file = join(out, '..', 'download.mp4');
    const d = await download(url, file, { allowAddress, maxBytes: 4 * 1024 ** 3, timeoutMs: 600_000 });
    const m = await sample(file, { every: 10, out }).manifest();
    rmSync(file, { force: true });
    result = { frames: m.frames.length, bytesFetched: d.bytes, decodePaths: m.timings.decodePaths };
  } else if (recipe === 'plan') {
    const { plan } = await dist<typeof import('../src/plan/plan.js')>('src/plan/plan.js');
    const p = await plan(url, { every: 10, remote: { allowAddress } });
    result = { frames: p.frames.length, remote: p.remote };
  } else if (recipe === 'index') {
    // Both index recipes in one process, alternating, best of 5 each (same warm file cache).
    const { probe } = await dist<typeof import('../src/probe/probe.js')>('src/probe/probe.js');
    const { packetIndex } = await dist<typeof import('../src/probe/keyframes.js')>('src/probe/keyframes.js');
    const info = await probe(url);
    const best = { moov: Infinity, ffprobe: Infinity };
    for (let i = 0; i < 5; i++) {
      for (const source of ['auto', 'ffprobe'] as const) {
        const t1 = performance.now();
        // A new mtime key each time: packetIndex caches per file.
        await packetIndex({ ...info, mtimeMs: info.mtimeMs + i + 1 }, { indexSource: source });
        const k = source === 'auto' ? 'moov' : 'ffprobe';
        best[k] = Math.min(best[k], (performance.now() - t1) / 1000);
      }
    }
    result = { moovSeconds: +best.moov.toFixed(3), ffprobeSeconds: +best.ffprobe.toFixed(3) };
  } else if (recipe === 'moov' || recipe === 'ffprobe') {
    const { probe } = await dist<typeof import('../src/probe/probe.js')>('src/probe/probe.js');
    const { packetIndex } = await dist<typeof import('../src/probe/keyframes.js')>('src/probe/keyframes.js');
    const info = await probe(url);
    const t1 = performance.now();
    const idx = await packetIndex(info, { indexSource: recipe === 'moov' ? 'auto' : 'ffprobe' });
    result = { packets: idx.times.length, keyframes: idx.keyframe.filter(Boolean).length, indexSeconds: +((performance.now() - t1) / 1000).toFixed(3) };
  }
  console.log(JSON.stringify({ ...result, seconds: +((performance.now() - t0) / 1000).toFixed(3) }));
  process.exit(0);
}

// --- parent side -----------------------------------------------------------------------------
const { ffmpeg } = await tools();
const media = await benchMedia();
const ten = join(MEDIA_DIR, 'ten720.mp4');
if (!existsSync(ten)) {
  process.stderr.write(`making ${ten}\n`);
  await measure(ffmpeg, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', media.hour720, '-c', 'copy', '-t', '600', `${ten}.tmp.mp4`]);
  renameSync(`${ten}.tmp.mp4`, ten);
}
const { startRangeServer } = await import('../test/helpers/range-server.js');
const server = await startRangeServer({ 'ten.mp4': ten, 'hour.mp4': media.hour720 });
const { makeTempDir } = await dist<typeof import('../src/util/temp.js')>('src/util/temp.js');

interface Run {
  seconds: number;
  peakMB: number;
  result: Record<string, unknown>;
  requests: number;
  bytesSent: number;
}

async function child(name: string, arg: string, out = ''): Promise<Run> {
  server.reset();
  const r = await measure('npx', ['tsx', join(ROOT, 'bench', 'remote.ts'), name, arg, out]);
  const line = r.stdout.trim().split('\n').pop()!;
  return {
    seconds: +r.seconds.toFixed(3),
    peakMB: r.peakMB,
    result: JSON.parse(line) as Record<string, unknown>,
    requests: server.requests,
    bytesSent: server.bytesSent,
  };
}

const tenBytes = statSync(ten).size;
const hourBytes = statSync(media.hour720).size;
const best = <T extends { seconds: number }>(xs: T[]): T => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const rangesRuns: Run[] = [];
const downloadRuns: Run[] = [];
let identical = true;
for (let i = 0; i < runs; i++) {
  const a = makeTempDir('bench-remote-a-');
  const b = makeTempDir('bench-remote-b-');
  try {
    // Side by side in the same run, alternating which goes first.
    const order = i % 2 ? ['download', 'ranges'] : ['ranges', 'download'];
    for (const name of order) {
      const r = await child(name, server.url('ten.mp4'), join(name === 'ranges' ? a.path : b.path, 'frames'));
      (name === 'ranges' ? rangesRuns : downloadRuns).push(r);
    }
    const fa = readdirSync(join(a.path, 'frames'))
      .filter((f) => f.startsWith('frame-'))
      .sort();
    const fb = readdirSync(join(b.path, 'frames'))
      .filter((f) => f.startsWith('frame-'))
      .sort();
    identical &&=
      fa.length === fb.length &&
      fa.length > 0 &&
      fa.every((f, k) => f === fb[k] && readFileSync(join(a.path, 'frames', f)).equals(readFileSync(join(b.path, 'frames', fb[k]!))));
  } finally {
    a.remove();
    b.remove();
  }
}
const planHour = await child('plan', server.url('hour.mp4'));
const moovRuns: Run[] = [];
const ffprobeRuns: Run[] = [];
for (let i = 0; i < runs; i++) {
  moovRuns.push(await child('moov', media.hour720));
  ffprobeRuns.push(await child('ffprobe', media.hour720));
}
const indexBoth = await child('index', media.hour720);
await server.close();

const r = best(rangesRuns);
const d = best(downloadRuns);
const m = best(moovRuns);
const f = best(ffprobeRuns);
const indexSeconds = (x: typeof m): number => x.result.indexSeconds as number;
console.log(
  JSON.stringify(
    {
      benchmark: 'remote MP4 by byte ranges',
      machine: machine(),
      runs,
      input: `10 min 720p H.264 (keyframes every 2 s, AAC, moov last), ${tenBytes} bytes; keyframe mode, a frame every 10 s`,
      ranges: {
        seconds: r.seconds,
        peakMB: r.peakMB,
        bytesFetched: r.bytesSent,
        requests: r.requests,
        fractionOfFile: +(r.bytesSent / tenBytes).toFixed(4),
        frames: r.result.frames,
        decodePaths: r.result.decodePaths,
      },
      download: { seconds: d.seconds, peakMB: d.peakMB, bytesFetched: d.bytesSent, requests: d.requests, frames: d.result.frames },
      bytesRatio: +(d.bytesSent / r.bytesSent).toFixed(2),
      wallRatio: +(d.seconds / r.seconds).toFixed(2),
      framesIdentical: identical,
      planHour: {
        input: `1 h 720p, ${hourBytes} bytes`,
        seconds: planHour.seconds,
        bytesFetched: planHour.bytesSent,
        requests: planHour.requests,
        fractionOfFile: +(planHour.bytesSent / hourBytes).toFixed(5),
      },
      packetIndexHour: {
        moovSeconds: indexBoth.result.moovSeconds,
        ffprobeSeconds: indexBoth.result.ffprobeSeconds,
        ratio: +((indexBoth.result.ffprobeSeconds as number) / (indexBoth.result.moovSeconds as number)).toFixed(1),
        separateRuns: { moovSeconds: indexSeconds(m), ffprobeSeconds: indexSeconds(f) },
        moovPeakMB: m.peakMB,
        ffprobePeakMB: f.peakMB,
        packets: m.result.packets,
        samePacketCount: m.result.packets === f.result.packets,
      },
      loadAverage: (await import('node:os')).loadavg().map((x) => +x.toFixed(1)),
      note: 'wall seconds include each child process start (tsx); loopback HTTP, so the byte counts matter more than the times; best of runs; the index times are best of 5 alternating in one process',
    },
    null,
    2,
  ),
);
