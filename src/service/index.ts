/**
 * omniprep/service: the HTTP service and its workers. `createService` loads Fastify, BullMQ, ioredis and better-sqlite3
 * only when called, so importing the library stays light.
 */
import type { CreateOptions, Service } from './service.js';
import type { ServiceConfig } from './config.js';

export { resolveConfig, SERVICE_DEFAULTS, DEFAULT_SERVICE_LIMITS, type ServiceConfig, type ResolvedConfig } from './config.js';
export type { ServiceErrorCode, ErrorBody } from './errors.js';
export type { CreateOptions, Service, ServiceApp } from './service.js';
export type { JobOptions } from './options.js';
export type { JobRecord, JobState, JobInput, JobProgress, Counters } from './store/types.js';

/** Starts a service node (HTTP API and/or worker) from a configuration; call `listen()` on it. */
export async function createService(config: ServiceConfig = {}, options: CreateOptions = {}): Promise<Service> {
  const { createService: create } = await import('./service.js');
  return create(config, options);
}
