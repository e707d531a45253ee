/** Job records made by hand, for tests that drive a store directly. */
import type { JobRecord } from '../../src/service/store/types.js';

/** A queued upload job whose input is the stored `file` (relative to --data; '' for nothing stored). */
export function queuedJob(id: string, file: string, createdAt = 1): JobRecord {
  return {
    id,
    state: 'queued',
    createdAt,
    updatedAt: createdAt,
    startedAt: null,
    finishedAt: null,
    attempts: 0,
    worker: null,
    input: { kind: 'upload', name: 'clip.mp4', file, bytes: 5 },
    options: {} as JobRecord['options'],
    plan: {},
    progress: { stage: 'queued', framesDone: 0, framesTotal: 0 },
    result: null,
    error: null,
    outputDir: `outputs/${id}`,
  };
}
