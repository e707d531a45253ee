/**
 * Worker-thread entry point of the service's planning threads (src/service/planner.ts): one
 * task, a stored file to probe and plan (src/service/plan-task.ts), or an eval to estimate
 * (src/service/eval-task.ts). An `abort` message on the task's port cancels it (its ffprobe is killed).
 */
import type { MessagePort } from 'node:worker_threads';
import { estimateEval, type EvalTask, type EvalTaskOutcome } from '../src/service/eval-task.js';
import { planStored, type PlanOutcome, type PlanTask } from '../src/service/plan-task.js';

export default async function run({ task, port }: { task: PlanTask | EvalTask; port: MessagePort }): Promise<PlanOutcome | EvalTaskOutcome> {
  const ac = new AbortController();
  port.on('message', (m: { type?: string }) => {
    if (m?.type === 'abort') ac.abort();
  });
  try {
    return 'kind' in task && task.kind === 'eval' ? await estimateEval(task, ac.signal) : await planStored(task as PlanTask, ac.signal);
  } finally {
    port.close();
  }
}
