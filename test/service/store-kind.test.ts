// Records of two kinds in the SQLite store: a database made before evals gets the kind column on
// open (its rows are jobs), lists are per kind, and remove() drops only a finished record.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/service/store/sqlite.js';
import { queuedRecord, type JobRecord } from '../../src/service/store/types.js';
import { ownedTempDirs } from '../helpers/temp.js';

const dir = ownedTempDirs();

const record = (id: string, createdAt: number, kind?: 'eval'): JobRecord => ({
  ...queuedRecord(id, createdAt),
  ...(kind ? { kind } : {}),
  input: { kind: 'path', name: id, file: '', bytes: 0 },
  options: {},
  plan: {},
  progress: { stage: 'queued', framesDone: 0, framesTotal: 0 },
  result: null,
  error: null,
  outputDir: `outputs/${id}`,
});

describe('the SQLite store with jobs and evals', () => {
  it('opens a database made before evals: its rows are jobs', async () => {
    const file = join(dir('svc-db-old-'), 'omniprep.db');
    const old = new Database(file);
    old.exec(`CREATE TABLE jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      started_at INTEGER, finished_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, worker TEXT, input TEXT NOT NULL,
      input_file TEXT NOT NULL, options TEXT NOT NULL, plan TEXT NOT NULL, progress TEXT NOT NULL, result TEXT, error TEXT, output_dir TEXT NOT NULL)`);
    const j = record('old-job', 1);
    old
      .prepare('INSERT INTO jobs VALUES (?, ?, ?, ?, NULL, NULL, 0, NULL, ?, ?, ?, ?, ?, NULL, NULL, ?)')
      .run(j.id, j.state, 1, 1, JSON.stringify(j.input), '', '{}', '{}', JSON.stringify(j.progress), j.outputDir);
    old.close();
    const store = new SqliteStore(file);
    try {
      expect((await store.list({ limit: 5 })).map((r) => [r.id, r.kind])).toEqual([['old-job', undefined]]);
      expect(await store.list({ limit: 5, kind: 'eval' })).toEqual([]);
      await store.create(record('an-eval', 2, 'eval'));
      expect((await store.list({ limit: 5, kind: 'eval' })).map((r) => [r.id, r.kind])).toEqual([['an-eval', 'eval']]);
      expect((await store.get('an-eval'))?.kind).toBe('eval');
      expect((await store.list({ limit: 5 })).map((r) => r.id)).toEqual(['old-job']);
    } finally {
      await store.close();
    }
  });

  it('remove() drops a finished record only', async () => {
    const store = new SqliteStore(join(dir('svc-db-'), 'omniprep.db'));
    try {
      await store.create(record('e1', 1, 'eval'));
      expect(await store.remove('e1')).toBe(false); // queued
      expect(await store.cancel('e1')).toBe('queued');
      expect(await store.remove('e1')).toBe(true);
      expect(await store.get('e1')).toBeUndefined();
      expect(await store.remove('e1')).toBe(false);
    } finally {
      await store.close();
    }
  });
});
