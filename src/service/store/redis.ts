/**
 * The shared store for scale-out: every job is a Redis hash, so any API node answers for any job
 * and workers on other machines need no shared database. Transitions are one Lua script each
 * (check the state, write, move the id between per-state sets), so they are atomic across nodes.
 * A single Redis (or a primary with replicas); not Redis Cluster (the script touches keys it names).
 */
import type { Redis } from 'ioredis';
import {
  JOB_STATES,
  TERMINAL,
  ZERO_COUNTERS,
  type Counters,
  type FinishOutcome,
  type JobProgress,
  type JobRecord,
  type JobState,
  type JobStore,
  type ListOptions,
  holdKey,
} from './types.js';

/**
 * KEYS[1] the job hash. ARGV: prefix, id, allowed states (comma-separated), new state,
 * attempts increment, the worker that must own the job ('' for any), then field/value pairs.
 * Returns {changed, previous state}, or nil.
 */
const TRANSITION = `
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return nil end
local ok = false
for s in string.gmatch(ARGV[3], '[^,]+') do if s == cur then ok = true end end
if not ok then return {0, cur} end
if ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'worker') ~= ARGV[6] then return {0, cur} end
if #ARGV > 6 then redis.call('HSET', KEYS[1], unpack(ARGV, 7)) end
redis.call('HSET', KEYS[1], 'state', ARGV[4])
if ARGV[5] ~= '0' then redis.call('HINCRBY', KEYS[1], 'attempts', tonumber(ARGV[5])) end
if cur ~= ARGV[4] then
  redis.call('SMOVE', ARGV[1] .. ':state:' .. cur, ARGV[1] .. ':state:' .. ARGV[4], ARGV[2])
end
if ARGV[4] == 'succeeded' or ARGV[4] == 'failed' or ARGV[4] == 'cancelled' then
  redis.call('ZADD', ARGV[1] .. ':finished', redis.call('HGET', KEYS[1], 'finishedAt'), ARGV[2])
end
return {1, cur}
`;

/**
 * KEYS[1] the job hash, KEYS[2] the input reference counts. The job stops counting as a holder of
 * its input, once (the `inputReleased` field). Returns the holders left, or -1 when nothing changed.
 */
const RELEASE_INPUT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[1], 'inputReleased', '1') == 0 then return -1 end
local file = redis.call('HGET', KEYS[1], 'hold')
if not file then file = cjson.decode(redis.call('HGET', KEYS[1], 'input') or '{}').file end
if not file or file == '' then return -1 end
local n = redis.call('HINCRBY', KEYS[2], file, -1)
if n <= 0 then redis.call('HDEL', KEYS[2], file) end
return n
`;

/** KEYS[1] the job hash. ARGV: prefix, id. A finished record and its index entries go; 1 when it did. */
const REMOVE = `
local cur = redis.call('HGET', KEYS[1], 'state')
if cur ~= 'succeeded' and cur ~= 'failed' and cur ~= 'cancelled' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. ':state:' .. cur, ARGV[2])
redis.call('ZREM', ARGV[1] .. ':created', ARGV[2])
redis.call('ZREM', ARGV[1] .. ':finished', ARGV[2])
return 1
`;

type Fields = Record<string, string>;

function toFields(j: JobRecord): Fields {
  return {
    id: j.id,
    kind: j.kind ?? 'job',
    state: j.state,
    createdAt: String(j.createdAt),
    updatedAt: String(j.updatedAt),
    startedAt: j.startedAt === null ? '' : String(j.startedAt),
    finishedAt: j.finishedAt === null ? '' : String(j.finishedAt),
    attempts: String(j.attempts),
    worker: j.worker ?? '',
    input: JSON.stringify(j.input),
    options: JSON.stringify(j.options),
    plan: JSON.stringify(j.plan),
    progress: JSON.stringify(j.progress),
    result: j.result ? JSON.stringify(j.result) : '',
    error: j.error ? JSON.stringify(j.error) : '',
    outputDir: j.outputDir,
    hold: holdKey(j.input),
  };
}

function fromFields(f: Fields): JobRecord {
  const n = (s: string | undefined): number | null => (s ? Number(s) : null);
  return {
    id: f.id!,
    ...(f.kind === 'eval' ? { kind: 'eval' as const } : {}),
    state: f.state as JobState,
    createdAt: Number(f.createdAt),
    updatedAt: Number(f.updatedAt),
    startedAt: n(f.startedAt),
    finishedAt: n(f.finishedAt),
    attempts: Number(f.attempts ?? 0),
    worker: f.worker || null,
    input: JSON.parse(f.input!) as JobRecord['input'],
    options: JSON.parse(f.options!) as JobRecord['options'],
    plan: JSON.parse(f.plan!) as JobRecord['plan'],
    progress: JSON.parse(f.progress!) as JobProgress,
    result: f.result ? (JSON.parse(f.result) as JobRecord['result']) : null,
    error: f.error ? (JSON.parse(f.error) as JobRecord['error']) : null,
    outputDir: f.outputDir!,
  };
}

export class RedisStore implements JobStore {
  readonly kind = 'redis' as const;
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:job:${id}`;
  }

  private async transition(
    id: string,
    from: JobState[],
    to: JobState,
    attempts: number,
    fields: Fields = {},
    owner = '',
  ): Promise<{ changed: boolean; previous: JobState } | undefined> {
    const args = Object.entries({ ...fields, updatedAt: String(Date.now()) }).flat();
    const r = (await this.redis.eval(TRANSITION, 1, this.key(id), this.prefix, id, from.join(','), to, String(attempts), owner, ...args)) as
      | [number, string]
      | null;
    return r ? { changed: r[0] === 1, previous: r[1] as JobState } : undefined;
  }

  private async bump(c: Partial<Counters>): Promise<void> {
    const m = this.redis.multi();
    for (const [k, v] of Object.entries(c)) if (v) m.hincrbyfloat(`${this.prefix}:counters`, k, v);
    await m.exec();
  }

  async create(job: JobRecord): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(job.id), toFields(job))
      .sadd(`${this.prefix}:state:${job.state}`, job.id)
      .zadd(`${this.prefix}:created`, job.createdAt, job.id)
      .hincrby(`${this.prefix}:inputrefs`, holdKey(job.input), 1)
      .exec();
    await this.bump({ jobsSubmittedTotal: 1, tokensEstimatedTotal: Number(job.plan.inputTokens) || 0, dollarsEstimatedTotal: Number(job.plan.costUsd) || 0 });
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const f = await this.redis.hgetall(this.key(id));
    return f?.id ? fromFields(f) : undefined;
  }

  async claim(id: string, worker: string): Promise<JobRecord | undefined> {
    const r = await this.transition(id, ['queued', 'running'], 'running', 1, { worker, startedAt: String(Date.now()), error: '' });
    return r?.changed ? this.get(id) : undefined;
  }

  async release(id: string, note: string, worker?: string): Promise<boolean> {
    const p: JobProgress = { stage: 'queued', framesDone: 0, framesTotal: 0, note };
    return Boolean((await this.transition(id, ['running'], 'queued', 0, { progress: JSON.stringify(p) }, worker))?.changed);
  }

  async progress(id: string, p: JobProgress, worker?: string): Promise<void> {
    await this.transition(id, ['running'], 'running', 0, { progress: JSON.stringify(p) }, worker);
  }

  async finish(id: string, o: FinishOutcome): Promise<boolean> {
    const job = await this.get(id);
    if (!job) return false;
    const r = await this.transition(
      id,
      ['running'],
      o.state,
      0,
      {
        result: o.result ? JSON.stringify(o.result) : '',
        error: o.error ? JSON.stringify(o.error) : '',
        progress: JSON.stringify({ ...job.progress, stage: 'done' }),
        finishedAt: String(Date.now()),
      },
      o.worker,
    );
    if (!r?.changed) return false;
    await this.bump({ ...o.counters, [o.state === 'succeeded' ? 'jobsSucceededTotal' : 'jobsFailedTotal']: 1 });
    return true;
  }

  async cancel(id: string): Promise<JobState | undefined> {
    const r = await this.transition(id, ['queued', 'running'], 'cancelled', 0, { finishedAt: String(Date.now()) });
    if (r?.changed) await this.bump({ jobsCancelledTotal: 1 });
    return r?.previous;
  }

  async countByState(): Promise<Record<JobState, number>> {
    const m = this.redis.multi();
    for (const s of JOB_STATES) m.scard(`${this.prefix}:state:${s}`);
    const res = (await m.exec()) ?? [];
    return Object.fromEntries(JOB_STATES.map((s, i) => [s, Number(res[i]?.[1] ?? 0)])) as Record<JobState, number>;
  }

  async counters(): Promise<Counters> {
    const h = await this.redis.hgetall(`${this.prefix}:counters`);
    const out: Counters = { ...ZERO_COUNTERS };
    for (const k of Object.keys(out) as Array<keyof Counters>) if (h[k]) out[k] = Number(h[k]);
    return out;
  }

  async expire(before: number): Promise<JobRecord[]> {
    const ids = await this.redis.zrangebyscore(`${this.prefix}:finished`, '-inf', `(${before}`);
    const out: JobRecord[] = [];
    for (const id of ids) {
      // The node whose ZREM removes the id deletes the job: two API nodes never both do.
      if (!(await this.redis.zrem(`${this.prefix}:finished`, id))) continue;
      const job = await this.get(id);
      if (!job) continue;
      await this.releaseInput(id);
      await this.redis.multi().del(this.key(id)).srem(`${this.prefix}:state:${job.state}`, id).zrem(`${this.prefix}:created`, id).exec();
      out.push(job);
    }
    return out;
  }

  async inputInUse(file: string): Promise<boolean> {
    return Number(await this.redis.hget(`${this.prefix}:inputrefs`, file)) > 0;
  }

  async releaseInput(id: string): Promise<void> {
    await this.redis.eval(RELEASE_INPUT, 2, this.key(id), `${this.prefix}:inputrefs`);
  }

  /**
   * Newest first from the `created` sorted set (score: created time; equal scores come in
   * descending id order, as SQLite sorts them).
   */
  async list(o: ListOptions): Promise<JobRecord[]> {
    const key = `${this.prefix}:created`;
    if (!o.after) await this.indexOlderJobs();
    const out: JobRecord[] = [];
    const batch = o.limit + 16;
    let offset = 0;
    while (out.length < o.limit) {
      const r = await this.redis.zrevrangebyscore(key, o.after ? String(o.after.createdAt) : '+inf', '-inf', 'WITHSCORES', 'LIMIT', offset, batch);
      const ids: string[] = [];
      for (let i = 0; i + 1 < r.length; i += 2) {
        const id = r[i]!;
        // Equal created times: only the ids after the cursor's.
        if (o.after && Number(r[i + 1]) === o.after.createdAt && id >= o.after.id) continue;
        ids.push(id);
      }
      if (ids.length) {
        const m = this.redis.multi();
        for (const id of ids) m.hgetall(this.key(id));
        for (const [err, f] of (await m.exec()) ?? []) {
          // A job another node expired since the range was read is left out.
          // Jobs and evals share the index: a page holds the kind asked for (a record from before evals is a job).
          const fields = f as Fields;
          if (!err && fields?.id && (fields.kind || 'job') === (o.kind ?? 'job') && out.length < o.limit) out.push(fromFields(fields));
        }
      }
      offset += r.length / 2;
      if (r.length / 2 < batch) break;
    }
    return out;
  }

  async remove(id: string): Promise<boolean> {
    // A finished state is final: the input's hold goes first (its script needs the record), then the record.
    const state = await this.redis.hget(this.key(id), 'state');
    if (!state || !TERMINAL.has(state as JobState)) return false;
    await this.releaseInput(id);
    return Number(await this.redis.eval(REMOVE, 1, this.key(id), this.prefix, id)) === 1;
  }

  /** Jobs created before the `created` index existed are added to it once. */
  private async indexOlderJobs(): Promise<void> {
    const key = `${this.prefix}:created`;
    const m = this.redis.multi().zcard(key);
    for (const s of JOB_STATES) m.scard(`${this.prefix}:state:${s}`);
    const res = (await m.exec()) ?? [];
    const counts = res.map(([, n]) => Number(n ?? 0));
    const total = counts.slice(1).reduce((a, b) => a + b, 0);
    if (counts[0]! >= total) return;
    for (const s of JOB_STATES) {
      const ids = await this.redis.smembers(`${this.prefix}:state:${s}`);
      if (!ids.length) continue;
      const created = await Promise.all(ids.map((id) => this.redis.hget(this.key(id), 'createdAt')));
      const args: Array<string | number> = [];
      ids.forEach((id, i) => {
        if (created[i]) args.push(Number(created[i]), id);
      });
      if (args.length) await this.redis.zadd(key, 'NX', ...args);
    }
  }

  async queuedIds(): Promise<string[]> {
    return this.redis.smembers(`${this.prefix}:state:queued`);
  }

  async queuedCount(): Promise<number> {
    return this.redis.scard(`${this.prefix}:state:queued`);
  }

  async close(): Promise<void> {
    /* the connection belongs to the caller */
  }
}
