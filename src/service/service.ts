/**
 * The service: a Fastify app whose routes are plugins (jobs, plan, ops), over a store, a queue,
 * an event bus and a runner. Embedded (default): SQLite and an in-process queue under --data.
 * Scale-out (`redisUrl`): state in Redis, the queue in BullMQ, events over pub/sub; any number
 * of API nodes and workers share them.
 *
 *     const svc = await createService({ dataDir: '/var/lib/omniprep', port: 8080 });
 *     await svc.listen();
 *     ...
 *     await svc.close();
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import pLimit from 'p-limit';
import { Redis } from 'ioredis';
import { isOmniprepError, OmniprepError } from '../errors.js';
import { acquirePool, releasePool } from '../extract/pool.js';
import { plan as makePlan } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { probe } from '../probe/probe.js';
import type { MediaInfo } from '../probe/types.js';
import { LocalBus, RedisBus, type EventBus } from './bus.js';
import { resolveConfig, type ResolvedConfig, type ServiceConfig } from './config.js';
import { DataDir } from './data.js';
import { installErrorHandling, ServiceError } from './errors.js';
import { inputFile, intakePath, intakeUpload, intakeUrl, resolveRoots } from './intake.js';
import { parseJobOptions, toPlanOptions, type JobOptions } from './options.js';
import { BullQueue } from './queue/bullmq.js';
import { LocalQueue } from './queue/local.js';
import type { JobQueue } from './queue/types.js';
import { jobRoutes } from './routes/jobs.js';
import { opsRoutes } from './routes/ops.js';
import { planRoutes } from './routes/plan.js';
import { curveRoutes } from './routes/curve.js';
import { listRoutes } from './routes/list.js';
import { modelRoutes } from './routes/models.js';
import { requestRoutes } from './routes/requests.js';
import { isPageRequest, webPage } from '../web/page.js';
import { JobRunner } from './runner.js';
import { sharedSchemas } from './schemas.js';
import { RedisStore } from './store/redis.js';
import { SqliteStore } from './store/sqlite.js';
import type { JobInput, JobStore } from './store/types.js';

const PROBE_CACHE = 256;

export interface Service {
  readonly config: ResolvedConfig;
  readonly data: DataDir;
  readonly store: JobStore;
  readonly bus: EventBus;
  readonly queue: JobQueue;
  /** This node's runner (undefined on an API node started with workers 0 in Redis mode). */
  readonly runner: JobRunner | undefined;
  app: FastifyInstance;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
  /** Internal, for the routes. */
  readInput(request: FastifyRequest): Promise<{ input: JobInput; options: JobOptions }>;
  planFor(input: JobInput, options: JobOptions): Promise<Plan>;
  checkCallable(options: JobOptions, name: string): void;
  discardInput(input: JobInput): Promise<void>;
  unpin(input: JobInput): void;
  admit(): Promise<() => void>;
  health(): Promise<Record<string, unknown> & { ok: boolean }>;
  waitStopped(id: string, timeoutMs?: number): Promise<void>;
  /** Removes expired jobs and their files now (it also runs on a timer). */
  sweep(): Promise<{ jobs: number; inputs: number }>;
}

/** One server per embedded data directory: a second one would run the same jobs twice. */
function lockDataDir(dir: string): () => void {
  const file = join(dir, 'server.lock');
  const tryLock = (): boolean => {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch {
      return false;
    }
  };
  if (!tryLock()) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    let alive = false;
    try {
      if (pid && pid !== process.pid) {
        process.kill(pid, 0);
        alive = true;
      }
    } catch {
      /* a dead owner (kill -9): the lock is stale */
    }
    if (alive) throw new OmniprepError('INVALID_OPTION', `option data: ${dir} is in use by another omniprep server (pid ${pid}); use another --data, or --redis to share work`);
    rmSync(file, { force: true });
    if (!tryLock()) throw new OmniprepError('INVALID_OPTION', `option data: cannot lock ${dir}`);
  }
  return () => rmSync(file, { force: true });
}

function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Library errors name the file the service stored; clients should see the name they gave. */
function renamed(e: unknown, file: string, name: string): unknown {
  if (!isOmniprepError(e) || file === name || !e.message.includes(file)) return e;
  return new OmniprepError(e.code, e.message.split(file).join(name), { input: name, ...(e.details ? { details: e.details } : {}) });
}

export interface CreateOptions {
  /** Run jobs on this node (default: config.workers > 0). */
  work?: boolean;
  /** Build the HTTP app (default true; `omniprep worker` has none). */
  http?: boolean;
  /** Log requests (default false). */
  logger?: boolean;
}

export async function createService(cfg: ServiceConfig = {}, o: CreateOptions = {}): Promise<Service> {
  const config = resolveConfig(cfg);
  const data = new DataDir(config.dataDir);
  await data.init();
  const roots = await resolveRoots(config.allowRoots);
  const work = o.work ?? config.workers > 0;

  // Store, bus and queue: embedded or Redis.
  let store: JobStore;
  let bus: EventBus;
  let queue: JobQueue;
  let runner: JobRunner | undefined;
  const redisClients: Redis[] = [];
  let unlock = (): void => {};
  let bull: BullQueue | undefined;
  let local: LocalQueue | undefined;
  let redisMain: Redis | undefined;
  if (config.redisUrl) {
    const url = config.redisUrl;
    const connect = (): Redis => {
      const r = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
      r.on('error', () => {
        /* reconnects; /healthz tells */
      });
      redisClients.push(r);
      return r;
    };
    redisMain = connect();
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        redisMain.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer in 5 s')), 5000);
        }),
      ]).finally(() => clearTimeout(timer));
    } catch (e) {
      for (const r of redisClients) r.disconnect();
      throw new OmniprepError('INVALID_OPTION', `option redis: cannot reach ${url} (${(e as Error).message})`);
    }
    const rs = new RedisStore(redisMain, config.redisPrefix);
    store = rs;
    const rbus = new RedisBus(connect(), connect(), config.redisPrefix);
    await rbus.whenReady();
    bus = rbus;
    bull = new BullQueue(connect, rs, config);
    queue = bull;
    if (work) {
      runner = new JobRunner({ config, store, bus, data });
      bull.work(runner, Math.max(1, config.workers));
    }
  } else {
    unlock = lockDataDir(data.root);
    const ss = new SqliteStore(join(data.root, 'omniprep.db'));
    store = ss;
    bus = new LocalBus();
    runner = new JobRunner({ config, store, bus, data });
    local = new LocalQueue(ss, runner, work ? config.workers : 0);
    queue = local;
  }

  // Plans: probes cached by file identity; a few at a time.
  const probes = new Map<string, Promise<MediaInfo>>();
  const planLimit = pLimit(4);
  const probeCached = async (file: string): Promise<MediaInfo> => {
    const st = await stat(file).catch(() => undefined);
    const key = st ? `${file}:${st.size}:${st.mtimeMs}` : file;
    let p = probes.get(key);
    if (!p) {
      p = probe(file, { limits: config.limits });
      probes.set(key, p);
      p.catch(() => probes.delete(key));
      if (probes.size > PROBE_CACHE) probes.delete(probes.keys().next().value as string);
    }
    return p;
  };

  // Inputs being submitted on this node: the sweeper and discardInput leave them alone.
  const pinned = new Map<string, number>();
  const pin = (input: JobInput): void => {
    if (input.kind !== 'path') pinned.set(input.file, (pinned.get(input.file) ?? 0) + 1);
  };
  let submitting = 0;

  const svc: Service = {
    config,
    data,
    store,
    bus,
    queue,
    runner,
    app: undefined as unknown as FastifyInstance,

    async readInput(request) {
      if (request.isMultipart()) {
        let input: JobInput | undefined;
        let rawOptions: string | undefined;
        try {
          for await (const part of request.parts()) {
            if (part.type === 'file') {
              if (part.fieldname !== 'file' || input) {
                part.file.resume();
                throw new ServiceError('BAD_REQUEST', `multipart: one file, in the field "file" (got "${part.fieldname}")`);
              }
              input = await intakeUpload(part.file, part.filename, data, config.maxUploadBytes);
              pin(input);
            } else if (part.fieldname === 'options') {
              rawOptions = String(part.value);
            } else {
              throw new ServiceError('BAD_REQUEST', `multipart: unknown field "${part.fieldname}" (fields: file, options)`);
            }
          }
          if (!input) throw new ServiceError('BAD_REQUEST', 'multipart: no file (send it in the field "file")');
          return { input, options: parseJobOptions(rawOptions) };
        } catch (e) {
          if (input) await svc.discardInput(input);
          const code = (e as { code?: string }).code;
          if (code === 'FST_REQ_FILE_TOO_LARGE') throw new OmniprepError('TOO_LARGE', `the upload is over the ${config.maxUploadBytes}-byte limit`);
          throw e;
        }
      }
      const body = request.body as { path?: string; url?: string; options?: JobOptions } | undefined;
      if (!body || typeof body !== 'object') throw new ServiceError('BAD_REQUEST', 'send JSON { path | url, options } or a multipart upload (file, options)');
      if ((body.path === undefined) === (body.url === undefined)) throw new ServiceError('BAD_REQUEST', 'give exactly one of path or url (or upload the file as multipart/form-data)');
      const options = body.options ?? {};
      const input = body.path !== undefined ? await intakePath(body.path, roots) : await intakeUrl(body.url!, data, config);
      pin(input);
      return { input, options };
    },

    planFor(input, options) {
      const file = inputFile(input, data);
      return planLimit(async () => {
        try {
          const info = await probeCached(file);
          return await makePlan(info, toPlanOptions(options, config.limits));
        } catch (e) {
          throw renamed(e, file, input.name);
        }
      });
    },

    checkCallable(options, name) {
      if (!options.prompt?.trim()) throw new OmniprepError('INVALID_OPTION', `${name}: option prompt: a job with call: true needs a prompt`, { details: { option: 'prompt' } });
      if (!config.apiKey && !process.env.OPENAI_API_KEY) {
        throw new OmniprepError('INVALID_OPTION', `${name}: option call: this server has no API key for the model (start it with OPENAI_API_KEY set)`, { details: { option: 'call' } });
      }
    },

    unpin(input) {
      const n = (pinned.get(input.file) ?? 0) - 1;
      if (n > 0) pinned.set(input.file, n);
      else pinned.delete(input.file);
    },

    async discardInput(input) {
      if (input.kind === 'path') return;
      svc.unpin(input);
      if (pinned.has(input.file) || (await store.inputInUse(input.file))) return;
      await rm(inputFile(input, data), { force: true });
    },

    async admit() {
      const depth = (await queue.depth()) + submitting;
      if (depth >= config.queueLimit) {
        const workers = Math.max(1, runner ? config.workers : 1);
        const wait = Math.min(600, Math.max(1, Math.ceil(((runner?.meanJobSeconds() ?? 5) * (depth - config.queueLimit + 1)) / workers)));
        throw new ServiceError('QUEUE_FULL', `the queue is full (${depth} of ${config.queueLimit} jobs waiting); try again in ${wait} s`, { 'retry-after': String(wait) });
      }
      submitting++;
      let released = false;
      return () => {
        if (!released) submitting--;
        released = true;
      };
    },

    async health() {
      let storeOk = true;
      if (redisMain) storeOk = await redisMain.ping().then(() => true, () => false);
      return {
        ok: storeOk,
        node: config.nodeName,
        store: store.kind,
        queue: queue.kind,
        workers: runner ? config.workers : 0,
        running: runner?.active ?? 0,
        uptimeSec: Math.round(process.uptime()),
      };
    },

    async waitStopped(id, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (runner?.isRunning(id) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    },

    async sweep() {
      const expired = await store.expire(Date.now() - config.retentionHours * 3600_000);
      let inputs = 0;
      for (const job of expired) {
        await rm(data.abs(job.outputDir), { recursive: true, force: true });
        if (job.input.kind !== 'path' && !pinned.has(job.input.file) && !(await store.inputInUse(job.input.file))) {
          await rm(inputFile(job.input, data), { force: true });
          inputs++;
        }
      }
      return { jobs: expired.length, inputs };
    },

    async listen() {
      if (!svc.app) throw new OmniprepError('INVALID_OPTION', 'this node was created without an HTTP app');
      return svc.app.listen({ port: config.port, host: config.host });
    },

    async close() {
      clearInterval(sweeper);
      if (svc.app) await svc.app.close().catch(() => {});
      await runner?.shutdown();
      await queue.close().catch(() => {});
      if (runner) await releasePool();
      await bus.close();
      await store.close();
      for (const r of redisClients) r.disconnect();
      unlock();
    },
  };

  if (o.http !== false) svc.app = await buildApp(svc, o.logger ?? false);

  // Retention: at start, then every tenth of the retention (at most hourly).
  const sweepEvery = Math.min(3600_000, Math.max(10_000, (config.retentionHours * 3600_000) / 10));
  const sweeper = setInterval(() => void svc.sweep().catch(() => {}), sweepEvery);
  sweeper.unref();
  await svc.sweep().catch(() => {});

  // A node that runs jobs keeps the frame pool open between them (otherwise it closes whenever
  // the last job ends, and the next one pays for starting its threads).
  if (runner) acquirePool();
  if (local) local.start();
  if (bull && o.http !== false && config.redisUrl) {
    const queued = await (store as RedisStore).queuedIds();
    await bull.reconcile(queued);
  }
  return svc;
}

async function buildApp(svc: Service, logger: boolean): Promise<FastifyInstance> {
  const { config } = svc;
  const app = Fastify({
    logger,
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
    // strictTypes off: the multipart schema documents fields without validating (the body is a stream).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false, strictTypes: false } },
    // One line naming the field and the rule (and the unknown property, which Ajv leaves out).
    schemaErrorFormatter: (errors, dataVar) => {
      const e = errors[0];
      const where = `${dataVar}${(e?.instancePath ?? '').replace(/\//g, '.')}`;
      const extra = e?.keyword === 'additionalProperties' ? `: ${String((e.params as { additionalProperty?: string }).additionalProperty)}` : '';
      return new Error(`${where} ${e?.message ?? 'is invalid'}${extra}`);
    },
  });
  installErrorHandling(app);
  await app.register(swagger, {
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: { title: 'omniprep service', version: '1', description: 'Video, audio and images into the cheapest correct requests for multimodal models.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      ...(config.token ? { security: [{ bearer: [] }] } : {}),
    },
  });
  for (const s of sharedSchemas) app.addSchema(s);
  await app.register(multipart, { limits: { fileSize: config.maxUploadBytes, files: 1, fields: 8, fieldSize: 1024 * 1024, parts: 10 } });

  if (config.token) {
    const token = config.token;
    app.addHook('onRequest', async (request, reply) => {
      if (request.url === '/healthz' || isPageRequest(request)) return;
      const h = request.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(h);
      if (!m || !sameToken(m[1]!.trim(), token)) {
        void reply;
        throw new ServiceError('UNAUTHORIZED', m ? 'the bearer token is wrong' : 'a bearer token is required (Authorization: Bearer TOKEN)', { 'www-authenticate': 'Bearer' });
      }
    });
  }
  await app.register(jobRoutes, { svc });
  await app.register(planRoutes, { svc });
  await app.register(opsRoutes, { svc });
  await app.register(listRoutes, { svc });
  await app.register(curveRoutes, { svc });
  await app.register(modelRoutes, { svc });
  await app.register(requestRoutes, { svc });
  await app.register(webPage);
  await app.ready();
  return app;
}
