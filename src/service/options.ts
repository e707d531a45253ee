/**
 * Job options: the JSON a client sends, checked against the same option descriptions the CLI and
 * the library use (options/), and turned into the library's own options. Nothing here plans or
 * samples: the service calls the library.
 */
import { z } from 'zod';
import type { Limits } from '../limits.js';
import { option, optionRefused, parseGroups, type Group, type GroupInput } from '../options/define.js';
import { AUDIO_CUTS, DISPATCH, REQUEST } from '../options/request.js';
import { resolveProvider, type Provider } from '../providers/registry.js';
import { ESTIMATE, pickSampling, SAMPLING } from '../options/sampling.js';
import { resolveOptions, type Resolved } from '../options/resolve.js';
import type { PlanOptions } from '../plan/types.js';
import type { PrepareOptions } from '../prepare.js';
import { ServiceError } from './errors.js';
import { checkJsonDepth } from './json.js';

/** What only a job has: its audio cuts, and whether to call the model. */
export const JOB = {
  audioOptions: option(z.strictObject(Object.fromEntries(Object.entries(AUDIO_CUTS).map(([k, d]) => [k, d.schema.optional()]))), {
    help: 'how the audio is cut: chunkSeconds, maxBytes, format, overlapSec',
    allowed: 'an object of chunkSeconds (>= 1), maxBytes (>= 1024), format (mp3 or wav), overlapSec (>= 0)',
  }),
  call: option(z.boolean(), {
    help: "also call the model, through its provider with the server's URL and API key for that provider; otherwise only prepare",
    default: false,
  }),
};

export const JOB_OPTION_GROUPS = [SAMPLING, ESTIMATE, REQUEST, DISPATCH, JOB] as const;

/** A job's options: the library's sampling, estimate and request options, and how to call the model. */
export type JobOptions = GroupInput<typeof SAMPLING> &
  GroupInput<typeof ESTIMATE> &
  GroupInput<typeof REQUEST> &
  GroupInput<typeof DISPATCH> & {
    audioOptions?: GroupInput<typeof AUDIO_CUTS> | undefined;
    call?: boolean | undefined;
  };

/** Largest multipart `options` field, in bytes. */
export const OPTIONS_FIELD_LIMIT = 1024 * 1024;

/** Checks a job's options (a JSON body's `options`, or the multipart `options` field as text). */
export function parseJobOptions(raw: unknown): JobOptions {
  let value = raw;
  if (typeof raw === 'string') {
    checkJsonDepth(raw, 'the options field');
    try {
      value = raw.trim() ? JSON.parse(raw) : {};
    } catch {
      throw new ServiceError('BAD_REQUEST', 'the options field is not valid JSON');
    }
  }
  if (value === undefined || value === null) return {};
  // A refused value is the library's INVALID_OPTION (400), worded as the library and the CLI word it.
  return parseGroups('options', value, ...JOB_OPTION_GROUPS) as JobOptions;
}

const ALL_JOB_OPTIONS: Group = Object.assign({}, ...JOB_OPTION_GROUPS);

/**
 * A JSON body's schema error under `options`, as the refusal the library, the CLI and the
 * multipart parser give (`option every: expected a number from 0.001 to 86400, got 0`), or
 * undefined for an error elsewhere in the body.
 */
export function optionError(instancePath: string, keyword: string, data: unknown): Error | undefined {
  const path = instancePath.split('/').slice(1);
  if (path[0] !== 'options') return undefined;
  if (path.length === 1) {
    if (keyword !== 'additionalProperties') return undefined;
    try {
      parseJobOptions(data);
    } catch (e) {
      return e as Error;
    }
    return undefined;
  }
  const key = path[1]!;
  const sub = path[2];
  const def = sub !== undefined && key === 'audioOptions' ? AUDIO_CUTS[sub as keyof typeof AUDIO_CUTS] : ALL_JOB_OPTIONS[key];
  if (!def) return undefined;
  return optionRefused(sub !== undefined && key === 'audioOptions' ? `${key}.${sub}` : key, def, data);
}

/**
 * A job's library options resolved once, as the service's surface (its values were checked at
 * submit), its provider checked against its model as the library checks it (an unknown provider,
 * or Anthropic's or Gemini's API asked for another provider's model, is refused in one line).
 */
export function resolveJobOptions<O extends object>(o: O): Resolved<O> {
  const r = resolveOptions<O>(o, { surface: 'service' });
  jobProvider(r);
  return r;
}

/** The provider of a job's resolved options (its model's entry and `provider`; no lookup by name). */
export function jobProvider(r: Resolved<object>): Provider {
  return resolveProvider(r.model, (r.options as { provider?: string }).provider);
}

/** The library's plan options for a job (the estimate the service answers with). */
export function toPlanOptions(o: JobOptions, limits: Partial<Limits>): PlanOptions & { provider?: Provider | undefined } {
  return {
    ...pickSampling(o),
    model: o.model,
    send: o.send,
    provider: o.provider,
    prompt: o.prompt,
    audio: o.audio,
    audioOptions: o.audioOptions,
    windowSec: o.windowSec,
    tier: o.tier,
    budget: o.budget,
    maxTokens: o.maxTokens,
    outputTokens: o.outputTokens,
    maxOutputTokens: o.maxOutputTokens,
    allowRetired: o.allowRetired,
    limits,
  };
}

/** prepare()'s options: the same plan, written under `dir`, cancelled by `signal`. */
export function toPrepareOptions(
  o: JobOptions,
  limits: Partial<Limits>,
  extra: Pick<PrepareOptions, 'dir' | 'signal' | 'onFrame' | 'remote' | 'plan' | 'facts' | 'sha256'>,
): PrepareOptions {
  const { audioOptions, ...plan } = toPlanOptions(o, limits);
  return { ...plan, ...(audioOptions ? { audioOptions } : {}), ...extra };
}
