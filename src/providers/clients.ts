/**
 * The Anthropic and Gemini SDKs, set up like the OpenAI one (src/dispatch/client.ts): any server
 * (`baseURL`, e.g. the test servers), the SDKs' own retries off (the dispatcher retries, honouring
 * each provider's rate-limit headers and counting each retry), one call per attempt with a timeout
 * and cancellation.
 *
 * - Anthropic: `@anthropic-ai/sdk` (`maxRetries: 0`), key from ANTHROPIC_API_KEY, server from
 *   ANTHROPIC_BASE_URL.
 * - Gemini: `@google/genai` (runs on Node 20; no `retryOptions`, so no retries), key from
 *   GEMINI_API_KEY or GOOGLE_API_KEY, server from GOOGLE_GEMINI_BASE_URL. The SDK takes a body in
 *   the shape omniprep builds (`GenerateContentParameters`) and writes the REST request itself.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { GoogleGenAI } from '@google/genai';
import { OmniprepError } from '../errors.js';
import type { MessagesBody } from './anthropic.js';
import type { GeminiBody } from './gemini.js';
import { geminiAnswer, messagesAnswer, type ProviderAnswer } from './answers.js';

export interface ProviderClientOptions {
  apiKey?: string | undefined;
  baseURL?: string | undefined;
  /** Per attempt, in ms. */
  timeoutMs?: number | undefined;
}

function missingKey(env: string): OmniprepError {
  return new OmniprepError('INVALID_OPTION', `option apiKey: no API key (set ${env}, or pass --api-key on the command line, apiKey in code)`, {
    details: { option: 'apiKey' },
  });
}

let anthropicSdk: Promise<typeof import('@anthropic-ai/sdk')> | undefined;

/** The Anthropic SDK loads only when an Anthropic client is made. */
export async function createAnthropicClient(o: ProviderClientOptions & { timeoutMs: number }): Promise<Anthropic> {
  const apiKey = o.apiKey ?? process.env.ANTHROPIC_API_KEY;
  if (!apiKey) throw missingKey('ANTHROPIC_API_KEY');
  const baseURL = o.baseURL ?? process.env.ANTHROPIC_BASE_URL;
  anthropicSdk ??= import('@anthropic-ai/sdk');
  const { default: AnthropicClient } = await anthropicSdk;
  return new AnthropicClient({ apiKey, ...(baseURL ? { baseURL } : {}), timeout: o.timeoutMs, maxRetries: 0 });
}

let genai: Promise<typeof import('@google/genai')> | undefined;

/** The Gemini SDK is large: it is loaded only when a Gemini request is sent. */
export async function createGeminiClient(o: ProviderClientOptions & { timeoutMs: number }): Promise<GoogleGenAI> {
  const apiKey = o.apiKey ?? process.env.GEMINI_API_KEY ?? process.env.GOOGLE_API_KEY;
  if (!apiKey) throw missingKey('GEMINI_API_KEY');
  const baseUrl = o.baseURL ?? process.env.GOOGLE_GEMINI_BASE_URL;
  genai ??= import('@google/genai');
  const { GoogleGenAI } = await genai;
  return new GoogleGenAI({ apiKey, httpOptions: { ...(baseUrl ? { baseUrl } : {}), timeout: o.timeoutMs } });
}

/** Thrown when an attempt runs past its timeout (classified as a timeout, maybe billed). */
export class AttemptTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

export async function callAnthropic(
  client: Anthropic,
  body: MessagesBody,
  o: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined } = {},
): Promise<ProviderAnswer & { raw: Anthropic.Message }> {
  const m = await client.messages.create(body, { ...(o.signal ? { signal: o.signal } : {}), ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}), maxRetries: 0 });
  return { ...messagesAnswer(m), raw: m };
}

/**
 * One generateContent call. The SDK's own timeout aborts the fetch like a cancel would, so the
 * attempt carries its own timer: a cancel is the caller's signal, a timeout is this timer.
 */
export async function callGemini(
  client: GoogleGenAI,
  body: GeminiBody,
  o: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined } = {},
): Promise<ProviderAnswer & { raw: unknown }> {
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
    const r = await client.models.generateContent({ ...body, config: { ...body.config, abortSignal: controller.signal } });
    return { ...geminiAnswer(r), raw: r };
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
  client: GoogleGenAI,
  path: string,
  mimeType: string,
  o: { signal?: AbortSignal | undefined; pollMs?: number } = {},
): Promise<{ name: string; uri: string }> {
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
