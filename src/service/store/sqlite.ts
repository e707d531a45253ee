/**
 * The embedded store: one SQLite file under --data (better-sqlite3, WAL, synchronous=FULL so a
 * committed transition survives kill -9 and power loss). One server owns a data directory at a
 * time (a lock file says which).
 */
import Database from 'better-sqlite3';
import {
  JOB_STATES,
  ZERO_COUNTERS,
  type Counters,
  type FinishOutcome,
  type JobProgress,
  type JobRecord,
  type JobKind,
  type JobState,
  type JobStore,
  type ListOptions,
  holdKey,
} from './types.js';
import { SqliteUploads } from './uploads-sqlite.js';

interface Row {
  id: string;
  kind: JobKind;
  state: JobState;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  attempts: number;
  worker: string | null;
  input: string;
  options: string;
  plan: string;
  progress: string;
  result: string | null;
  error: string | null;
  output_dir: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  worker TEXT,
  input TEXT NOT NULL,
  input_file TEXT NOT NULL,
  options TEXT NOT NULL,
  plan TEXT NOT NULL,
  progress TEXT NOT NULL,
  result TEXT,
  error TEXT,
  output_dir TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created_at);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs(finished_at);
CREATE INDEX IF NOT EXISTS jobs_input ON jobs(input_file);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at, id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value REAL NOT NULL);
`;

function fromRow(r: Row): JobRecord {
  return {
    id: r.id,
    ...(r.kind === 'eval' ? { kind: r.kind } : {}),
    state: r.state,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    attempts: r.attempts,
    worker: r.worker,
    input: JSON.parse(r.input) as JobRecord['input'],
    options: JSON.parse(r.options) as JobRecord['options'],
    plan: JSON.parse(r.plan) as JobRecord['plan'],
    progress: JSON.parse(r.progress) as JobProgress,
    result: r.result ? (JSON.parse(r.result) as JobRecord['result']) : null,
    error: r.error ? (JSON.parse(r.error) as JobRecord['error']) : null,
    outputDir: r.output_dir,
  };
}

export class SqliteStore implements JobStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly stmts;
  /** Upload records, in the same file. */
  readonly uploads: SqliteUploads;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Evals came later: a database made before them gets the column (every row a job).
    if (!(this.db.pragma('table_info(jobs)') as Array<{ name: string }>).some((c) => c.name === 'kind'))
      this.db.exec(`ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'job'`);
    this.uploads = new SqliteUploads(this.db);
    const db = this.db;
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO jobs (id, kind, state, created_at, updated_at, started_at, finished_at, attempts, worker, input, input_file, options, plan, progress, result, error, output_dir)
         VALUES (@id, @kind, @state, @created_at, @updated_at, NULL, NULL, 0, NULL, @input, @input_file, @options, @plan, @progress, NULL, NULL, @output_dir)`,
      ),
      get: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      claim: db.prepare(
        `UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ?, started_at = ?, updated_at = ?, error = NULL
         WHERE id = ? AND state IN ('queued', 'running')`,
      ),
      release: db.prepare(
        `UPDATE jobs SET state = 'queued', updated_at = @now, progress = @progress WHERE id = @id AND state = 'running' AND (@worker IS NULL OR worker = @worker)`,
      ),
      progress: db.prepare(
        `UPDATE jobs SET progress = @progress, updated_at = @now WHERE id = @id AND state = 'running' AND (@worker IS NULL OR worker = @worker)`,
      ),
      finish: db.prepare(`UPDATE jobs SET state = ?, result = ?, error = ?, progress = ?, finished_at = ?, updated_at = ? WHERE id = ? AND state = 'running'`),
      cancel: db.prepare(`UPDATE jobs SET state = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ? AND state IN ('queued', 'running')`),
      counts: db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state'),
      counters: db.prepare('SELECT name, value FROM counters'),
      bump: db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value'),
      expired: db.prepare(`SELECT * FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') AND finished_at < ?`),
      delete: db.prepare('DELETE FROM jobs WHERE id = ?'),
      inputInUse: db.prepare(`SELECT 1 FROM jobs WHERE input_file = ? AND input_file != '' LIMIT 1`),
      releaseInput: db.prepare(`UPDATE jobs SET input_file = '' WHERE id = ?`),
      interrupted: db.prepare(`UPDATE jobs SET state = 'queued', updated_at = ?, progress = ? WHERE state = 'running'`),
      queued: db.prepare(`SELECT id FROM jobs WHERE state = 'queued' ORDER BY created_at, rowid`),
      newest: db.prepare('SELECT * FROM jobs WHERE kind = @kind ORDER BY created_at DESC, id DESC LIMIT @n'),
      newestAfter: db.prepare(
        'SELECT * FROM jobs WHERE kind = @kind AND (created_at < @c OR (created_at = @c AND id < @id)) ORDER BY created_at DESC, id DESC LIMIT @n',
      ),
      remove: db.prepare(`DELETE FROM jobs WHERE id = ? AND state IN ('succeeded', 'failed', 'cancelled')`),
    };
  }

  private bump(c: Partial<Counters>): void {
    for (const [k, v] of Object.entries(c)) if (v) this.stmts.bump.run(k, v);
  }

  async create(job: JobRecord): Promise<void> {
    this.db.transaction(() => {
      this.stmts.insert.run({
        id: job.id,
        kind: job.kind ?? 'job',
        state: job.state,
        created_at: job.createdAt,
        updated_at: job.updatedAt,
        input: JSON.stringify(job.input),
        input_file: holdKey(job.input),
        options: JSON.stringify(job.options),
        plan: JSON.stringify(job.plan),
        progress: JSON.stringify(job.progress),
        output_dir: job.outputDir,
      });
      this.bump({ jobsSubmittedTotal: 1, tokensEstimatedTotal: Number(job.plan.inputTokens) || 0, dollarsEstimatedTotal: Number(job.plan.costUsd) || 0 });
    })();
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const r = this.stmts.get.get(id) as Row | undefined;
    return r && fromRow(r);
  }

  async claim(id: string, worker: string): Promise<JobRecord | undefined> {
    const now = Date.now();
    const changed = this.stmts.claim.run(worker, now, now, id).changes;
    return changed ? this.get(id) : undefined;
  }

  async release(id: string, note: string, worker?: string): Promise<boolean> {
    const p: JobProgress = { stage: 'queued', framesDone: 0, framesTotal: 0, note };
    return this.stmts.release.run({ now: Date.now(), progress: JSON.stringify(p), id, worker: worker ?? null }).changes > 0;
  }

  async progress(id: string, p: JobProgress, worker?: string): Promise<void> {
    this.stmts.progress.run({ progress: JSON.stringify(p), now: Date.now(), id, worker: worker ?? null });
  }

  async finish(id: string, o: FinishOutcome): Promise<boolean> {
    return this.db.transaction(() => {
      const now = Date.now();
      const job = this.stmts.get.get(id) as Row | undefined;
      if (job?.state !== 'running' || (o.worker !== undefined && job.worker !== o.worker)) return false;
      const progress = { ...(JSON.parse(job.progress) as JobProgress), stage: 'done' };
      const changed = this.stmts.finish.run(
        o.state,
        o.result ? JSON.stringify(o.result) : null,
        o.error ? JSON.stringify(o.error) : null,
        JSON.stringify(progress),
        now,
        now,
        id,
      ).changes;
      if (changed) this.bump({ ...o.counters, [o.state === 'succeeded' ? 'jobsSucceededTotal' : 'jobsFailedTotal']: 1 });
      return changed > 0;
    })();
  }

  async cancel(id: string): Promise<JobState | undefined> {
    return this.db.transaction(() => {
      const job = this.stmts.get.get(id) as Row | undefined;
      if (!job) return undefined;
      const now = Date.now();
      if (this.stmts.cancel.run(now, now, id).changes) this.bump({ jobsCancelledTotal: 1 });
      return job.state;
    })();
  }

  async countByState(): Promise<Record<JobState, number>> {
    const out = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const r of this.stmts.counts.all() as Array<{ state: JobState; n: number }>) out[r.state] = r.n;
    return out;
  }

  async counters(): Promise<Counters> {
    const out: Counters = { ...ZERO_COUNTERS };
    for (const r of this.stmts.counters.all() as Array<{ name: keyof Counters; value: number }>) if (r.name in out) out[r.name] = r.value;
    return out;
  }

  async expire(before: number): Promise<JobRecord[]> {
    return this.db.transaction(() => {
      const rows = (this.stmts.expired.all(before) as Row[]).map(fromRow);
      for (const r of rows) this.stmts.delete.run(r.id);
      return rows;
    })();
  }

  async inputInUse(file: string): Promise<boolean> {
    return Boolean(this.stmts.inputInUse.get(file));
  }

  async releaseInput(id: string): Promise<void> {
    this.stmts.releaseInput.run(id);
  }

  async list(o: ListOptions): Promise<JobRecord[]> {
    const kind = o.kind ?? 'job';
    const rows = o.after ? this.stmts.newestAfter.all({ kind, c: o.after.createdAt, id: o.after.id, n: o.limit }) : this.stmts.newest.all({ kind, n: o.limit });
    return (rows as Row[]).map(fromRow);
  }

  async remove(id: string): Promise<boolean> {
    return this.stmts.remove.run(id).changes > 0;
  }

  /** After a crash: running jobs were interrupted; they go back to the queue. Returns every queued id, oldest first. */
  recover(): string[] {
    const p: JobProgress = { stage: 'queued', framesDone: 0, framesTotal: 0, note: 'interrupted by a restart; queued again' };
    this.stmts.interrupted.run(Date.now(), JSON.stringify(p));
    return (this.stmts.queued.all() as Array<{ id: string }>).map((r) => r.id);
  }

  /** Jobs waiting (the bounded queue's depth). */
  queuedCount(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued'`).get() as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
