/**
 * Long prompts are counted off the event loop. The plan and the requests count a prompt's tokens
 * synchronously; for a text of LONG_TEXT characters or more the service first counts it in one
 * worker thread, with a time limit, and leaves the count in the library's memory
 * (rememberEncoded), where the synchronous count then finds it. /healthz and every other request
 * keep being answered while a 100,000-character prompt is counted.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OmniprepError } from '../errors.js';
import { getModel } from '../models/tokens.js';
import type { ModelEntry } from '../models/registry.js';
import { countEncoded, isCounted, LONG_TEXT, rememberEncoded, type Encoding } from '../models/tokens.js';

const here = import.meta.url;
const fromSource = here.endsWith('.ts');
const SCRIPT = fileURLToPath(new URL(fromSource ? './token-worker.ts' : './token-worker.js', here));

/** The default model of plans (the library's). */
const DEFAULT_MODEL = 'gpt-5.5';

interface Pending {
  id: number;
  encoding: Encoding;
  text: string;
  option: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class TokenCounter {
  private worker: Worker | undefined;
  private readonly queue: Pending[] = [];
  private current: (Pending & { timer: NodeJS.Timeout; worker: Worker }) | undefined;
  private nextId = 1;
  private closed = false;

  /** @param timeoutMs how long one text may take to count (100,000 characters take well under a second). */
  constructor(private readonly timeoutMs = 15_000) {}

  /**
   * Counts the long texts among `texts` (option name -> text) in the worker, so that counting them
   * again on this thread is a lookup. An unknown model is left to the plan to refuse.
   */
  async prime(model: string | ModelEntry | undefined, texts: Record<string, string | undefined>): Promise<void> {
    const long = Object.entries(texts).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].length >= LONG_TEXT);
    if (!long.length) return;
    let encoding: Encoding;
    try {
      encoding = getModel(model ?? DEFAULT_MODEL).text.encoding;
    } catch {
      return;
    }
    for (const [option, text] of long) {
      if (isCounted(encoding, text)) continue;
      await new Promise<void>((resolve, reject) => {
        this.queue.push({ id: this.nextId++, encoding, text, option, resolve, reject });
        this.pump();
      });
    }
  }

  /**
   * Loads the default model's encoding here (and in the counting thread) now, a second or two
   * each, so that neither the first request nor a worker's first job (whose lock must be renewed)
   * pays for it on the event loop.
   */
  warm(thread = true): void {
    let encoding: Encoding;
    try {
      encoding = getModel(DEFAULT_MODEL).text.encoding;
    } catch {
      return; // a registry without the default model: nothing to warm
    }
    countEncoded(encoding, '.');
    if (this.closed || !thread) return;
    this.worker ??= this.start();
    this.worker.postMessage({ id: 0, encoding, text: '.' }); // its answer (id 0) is not waited for
  }

  private start(): Worker {
    // From source (tests), the script is TypeScript: imported once tsx's hooks are registered.
    const w = fromSource
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => m.register()).then(() => import(${JSON.stringify(pathToFileURL(SCRIPT).href)}))`,
          { eval: true },
        )
      : new Worker(SCRIPT);
    w.unref();
    w.on('message', (m: { id: number; n?: number; error?: string }) => {
      const c = this.current;
      if (!c || c.worker !== w || c.id !== m.id) return;
      clearTimeout(c.timer);
      this.current = undefined;
      if (m.n !== undefined) {
        rememberEncoded(c.encoding, c.text, m.n);
        c.resolve();
      } else {
        c.reject(
          new OmniprepError('INVALID_OPTION', `option ${c.option}: its tokens cannot be counted (${m.error ?? 'unknown error'})`, {
            details: { option: c.option },
          }),
        );
      }
      this.pump();
    });
    const fail = (why: string): void => {
      if (this.worker === w) this.worker = undefined;
      const c = this.current;
      if (c && c.worker === w) {
        clearTimeout(c.timer);
        this.current = undefined;
        c.reject(new OmniprepError('INVALID_OPTION', `option ${c.option}: its tokens cannot be counted (${why})`, { details: { option: c.option } }));
      }
      this.pump();
    };
    w.on('error', (e) => fail(e.message));
    w.on('exit', (code) => fail(`the counting thread exited with code ${code}`));
    return w;
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const p = this.queue.shift();
    if (!p) return;
    this.worker ??= this.start();
    const w = this.worker;
    const timer = setTimeout(() => {
      // Over the limit: the thread is stopped (a new one counts the next text).
      this.worker = undefined;
      const c = this.current;
      this.current = undefined;
      void w.terminate();
      c?.reject(
        new OmniprepError(
          'INVALID_OPTION',
          `option ${p.option}: counting its tokens took longer than ${this.timeoutMs / 1000} s (${p.text.length} characters); send a shorter text`,
          { details: { option: p.option } },
        ),
      );
      this.pump();
    }, this.timeoutMs);
    this.current = { ...p, timer, worker: w };
    w.postMessage({ id: p.id, encoding: p.encoding, text: p.text });
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.current;
    if (c) {
      clearTimeout(c.timer);
      c.reject(new OmniprepError('ABORTED', 'the server is shutting down'));
    }
    for (const p of this.queue.splice(0)) p.reject(new OmniprepError('ABORTED', 'the server is shutting down'));
    this.current = undefined;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
