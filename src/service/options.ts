/**
 * Job options: the JSON a client sends, checked against the schema the routes declare, and turned
 * into the library's own options. Nothing here plans or samples: the service calls the library.
 */
import AjvModule from 'ajv';
import type { PlanOptions, SamplingOptions } from '../plan/types.js';
import { pickSampling } from '../plan/options.js';
import type { PrepareOptions } from '../prepare.js';
import type { Limits } from '../limits.js';
import type { Api } from '../request/options.js';
import { ServiceError } from './errors.js';
import { checkJsonDepth } from './json.js';
import { jobOptionsSchema } from './schemas.js';

const Ajv = AjvModule.default;

/** A job's options: the library's sampling and estimate options, and how to call the model. */
export interface JobOptions
  extends SamplingOptions,
    Pick<PlanOptions, 'model' | 'detail' | 'prompt' | 'audio' | 'windowSec' | 'tier' | 'budget' | 'maxTokens' | 'outputTokens'> {
  system?: string;
  audioOptions?: { chunkSeconds?: number; maxBytes?: number; format?: 'mp3' | 'wav'; overlapSec?: number };
  call?: boolean;
  api?: Api;
  maxOutputTokens?: number;
  concurrency?: number;
}

/** Largest multipart `options` field, in bytes. */
export const OPTIONS_FIELD_LIMIT = 1024 * 1024;

let validate: ReturnType<InstanceType<typeof Ajv>['compile']> | undefined;

/** Checks options that did not pass through a route schema (the multipart `options` field). */
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
  validate ??= new Ajv({ allErrors: false, strict: false }).compile(jobOptionsSchema);
  if (!validate(value)) {
    const e = validate.errors?.[0];
    const where = e?.instancePath ? `options${e.instancePath.replace(/\//g, '.')}` : 'options';
    const extra = e?.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
    throw new ServiceError('BAD_REQUEST', `${where} ${e?.message ?? 'is invalid'}${extra}`);
  }
  return value as JobOptions;
}

/** The library's plan options for a job (the estimate the service answers with). */
export function toPlanOptions(o: JobOptions, limits: Partial<Limits>): PlanOptions {
  return {
    ...pickSampling(o),
    model: o.model,
    detail: o.detail,
    prompt: o.prompt,
    audio: o.audio,
    audioOptions: o.audioOptions,
    windowSec: o.windowSec,
    tier: o.tier,
    budget: o.budget,
    maxTokens: o.maxTokens,
    outputTokens: o.outputTokens ?? o.maxOutputTokens,
    limits,
  };
}

/** prepare()'s options: the same plan, written under `dir`, cancelled by `signal`. */
export function toPrepareOptions(o: JobOptions, limits: Partial<Limits>, extra: Pick<PrepareOptions, 'dir' | 'signal' | 'onFrame'>): PrepareOptions {
  const { audioOptions, ...plan } = toPlanOptions(o, limits);
  return { ...plan, ...(audioOptions ? { audioOptions } : {}), ...extra };
}
