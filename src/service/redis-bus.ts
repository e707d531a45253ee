/**
 * The event bus across nodes: Redis pub/sub on one channel (`<prefix>:events`), each message fanned
 * out by job id to this process's subscribers.
 */
import type { Redis } from 'ioredis';
import { Fanout, type EventBus, type JobEvent } from './bus.js';

export class RedisBus implements EventBus {
  private readonly fan = new Fanout();
  private readonly channel: string;
  private readonly ready: Promise<unknown>;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    prefix: string,
  ) {
    this.channel = `${prefix}:events`;
    this.sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        const { id, e } = JSON.parse(message) as { id: string; e: JobEvent };
        this.fan.deliver(id, e);
      } catch {
        /* not ours */
      }
    });
    this.ready = this.sub.subscribe(this.channel);
  }

  async publish(id: string, e: JobEvent): Promise<void> {
    await this.ready;
    await this.pub.publish(this.channel, JSON.stringify({ id, e }));
  }
  subscribe(id: string, fn: (e: JobEvent) => void): () => void {
    return this.fan.subscribe(id, fn);
  }
  subscribeAll(fn: (id: string, e: JobEvent) => void): () => void {
    return this.fan.subscribeAll(fn);
  }
  async whenReady(): Promise<void> {
    await this.ready;
  }
  async close(): Promise<void> {
    this.sub.disconnect();
  }
}
