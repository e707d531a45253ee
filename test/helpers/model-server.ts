/**
 * TEST CODE. What the Anthropic and Gemini test servers share (test/helpers/anthropic/server.ts,
 * test/helpers/gemini/server.ts): the Fastify app on 127.0.0.1, per-test misbehaviour (`control`:
 * latency, 429 with the provider's own wait hints, 5xx, hangs), request records and statistics
 * (in flight now and at most, arrival times, billed tokens), and billing from the request itself:
 * images by the omniprep registry's rule at the image's real pixel size (read with sharp), audio
 * by the real duration of its bytes, text with the model's tokenizer and overhead. Each provider
 * module says how its bodies are validated, measured and answered.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import sharp from 'sharp';
import { audioTokens, imageTokens, textTokens } from '../../src/models/tokens.js';
import { registry as processRegistry, type ModelEntry, type ModelRegistry } from '../../src/models/registry.js';
import { maxInWindow, mp3Seconds, sampleFor, wavSeconds } from './openai/server.js';

export { maxInWindow, sampleFor };

/** A problem with a request, answered with `status` in the provider's error shape. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Anthropic's error type / Gemini's status string. */
    readonly type: string,
  ) {
    super(message);
  }
}

export interface Incoming {
  seq: number;
  path: string;
  body: Record<string, unknown>;
  /** The request's text parts joined with newlines. */
  text: string;
  /** Set for a request of a batch. */
  customId?: string;
  previousAttempts: number;
}

export type Action =
  | { status: 429; retryAfterSec?: number; message?: string }
  | { status: 500 | 503 | 529; message?: string }
  | { status: 400; message?: string }
  | { hang: true }
  | { latencyMs?: number; reply?: string };

export interface Control {
  latencyMs: number;
  onRequest?: ((req: Incoming) => Action | undefined) | undefined;
  reply?: ((req: Incoming) => string) | undefined;
  /** Pixel size of an image given by URL (the servers fetch nothing). */
  urlImageSize?: ((url: string) => { width: number; height: number } | undefined) | undefined;
  /** Milliseconds a batch stays in progress before it is processed. */
  batchDelayMs: number;
}

export interface Record_ {
  seq: number;
  path: string;
  receivedAt: number;
  finishedAt?: number;
  status?: number;
  promptTokens: number;
  imageTokens: number;
  audioTokens: number;
  textTokens: number;
  images: number;
  maxOutputTokens: number;
  outputTokens: number;
  text: string;
  closedByClient: boolean;
}

export interface Stats {
  inFlight: number;
  maxInFlight: number;
  total: number;
  records: Record_[];
  invalid: Array<{ path: string; message: string }>;
}

/** What a provider module measured in a request body. */
export interface Measured {
  model: ModelEntry;
  /** The model id as the request named it. */
  modelId: string;
  images: number;
  imageTokens: number;
  audioTokens: number;
  audioSeconds: number;
  textTokens: number;
  /** Tokens of other media (Gemini video). */
  videoTokens: number;
  maxOutputTokens: number;
  texts: string[];
  schema: Record<string, unknown> | undefined;
}

/** Counts the parts of a request as the registry bills them. */
export class Meter {
  readonly m: Measured;
  constructor(model: ModelEntry, modelId: string) {
    this.m = {
      model,
      modelId,
      images: 0,
      imageTokens: 0,
      audioTokens: 0,
      audioSeconds: 0,
      textTokens: model.text.perRequest,
      videoTokens: 0,
      maxOutputTokens: 0,
      texts: [],
      schema: undefined,
    };
  }
  message(): void {
    this.m.textTokens += this.m.model.text.perMessage;
  }
  text(t: string): void {
    this.m.texts.push(t);
    this.m.textTokens += textTokens(this.m.model, t);
  }
  async image(base64: string, detail: string): Promise<{ width: number; height: number }> {
    const size = await imageSizeOf(base64);
    this.imageOfSize(size, detail);
    return size;
  }
  imageOfSize(size: { width: number; height: number }, detail: string): void {
    this.m.images++;
    this.m.imageTokens += imageTokens(this.m.model, size.width, size.height, detail).tokens;
  }
  audio(base64: string, format: 'mp3' | 'wav'): void {
    const bytes = Buffer.from(base64, 'base64');
    const seconds = format === 'wav' ? wavSeconds(bytes) : mp3Seconds(bytes);
    if (seconds === undefined) throw new Problem(400, `The audio data is not valid ${format}.`, 'invalid_request_error');
    this.m.audioSeconds += seconds;
    this.m.audioTokens += audioTokens(this.m.model, seconds);
  }
  get promptTokens(): number {
    return this.m.textTokens + this.m.imageTokens + this.m.audioTokens + this.m.videoTokens;
  }
}

const sizes = new Map<string, { width: number; height: number }>();

export async function imageSizeOf(base64: string): Promise<{ width: number; height: number }> {
  const key = base64.length > 64 ? `${base64.length}:${base64.slice(0, 32)}:${base64.slice(-32)}` : base64;
  const cached = sizes.get(key);
  if (cached) return cached;
  try {
    const meta = await sharp(Buffer.from(base64, 'base64')).metadata();
    if (!meta.width || !meta.height) throw new Error('no size');
    const size = { width: meta.width, height: meta.height };
    if (sizes.size > 256) sizes.clear();
    sizes.set(key, size);
    return size;
  } catch {
    throw new Problem(400, 'Could not process image: the data is not a valid image.', 'invalid_request_error');
  }
}

export const newId = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;

export interface ProviderAdapter {
  /** The provider's error body. */
  error(status: number, message: string, type?: string, retryAfterSec?: number): unknown;
  /** Headers of an error answer (429: the provider's wait hints). */
  errorHeaders(status: number, retryAfterSec: number | undefined): Record<string, string>;
  /** Validates a body (a Problem when invalid) and measures it. */
  measure(body: unknown, reg: ModelRegistry, control: Control): Promise<Measured>;
  /** The answer body for `text` with usage. */
  answer(m: Measured, text: string, outputTokens: number): unknown;
}

export interface ModelServerCore {
  app: FastifyInstance;
  control: Control;
  stats: Stats;
  reg(): ModelRegistry;
  /** Answers one request (route or batch line). */
  answer(
    path: string,
    body: unknown,
    reply: FastifyReply | undefined,
    record: Record_,
    customId?: string,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;
  /** A record for a route request, counted in flight until the reply closes. */
  track(path: string, reply: FastifyReply): { record: Record_; leave: () => void };
  newRecord(path: string): Record_;
  wait(ms: number, reply: FastifyReply | undefined): Promise<boolean>;
  listen(): Promise<string>;
  maxTokensInWindow(windowMs: number): number;
  maxRequestsInWindow(windowMs: number): number;
  settled(timeoutMs?: number): Promise<number>;
  reset(): void;
  close(): Promise<void>;
}

export async function modelServerCore(
  adapter: ProviderAdapter,
  o: { registry?: ModelRegistry; bodyLimit?: number; control?: Partial<Control> } = {},
): Promise<ModelServerCore> {
  const reg = (): ModelRegistry => o.registry ?? processRegistry();
  const defaults = (): Control => ({ latencyMs: 0, batchDelayMs: 0 });
  const control: Control = { ...defaults(), ...o.control };
  const stats: Stats = { inFlight: 0, maxInFlight: 0, total: 0, records: [], invalid: [] };
  const attempts = new Map<string, number>();
  const releases = new Set<() => void>();
  let seq = 0;
  const app = Fastify({ logger: false, bodyLimit: o.bodyLimit ?? 600 * 1024 * 1024, forceCloseConnections: true });
  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode ?? 500;
    void reply.code(status).send(adapter.error(status, err.message));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(adapter.error(404, `Not found: ${req.method} ${req.url}`));
  });

  const wait = (ms: number, reply: FastifyReply | undefined): Promise<boolean> =>
    new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (cut: boolean): void => {
        if (timer) clearTimeout(timer);
        releases.delete(release);
        reply?.raw.off('close', onClose);
        resolve(cut);
      };
      const release = (): void => done(true);
      const onClose = (): void => {
        if (!reply?.raw.writableFinished) done(true);
      };
      releases.add(release);
      reply?.raw.on('close', onClose);
      if (Number.isFinite(ms)) timer = setTimeout(() => done(false), ms);
    });

  const newRecord = (path: string): Record_ => ({
    seq: ++seq,
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
  });

  const core: ModelServerCore = {
    app,
    control,
    stats,
    reg,
    wait,
    newRecord,
    track(path, reply) {
      const record = newRecord(path);
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
    },
    async answer(path, body, reply, record, customId) {
      let m: Measured;
      try {
        m = await adapter.measure(body, reg(), control);
      } catch (e) {
        if (e instanceof Problem) {
          if (e.status === 400) stats.invalid.push({ path, message: e.message });
          return { status: e.status, body: adapter.error(e.status, e.message, e.type) };
        }
        throw e;
      }
      const meterTotal = m.textTokens + m.imageTokens + m.audioTokens + m.videoTokens;
      Object.assign(record, {
        promptTokens: meterTotal,
        imageTokens: m.imageTokens,
        audioTokens: m.audioTokens,
        textTokens: m.textTokens,
        images: m.images,
        maxOutputTokens: m.maxOutputTokens,
        text: m.texts.join('\n'),
      });
      const previousAttempts = attempts.get(record.text) ?? 0;
      attempts.set(record.text, previousAttempts + 1);
      const incoming: Incoming = {
        seq: record.seq,
        path,
        body: body as Record<string, unknown>,
        text: record.text,
        previousAttempts,
        ...(customId ? { customId } : {}),
      };
      const action = control.onRequest?.(incoming);
      let latency = control.latencyMs;
      let replyText: string | undefined;
      if (action) {
        if ('hang' in action) {
          await wait(Infinity, reply);
          return { status: 504, body: adapter.error(504, 'The server hung up (test server: hang).') };
        }
        if ('status' in action) {
          if (latency > 0 && reply) await wait(latency, reply);
          const after = action.status === 429 ? action.retryAfterSec : undefined;
          return {
            status: action.status,
            body: adapter.error(action.status, action.message ?? `test server: HTTP ${action.status}`, undefined, after),
            headers: adapter.errorHeaders(action.status, after),
          };
        }
        if (action.latencyMs !== undefined) latency = action.latencyMs;
        replyText = action.reply;
      }
      if (latency > 0 && reply) {
        const cut = await wait(latency, reply);
        if (cut) return { status: 499, body: adapter.error(499, 'Client closed the request.') };
      }
      const text =
        replyText ??
        control.reply?.(incoming) ??
        (m.schema ? JSON.stringify(sampleFor(m.schema)) : `Seen ${m.images} images and ${Math.round(m.audioSeconds * 10) / 10} s of audio.`);
      const outputTokens = textTokens(m.model, text);
      record.outputTokens = outputTokens;
      return { status: 200, body: adapter.answer(m, text, outputTokens) };
    },
    async listen() {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      if (!address || typeof address === 'string') throw new Error('test server: no TCP address');
      return `http://127.0.0.1:${address.port}`;
    },
    maxTokensInWindow: (windowMs) => maxInWindow(stats.records, windowMs, (r) => r.promptTokens + r.maxOutputTokens),
    maxRequestsInWindow: (windowMs) => maxInWindow(stats.records, windowMs, () => 1),
    async settled(timeoutMs = 2000) {
      const end = performance.now() + timeoutMs;
      while (stats.inFlight > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
      return stats.inFlight;
    },
    reset() {
      Object.assign(control, { onRequest: undefined, reply: undefined, urlImageSize: undefined }, defaults());
      stats.inFlight = 0;
      stats.maxInFlight = 0;
      stats.total = 0;
      stats.records = [];
      stats.invalid = [];
      attempts.clear();
      seq = 0;
    },
    async close() {
      for (const release of [...releases]) release();
      await app.close();
    },
  };
  return core;
}

/** Sends an answer on a route unless the client went away. */
export async function routeAnswer(
  core: ModelServerCore,
  path: string,
  body: unknown,
  reply: FastifyReply,
  requestId: () => Record<string, string>,
): Promise<unknown> {
  const { record, leave } = core.track(path, reply);
  try {
    const out = await core.answer(path, body, reply, record);
    record.status = out.status;
    if (record.closedByClient) return reply.hijack();
    void reply.code(out.status).headers({ ...requestId(), ...(out.headers ?? {}) });
    return out.body;
  } finally {
    leave();
  }
}
