/**
 * A record's events as server-sent events, until it ends: `state` and `progress` as the bus
 * carries them, then the final event `end` names (jobs: `end` with the job; evals: `done`,
 * `failed` or `cancelled` with the eval). Subscribed before the record is read, so no event falls
 * between the two. And the cancel both kinds share.
 */
import type { FastifyReply } from 'fastify';
import type { JobEvent } from '../bus.js';
import type { RouteContext } from '../context.js';
import { TERMINAL, type JobRecord } from '../store/types.js';

export interface EventStream {
  /** The record, or the route's 404. */
  load(id: string): Promise<JobRecord>;
  /** The last event: its name and data, from the record as it ended (undefined when it is gone). */
  end(last: JobRecord | undefined): [string, unknown];
}

export async function streamEvents(svc: RouteContext, reply: FastifyReply, id: string, o: EventStream): Promise<void> {
  const queue: JobEvent[] = [];
  let live = false;
  let closed = false;
  const raw = reply.raw;
  const send = (event: string, data: unknown): void => {
    if (!closed) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  let finish = async (): Promise<void> => {};
  const onEvent = (e: JobEvent): void => {
    if (e.type === 'cancel') return;
    if (!live) {
      queue.push(e);
      return;
    }
    send(e.type, e.type === 'progress' ? e.progress : e);
    if (e.type === 'state' && TERMINAL.has(e.state)) void finish();
  };
  // Subscribe first, then read the job: no event falls between the two.
  const unsubscribe = svc.bus.subscribe(id, onEvent);
  let job: JobRecord;
  try {
    job = await o.load(id);
  } catch (e) {
    unsubscribe();
    throw e;
  }
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const heartbeat = setInterval(() => !closed && raw.write(': keep-alive\n\n'), 15_000);
  heartbeat.unref();
  const end = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    raw.end();
  };
  finish = async (): Promise<void> => {
    const last = await svc.store.get(id).catch(() => undefined);
    send(...o.end(last));
    end();
  };
  raw.on('close', end);
  send('state', { type: 'state', state: job.state, attempts: job.attempts, error: job.error });
  if (job.state === 'running') send('progress', job.progress);
  if (TERMINAL.has(job.state)) return finish();
  live = true;
  for (const e of queue.splice(0)) onEvent(e);
}

/** Cancels a queued or running record (its worker, wherever it runs, stops); a finished one keeps its state. Returns the record as it is then. */
export async function cancelRecord(svc: RouteContext, id: string, load: () => Promise<JobRecord>): Promise<JobRecord> {
  await load(); // the route's 404 first
  const before = await svc.store.cancel(id);
  if (before === 'queued' || before === 'running') {
    await svc.queue.cancel(id);
    await svc.bus.publish(id, { type: 'cancel' });
    await svc.bus.publish(id, { type: 'state', state: 'cancelled' });
    await svc.waitStopped(id);
  }
  return load();
}
