/** Upload records in the embedded SQLite file (beside the jobs). */
import type Database from 'better-sqlite3';
import type { UploadRecord, UploadStore } from './uploads.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY,
  sha256 TEXT UNIQUE,
  expires_at INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_expiry ON uploads(expires_at);
`;

type Row = { record: string; expires_at: number };
const fromRow = (r: Row): UploadRecord => ({ ...(JSON.parse(r.record) as UploadRecord), expiresAt: r.expires_at });

export class SqliteUploads implements UploadStore {
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.stmts = {
      insert: db.prepare('INSERT INTO uploads (id, sha256, expires_at, record) VALUES (?, ?, ?, ?)'),
      get: db.prepare('SELECT * FROM uploads WHERE id = ?'),
      bySha: db.prepare('SELECT * FROM uploads WHERE sha256 = ?'),
      update: db.prepare('UPDATE uploads SET sha256 = ?, expires_at = ?, record = ? WHERE id = ?'),
      extend: db.prepare('UPDATE uploads SET expires_at = MAX(expires_at, ?) WHERE id = ? AND expires_at >= ?'),
      remove: db.prepare('DELETE FROM uploads WHERE id = ? AND expires_at <= ?'),
      expired: db.prepare('SELECT * FROM uploads WHERE expires_at <= ? ORDER BY expires_at LIMIT ?'),
    };
  }

  async add(u: UploadRecord): Promise<{ upload: UploadRecord; deduplicated: boolean }> {
    return this.db.transaction(() => {
      const had = u.sha256 ? (this.stmts.bySha.get(u.sha256) as Row | undefined) : undefined;
      if (had) {
        const kept = fromRow(had);
        this.stmts.extend.run(u.expiresAt, kept.id, Number.MIN_SAFE_INTEGER);
        return { upload: { ...kept, expiresAt: Math.max(kept.expiresAt, u.expiresAt) }, deduplicated: true };
      }
      this.stmts.insert.run(u.id, u.sha256, u.expiresAt, JSON.stringify(u));
      return { upload: u, deduplicated: false };
    })();
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    const r = this.stmts.get.get(id) as Row | undefined;
    return r && fromRow(r);
  }

  async update(u: UploadRecord): Promise<boolean> {
    return this.stmts.update.run(u.sha256, u.expiresAt, JSON.stringify(u), u.id).changes > 0;
  }

  async touch(id: string, expiresAt: number, now: number): Promise<UploadRecord | undefined> {
    if (!this.stmts.extend.run(expiresAt, id, now).changes) return undefined;
    const r = this.stmts.get.get(id) as Row | undefined;
    return r && fromRow(r);
  }

  async remove(id: string, expiredBy = Number.MAX_SAFE_INTEGER): Promise<UploadRecord | undefined> {
    return this.db.transaction(() => {
      const r = this.stmts.get.get(id) as Row | undefined;
      return r && this.stmts.remove.run(id, expiredBy).changes ? fromRow(r) : undefined;
    })();
  }

  async expired(now: number, limit: number): Promise<UploadRecord[]> {
    return (this.stmts.expired.all(now, limit) as Row[]).map(fromRow);
  }
}
