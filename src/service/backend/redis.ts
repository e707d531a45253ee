/** The Redis backend: state in Redis, the queue in BullMQ, events over pub/sub; any number of nodes. */
import { Redis } from 'ioredis';
import { OmniprepError } from '../../errors.js';
import { RedisBus } from '../bus.js';
import type { ResolvedConfig } from '../config.js';
import { BullQueue } from '../queue/bullmq.js';
import { RedisStore } from '../store/redis.js';
import type { Backend, BackendOptions } from './types.js';

async function reachable(r: Redis, url: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      r.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer in 5 s')), 5000);
      }),
    ]);
  } catch (e) {
    throw new OmniprepError('INVALID_OPTION', `option redis: cannot reach ${url} (${(e as Error).message})`);
  } finally {
    clearTimeout(timer);
  }
}

export async function redisBackend(config: ResolvedConfig, o: BackendOptions): Promise<Backend> {
  const url = config.redisUrl!;
  const clients: Redis[] = [];
  const connect = (): Redis => {
    const r = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
    r.on('error', () => {
      /* reconnects; /healthz tells */
    });
    clients.push(r);
    return r;
  };
  const main = connect();
  try {
    await reachable(main, url);
  } catch (e) {
    for (const r of clients) r.disconnect();
    throw e;
  }
  const store = new RedisStore(main, config.redisPrefix);
  const bus = new RedisBus(connect(), connect(), config.redisPrefix);
  await bus.whenReady();
  const queue = new BullQueue(connect, store, config);
  const runner = o.work ? o.makeRunner(store, bus) : undefined;
  return {
    store,
    bus,
    queue,
    runner,
    health: async () => ({
      ok: await main.ping().then(
        () => true,
        () => false,
      ),
    }),
    start: async () => {
      if (runner) queue.work(runner, Math.max(1, config.workers));
      // Jobs the store holds as queued but BullMQ lacks (an API node died between the two writes).
      if (o.http) await queue.reconcile(await store.queuedIds());
    },
    close: async () => {
      await runner?.shutdown();
      await queue.close().catch(() => {});
      await bus.close();
      await store.close();
      for (const r of clients) r.disconnect();
    },
  };
}
