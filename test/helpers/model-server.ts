/**
 * TEST CODE. What the OpenAI, Anthropic and Gemini test servers share (test/helpers/openai/,
 * test/helpers/anthropic/, test/helpers/gemini/): the Fastify app on 127.0.0.1, per-test
 * misbehaviour (`control`: latency, 429 with the provider's own wait hints, 5xx, hangs), request
 * records and statistics (in flight now and at most, arrival times, billed tokens), and billing
 * from the request itself (./meter.ts). Each provider module says how its bodies are validated,
 * measured and answered (a `ProviderAdapter`), and adds its own routes (files, batches).
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { textTokens } from '../../src/models/tokens.js';
import { registry as processRegistry, type ModelRegistry } from '../../src/models/registry.js';
import { type Measured, Problem, promptTokens, sampleFor } from './meter.js';

export { imageSizeOf, type Measured, Meter, newId, Problem, promptTokens, sampleFor } from './meter.js';

export interface Incoming {
  /** 1-based arrival number over all model requests (batch lines included). */
  seq: number;
  path: string;
  body: Record<string, unknown>;
  /** The request's text parts joined with newlines. */
  text: string;
  /** Set for a request of a batch. */
  customId?: string;
  /** How many times a request with this text arrived before (0 on the first time). */
  previousAttempts: number;
  /** The base64 bytes of the request's inline images, in order (an answer hook reads what the model was shown). */
  images: string[];
}

/** What the server does with one request, instead of answering at once. */
export type Action =
  /** `retryAfterSec`: Anthropic's and Gemini's wait hints; `retryAfter` / `retryAfterMs`: OpenAI's headers as given. */
  | { status: 429; retryAfterSec?: number; retryAfter?: number | string; retryAfterMs?: number; message?: string }
  | { status: 500 | 502 | 503 | 504 | 529; message?: string }
  | { status: 400; message?: string; code?: string }
  | { hang: true }
  | { latencyMs?: number; reply?: string };

/** An action that answers with an error status. */
export type Refusal = Extract<Action, { status: number }>;

export interface Control {
  /** Milliseconds before each answer (default 0). */
  latencyMs: number;
  /** Called with every model request before it is answered; return an action to misbehave. */
  onRequest?: ((req: Incoming) => Action | undefined) | undefined;
  /** The answer's text (default: structured-output sample, or a line about what was seen); may read the images first. */
  reply?: ((req: Incoming) => string | Promise<string>) | undefined;
  /** Pixel size of an image given by URL (the servers fetch nothing). */
  urlImageSize?: ((url: string) => { width: number; height: number } | undefined) | undefined;
  /** Milliseconds a batch stays in progress before it is processed (default 0). */
  batchDelayMs: number;
}

export interface Record_ {
  seq: number;
  path: string;
  /** `performance.now()` when the request arrived and when it was answered. */
  receivedAt: number;
  finishedAt?: number;
  status?: number;
  /** Input tokens the server measured, and the output bound the request set (0 when none). */
  promptTokens: number;
  imageTokens: number;
  audioTokens: number;
  textTokens: number;
  images: number;
  maxOutputTokens: number;
  outputTokens: number;
  text: string;
  closedByClient: boolean;
  /** The OpenAI-Organization and OpenAI-Project headers, when sent (OpenAI). */
  organization?: string;
  project?: string;
}

export interface Stats {
  inFlight: number;
  maxInFlight: number;
  /** Requests received on the model routes (valid or not). */
  total: number;
  records: Record_[];
  /** Requests refused with 400: path and message. */
  invalid: Array<{ path: string; message: string }>;
}

export interface ProviderAdapter<C extends Control = Control> {
  /** The provider's error body. */
  error(status: number, message: string, o?: { type?: string | undefined; param?: string | null; retryAfterSec?: number | undefined }): unknown;
  /** Headers of an error answer (429: the provider's wait hints; default none). */
  errorHeaders?(status: number, retryAfterSec: number | undefined): Record<string, string>;
  /** Body and headers of the answer to a refusing action (default: `error` and `errorHeaders` with `retryAfterSec`). */
  refusal?(action: Refusal): { body: unknown; headers: Record<string, string> };
  /** The message for an unknown route (default `Not found: METHOD URL`). */
  notFound?(method: string, url: string): string;
  /** Validates a body sent to `path` (a Problem when invalid) and measures it. */
  measure(body: unknown, reg: ModelRegistry, control: C, path: string): Promise<Measured>;
  /** The answer body for `text` with usage. */
  answer(m: Measured, text: string, outputTokens: number, req: Incoming): unknown;
}

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The largest sum of `weight` over requests that arrived within any window of `windowMs` (half-open). */
export function maxInWindow<T extends { receivedAt: number }>(items: readonly T[], windowMs: number, weight: (r: T) => number): number {
  const sorted = [...items].sort((a, b) => a.receivedAt - b.receivedAt);
  let best = 0;
  let sum = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    sum += weight(sorted[hi]!);
    while (sorted[hi]!.receivedAt - sorted[lo]!.receivedAt >= windowMs) sum -= weight(sorted[lo++]!);
    best = Math.max(best, sum);
  }
  return best;
}

/** The non-blank lines of a JSONL batch file. */
export const jsonlLines = (bytes: Buffer): string[] =>
  bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim());

/** What every test server hands its tests (besides its base URL, files and batches). */
export interface ServerSurface<C extends Control = Control> {
  control: C;
  stats: Stats;
  /** Largest prompt tokens + output bound received in any `windowMs` (by arrival time). */
  maxTokensInWindow(windowMs: number): number;
  maxRequestsInWindow(windowMs: number): number;
  /** Waits until no request is in flight (or `timeoutMs` passes); returns the count then. */
  settled(timeoutMs?: number): Promise<number>;
  /** Clears statistics and control (files and batches stay). */
  reset(): void;
  close(): Promise<void>;
}

export interface CoreOptions<C extends Control = Control> {
  /** Registry the server bills with (default: the process registry). */
  registry?: ModelRegistry;
  /** Largest request body in bytes (default 600 MB). */
  bodyLimit?: number;
  control?: Partial<C>;
}

export const DEFAULT_BODY_LIMIT = 600 * 1024 * 1024;

const controlDefaults = (): Control => ({ latencyMs: 0, batchDelayMs: 0 });

/** The Fastify app, control, statistics and answering of one test server. */
export class ModelServerCore<C extends Control = Control> {
  readonly app: FastifyInstance;
  readonly control: C;
  readonly stats: Stats = { inFlight: 0, maxInFlight: 0, total: 0, records: [], invalid: [] };
  /** True once `close()` began: answers still pending are not sent. */
  closing = false;
  private readonly attempts = new Map<string, number>();
  private readonly releases = new Set<() => void>();
  private seq = 0;

  constructor(
    private readonly adapter: ProviderAdapter<C>,
    private readonly o: CoreOptions<C> = {},
  ) {
    this.control = { ...controlDefaults(), ...o.control } as C;
    this.app = Fastify({ logger: false, bodyLimit: o.bodyLimit ?? DEFAULT_BODY_LIMIT, forceCloseConnections: true });
    this.app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
      const status = err.statusCode ?? 500;
      void reply.code(status).send(adapter.error(status, err.message));
    });
    this.app.setNotFoundHandler((req, reply) => {
      const message = adapter.notFound?.(req.method, req.url) ?? `Not found: ${req.method} ${req.url}`;
      void reply.code(404).send(adapter.error(404, message));
    });
  }

  reg(): ModelRegistry {
    return this.o.registry ?? processRegistry();
  }

  /** Waits `ms`, or until the client goes away or the server closes; true when the wait was cut short. */
  wait(ms: number, reply: FastifyReply | undefined): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (cut: boolean): void => {
        if (timer) clearTimeout(timer);
        this.releases.delete(release);
        reply?.raw.off('close', onClose);
        resolve(cut);
      };
      const release = (): void => done(true);
      const onClose = (): void => {
        if (!reply?.raw.writableFinished) done(true);
      };
      this.releases.add(release);
      reply?.raw.on('close', onClose);
      if (Number.isFinite(ms)) timer = setTimeout(() => done(false), ms);
    });
  }

  /** Waits what `control.batchDelayMs` says before a batch is processed. */
  async batchDelay(): Promise<void> {
    if (this.control.batchDelayMs > 0) await this.wait(this.control.batchDelayMs, undefined);
  }

  newRecord(path: string): Record_ {
    return {
      seq: ++this.seq,
      path,
      receivedAt: performance.now(),
      promptTokens: 0,
      imageTokens: 0,
      audioTokens: 0,
      textTokens: 0,
      images: 0,
      maxOutputTokens: 0,
      outputTokens: 0,
      text: '',
      closedByClient: false,
    };
  }

  /** A record for a route request, counted in flight until the reply closes. */
  track(path: string, reply: FastifyReply): { record: Record_; leave: () => void } {
    const { stats } = this;
    const record = this.newRecord(path);
    stats.total++;
    stats.records.push(record);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let counted = true;
    const leave = (): void => {
      if (!counted) return;
      counted = false;
      stats.inFlight--;
      record.finishedAt = performance.now();
    };
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) record.closedByClient = true;
      leave();
    });
    return { record, leave };
  }

  /** Answers one request of a batch (validated alone: a bad one errors alone), recorded but not counted in flight. */
  async answerLine(path: string, body: unknown, customId: string): Promise<Answer & { record: Record_ }> {
    const record = this.newRecord(path);
    this.stats.records.push(record);
    const out = await this.answer(path, body, undefined, record, customId);
    record.status = out.status;
    record.finishedAt = performance.now();
    return { ...out, record };
  }

  /** Answers one request (route or batch line). */
  async answer(path: string, body: unknown, reply: FastifyReply | undefined, record: Record_, customId?: string): Promise<Answer> {
    let m: Measured;
    try {
      m = await this.adapter.measure(body, this.reg(), this.control, path);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      if (e.status === 400) this.stats.invalid.push({ path, message: e.message });
      return { status: e.status, body: this.adapter.error(e.status, e.message, { type: e.type, param: e.param }) };
    }
    Object.assign(record, {
      promptTokens: promptTokens(m),
      imageTokens: m.imageTokens,
      audioTokens: m.audioTokens,
      textTokens: m.textTokens,
      images: m.images,
      maxOutputTokens: m.maxOutputTokens,
      text: m.texts.join('\n'),
    });
    const previousAttempts = this.attempts.get(record.text) ?? 0;
    this.attempts.set(record.text, previousAttempts + 1);
    const incoming: Incoming = {
      seq: record.seq,
      path,
      body: body as Record<string, unknown>,
      text: record.text,
      previousAttempts,
      images: m.imageData,
      ...(customId ? { customId } : {}),
    };
    return this.act(m, incoming, reply, record);
  }

  /** Follows `control` for a measured request: misbehaves as told, or answers after the latency. */
  private async act(m: Measured, incoming: Incoming, reply: FastifyReply | undefined, record: Record_): Promise<Answer> {
    const action = this.control.onRequest?.(incoming);
    let latency = this.control.latencyMs;
    let replyText: string | undefined;
    if (action) {
      if ('hang' in action) {
        await this.wait(Infinity, reply);
        return { status: 504, body: this.adapter.error(504, 'The server hung up (test server: hang).') };
      }
      if ('status' in action) {
        if (latency > 0 && reply) await this.wait(latency, reply);
        return { status: action.status, ...this.refusal(action) };
      }
      if (action.latencyMs !== undefined) latency = action.latencyMs;
      replyText = action.reply;
    }
    if (latency > 0 && reply) {
      const cut = await this.wait(latency, reply);
      if (cut) return { status: 499, body: this.adapter.error(499, 'Client closed the request.') };
    }
    const text =
      replyText ??
      (await this.control.reply?.(incoming)) ??
      (m.schema ? JSON.stringify(sampleFor(m.schema)) : `Seen ${m.images} images and ${Math.round(m.audioSeconds * 10) / 10} s of audio.`);
    const outputTokens = textTokens(m.model, text);
    record.outputTokens = outputTokens;
    return { status: 200, body: this.adapter.answer(m, text, outputTokens, incoming) };
  }

  private refusal(action: Refusal): { body: unknown; headers: Record<string, string> } {
    if (this.adapter.refusal) return this.adapter.refusal(action);
    const after = action.status === 429 ? action.retryAfterSec : undefined;
    return {
      body: this.adapter.error(action.status, action.message ?? `test server: HTTP ${action.status}`, { retryAfterSec: after }),
      headers: this.adapter.errorHeaders?.(action.status, after) ?? {},
    };
  }

  /** Starts listening on 127.0.0.1; the server's origin. */
  async listen(): Promise<string> {
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    const address = this.app.server.address();
    if (!address || typeof address === 'string') throw new Error('test server: no TCP address');
    return `http://127.0.0.1:${address.port}`;
  }

  /** What a test server hands its tests, bound to this core. */
  surface(): ServerSurface<C> {
    const { stats, control } = this;
    return {
      control,
      stats,
      maxTokensInWindow: (windowMs) => maxInWindow(stats.records, windowMs, (r) => r.promptTokens + r.maxOutputTokens),
      maxRequestsInWindow: (windowMs) => maxInWindow(stats.records, windowMs, () => 1),
      settled: async (timeoutMs = 2000) => {
        const end = performance.now() + timeoutMs;
        while (stats.inFlight > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
        return stats.inFlight;
      },
      reset: () => this.reset(),
      close: () => this.close(),
    };
  }

  reset(): void {
    const control = this.control as unknown as Record<string, unknown>;
    for (const key of Object.keys(control)) delete control[key];
    Object.assign(control, controlDefaults());
    Object.assign(this.stats, { inFlight: 0, maxInFlight: 0, total: 0, records: [], invalid: [] });
    this.attempts.clear();
    this.seq = 0;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const release of [...this.releases]) release();
    await this.app.close();
  }
}

/** Sends an answer on a route unless the client went away or the server is closing. */
export async function routeAnswer(
  core: ModelServerCore<Control>,
  path: string,
  body: unknown,
  reply: FastifyReply,
  headers: () => Record<string, string>,
  mark?: (record: Record_) => void,
): Promise<unknown> {
  const { record, leave } = core.track(path, reply);
  mark?.(record);
  try {
    const out = await core.answer(path, body, reply, record);
    record.status = out.status;
    if (record.closedByClient || core.closing) return reply.hijack();
    void reply.code(out.status).headers({ ...headers(), ...(out.headers ?? {}) });
    return out.body;
  } finally {
    leave();
  }
}
