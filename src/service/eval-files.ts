/**
 * An eval's files, DATA/evals/EVAL/ (the record's `outputDir`, so retention and DELETE remove them
 * as a job's outputs): `videos/` (each video linked from the stored input, or downloaded from the
 * S3 store), `needles/` (the copy with code words and its questions), `spec.json` (the questions
 * with their videos' files, the grid, the settings, and each file's client name), `cache/` (the
 * answers by request hash: an attempt after a crash or a restart sends only what is not there), and
 * `evaluation.json` (what `evaluate()` returned, in the client's names) once it has run.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalGrid } from '../eval/grid.js';
import type { Question } from '../eval/questions.js';
import type { Evaluation } from '../eval/report.js';
import type { DataDir } from './data.js';
import { diskFull, ServiceError, storageError } from './errors.js';
import type { EvalSettings } from './eval-task.js';
import type { Renames } from './paths.js';
import type { JobRecord } from './store/types.js';

export interface StoredEval {
  /** Each question's `video` is a file under the eval's folder. */
  questions: Question[];
  grid: EvalGrid;
  settings: EvalSettings;
  /** [file, the client's name] of every video. */
  names: Array<[string, string]>;
}

export const SPEC = 'spec.json';
export const EVALUATION = 'evaluation.json';

export function evalDir(data: DataDir, id: string): string {
  return join(data.root, 'evals', id);
}

/** Writes a file of the eval whole or not at all (a full disk is the 507 line). */
export async function writeEvalFile(dir: string, name: string, value: unknown): Promise<void> {
  const tmp = join(dir, `${name}.part`);
  try {
    await writeFile(tmp, JSON.stringify(value));
    await rename(tmp, join(dir, name));
  } catch (e) {
    await rm(tmp, { force: true });
    const full = diskFull(e);
    throw full ? storageError(full, 'the eval') : e;
  }
}

async function readJson<T>(job: JobRecord, data: DataDir, name: string): Promise<T> {
  try {
    return JSON.parse(await readFile(join(data.abs(job.outputDir), name), 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new ServiceError(
      'JOB_NOT_FOUND',
      `eval ${job.id}: its ${name} is not here (its files were deleted, or this node does not share the --data directory where it was made)`,
    );
  }
}

export function readStoredEval(job: JobRecord, data: DataDir): Promise<StoredEval> {
  return readJson<StoredEval>(job, data, SPEC);
}

export function readEvaluation(job: JobRecord, data: DataDir): Promise<Evaluation> {
  return readJson<Evaluation>(job, data, EVALUATION);
}

/** The server's files in the client's names. */
export function evalRenames(s: StoredEval): Renames {
  return s.names.map(([file, name]) => [file, name] as const);
}
