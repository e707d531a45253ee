/**
 * The Redis backend: state in Redis, the queue in BullMQ, events over pub/sub; any number of nodes.
 *
 * Two kinds of connection. What requests read and write (the routes' store, the health check) fails
 * at once while Redis is down (no offline queue, a command timeout), and the routes answer 503
 * naming Redis. What jobs need (the runner's store, the bus, BullMQ, whose connections must have
 * `maxRetriesPerRequest: null`) waits for Redis to come back, so a running job still records its end.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { OmniprepError } from '../../errors.js';
import { RedisBus } from '../redis-bus.js';
import type { ResolvedConfig } from '../config.js';
import { BullQueue } from '../queue/bullmq.js';
import { RedisStore } from '../store/redis.js';
import { RedisUploads } from '../store/uploads-redis.js';
import { RedisOutage } from './outage.js';
import type { Backend, BackendOptions } from './types.js';

/** The health check's ping: an answer within this, or Redis counts as down. */
const PING_MS = 500;
/** A request's command that gets no answer in this long fails (a connection that went silent). */
const COMMAND_MS = 3000;
const START_MS = 5000;

/** Options of the connection requests use: fail at once while disconnected. */
const FAST: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: COMMAND_MS };
/** Options of the connections jobs use (BullMQ requires maxRetriesPerRequest: null): wait for Redis. */
const PATIENT: RedisOptions = { maxRetriesPerRequest: null };

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(what)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves when the connection is ready; a start-up failure names the URL and what the connection saw. */
async function reachable(r: Redis, outage: RedisOutage): Promise<void> {
  if (r.status === 'ready') return;
  try {
    await within(new Promise((resolve) => r.once('ready', resolve)), START_MS, `no answer in ${START_MS / 1000} s`);
  } catch (e) {
    throw new OmniprepError('INVALID_OPTION', `option redis: cannot reach ${outage.url} (${outage.cause ?? (e as Error).message})`);
  }
}

export async function redisBackend(config: ResolvedConfig, o: BackendOptions): Promise<Backend> {
  const url = config.redisUrl!;
  const outage = new RedisOutage(url);
  const clients: Redis[] = [];
  const connect = (options: RedisOptions = PATIENT): Redis => {
    const r = outage.watch(new Redis(url, { ...options, lazyConnect: false }));
    clients.push(r);
    return r;
  };
  const main = connect(FAST);
  try {
    await reachable(main, outage);
  } catch (e) {
    for (const r of clients) r.disconnect();
    throw e;
  }
  outage.start();
  const store = outage.guard(new RedisStore(main, config.redisPrefix));
  const bus = new RedisBus(connect(), connect(), config.redisPrefix);
  await bus.whenReady();
  const bull = new BullQueue(
    () => connect(),
    store,
    config,
    (e) => outage.error(e),
  );
  const runner = o.work ? o.makeRunner(new RedisStore(connect(), config.redisPrefix), bus) : undefined;
  return {
    store,
    uploads: outage.guard(new RedisUploads(main, config.redisPrefix)),
    bus,
    queue: outage.guard(bull),
    runner,
    health: async () => {
      try {
        await within(main.ping(), PING_MS, `no answer to PING in ${PING_MS} ms`);
        return { ok: true, redis: 'up' };
      } catch (e) {
        // A ping that got no answer on a connection that looks up: say so (a silent network).
        return { ok: false, redis: `down: ${outage.down ?? (e as Error).message}` };
      }
    },
    start: async () => {
      if (runner) bull.work(runner, Math.max(1, config.workers));
      // Jobs the store holds as queued but BullMQ lacks (an API node died between the two writes).
      if (o.http) await bull.reconcile(await store.queuedIds());
    },
    close: async () => {
      await runner?.shutdown();
      await bull.close().catch(() => {});
      await bus.close();
      for (const r of clients) r.disconnect();
    },
  };
}
