/**
 * Redis going away, as this process sees it. Every connection (the store's, the bus's, BullMQ's
 * queue and worker and the worker's blocking duplicate) reports its errors here, so an outage is one
 * log line when it starts and one when Redis is back, not a stack per connection per retry; the
 * health check and the routes' 503 name its cause.
 */
import type { Redis } from 'ioredis';
import { isOmniprepError } from '../../errors.js';
import { ServiceError } from '../errors.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);
/** ioredis's own words for a connection that cannot carry a command. */
const CONNECTION_TROUBLE = /Connection is closed|Stream isn't writeable|Command timed out|max retries per request|Socket closed unexpectedly/i;
/** The same other error is logged at most once a minute. */
const REPEAT_MS = 60_000;

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, '; ').trim();

/** Whether an error means that Redis cannot be reached (rather than that it refused a command). */
export function connectionTrouble(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && NETWORK_CODES.has(code)) || CONNECTION_TROUBLE.test(messageOf(e));
}

/** What an outage is called before any connection has said why. */
const LOST = 'the connection was lost; reconnecting';

export class RedisOutage {
  /** The URL without its password. */
  readonly url: string;
  /** When a connection was lost (undefined while every connection is up). */
  private downSince: number | undefined;
  /** Whether this outage's line was printed (it waits for the first error, which says why). */
  private logged = false;
  private lastCause: string | undefined;
  private watching = false;
  private readonly said = new Map<string, number>();

  constructor(
    url: string,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.url = url.replace(/\/\/[^@/]*@/, '//***@');
  }

  /** Why Redis cannot be reached, while it cannot (else undefined). */
  get down(): string | undefined {
    return this.downSince === undefined ? undefined : (this.lastCause ?? LOST);
  }

  /** The last connection error seen (for a start-up failure's message). */
  get cause(): string | undefined {
    return this.lastCause;
  }

  /** Outages are logged from now on (before, the start-up check reports what it saw). */
  start(): void {
    this.watching = true;
  }

  /** Routes a connection's events here: 'reconnecting' (lost), 'error' and 'ready'. */
  watch(r: Redis): Redis {
    r.on('reconnecting', () => this.lost());
    r.on('error', (e: unknown) => this.error(e));
    r.on('ready', () => this.ready());
    return r;
  }

  /** A connection closed without being asked to: down from now, said once the first error tells why. */
  private lost(): void {
    if (this.downSince !== undefined || !this.watching) return;
    this.downSince = Date.now();
    this.lastCause = undefined;
  }

  /** A connection's error, BullMQ's queue's or worker's: a connection error opens an outage (one line); another is one line, at most once a minute. */
  error(e: unknown): void {
    const message = messageOf(e);
    if (!connectionTrouble(e)) {
      const last = this.said.get(message);
      if (last !== undefined && Date.now() - last < REPEAT_MS) return;
      this.said.set(message, Date.now());
      if (this.said.size > 100) this.said.delete(this.said.keys().next().value as string);
      this.log(`omniprep: redis ${this.url}: ${message}`);
      return;
    }
    this.lastCause = message;
    if (!this.watching) return;
    this.downSince ??= Date.now();
    if (this.logged) return;
    this.logged = true;
    this.log(`omniprep: redis ${this.url} is down (${message}); requests that need it answer 503 and jobs wait until it is back`);
  }

  /** A connection is ready: an outage, if there was one, is over (a blip no error came from was never said). */
  private ready(): void {
    if (this.downSince === undefined) return;
    const seconds = Math.round((Date.now() - this.downSince) / 100) / 10;
    if (this.logged) this.log(`omniprep: redis ${this.url} is back after ${seconds} s`);
    this.downSince = undefined;
    this.logged = false;
  }

  /** A failed store call as the client sees it: 503 naming Redis when it is a connection error or Redis is down. */
  unavailable(e: unknown): unknown {
    if (e instanceof ServiceError || isOmniprepError(e)) return e;
    if (!connectionTrouble(e) && this.downSince === undefined) return e;
    const cause = this.down ?? LOST;
    return new ServiceError('DEPENDENCY_UNAVAILABLE', `the job store (Redis at ${this.url}) is unavailable: ${cause}; try again shortly`, {
      'retry-after': '5',
    });
  }

  /**
   * The same object, whose methods turn a connection failure into the 503 above (what routes
   * call: the store, the queue; `close` is left as it is).
   */
  guard<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (t, prop, receiver) => {
        const v: unknown = Reflect.get(t, prop, receiver);
        if (typeof v !== 'function' || prop === 'close' || prop === 'constructor') return v;
        return (...args: unknown[]) =>
          Promise.resolve()
            .then(() => (v as (...a: unknown[]) => unknown).apply(t, args))
            .catch((e: unknown) => {
              throw this.unavailable(e);
            });
      },
    });
  }
}
