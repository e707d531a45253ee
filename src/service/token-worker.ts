/** The thread that counts long prompts for the service (src/service/tokens.ts). */
import { parentPort } from 'node:worker_threads';
import { countEncoded, type Encoding } from '../models/tokens.js';

parentPort?.on('message', (m: { id: number; encoding: Encoding; text: string }) => {
  try {
    parentPort!.postMessage({ id: m.id, n: countEncoded(m.encoding, m.text) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
