/**
 * Upload records (POST /v1/uploads): a file sent once and planned, re-planned and submitted by
 * its id. Uploads through the API are kept by their bytes' SHA-256 (the same bytes twice are one
 * upload); a presigned upload's bytes went straight to the store (no hash). Each expires at
 * `expiresAt` unless a job holds it (`holdKey`: `upload:ID`); the sweeper takes it then. Two
 * stores keep them beside the jobs: SQLite (embedded) and Redis (scale-out).
 */

export interface UploadRecord {
  id: string;
  /** The bytes' SHA-256 (null for a presigned upload: the client sent its bytes to the store). */
  sha256: string | null;
  size: number;
  /** The client's file name. */
  name: string;
  /** Where the bytes are: a key in the object store (the data directory or S3). */
  key: string;
  /** A presigned upload is pending until its bytes are seen in the store. */
  state: 'pending' | 'ready';
  createdAt: number;
  expiresAt: number;
  etag?: string | undefined;
  /** A presigned multipart upload in progress: the store's id for it, and its parts. */
  multipart?: { uploadId: string; partSize: number; parts: number } | undefined;
}

export interface UploadStore {
  /**
   * Adds an upload; when one of the same bytes (sha256) is kept already, that one is answered
   * instead (its expiry moved to the new one's when later) and nothing is added.
   */
  add(u: UploadRecord): Promise<{ upload: UploadRecord; deduplicated: boolean }>;
  get(id: string): Promise<UploadRecord | undefined>;
  /** Replaces a record (a presigned upload seen in the store); false when it is gone. */
  update(u: UploadRecord): Promise<boolean>;
  /** Moves the expiry to `expiresAt` (never earlier) unless the upload expired by `now`: the record, or undefined. */
  touch(id: string, expiresAt: number, now: number): Promise<UploadRecord | undefined>;
  /** Removes the record (with `expiredBy`: only when it expired by then); the record when it went. */
  remove(id: string, expiredBy?: number): Promise<UploadRecord | undefined>;
  /** At most `limit` uploads expired by `now`, oldest expiry first. */
  expired(now: number, limit: number): Promise<UploadRecord[]>;
}
