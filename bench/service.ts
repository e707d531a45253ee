/**
 * Benchmark of the service: `POST /v1/plan` under load (autocannon), and jobs per minute for
 * one-minute clips, and --short (50) four-second clips as jobs against the same clips through
 * sample() one after another in one process (issue 11: within 2x).
 *
 *   npm run build && npx tsx bench/service.ts [--duration S] [--connections N] [--jobs N] [--workers N]
 *
 * The server is the built CLI (`node dist/src/cli/main.js serve`), on 127.0.0.1, with a fresh
 * --data directory. The clip is made once, by the runner, as .cache/bench/echo-minute.webm:
 * ../shared/media/echo-hereweare.webm looped and cut at 60 s, stream-copied (VP8 480x270 +
 * Vorbis). The plan load posts `{ path, options: { every: 5 } }` (probe cached by file identity:
 * this measures the API and the planner, not ffprobe). The job load submits --jobs jobs at once
 * for the same clip, each with its own sampling (every 5 s plus a few ms, so no two jobs are the
 * same work) and the audio cut into chunks (`audio: true`), and measures from the first submit to
 * the last job's end. The re-plan case (bench/replan.ts; alone with --replan) uploads a ~100 MB
 * file once and re-plans it by id after option changes, against the multipart POST /v1/plan that
 * sends the file every time. Prints JSON on stdout.
 *
 * Measured on 2 cores (AMD EPYC, Node 20, the 2018 static ffmpeg from @ffmpeg-installer), load
 * average about 2 from other work, defaults (10 connections for 10 s; 20 jobs, 2 workers):
 *
 *   POST /v1/plan   2,611 requests/s; latency p50 3 ms, p90 5 ms, p99 10 ms, max 30 ms; 0 errors
 *   jobs            20 one-minute clips (13 frames + 60 s of audio each) in 10.0 s: 119.5 jobs/min
 *                   (about 2 minutes of media prepared per second; 1.0 s per job, 2 at a time)
 *
 * Re-plan (--replan; a 107 MB MP4, five option changes, load average about 12 from other work):
 *   by upload id    206 bytes sent per re-plan, 67 ms median (max 119 ms); the first plan 301 ms
 *   multipart       107,343,014 bytes sent per re-plan, 1058 ms median (max 1562 ms)
 *   (the same plans both ways; the upload itself, once: 1.75 s)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { resolveBinary, binaryVersion } from '../src/ffmpeg/binaries.js';
import { runProcess } from '../src/ffmpeg/runner.js';
import { replanBench } from './replan.js';

interface CannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  non2xx: number;
  errors: number;
}
// autocannon ships no types: its programmatic API, as far as this benchmark uses it.
const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<CannonResult>;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = join(ROOT, '..', 'shared', 'media', 'echo-hereweare.webm');
const CLIP = join(ROOT, '.cache', 'bench', 'echo-minute.webm');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const DURATION = arg('duration', 10);
const CONNECTIONS = arg('connections', 10);
const JOBS = arg('jobs', 20);
const WORKERS = arg('workers', 2);
const SHORT = arg('short', 50);
const REPLAN_ONLY = process.argv.includes('--replan');
const log = (s: string): void => void process.stderr.write(`${s}\n`);

/**
 * Makes `out` once with a stream copy of `input` (`before`: input options such as -stream_loop or
 * -ss, outside what the FfmpegArgs builder offers; the input is a known local file).
 */
async function copyOnce(input: string, out: string, before: string[], seconds: number): Promise<string> {
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.webm`;
  await runProcess({
    command: resolveBinary('ffmpeg').path,
    input,
    timeoutMs: 120_000,
    args: [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-protocol_whitelist',
      'file',
      ...before,
      '-i',
      `file:${input}`,
      '-t',
      String(seconds),
      '-c',
      'copy',
      `file:${tmp}`,
    ],
  });
  renameSync(tmp, out);
  return out;
}

const makeClip = (): Promise<string> => copyOnce(SHARED, CLIP, ['-stream_loop', '2'], 60);

/** --short clips of 4 s cut from the minute (stream copy; VP8 has a keyframe every 0.4 s), made once. */
async function makeShortClips(n: number): Promise<string[]> {
  const clips: string[] = [];
  for (let i = 0; i < n; i++) {
    const out = join(dirname(CLIP), 'short', `clip-${String(i).padStart(3, '0')}.webm`);
    clips.push(await copyOnce(CLIP, out, ['-ss', String((i * 1.1) % 55)], 4));
  }
  return clips;
}

/** Submits `bodies` at once and waits for every job to end; the jobs as they ended. */
async function runJobs(
  url: string,
  bodies: unknown[],
): Promise<Array<{ state: string; error: unknown; startedAt: string; finishedAt: string; result?: { frames: number; audioChunks: number } }>> {
  const ids: string[] = [];
  for (const b of bodies) ids.push((await post(`${url}/v1/jobs`, b)).id);
  const done: Awaited<ReturnType<typeof runJobs>> = [];
  for (const id of ids) {
    for (;;) {
      const j = (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as (typeof done)[number];
      if (['succeeded', 'failed', 'cancelled'].includes(j.state)) {
        done.push(j);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return done;
}

async function startServer(data: string, root: string): Promise<{ url: string; stop: () => Promise<void> }> {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first (the benchmark runs the built CLI)');
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--data', data, '--allow-root', root, '--workers', String(WORKERS), '--queue-limit', '100000'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`the server exited (${code}): ${out}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function main(): Promise<void> {
  const clip = await makeClip();
  const data = mkdtempSync(join(ROOT, '.cache', 'bench', 'svc-data-'));
  const ffmpeg = resolveBinary('ffmpeg');
  const loadBefore = loadavg();
  const server = await startServer(data, dirname(clip));
  try {
    const replan = await replanBench(server.url, dirname(CLIP), log);
    log(`replan: ${JSON.stringify(replan)}`);
    if (REPLAN_ONLY) {
      process.stdout.write(
        `${JSON.stringify({ replan, machine: { cores: availableParallelism(), loadAverageBefore: loadBefore, loadAverageAfter: loadavg() } }, null, 2)}\n`,
      );
      return;
    }
    // Plans: warm the probe cache once, then load.
    const planBody = { path: clip, options: { every: 5 } };
    const first = await post(`${server.url}/v1/plan`, planBody);
    log(`plan: ${first.frames.length} frames, ${first.inputTokens} tokens, $${first.costUsd}; autocannon ${CONNECTIONS} connections for ${DURATION} s`);
    const ac = await autocannon({
      url: `${server.url}/v1/plan`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(planBody),
      connections: CONNECTIONS,
      duration: DURATION,
    });
    const plan = {
      connections: CONNECTIONS,
      durationSec: DURATION,
      requests: ac.requests.total,
      requestsPerSec: ac.requests.average,
      latencyMs: { p50: ac.latency.p50, p90: ac.latency.p90, p99: ac.latency.p99, max: ac.latency.max, mean: ac.latency.average },
      non2xx: ac.non2xx,
      errors: ac.errors,
    };
    log(`plan: ${plan.requestsPerSec} req/s, p50 ${plan.latencyMs.p50} ms, p99 ${plan.latencyMs.p99} ms`);

    // Jobs: --jobs one-minute clips at once, frames every ~5 s and the audio in chunks.
    const started = performance.now();
    const done = await runJobs(
      server.url,
      Array.from({ length: JOBS }, (_, i) => ({ path: clip, options: { every: 5 + i / 1000, audio: true } })),
    );
    const wallSec = (performance.now() - started) / 1000;
    const failed = done.filter((j) => j.state !== 'succeeded');
    const jobs = {
      jobs: JOBS,
      clipSec: 60,
      workers: WORKERS,
      wallSec: Math.round(wallSec * 100) / 100,
      jobsPerMinute: Math.round((JOBS / wallSec) * 60 * 10) / 10,
      mediaMinutesPerMinute: Math.round((JOBS / wallSec) * 60 * 10) / 10,
      framesPerJob: done[0]?.result?.frames,
      audioChunksPerJob: done[0]?.result?.audioChunks,
      meanJobSec: Math.round((done.reduce((a, j) => a + (Date.parse(j.finishedAt) - Date.parse(j.startedAt)), 0) / done.length / 1000) * 100) / 100,
      failed: failed.map((j) => j.error),
    };
    log(`jobs: ${jobs.jobs} one-minute clips in ${jobs.wallSec} s: ${jobs.jobsPerMinute} jobs/min`);

    // Short jobs (issue 11): --short clips of 4 s, a frame a second (keyframe mode, 768 px), as
    // service jobs, against the same clips through sample() one after another in one process.
    const clips = await makeShortClips(SHORT);
    const lib0 = performance.now();
    const lib = await runProcess({
      command: process.execPath,
      input: 'bench/many-clips.mjs',
      timeoutMs: 600_000,
      args: [join(ROOT, 'bench', 'many-clips.mjs'), '1', 'keyframe', ...clips],
    });
    const libSec = (performance.now() - lib0) / 1000;
    const svc0 = performance.now();
    const shortDone = await runJobs(
      server.url,
      clips.map((path) => ({ path, options: { every: 1, mode: 'keyframe', maxSide: 768 } })),
    );
    const svcSec = (performance.now() - svc0) / 1000;
    const short = {
      clips: SHORT,
      clipSec: 4,
      serviceSec: Math.round(svcSec * 100) / 100,
      libraryOneProcessSec: Math.round(libSec * 100) / 100,
      serviceOverLibrary: Math.round((svcSec / libSec) * 100) / 100,
      framesService: shortDone.reduce((a, j) => a + (j.result?.frames ?? 0), 0),
      framesLibrary: JSON.parse(lib.stdout.toString()).frames,
      failed: shortDone.filter((j) => j.state !== 'succeeded').map((j) => j.error),
    };
    log(`short jobs: ${SHORT} clips of 4 s in ${short.serviceSec} s as jobs, ${short.libraryOneProcessSec} s through sample(): ${short.serviceOverLibrary}x`);
    const version = await binaryVersion(ffmpeg);
    process.stdout.write(
      `${JSON.stringify(
        {
          plan,
          jobs,
          short,
          replan,
          machine: {
            cores: availableParallelism(),
            cpu: cpus()[0]?.model ?? 'unknown',
            node: process.versions.node,
            ffmpeg: `${version.version} (${ffmpeg.source})`,
            loadAverageBefore: loadBefore,
            loadAverageAfter: loadavg(),
          },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await server.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

await main();
