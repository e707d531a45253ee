/**
 * TEST CODE. How the model test servers (test/helpers/model-server.ts) bill a request from the
 * request itself: images by the omniprep registry's rule at the image's real pixel size (read with
 * sharp), audio by the real duration of its bytes, text with the model's tokenizer and overhead;
 * and the small answer that fits a structured-output request's schema.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { audioTokens, imageTokens, textTokens } from '../../src/models/tokens.js';
import type { ModelEntry } from '../../src/models/registry.js';
import { mp3Seconds, wavSeconds } from './audio-length.js';

/** A problem with a request, answered with `status` in the provider's error shape. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Anthropic's error type / Gemini's status string / OpenAI's error code. */
    readonly type: string,
    /** The request parameter at fault (OpenAI's `param`). */
    readonly param: string | null = null,
  ) {
    super(message);
  }
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
  /** The base64 bytes of each inline image, in the order the request gives them (answer hooks read them). */
  imageData: string[];
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
      imageData: [],
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
    this.m.imageData.push(base64);
    this.imageOfSize(size, detail);
    return size;
  }
  /** One image of `size`, billed `tokens` when given, else by the registry's rule. */
  imageOfSize(size: { width: number; height: number }, detail: string, tokens?: number): void {
    this.m.images++;
    this.m.imageTokens += tokens ?? imageTokens(this.m.model, size.width, size.height, detail).tokens;
  }
  audio(base64: string, format: 'mp3' | 'wav'): void {
    const bytes = Buffer.from(base64, 'base64');
    const seconds = format === 'wav' ? wavSeconds(bytes) : mp3Seconds(bytes);
    if (seconds === undefined) throw new Problem(400, `The audio data is not valid ${format}.`, 'invalid_request_error');
    this.m.audioSeconds += seconds;
    this.m.audioTokens += audioTokens(this.m.model, seconds);
  }
  get promptTokens(): number {
    return promptTokens(this.m);
  }
}

/** Everything a request is billed for on input. */
export const promptTokens = (m: Measured): number => m.textTokens + m.imageTokens + m.audioTokens + m.videoTokens;

/** Sizes of images seen lately: the benchmark sends one image hundreds of times. */
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

/** A small value that fits a JSON Schema (the default answer to a structured-output request). */
export function sampleFor(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object') return null;
  const s = schema as Record<string, unknown>;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(s[k])) return sampleFor((s[k] as unknown[])[0]);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sampleFor(v)]));
    }
    case 'array':
      return s.minItems === 0 ? [] : [sampleFor(s.items)];
    case 'string':
      return typeof s.minLength === 'number' ? 'x'.repeat(s.minLength) : 'text';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 0;
    case 'boolean':
      return true;
    default:
      return null;
  }
}
