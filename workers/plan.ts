/**
 * Worker-thread entry point of the service's planning threads (src/service/planner.ts): one
 * task, a stored file to probe and plan (src/service/plan-task.ts). An `abort` message on the
 * task's port cancels it (its ffprobe is killed).
 */
import type { MessagePort } from 'node:worker_threads';
import { planStored, type PlanOutcome, type PlanTask } from '../src/service/plan-task.js';

export default async function run({ task, port }: { task: PlanTask; port: MessagePort }): Promise<PlanOutcome> {
  const ac = new AbortController();
  port.on('message', (m: { type?: string }) => {
    if (m?.type === 'abort') ac.abort();
  });
  try {
    return await planStored(task, ac.signal);
  } finally {
    port.close();
  }
}
