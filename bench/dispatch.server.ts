/**
 * The OpenAI test server in a worker thread, for bench/dispatch.ts: the server then has its own
 * event loop (as a remote server would), and the client's timings are not mixed with the server's
 * work. Messages: { type: 'reset', latencyMs } | { type: 'stats', windowMs } | { type: 'close' }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startOpenAITestServer } from '../test/helpers/openai/server.js';

const port = parentPort!;
const server = await startOpenAITestServer({ control: { latencyMs: (workerData as { latencyMs: number }).latencyMs } });
port.postMessage({ type: 'ready', baseURL: server.baseURL });
port.on('message', (m: { type: 'reset'; latencyMs: number } | { type: 'stats'; windowMs: number } | { type: 'close' }) => {
  if (m.type === 'reset') {
    server.reset();
    server.control.latencyMs = m.latencyMs;
    port.postMessage({ type: 'reset' });
  } else if (m.type === 'stats') {
    port.postMessage({
      type: 'stats',
      total: server.stats.total,
      maxInFlight: server.stats.maxInFlight,
      maxTokensInWindow: server.maxTokensInWindow(m.windowMs),
      invalid: server.stats.invalid.length,
    });
  } else {
    void server.close().then(() => port.close());
  }
});
