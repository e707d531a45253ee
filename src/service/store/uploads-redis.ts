/**
 * Upload records in Redis (scale-out): each a JSON string at PREFIX:upload:ID, the ids by
 * expiry in PREFIX:uploads:expiry, and the ids by their bytes' hash in PREFIX:uploads:sha. Each
 * change is one Lua script, so two API nodes never both add the same bytes or both remove one.
 */
import type { Redis } from 'ioredis';
import type { UploadRecord, UploadStore } from './uploads.js';

/** KEYS: record, sha index, expiry set. ARGV: id, record JSON, sha ('' for none), expiresAt. Returns the kept record's JSON, or nil when added. */
const ADD = `
if ARGV[3] ~= '' then
  local had = redis.call('HGET', KEYS[2], ARGV[3])
  if had then
    local key = string.gsub(KEYS[1], '[^:]+$', '')
    local json = redis.call('GET', key .. had)
    if json then
      local r = cjson.decode(json)
      if tonumber(ARGV[4]) > r.expiresAt then
        r.expiresAt = tonumber(ARGV[4])
        json = cjson.encode(r)
        redis.call('SET', key .. had, json)
        redis.call('ZADD', KEYS[3], r.expiresAt, had)
      end
      return json
    end
  end
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return nil
`;

/** KEYS: record, expiry set. ARGV: id, expiresAt, now. The record's JSON when moved, or nil when gone or expired. */
const TOUCH = `
local json = redis.call('GET', KEYS[1])
if not json then return nil end
local r = cjson.decode(json)
if r.expiresAt < tonumber(ARGV[3]) then return nil end
if tonumber(ARGV[2]) > r.expiresAt then
  r.expiresAt = tonumber(ARGV[2])
  json = cjson.encode(r)
  redis.call('SET', KEYS[1], json)
  redis.call('ZADD', KEYS[2], r.expiresAt, ARGV[1])
end
return json
`;

/** KEYS: record, sha index, expiry set. ARGV: id, expired by. The record's JSON when removed. */
const REMOVE = `
local json = redis.call('GET', KEYS[1])
if not json then return nil end
local r = cjson.decode(json)
if r.expiresAt > tonumber(ARGV[2]) then return nil end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if type(r.sha256) == 'string' and redis.call('HGET', KEYS[2], r.sha256) == ARGV[1] then redis.call('HDEL', KEYS[2], r.sha256) end
return json
`;

/** KEYS: record. ARGV: record JSON. Replaces an existing record. */
const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;

const parse = (json: unknown): UploadRecord | undefined => (typeof json === 'string' ? (JSON.parse(json) as UploadRecord) : undefined);

export class RedisUploads implements UploadStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:upload:${id}`;
  }

  private get sha(): string {
    return `${this.prefix}:uploads:sha`;
  }

  private get expiry(): string {
    return `${this.prefix}:uploads:expiry`;
  }

  async add(u: UploadRecord): Promise<{ upload: UploadRecord; deduplicated: boolean }> {
    const kept = parse(await this.redis.eval(ADD, 3, this.key(u.id), this.sha, this.expiry, u.id, JSON.stringify(u), u.sha256 ?? '', u.expiresAt));
    return kept ? { upload: kept, deduplicated: true } : { upload: u, deduplicated: false };
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    return parse(await this.redis.get(this.key(id)));
  }

  async update(u: UploadRecord): Promise<boolean> {
    const ok = Number(await this.redis.eval(UPDATE, 1, this.key(u.id), JSON.stringify(u))) === 1;
    if (ok) await this.redis.zadd(this.expiry, u.expiresAt, u.id);
    return ok;
  }

  async touch(id: string, expiresAt: number, now: number): Promise<UploadRecord | undefined> {
    return parse(await this.redis.eval(TOUCH, 2, this.key(id), this.expiry, id, expiresAt, now));
  }

  async remove(id: string, expiredBy = Number.MAX_SAFE_INTEGER): Promise<UploadRecord | undefined> {
    return parse(await this.redis.eval(REMOVE, 3, this.key(id), this.sha, this.expiry, id, expiredBy));
  }

  async expired(now: number, limit: number): Promise<UploadRecord[]> {
    const ids = await this.redis.zrangebyscore(this.expiry, '-inf', now, 'LIMIT', 0, limit);
    const out: UploadRecord[] = [];
    for (const id of ids) {
      const u = await this.get(id);
      if (u) out.push(u);
      else await this.redis.zrem(this.expiry, id);
    }
    return out;
  }
}
