/**
 * Eval benchmark (issue 21). Run:
 *
 *   npx tsx bench/eval.ts            # add --json for the JSON document alone
 *
 * A grid of 4 plans (exact mode, every 1, 2, 5 and 10 s, 256 px) x 100 questions over 10 coded
 * videos (10-19 s, 10 fps; test/helpers/frame-code.ts) against the OpenAI test server in its own
 * thread with a fixed latency: the wall time of the whole eval (probes, plans, sampling and the 400
 * requests) against the ideal time of its requests at the concurrency (400 / 16 x 500 ms = 12.5 s,
 * target <= 1.1x), ffmpeg starts against one sample() of the finest plan per video (target: equal),
 * and the process's peak RSS. A small eval first warms up the connections, the SDK, the tokenizer
 * and the test server's validator.
 *
 * Then memory over 1,000 questions (100 per video, one plan: every 5 s, 256 px, concurrency 64):
 * the RSS after the first 100 answers and after the last, the most distinct images the eval held
 * at once (`imagesHeldPeak`, target: at most three videos' frames, not all ten) and the peak RSS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { evaluate } from '../src/eval/evaluate.js';
import type { Question } from '../src/eval/questions.js';
import { sample } from '../src/sample/sample.js';
import { codedVideo, needleQuestion } from '../test/helpers/frame-code.js';
import { loggingBinary } from '../test/helpers/ffprobe-log.js';

const VIDEOS = 10;
const PER_VIDEO = 10;
const EVERY = [1, 2, 5, 10];
const CONCURRENCY = 16;
const LATENCY_MS = 500;
const REQUESTS = VIDEOS * PER_VIDEO * EVERY.length;
const IDEAL_MS = (REQUESTS / CONCURRENCY) * LATENCY_MS;

async function startServer(): Promise<{ baseURL: string; close(): Promise<void> }> {
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./dispatch.server.ts', import.meta.url).href)}); });`;
  const worker = new Worker(boot, { eval: true, workerData: { latencyMs: LATENCY_MS } });
  const [ready] = (await once(worker, 'message')) as [{ baseURL: string }];
  return {
    baseURL: ready.baseURL,
    close: async () => {
      worker.postMessage({ type: 'close' });
      await once(worker, 'exit');
    },
  };
}

/** 1,000 questions over the videos, one plan: RSS after the first 100 answers and after the last, and the images held at once. */
async function thousandQuestions(videos: string[]) {
  const PER = 100;
  const questions: Question[] = videos.flatMap((video, v) =>
    Array.from({ length: PER }, (_, q) => ({
      id: `m${v}q${q}`,
      video,
      question: needleQuestion(q, q + 4),
      choices: ['KESTREL', 'MARLIN', 'OSPREY', 'PELICAN'],
      answer: 'A',
    })),
  );
  const rss = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);
  let answered = 0;
  let rssAfterFirst100Mb = 0;
  const r = await evaluate(
    questions,
    { every: [5], mode: ['exact'], maxSide: [256] },
    {
      apiKey: 'bench',
      baseURL: server.baseURL,
      concurrency: 64,
      outputTokens: 16,
      onQuestion: () => {
        if (++answered === 100) rssAfterFirst100Mb = rss();
      },
    },
  );
  // Distinct images per video: its every-5 s frames (each coded frame differs).
  const perVideo = videos.map((_, i) => Math.ceil((10 + i) / 5));
  return {
    questions: questions.length,
    sent: r.requests.sent,
    rssAfterFirst100Mb,
    rssAfterLastMb: rss(),
    imagesHeldPeak: r.imagesHeldPeak,
    threeVideosImages: [...perVideo]
      .sort((a, b) => b - a)
      .slice(0, 3)
      .reduce((a, b) => a + b, 0),
    allVideosImages: perVideo.reduce((a, b) => a + b, 0),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const json = process.argv.includes('--json');
const dir = mkdtempSync(join(tmpdir(), 'omniprep-bench-eval-'));
const server = await startServer();
try {
  const videos = await Promise.all(Array.from({ length: VIDEOS }, (_, i) => codedVideo({ seconds: 10 + i, fps: 10 })));
  const questions: Question[] = videos.flatMap((video, v) =>
    Array.from({ length: PER_VIDEO }, (_, q) => ({
      id: `v${v}q${q}`,
      video,
      question: needleQuestion(q * 9, q * 9 + 4),
      choices: ['KESTREL', 'MARLIN', 'OSPREY', 'PELICAN'],
      answer: 'A',
    })),
  );
  const ffmpeg = loggingBinary(dir, 'ffmpeg');
  const decodes = (calls: string[]): number => calls.filter((c) => !c.includes('-version')).length;
  const grid = { every: EVERY, mode: ['exact' as const], maxSide: [256] };
  // Warm up the connections, the SDK, the tokenizer and the test server's spec validator (as bench/dispatch.ts does), then measure.
  await evaluate(
    questions.slice(0, CONCURRENCY),
    { every: [10], mode: ['exact'], maxSide: [256] },
    { apiKey: 'bench', baseURL: server.baseURL, concurrency: CONCURRENCY },
  );
  const t0 = performance.now();
  const r = await evaluate(questions, grid, { apiKey: 'bench', baseURL: server.baseURL, concurrency: CONCURRENCY, ffmpegPath: ffmpeg.path, outputTokens: 16 });
  const wallMs = performance.now() - t0;
  const alone = loggingBinary(mkdtempSync(join(dir, 'alone-')), 'ffmpeg');
  for (const video of videos)
    await sample(video, { every: 1, mode: 'exact', maxSide: 256, out: mkdtempSync(join(dir, 'frames-')), ffmpegPath: alone.path }).manifest();
  const result = {
    plans: EVERY.length,
    questions: questions.length,
    videos: VIDEOS,
    requests: r.requests,
    concurrency: CONCURRENCY,
    latencyMs: LATENCY_MS,
    wallMs: Math.round(wallMs),
    idealMs: IDEAL_MS,
    ratio: Math.round((wallMs / IDEAL_MS) * 1000) / 1000,
    target: 1.1,
    samplingPasses: r.samplingPasses,
    ffmpegStarts: decodes(ffmpeg.calls()),
    ffmpegStartsOneSamplePerVideo: decodes(alone.calls()),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const rows: Array<[string, string]> = [
      ['grid', `${result.plans} plans x ${result.questions} questions over ${VIDEOS} videos = ${REQUESTS} requests`],
      ['wall time', `${result.wallMs} ms (ideal ${IDEAL_MS} ms at ${CONCURRENCY} x ${LATENCY_MS} ms, ratio ${result.ratio}, target <= 1.1)`],
      ['sampling passes', `${result.samplingPasses} (one per video and size)`],
      ['ffmpeg starts', `${result.ffmpegStarts} (one sample() of every 1 s per video: ${result.ffmpegStartsOneSamplePerVideo})`],
      ['peak RSS', `${result.peakRssMb} MB`],
    ];
    const w = Math.max(...rows.map((x) => x[0].length));
    process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n\n${JSON.stringify(result)}\n`);
  }
  const memory = await thousandQuestions(videos);
  if (json) process.stdout.write(`${JSON.stringify({ memory }, null, 2)}\n`);
  else {
    process.stdout.write(
      `\n1,000 questions   RSS ${memory.rssAfterFirst100Mb} MB after the first 100 answers, ${memory.rssAfterLastMb} MB after the last; ` +
        `images held at once at most ${memory.imagesHeldPeak} (three largest videos: ${memory.threeVideosImages}, all: ${memory.allVideosImages}); peak RSS ${memory.peakRssMb} MB\n\n${JSON.stringify(memory)}\n`,
    );
  }
  const flat = memory.imagesHeldPeak <= memory.threeVideosImages && memory.sent === 1000;
  process.exitCode = result.ratio <= 1.1 && result.ffmpegStarts === result.ffmpegStartsOneSamplePerVideo && r.requests.sent === REQUESTS && flat ? 0 : 1;
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
