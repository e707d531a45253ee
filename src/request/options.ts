/**
 * Options of the request builders, with their defaults in one place and every value checked up
 * front (an error names the option and what is allowed).
 */
import { invalidOption, OmniprepError } from '../errors.js';
import { TIERS, type ModelEntry, type Tier } from '../models/registry.js';
import { getModel, type ModelOptions } from '../models/tokens.js';
import { refuseUnknown } from '../options/resolve.js';
import { ESTIMATE_DEFAULTS } from '../options/sampling.js';
import { adapterOf, resolveProvider, type Provider } from '../providers/registry.js';
import type { JsonSchema } from '../providers/types.js';

export { APIS, type Api } from '../providers/registry.js';
export type { JsonSchema };

export interface RequestOptions extends ModelOptions {
  /** The question or instruction sent before the media. */
  prompt: string;
  /** Target model: its name in the registry, or its entry (resolveOptions's, not looked up again). Default: the prepared media's model. */
  model?: string | ModelEntry | undefined;
  /** Whose API the body is written for (default: the model's registry entry says). */
  provider?: Provider | undefined;
  /** A system message (Chat Completions) or `instructions` (Responses). */
  system?: string | undefined;
  /** Upper bound on output tokens (`max_completion_tokens` / `max_output_tokens`). Default: not sent. */
  maxOutputTokens?: number | undefined;
  /** Output tokens assumed by estimates when `maxOutputTokens` is not set. */
  expectedOutputTokens?: number | undefined;
  /** Detail sent with every image, instead of each frame's own. */
  detail?: string | undefined;
  /** A JSON Schema the answer must follow (structured output). */
  schema?: JsonSchema | undefined;
  /** The schema's name in the request (`^[a-zA-Z0-9_-]{1,64}$`). */
  schemaName?: string | undefined;
  /** Structured output `strict` flag. */
  strict?: boolean | undefined;
  /** Send `frame.url` instead of a data URL (the user hosts the frames). */
  imageUrls?: boolean | undefined;
  /** Text per audio chunk (by chunk index), sent as text instead of the audio. */
  transcripts?: Readonly<Record<number, string>> | readonly string[] | undefined;
  /** Write `[mm:ss]` before each frame and each audio chunk. */
  timestamps?: boolean | undefined;
  /** Price tier of the estimate; `flex` and `priority` are also sent as `service_tier`. */
  tier?: Tier | undefined;
  /** The input as the user named it, for error messages (default: the prepared media's input). */
  input?: string | undefined;
}

export const REQUEST_DEFAULTS = {
  expectedOutputTokens: ESTIMATE_DEFAULTS.outputTokens,
  schemaName: 'answer',
  strict: true,
  imageUrls: false,
  timestamps: true,
  tier: 'standard' as Tier,
};

export interface ResolvedRequestOptions {
  /** The model as its provider bills it (a local server: no price unless its entry gives one). */
  model: ModelEntry;
  provider: Provider;
  /** Why the estimate carries no price, when it does not. */
  priceNote: string | undefined;
  prompt: string;
  system: string | undefined;
  maxOutputTokens: number | undefined;
  expectedOutputTokens: number;
  detail: string | undefined;
  schema: JsonSchema | undefined;
  schemaName: string;
  strict: boolean;
  imageUrls: boolean;
  transcripts: ReadonlyMap<number, string> | undefined;
  timestamps: boolean;
  tier: Tier;
  input: string | undefined;
}

const SCHEMA_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks every option and fills in the defaults; `fallback` carries the prepared media's model and input. */
export function resolveRequestOptions(o: RequestOptions, fallback: { model?: string; input?: string } = {}): ResolvedRequestOptions {
  if (!isPlainObject(o)) throw invalidOption('options', 'an object', o);
  refuseUnknown(o);
  if (typeof o.prompt !== 'string' || !o.prompt.trim()) throw invalidOption('prompt', 'a non-empty string', o.prompt);
  const name = o.model ?? fallback.model;
  if (typeof name !== 'object' && (typeof name !== 'string' || !name)) throw invalidOption('model', 'a model name', name);
  const entry = getModel(name, o);
  const provider = resolveProvider(entry, o.provider);
  const billed = adapterOf(provider).billing?.(entry) ?? { model: entry };
  const model = billed.model;
  if (o.system !== undefined && typeof o.system !== 'string') throw invalidOption('system', 'a string', o.system);
  const positiveInt = (key: 'maxOutputTokens' | 'expectedOutputTokens'): number | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < 1 || v > model.maxOutputTokens) {
      throw invalidOption(key, `an integer from 1 to ${model.maxOutputTokens} (${model.name}'s output limit)`, v);
    }
    return v;
  };
  const maxOutputTokens = positiveInt('maxOutputTokens');
  const expected = positiveInt('expectedOutputTokens');
  if (o.detail !== undefined && typeof o.detail !== 'string') throw invalidOption('detail', 'a detail level', o.detail);
  if (o.schema !== undefined && !isPlainObject(o.schema)) throw invalidOption('schema', 'a JSON Schema object', o.schema);
  const schemaName = o.schemaName ?? REQUEST_DEFAULTS.schemaName;
  if (!SCHEMA_NAME.test(schemaName)) throw invalidOption('schemaName', 'letters, digits, _ or -, at most 64', schemaName);
  const tier = o.tier ?? REQUEST_DEFAULTS.tier;
  if (!TIERS.includes(tier)) throw invalidOption('tier', TIERS.join(', '), tier);
  if (!model.prices[tier]) throw new OmniprepError('INVALID_OPTION', `option tier: model ${model.name} has no ${tier} price`);
  let transcripts: Map<number, string> | undefined;
  if (o.transcripts !== undefined) {
    if (typeof o.transcripts !== 'object' || o.transcripts === null) throw invalidOption('transcripts', 'an array or an object of strings', o.transcripts);
    transcripts = new Map();
    for (const [k, v] of Object.entries(o.transcripts)) {
      if (typeof v !== 'string') throw invalidOption(`transcripts[${k}]`, 'a string', v);
      transcripts.set(Number(k), v);
    }
  }
  return {
    model,
    provider,
    priceNote: billed.note,
    prompt: o.prompt,
    system: o.system,
    maxOutputTokens,
    expectedOutputTokens: maxOutputTokens ?? expected ?? Math.min(REQUEST_DEFAULTS.expectedOutputTokens, model.maxOutputTokens),
    detail: o.detail,
    schema: o.schema,
    schemaName,
    strict: o.strict ?? REQUEST_DEFAULTS.strict,
    imageUrls: o.imageUrls ?? REQUEST_DEFAULTS.imageUrls,
    transcripts,
    timestamps: o.timestamps ?? REQUEST_DEFAULTS.timestamps,
    tier,
    input: o.input ?? fallback.input,
  };
}
