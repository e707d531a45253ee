/**
 * Worker-thread entry point: tiny and stateless. The pool sends a task and a MessagePort; an
 * `abort` message on the port cancels the task (its ffmpeg child is killed), and the child's pid
 * is reported on the port so the main thread can clean up even if this thread dies.
 */
import type { MessagePort } from 'node:worker_threads';
import sharp from 'sharp';
import { runTask, type Task, type TaskOutcome } from '../src/extract/task.js';

// One image at a time per thread, and no operation cache: memory stays flat over long videos.
sharp.cache(false);
sharp.concurrency(1);

export default async function run({ task, port }: { task: Task; port: MessagePort }): Promise<TaskOutcome> {
  const ac = new AbortController();
  port.on('message', (m: { type?: string }) => {
    if (m?.type === 'abort') ac.abort();
  });
  try {
    return await runTask(task, { signal: ac.signal, onSpawn: (pid) => port.postMessage({ type: 'spawned', pid }) });
  } finally {
    port.close();
  }
}
