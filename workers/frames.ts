/**
 * Worker-thread entry point: tiny and stateless, with two named piscina tasks, `frames` and
 * `scene`. The pool sends a task and a MessagePort; an `abort` message on the port cancels the
 * task (its ffmpeg children are killed), and each child's pid is reported on the port so the
 * main thread can clean up even if this thread dies.
 */
import type { MessagePort } from 'node:worker_threads';
import { decodeFrameTask, scoreSceneTask, type FrameTask, type SceneTask, type TaskHooks, type TaskOutcome } from '../src/extract/task.js';

// sharp loads only for a task that needs it (WebP and PNG frames, --dedup), set to one image at a
// time and no operation cache (src/util/sharp.ts).

async function withPort<T>(port: MessagePort, work: (hooks: TaskHooks) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  port.on('message', (m: { type?: string }) => {
    if (m?.type === 'abort') ac.abort();
  });
  try {
    return await work({ signal: ac.signal, onSpawn: (pid) => port.postMessage({ type: 'spawned', pid }) });
  } finally {
    port.close();
  }
}

export function frames({ task, port }: { task: FrameTask; port: MessagePort }): Promise<TaskOutcome> {
  return withPort(port, (hooks) => decodeFrameTask(task, hooks));
}

export function scene({ task, port }: { task: SceneTask; port: MessagePort }): Promise<TaskOutcome> {
  return withPort(port, (hooks) => scoreSceneTask(task, hooks));
}

export default function run({ task, port }: { task: FrameTask | SceneTask; port: MessagePort }): Promise<TaskOutcome> {
  return task.kind === 'frames' ? frames({ task, port }) : scene({ task, port });
}
