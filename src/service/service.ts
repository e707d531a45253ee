/**
 * The service: a Fastify app whose routes are plugins (jobs, plan, ops), over a backend (a store,
 * a queue, an event bus and a runner). Embedded (default): SQLite and an in-process queue under
 * --data. Scale-out (`redisUrl`): state in Redis, the queue in BullMQ, events over pub/sub; any
 * number of API nodes and workers share them.
 *
 *     const svc = await createService({ dataDir: '/var/lib/omniprep', port: 8080 });
 *     await svc.listen();
 *     ...
 *     await svc.close();
 */
import { rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { OmniprepError } from '../errors.js';
import { acquirePool, releasePool } from '../extract/pool.js';
import { useTempRoot } from '../util/temp.js';
import { buildApp } from './app.js';
import { embeddedBackend } from './backend/embedded.js';
import { redisBackend } from './backend/redis.js';
import type { Backend, Health } from './backend/types.js';
import type { EventBus } from './bus.js';
import { resolveConfig, type ResolvedConfig, type ServiceConfig } from './config.js';
import type { RouteContext } from './context.js';
import { DataDir } from './data.js';
import { ServiceError } from './errors.js';
import { resolveRoots } from './intake.js';
import { Inputs } from './inputs.js';
import type { JobQueue } from './queue/types.js';
import { sweepOrphanPlans } from './job-plans.js';
import { openObjects } from './objects/open.js';
import type { ObjectStore } from './objects/types.js';
import { type Holders, releaseJob } from './release.js';
import { JobWorker } from './runner.js';
import type { JobStore } from './store/types.js';
import { TokenCounter } from './tokens.js';
import { Uploads } from './uploads.js';

/**
 * The node's HTTP app: Fastify's instance, typed without Fastify (an optional peer) so that
 * `omniprep/service`'s declarations compile where it is not installed; cast it to
 * `FastifyInstance` to use Fastify's own type.
 */
export interface ServiceApp {
  /** The HTTP server (listening once `listen()` resolves). */
  readonly server: Server;
}

export interface Service {
  readonly config: ResolvedConfig;
  readonly data: DataDir;
  readonly store: JobStore;
  /** Where outputs and uploads are: the data directory, or S3 (--store). */
  readonly objects: ObjectStore;
  readonly bus: EventBus;
  readonly queue: JobQueue;
  /** This node's runner (undefined on an API node started with workers 0 in Redis mode). */
  readonly runner: JobWorker | undefined;
  app: ServiceApp;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
  health(): Promise<Health>;
  /** Removes expired jobs and their files, stored inputs no job uses, and expired uploads no job holds, now (it also runs on a timer). */
  sweep(): Promise<{ jobs: number; inputs: number; uploads: number }>;
}

export interface CreateOptions {
  /** Run jobs on this node (default: config.workers > 0). */
  work?: boolean;
  /** Build the HTTP app (default true; `omniprep worker` has none). */
  http?: boolean;
  /** Log requests (default false). */
  logger?: boolean;
  /** The clock uploads expire by (default Date.now; tests move it). */
  now?: () => number;
}

/** Stored inputs no job uses are removed after this long (a submission elsewhere may be about to use one). */
const ORPHAN_GRACE_MS = 10 * 60_000;

/** Queue admission: a submission takes a place until its job is stored; a full queue answers 429. */
function admission(config: ResolvedConfig, backend: Backend): () => Promise<() => void> {
  let submitting = 0;
  return async () => {
    const depth = (await backend.queue.depth()) + submitting;
    if (depth >= config.queueLimit) {
      const runner = backend.runner;
      const workers = Math.max(1, runner ? config.workers : 1);
      const wait = Math.min(600, Math.max(1, Math.ceil(((runner?.meanJobSeconds() ?? 5) * (depth - config.queueLimit + 1)) / workers)));
      throw new ServiceError('QUEUE_FULL', `the queue is full (${depth} of ${config.queueLimit} jobs waiting); try again in ${wait} s`, {
        'retry-after': String(wait),
      });
    }
    submitting++;
    let released = false;
    return () => {
      if (!released) submitting--;
      released = true;
    };
  };
}

/** Retention: expired jobs with their outputs and inputs, then inputs nothing uses. */
function sweeper(
  config: ResolvedConfig,
  holders: Holders,
  inputs: Inputs,
  uploads: Uploads,
): (graceMs?: number) => Promise<{ jobs: number; inputs: number; uploads: number }> {
  return async (graceMs = ORPHAN_GRACE_MS) => {
    const expired = await holders.store.expire(Date.now() - config.retentionHours * 3600_000);
    let removed = 0;
    for (const job of expired) if (await releaseJob(job, holders)) removed++;
    removed += await inputs.sweepOrphans(graceMs);
    await sweepOrphanPlans(holders.data, holders.store, graceMs);
    return { jobs: expired.length, inputs: removed, uploads: await uploads.sweep() };
  };
}

export async function createService(cfg: ServiceConfig = {}, o: CreateOptions = {}): Promise<Service> {
  const config = resolveConfig(cfg);
  const data = new DataDir(config.dataDir);
  await data.init();
  // The S3 store is checked before anything else starts: a wrong key, a missing bucket or an unreachable endpoint is one line.
  const opened = await openObjects(config);
  const { objects } = opened;
  const roots = await resolveRoots(config.allowRoots);
  const work = o.work ?? config.workers > 0;
  const http = o.http !== false;
  const tokens = new TokenCounter();
  // Inputs is made after the backend (it needs the store); the runner asks it through this.
  let inputs: Inputs | undefined;
  const isPinned = (file: string): boolean => inputs?.isPinned(file) ?? false;
  const shared = Boolean(config.redisUrl); // other nodes submit into the same --data
  const makeRunner = (store: JobStore, bus: EventBus): JobWorker =>
    new JobWorker({ config, store, bus, data, tokens, isPinned, shared, objects, storeEndpoint: opened.endpointAddresses });
  const backend = config.redisUrl ? await redisBackend(config, { work, http, makeRunner }) : embeddedBackend(config, { work, http, makeRunner });
  const { store, bus, queue, runner } = backend;
  const uploads = new Uploads({ config, objects, uploads: backend.uploads, store, isPinned, now: o.now ?? Date.now });
  tokens.warm(http); // after the data directory's lock: a second server is refused without the wait
  // What a killed node left: its temporary directories, and (embedded, where nothing else submits) orphan inputs.
  await data.cleanTmp(!config.redisUrl);
  const restoreTemp = useTempRoot(data.nodeTmp());
  inputs = new Inputs({ config, data, store, roots, tokens, objectStore: opened, uploads });
  const holders: Holders = { data, objects, store, isPinned, shared };
  const sweep = sweeper(config, holders, inputs, uploads);

  const health = async (): Promise<Health> => ({
    ...(await backend.health()),
    node: config.nodeName,
    store: store.kind,
    queue: queue.kind,
    objects: objects.where,
    workers: runner ? config.workers : 0,
    running: runner?.active ?? 0,
    uptimeSec: Math.round(process.uptime()),
  });
  const ctx: RouteContext = {
    config,
    data,
    store,
    bus,
    queue,
    objects,
    inputs,
    uploads,
    admit: admission(config, backend),
    health,
    async remove(job) {
      await releaseJob(job, holders);
      await store.remove(job.id);
      await uploads.releasedBy(job.input);
    },
    runningHere: () => runner?.active ?? 0,
    async waitStopped(id, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (runner?.isRunning(id) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    },
  };

  let timer: NodeJS.Timeout | undefined;
  let app: FastifyInstance | undefined;
  const svc: Service = {
    config,
    data,
    store,
    objects,
    bus,
    queue,
    runner,
    app: undefined as unknown as ServiceApp,
    health,
    sweep: () => sweep(),
    async listen() {
      if (!app) throw new OmniprepError('INVALID_OPTION', 'this node was created without an HTTP app');
      return app.listen({ port: config.port, host: config.host });
    },
    async close() {
      clearInterval(timer);
      if (app) await app.close().catch(() => {});
      await runner?.shutdown();
      await backend.close();
      if (runner) await releasePool();
      await tokens.close();
      await inputs.close();
      objects.close();
      restoreTemp();
      await rm(data.nodeTmp(), { recursive: true, force: true });
    },
  };
  if (http) svc.app = app = await buildApp(ctx, o.logger ?? false);

  // Retention: at start (orphans with no grace when this node owns the directory), then every
  // tenth of the retention (at most hourly).
  const every = Math.min(3600_000, Math.max(10_000, (config.retentionHours * 3600_000) / 10));
  timer = setInterval(() => void sweep().catch(() => {}), every);
  timer.unref();
  await sweep(config.redisUrl ? ORPHAN_GRACE_MS : 0).catch(() => {});

  // A node that runs jobs keeps the frame pool open between them (otherwise it closes whenever
  // the last job ends, and the next one pays for starting its threads).
  if (runner) acquirePool();
  await backend.start();
  return svc;
}
