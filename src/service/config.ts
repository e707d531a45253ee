/**
 * The service's configuration, with its defaults in one place. `omniprep serve` and
 * `omniprep worker` fill it from their flags and the environment; `createService()` takes it.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { invalidOption } from '../errors.js';
import type { Limits } from '../limits.js';
import { envKey } from '../providers/common.js';
import { DEFAULT_PROVIDER, PROVIDER_NAMES, PROVIDERS, type Provider } from '../providers/registry.js';

export interface ServiceConfig {
  /** Where jobs, uploads and outputs live (default ./omniprep-data). */
  dataDir?: string | undefined;
  port?: number | undefined;
  host?: string | undefined;
  /** Jobs processed at once on this node (0: an API node that only queues). Default 2. */
  workers?: number | undefined;
  /** With a Redis URL the queue and job state are in Redis (BullMQ); without, in SQLite under dataDir. */
  redisUrl?: string | undefined;
  /** Directories a job may name by path (realpath-confined). None: path inputs are refused. */
  allowRoots?: string[] | undefined;
  /** Let URL inputs reach loopback, private and link-local addresses (trusted networks only). */
  allowPrivateUrls?: boolean | undefined;
  /** Largest upload or download in bytes (default 2 GiB). */
  maxUploadBytes?: number | undefined;
  /** Wall-clock limit of one job in seconds (default 3600). */
  jobTimeoutSec?: number | undefined;
  /** Jobs waiting at most; a full queue answers 429 (default 1000). */
  queueLimit?: number | undefined;
  /** Finished jobs, their outputs and unused uploads are deleted after this many hours (default 168). */
  retentionHours?: number | undefined;
  /** Uploads (POST /v1/uploads) no job holds are deleted this many seconds after their last use (default 86400: 24 h). */
  uploadTtlSec?: number | undefined;
  /** Bearer token every request but /healthz must carry (default: OMNIPREP_TOKEN; none: open). */
  token?: string | undefined;
  /** OpenAI's server for jobs with `call: true` (default: OPENAI_BASE_URL, else OpenAI); the same as `providers.openai.baseURL`. */
  baseURL?: string | undefined;
  /** Its API key (default: OPENAI_API_KEY); the same as `providers.openai.apiKey`. */
  apiKey?: string | undefined;
  /**
   * Each provider's server and key for jobs with `call: true` (default: the variables the library
   * reads: OPENAI_*, ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY, GOOGLE_GEMINI_BASE_URL and
   * GEMINI_API_KEY or GOOGLE_API_KEY, OMNIPREP_LOCAL_BASE_URL and OMNIPREP_LOCAL_API_KEY).
   */
  providers?: Partial<Record<Provider, ProviderServer>> | undefined;
  /** Media limits, tightened for a service (see DEFAULT_SERVICE_LIMITS). */
  limits?: Partial<Limits> | undefined;
  /** Attempts per job when a failure may pass (a worker died, ffmpeg crashed). Default 2. */
  attempts?: number | undefined;
  /** How long planning one input may take, probe included (ms; default 60 s). Plans run on threads of their own. */
  planTimeoutMs?: number | undefined;
  /** Download limits for URL inputs. */
  downloadTimeoutMs?: number | undefined;
  maxRedirects?: number | undefined;
  /** BullMQ lock and stalled-check timings (ms): how fast a dead worker's job is taken over. */
  lockDurationMs?: number | undefined;
  stalledIntervalMs?: number | undefined;
  /** Prefix of every Redis key (default "omniprep"). */
  redisPrefix?: string | undefined;
  /** A name for this node in job records (default host:pid). */
  nodeName?: string | undefined;
  /**
   * `s3://BUCKET/PREFIX`: uploads, frames, audio chunks and manifests in S3-compatible storage, so
   * nodes share no disk (default: OMNIPREP_STORE; none: everything under dataDir).
   */
  store?: string | undefined;
  /** The S3-compatible server (default: AWS_ENDPOINT_URL_S3; path-style addressing when given). */
  s3Endpoint?: string | undefined;
  /** Frames and manifests in the store are sent through this node instead of a redirect to a presigned URL. */
  proxyStore?: boolean | undefined;
}

/** A model provider's server and key, as the service calls it. */
export interface ProviderServer {
  baseURL?: string | undefined;
  apiKey?: string | undefined;
}

/** Each provider's server and key: the config's, else the provider's environment variables (src/providers/). */
function providerServers(c: ServiceConfig, env: NodeJS.ProcessEnv): Record<Provider, ProviderServer> {
  const given = (p: Provider): ProviderServer => ({ ...(p === DEFAULT_PROVIDER ? { baseURL: c.baseURL, apiKey: c.apiKey } : {}), ...c.providers?.[p] });
  return Object.fromEntries(
    PROVIDER_NAMES.map((p) => {
      const g = given(p);
      return [p, { baseURL: g.baseURL ?? (env[PROVIDERS[p].env.baseURL] || undefined), apiKey: g.apiKey ?? envKey(PROVIDERS[p].env, env) }];
    }),
  ) as Record<Provider, ProviderServer>;
}

export interface ResolvedConfig {
  dataDir: string;
  port: number;
  host: string;
  workers: number;
  redisUrl: string | undefined;
  allowRoots: string[];
  allowPrivateUrls: boolean;
  maxUploadBytes: number;
  jobTimeoutSec: number;
  queueLimit: number;
  retentionHours: number;
  uploadTtlSec: number;
  token: string | undefined;
  /** Each provider's server and key (undefined: the provider's own, or none). */
  providers: Record<Provider, ProviderServer>;
  limits: Partial<Limits>;
  attempts: number;
  planTimeoutMs: number;
  downloadTimeoutMs: number;
  maxRedirects: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  redisPrefix: string;
  nodeName: string;
  store: string | undefined;
  s3Endpoint: string | undefined;
  proxyStore: boolean;
}

/** Tighter than the library's: a service decodes strangers' files. */
export const DEFAULT_SERVICE_LIMITS: Partial<Limits> = {
  maxPixels: 16_800_000, // imgproxy's cap: 8K video does not fit, 4K does
  maxDurationSec: 4 * 3600,
  probeTimeoutMs: 20_000,
};

export const SERVICE_DEFAULTS = {
  dataDir: 'omniprep-data',
  port: 8080,
  host: '127.0.0.1',
  workers: Math.min(2, availableParallelism()),
  maxUploadBytes: 2 * 1024 ** 3,
  jobTimeoutSec: 3600,
  queueLimit: 1000,
  retentionHours: 168,
  uploadTtlSec: 86_400,
  attempts: 2,
  planTimeoutMs: 60_000,
  downloadTimeoutMs: 60_000,
  maxRedirects: 5,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  redisPrefix: 'omniprep',
};

/** Checks a number: `min` inclusive, or strictly above 0 when min is omitted. */
function positive(name: string, v: number, integer = false, min?: number): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (min === undefined ? v > 0 : v >= min) && (!integer || Number.isInteger(v));
  if (!ok) throw invalidOption(name, `${integer ? 'an integer' : 'a number'} ${min === undefined ? '> 0' : `>= ${min}`}`, v);
  return v;
}

export function resolveConfig(c: ServiceConfig = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const d = SERVICE_DEFAULTS;
  const num = (v: number | undefined, envName: string, fallback: number): number => v ?? (env[envName] ? Number(env[envName]) : fallback);
  return {
    dataDir: resolve(c.dataDir ?? env.OMNIPREP_DATA ?? d.dataDir),
    port: positive('port', c.port ?? d.port, true, 0),
    host: c.host ?? d.host,
    workers: positive('workers', c.workers ?? d.workers, true, 0),
    redisUrl: c.redisUrl ?? (env.OMNIPREP_REDIS || undefined),
    allowRoots: (c.allowRoots ?? []).map((r) => resolve(r)),
    allowPrivateUrls: Boolean(c.allowPrivateUrls),
    maxUploadBytes: positive('maxUploadBytes', c.maxUploadBytes ?? d.maxUploadBytes, true),
    jobTimeoutSec: positive('jobTimeoutSec', c.jobTimeoutSec ?? d.jobTimeoutSec),
    queueLimit: positive('queueLimit', c.queueLimit ?? d.queueLimit, true, 1),
    retentionHours: positive('retentionHours', c.retentionHours ?? d.retentionHours),
    uploadTtlSec: positive('uploadTtlSec', c.uploadTtlSec ?? d.uploadTtlSec),
    token: c.token ?? (env.OMNIPREP_TOKEN || undefined),
    providers: providerServers(c, env),
    limits: { ...DEFAULT_SERVICE_LIMITS, ...c.limits },
    attempts: positive('attempts', c.attempts ?? d.attempts, true, 1),
    planTimeoutMs: positive('planTimeoutMs', c.planTimeoutMs ?? d.planTimeoutMs),
    downloadTimeoutMs: positive('downloadTimeoutMs', c.downloadTimeoutMs ?? d.downloadTimeoutMs),
    maxRedirects: positive('maxRedirects', c.maxRedirects ?? d.maxRedirects, true, 0),
    lockDurationMs: positive('lockDurationMs', num(c.lockDurationMs, 'OMNIPREP_LOCK_MS', d.lockDurationMs), true, 100),
    stalledIntervalMs: positive('stalledIntervalMs', num(c.stalledIntervalMs, 'OMNIPREP_STALLED_MS', d.stalledIntervalMs), true, 100),
    redisPrefix: c.redisPrefix ?? (env.OMNIPREP_REDIS_PREFIX || d.redisPrefix),
    nodeName: c.nodeName ?? `${env.HOSTNAME ?? 'node'}:${process.pid}`,
    store: c.store ?? (env.OMNIPREP_STORE || undefined),
    s3Endpoint: c.s3Endpoint ?? (env.AWS_ENDPOINT_URL_S3 || undefined),
    proxyStore: Boolean(c.proxyStore),
  };
}
