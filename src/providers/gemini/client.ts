/**
 * The Gemini SDK (`@google/genai`, runs on Node 20; no `retryOptions`, so no retries), key from
 * GEMINI_API_KEY or GOOGLE_API_KEY, server from GOOGLE_GEMINI_BASE_URL. The SDK takes a body in the
 * shape omniprep builds (`GenerateContentParameters`) and writes the REST request itself. Its
 * errors (`ApiError`: a status, and the error body as JSON in the message) carry the wait in the
 * body's `google.rpc.RetryInfo`.
 */
import { loadOptional } from '../../util/optional.js';
import type { GenerateContentParameters, GoogleGenAI } from '@google/genai';
import { OmniprepError } from '../../errors.js';
import { envKey, missingKey } from '../common.js';
import { AttemptTimeoutError, byStatus, oneLine, type Failure } from '../failure.js';
import type { CallOptions, ClientOptions, ModelAnswer } from '../types.js';
import type { GeminiBody, GeminiClient, GeminiResponse } from './shapes.js';

/** Where the Gemini client finds its key (GEMINI_API_KEY, else GOOGLE_API_KEY) and server when none is given. */
export const GEMINI_ENV = { baseURL: 'GOOGLE_GEMINI_BASE_URL', apiKey: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'], hosted: true } as const;

let genai: Promise<typeof import('@google/genai')> | undefined;

/** The Gemini SDK is large: it is loaded only when a Gemini client is made. */
export async function createGeminiClient(o: ClientOptions & { timeoutMs: number }): Promise<GeminiClient> {
  if (o.geminiClient) return o.geminiClient;
  const apiKey = o.apiKey ?? envKey(GEMINI_ENV);
  if (!apiKey) throw missingKey(GEMINI_ENV.apiKey[0]);
  const baseUrl = o.baseURL ?? process.env[GEMINI_ENV.baseURL];
  genai ??= loadOptional('the Gemini provider', () => import('@google/genai'));
  const { GoogleGenAI } = await genai;
  return new GoogleGenAI({ apiKey, httpOptions: { ...(baseUrl ? { baseUrl } : {}), timeout: o.timeoutMs } });
}

/**
 * A generateContent response's text and usage: the first candidate's text parts (thoughts left
 * out). Gemini bills thinking as output (`thoughtsTokenCount` beside `candidatesTokenCount`); audio
 * input appears in `promptTokensDetails` under the AUDIO modality.
 */
export function geminiAnswer(r: GeminiResponse): ModelAnswer {
  const u = r.usageMetadata;
  const thoughts = u?.thoughtsTokenCount ?? 0;
  const input = u?.promptTokenCount ?? 0;
  const output = (u?.candidatesTokenCount ?? 0) + thoughts;
  const parts = r.candidates?.[0]?.content?.parts ?? [];
  return {
    text: parts.flatMap((p) => (typeof p.text === 'string' && !p.thought ? [p.text] : [])).join(''),
    usage: u && {
      inputTokens: input,
      outputTokens: output,
      totalTokens: u.totalTokenCount ?? input + output,
      cachedTokens: u.cachedContentTokenCount ?? 0,
      audioTokens: (u.promptTokensDetails ?? []).filter((d) => d.modality === 'AUDIO').reduce((s, d) => s + (d.tokenCount ?? 0), 0),
      reasoningTokens: thoughts,
    },
    responseId: r.responseId ?? '',
    raw: r,
  };
}

/**
 * One generateContent call. The SDK's own timeout aborts the fetch like a cancel would, so the
 * attempt carries its own timer: a cancel is the caller's signal, a timeout is this timer.
 */
export async function callGemini(client: unknown, body: unknown, o: CallOptions = {}): Promise<ModelAnswer> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(o.signal?.reason);
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = o.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, o.timeoutMs)
    : undefined;
  try {
    const b = body as GeminiBody;
    // The body's shapes are the SDK's (shapes.ts), with its enums as their string values.
    const params = { ...b, config: { ...b.config, abortSignal: controller.signal } } as GenerateContentParameters;
    return geminiAnswer(await (client as GoogleGenAI).models.generateContent(params));
  } catch (e) {
    if (timedOut) throw new AttemptTimeoutError(o.timeoutMs!);
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Uploads a clip through the Gemini File API (once per run) and waits until the file is ACTIVE
 * (large videos are processed for a while after the upload); returns its URI for `fileData`.
 */
export async function uploadGeminiVideo(
  gemini: GeminiClient,
  path: string,
  mimeType: string,
  o: { signal?: AbortSignal | undefined; pollMs?: number } = {},
): Promise<{ name: string; uri: string }> {
  const client = gemini as GoogleGenAI;
  let file = await client.files.upload({ file: path, config: { mimeType, ...(o.signal ? { abortSignal: o.signal } : {}) } });
  for (let i = 0; file.state === 'PROCESSING' && i < 600; i++) {
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
    if (o.signal?.aborted) throw new OmniprepError('ABORTED', `${path}: cancelled while the File API processed the upload`, { input: path });
    file = await client.files.get({ name: file.name! });
  }
  if (file.state === 'FAILED' || !file.uri || !file.name) {
    throw new OmniprepError(
      'REQUEST_FAILED',
      `${path}: the Gemini File API did not accept the video (${file.state ?? 'no state'}${file.error?.message ? `: ${file.error.message}` : ''})`,
      { input: path },
    );
  }
  return { name: file.name, uri: file.uri };
}

/** Gemini's wait: `retryDelay` of the RetryInfo detail in an error body (`{"error": {"details": [...]}}`). */
export function geminiRetryDelayMs(body: unknown): number | undefined {
  const details = (body as { error?: { details?: Array<Record<string, unknown>> } } | undefined)?.error?.details;
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    if (String(d['@type'] ?? '').endsWith('google.rpc.RetryInfo') && typeof d.retryDelay === 'string') {
      const m = /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay.trim());
      if (m) return Math.round(Number(m[1]) * 1000);
    }
  }
  return undefined;
}

/** A Gemini SDK ApiError: `status`, and the error body as JSON in `message`. */
export function classifyGemini(e: unknown): Failure | undefined {
  if (!(e instanceof Error && e.name === 'ApiError' && typeof (e as { status?: unknown }).status === 'number')) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(e.message);
  } catch {
    body = undefined;
  }
  const err = (body as { error?: { message?: string; status?: string } } | undefined)?.error;
  const text = oneLine(err?.message ? `${err.status ? `${err.status}: ` : ''}${err.message}` : e.message);
  return byStatus((e as Error & { status: number }).status, text, geminiRetryDelayMs(body));
}
