/**
 * The decoder child process (workers/av.ts runs it; av-pool.ts starts it): loads node-av, says
 * `ready` with its FFmpeg version (or `failed` and exits), then decodes the tasks the parent sends,
 * one at a time, sending each planned frame as rgb24 at the output size, then `done` or `error`. It exits when
 * the parent goes (the IPC channel closes): nothing outlives the process that started it.
 */
import { OmniprepError } from '../errors.js';
import { decodeAvTask, type AvFrame, type NodeAvModule } from './av-decode.js';
import type { FrameTask } from './types.js';

export type ToChild = { type: 'task'; id: number; task: FrameTask };
export type FromChild =
  | { type: 'ready'; version: string }
  | { type: 'failed'; message: string }
  | { type: 'frame'; id: number; frame: AvFrame }
  | { type: 'done'; id: number; decodeMs: number }
  | { type: 'error'; id: number; error: { code: OmniprepError['code']; message: string } };

/** node-av's libraries use Promise.withResolvers (Node 22); Node 20 gets it here before they load. */
function polyfill(): void {
  const P = Promise as unknown as { withResolvers?: () => unknown };
  P.withResolvers ??= () => {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise((a, b) => {
      resolve = a;
      reject = b;
    });
    return { promise, resolve, reject };
  };
}

function send(m: FromChild): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('no parent'));
    process.send(m, undefined, {}, (e) => (e ? reject(e) : resolve()));
  });
}

/** Decodes one task synchronously (see av-decode.ts), sending its frames as they come out. */
async function runTask(av: NodeAvModule, id: number, task: FrameTask): Promise<void> {
  const t0 = performance.now();
  try {
    const sent: Array<Promise<void>> = [];
    decodeAvTask(av, task, (frame) => sent.push(send({ type: 'frame', id, frame })));
    await Promise.all(sent);
    await send({ type: 'done', id, decodeMs: performance.now() - t0 });
  } catch (e) {
    const error =
      e instanceof OmniprepError ? { code: e.code, message: e.message } : { code: 'CORRUPT' as const, message: `${task.input}: ${(e as Error).message}` };
    await send({ type: 'error', id, error });
  }
}

/** The child's life: load, say ready, take tasks in turn until the parent goes. */
export async function serveAvTasks(): Promise<void> {
  process.on('disconnect', () => process.exit(0));
  let av: NodeAvModule;
  try {
    polyfill();
    // The bindings and constants only: the whole package loads ~100 ms longer per child.
    const [lib, constants] = await Promise.all([import('node-av/lib'), import('node-av/constants')]);
    av = { ...lib, ...constants } as NodeAvModule;
    await send({ type: 'ready', version: av.getFFmpegInfo().version });
  } catch (e) {
    await send({ type: 'failed', message: (e as Error).message }).catch(() => {});
    process.exit(1);
  }
  let queue = Promise.resolve();
  process.on('message', (m: ToChild) => {
    queue = queue.then(() => runTask(av, m.id, m.task));
  });
}
