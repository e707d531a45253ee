/**
 * Dispatch benchmark (issue 6). Run:
 *
 *   npx tsx bench/dispatch.ts            # add --json for the JSON document alone
 *
 * Against the OpenAI test server (test/helpers/openai/server.ts, on 127.0.0.1) with the real
 * openai SDK:
 *  1. 500 requests, 100 ms server latency, concurrency 20: wall time against the ideal
 *     500 / 20 x 0.1 s = 2.5 s (target <= 1.15x), and the most requests in flight (must be <= 20,
 *     counted by the server and by the dispatcher).
 *  2. The same with a tokens-per-minute limit. The window is scaled down from 60 s to 1 s so the run
 *     takes seconds: the limit is per 1 s window, and the result reports the most tokens started in
 *     any 1 s window (dispatcher's clock) and received in any window of 1 s less 25 ms (server's
 *     clock; the margin absorbs network jitter between the two clocks).
 * The library is imported from src/ through tsx (the code is the same as dist/).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { buildRequest } from '../src/request/index.js';
import { dispatchAll, type DispatchReport } from '../src/dispatch/index.js';
import { maxInWindow } from '../test/helpers/openai/server.js';
import { frameAsset, segment } from '../test/helpers/request-media.js';

const REQUESTS = 500;
const CONCURRENCY = 20;
const LATENCY_MS = 100;
const IDEAL_MS = (REQUESTS / CONCURRENCY) * LATENCY_MS;
const TPM_WINDOW_MS = 1000;
const TPM_REQUESTS = 125;

interface ServerStats {
  total: number;
  maxInFlight: number;
  maxTokensInWindow: number;
  invalid: number;
}

/** The test server in its own thread (bench/dispatch.server.ts), as a remote server would be. */
async function startServer(): Promise<{ baseURL: string; reset(): Promise<void>; stats(windowMs: number): Promise<ServerStats>; close(): Promise<void> }> {
  // A worker does not inherit tsx's loader: register it there, then load the TypeScript module.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./dispatch.server.ts', import.meta.url).href)}); });`;
  const worker = new Worker(boot, { eval: true, workerData: { latencyMs: LATENCY_MS } });
  const ask = async <T>(message: object, type: string): Promise<T> => {
    worker.postMessage(message);
    for (;;) {
      const [reply] = (await once(worker, 'message')) as [{ type: string } & T];
      if (reply.type === type) return reply;
    }
  };
  const [ready] = (await once(worker, 'message')) as [{ baseURL: string }];
  return {
    baseURL: ready.baseURL,
    reset: () => ask({ type: 'reset', latencyMs: LATENCY_MS }, 'reset'),
    stats: (windowMs) => ask<ServerStats>({ type: 'stats', windowMs }, 'stats'),
    close: async () => {
      worker.postMessage({ type: 'close' });
      await once(worker, 'exit');
    },
  };
}

const json = process.argv.includes('--json');
const server = await startServer();
try {
  const frame = await frameAsset(0, 0, { width: 64, height: 48 });
  const requests = Array.from({ length: REQUESTS }, (_, i) =>
    buildRequest(segment(i, i, i + 1, [{ ...frame, timestampSec: i }]), {
      model: 'gpt-5.5',
      prompt: `Request ${i}: what is in the picture?`,
      maxOutputTokens: 16,
    }),
  );
  const client = { apiKey: 'bench', baseURL: server.baseURL, concurrency: CONCURRENCY };

  // Warm up the connections and the JIT, then measure.
  await dispatchAll(requests.slice(0, CONCURRENCY), client);
  await server.reset();
  const t0 = performance.now();
  const run1: DispatchReport = await dispatchAll(requests, client);
  const wallMs = performance.now() - t0;
  const s1 = await server.stats(TPM_WINDOW_MS);
  const throughput = {
    requests: REQUESTS,
    concurrency: CONCURRENCY,
    latencyMs: LATENCY_MS,
    ok: run1.totals.ok,
    wallMs: Math.round(wallMs),
    idealMs: IDEAL_MS,
    ratio: Math.round((wallMs / IDEAL_MS) * 1000) / 1000,
    target: 1.15,
    maxInFlightServer: s1.maxInFlight,
    maxInFlightClient: run1.totals.maxInFlight,
    invalidBodies: s1.invalid,
  };

  // Tokens per window: about 25 requests' worth per window.
  await server.reset();
  const subset = requests.slice(0, TPM_REQUESTS);
  const perRequest = subset[0]!.estimate.inputTokens + subset[0]!.estimate.outputTokens;
  const tpm = perRequest * 25;
  const t1 = performance.now();
  const run2 = await dispatchAll(subset, { ...client, tokensPerMinute: tpm, windowMs: TPM_WINDOW_MS });
  const wall2 = performance.now() - t1;
  const s2 = await server.stats(TPM_WINDOW_MS - 25);
  const starts = run2.results.flatMap((r) => r.attempts.map((a) => ({ receivedAt: a.startedAt, tokens: a.tokens })));
  const tokens = {
    requests: TPM_REQUESTS,
    windowMs: TPM_WINDOW_MS,
    note: 'window scaled down from 60 s to 1 s',
    tokensPerWindowLimit: tpm,
    tokensPerRequest: perRequest,
    ok: run2.totals.ok,
    wallMs: Math.round(wall2),
    maxTokensInAnyWindowClient: maxInWindow(starts, TPM_WINDOW_MS, (s) => s.tokens),
    maxTokensInAnyWindowServer: s2.maxTokensInWindow,
    maxInFlightServer: s2.maxInFlight,
  };

  const result = { throughput, tokens };
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const rows: Array<[string, string]> = [
      ['requests / concurrency / latency', `${REQUESTS} / ${CONCURRENCY} / ${LATENCY_MS} ms`],
      ['wall time', `${throughput.wallMs} ms (ideal ${IDEAL_MS} ms, ratio ${throughput.ratio}, target <= 1.15)`],
      ['max in flight (server / client)', `${throughput.maxInFlightServer} / ${throughput.maxInFlightClient} (limit ${CONCURRENCY})`],
      ['TPM run', `${TPM_REQUESTS} requests, ${tpm} tokens per ${TPM_WINDOW_MS} ms window (scaled from 60 s), ${tokens.wallMs} ms`],
      ['max tokens in any window (client / server)', `${tokens.maxTokensInAnyWindowClient} / ${tokens.maxTokensInAnyWindowServer} (limit ${tpm})`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n\n${JSON.stringify(result)}\n`);
  }
  const pass =
    throughput.ratio <= 1.15 &&
    throughput.maxInFlightServer <= CONCURRENCY &&
    tokens.maxTokensInAnyWindowClient <= tpm &&
    tokens.maxTokensInAnyWindowServer <= tpm;
  process.exitCode = pass ? 0 : 1;
} finally {
  await server.close();
}
