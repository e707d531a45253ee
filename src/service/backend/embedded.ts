/** The embedded backend: SQLite and an in-process queue and bus, one server per --data directory. */
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OmniprepError } from '../../errors.js';
import { LocalBus } from '../bus.js';
import type { ResolvedConfig } from '../config.js';
import { LocalQueue } from '../queue/local.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Backend, BackendOptions } from './types.js';

/** One server per embedded data directory: a second one would run the same jobs twice. */
export function lockDataDir(dir: string): () => void {
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
    if (alive)
      throw new OmniprepError(
        'INVALID_OPTION',
        `option data: ${dir} is in use by another omniprep server (pid ${pid}); use another --data, or --redis to share work`,
      );
    rmSync(file, { force: true });
    if (!tryLock()) throw new OmniprepError('INVALID_OPTION', `option data: cannot lock ${dir}`);
  }
  return () => rmSync(file, { force: true });
}

export function embeddedBackend(config: ResolvedConfig, o: BackendOptions): Backend {
  const unlock = lockDataDir(config.dataDir);
  let store: SqliteStore;
  try {
    store = new SqliteStore(join(config.dataDir, 'omniprep.db'));
  } catch (e) {
    unlock();
    throw e;
  }
  const bus = new LocalBus();
  const runner = o.makeRunner(store, bus);
  const queue = new LocalQueue(store, runner, o.work ? config.workers : 0);
  return {
    store,
    uploads: store.uploads,
    bus,
    queue,
    runner,
    health: async () => ({ ok: true }),
    start: async () => {
      queue.start();
    },
    close: async () => {
      await queue.close().catch(() => {});
      await bus.close();
      await store.close();
      unlock();
    },
  };
}
