/**
 * Upload to frames through the S3 store against the local data directory (issue 22: the store
 * costs at most 1.3x). The benchmarks' 10-minute 720p MP4 (bench/lib.mjs: a keyframe every 2 s),
 * uploaded as multipart to an in-process service with one worker, keyframe mode every 5 s;
 * measured from the first byte sent to the job's end, best of --runs (default 1) each, the job
 * deleted after each run. With --store the upload streams to the bucket and the worker reads the
 * MP4 by ranged GETs through a presigned URL; the report says what share of the file it fetched.
 *
 *   scripts/s3-server.sh start; npx tsx bench/store.ts [--runs N]
 *
 * Needs the S3 server of the tests (scripts/s3-server.sh: its endpoint and keys are the defaults).
 *
 * Measured on 2 cores (AMD EPYC, Node 20, load average about 9 from other work; the 129 MB clip,
 * Ceph RGW on memstore on the same machine), best of 2:
 *
 *   local   4.40 s (upload and plan 2.73 s), 121 frames
 *   store   6.46 s (upload and plan 2.63 s; the job read 2.2% of the file in 123 ranged GETs)
 *   ratio   1.47 (a 75 MB 1-Mbit/s clip: 1.36 to 1.94 over five runs): over the issue's 1.3.
 *           Uploading and planning cost the same; the gap is the job's ranged reads, one GET per
 *           kept keyframe, 4 in flight at once (the range reader's concurrency then).
 *
 * With the range reader's concurrency at 8 (src/source/range.ts), load average 8-11, one run each:
 * the job's 120 keyframe GETs took 1.76 s at 4 in flight, 0.75 s at 8; the ratio went from 1.83
 * (local 7.83 s, store 14.29 s, before) to 1.41 (local 5.26 s, store 7.43 s; upload and plan 3.25
 * against 4.21 s) and 0.93 in a second run (local 6.88 s, store 6.43 s). On this shared machine a
 * single run's ratio moves by more than the change: take the best of --runs 3 or more.
 *
 * Best of --runs 3, load average 12-14: local 10.18 s, store 14.84 s, 1.46; then with a job's
 * frames put as one PutObject each, 8 at once (they streamed through lib-storage, 4 at once:
 * 121 frames of 90 KB to Ceph RGW in 0.85-1.04 s instead of 1.17-1.41 s): local 5.77 s, store
 * 8.12 s (upload and plan 3.21 against 3.84 s), 1.41. Still over 1.3: the job's own time is
 * about 2.5x (4.9 against 1.9 s), its 123 ranged GETs and 122 PUTs on a machine this busy.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService } from '../src/service/service.js';
import { S3_ENV, tempBucket } from '../test/helpers/s3.js';

const i = process.argv.indexOf('--runs');
const RUNS = i >= 0 ? Number(process.argv[i + 1]) : 1;

/** The benchmarks' 10-minute 720p H.264 (bench/lib.mjs, made once: keyframes every 2 s, AAC). */
async function makeClip(): Promise<string> {
  const libPath = './lib.mjs';
  const lib = (await import(libPath)) as { benchMedia(): Promise<{ tenMin720: string }> };
  return (await lib.benchMedia()).tenMin720;
}

/** Seconds from the upload's first byte to the job's end, and what the job's result says it read. */
async function uploadToFrames(
  store: string | undefined,
  clip: string,
): Promise<{ sec: number; submitSec: number; frames: number; fetched: number | null; requests: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'omniprep-bench-store-'));
  const svc = await createService({ dataDir, port: 0, workers: 1, ...(store ? { store } : {}) });
  try {
    const url = await svc.listen();
    const form = new FormData();
    form.append('options', JSON.stringify({ every: 5, mode: 'keyframe' }));
    form.append('file', new Blob([readFileSync(clip)]), 'clip.mp4');
    const t0 = performance.now();
    const r = (await (await fetch(`${url}/v1/jobs`, { method: 'POST', body: form })).json()) as { id: string };
    const submitted = (performance.now() - t0) / 1000;
    for (;;) {
      const j = (await (await fetch(`${url}/v1/jobs/${r.id}`)).json()) as {
        state: string;
        error: unknown;
        result?: { frames: number; remote?: { fraction: number; requests: number } };
      };
      if (j.state === 'succeeded') {
        const sec = (performance.now() - t0) / 1000;
        await fetch(`${url}/v1/jobs/${r.id}`, { method: 'DELETE' });
        return { sec, submitSec: submitted, frames: j.result!.frames, fetched: j.result!.remote?.fraction ?? null, requests: j.result!.remote?.requests ?? 0 };
      }
      if (j.state === 'failed' || j.state === 'cancelled') throw new Error(`job ${r.id}: ${j.state} ${JSON.stringify(j.error)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    await svc.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;
const clip = await makeClip();
Object.assign(process.env, S3_ENV, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
const bucket = await tempBucket();
try {
  const best = async (store: string | undefined) => {
    const runs = [];
    for (let n = 0; n < RUNS; n++) runs.push(await uploadToFrames(store, clip));
    return runs.sort((a, b) => a.sec - b.sec)[0]!;
  };
  const local = await best(undefined);
  const s3 = await best(`s3://${bucket.name}/bench`);
  console.log(
    JSON.stringify(
      {
        clip: { path: clip, bytes: statSync(clip).size, seconds: 600, size: '1280x720' },
        local: { seconds: round(local.sec), uploadAndPlan: round(local.submitSec), frames: local.frames },
        store: { seconds: round(s3.sec), uploadAndPlan: round(s3.submitSec), frames: s3.frames, fractionFetched: s3.fetched, rangedRequests: s3.requests },
        ratio: Math.round((s3.sec / local.sec) * 100) / 100,
        machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg().map((l) => Math.round(l * 100) / 100), node: process.version },
      },
      null,
      2,
    ),
  );
} finally {
  await bucket.drop();
}
