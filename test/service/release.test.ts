/**
 * What a job alone holds is freed: a failed job's stored input, a deleted job's outputs and input.
 * An input another job (or a submission on this node) holds stays.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDir } from '../../src/service/data.js';
import { LocalObjects } from '../../src/service/objects/local.js';
import { releaseInput } from '../../src/service/release.js';
import { SqliteStore } from '../../src/service/store/sqlite.js';
import type { JobRecord } from '../../src/service/store/types.js';
import { fixture } from '../helpers/fixtures.js';
import { queuedJob } from '../helpers/records.js';
import { ownedTempDirs } from '../helpers/temp.js';
import { api, startService, upload, waitFor, waitJob } from '../helpers/service.js';

/** A temp directory removed after the file's tests. */
const dir = ownedTempDirs();

const stored = (data: string): string[] => readdirSync(join(data, 'inputs'));
const outputs = (data: string, id: string): boolean => existsSync(join(data, 'outputs', id));

describe('freeing what a job holds', () => {
  it('DELETE of a finished job removes its outputs, and its input once no other job uses it', async () => {
    const data = dir('svc-data-');
    const s = await startService({ dataDir: data, workers: 1 });
    try {
      const clip = await fixture('audioFirst');
      const [a, b] = await Promise.all([upload(s.url, clip, { every: 2 }), upload(s.url, clip, { every: 1 })]);
      const jobs = await Promise.all([waitJob(s.url, a!.json.id), waitJob(s.url, b!.json.id)]);
      for (const j of jobs) expect(j.state, JSON.stringify(j.error)).toBe('succeeded');
      const [ja, jb] = jobs;
      expect(stored(data)).toHaveLength(1); // the same bytes, stored once
      const del = await api(s.url, 'DELETE', `/v1/jobs/${ja.id}`);
      expect(del.status).toBe(200);
      expect(del.json.state).toBe('succeeded'); // a finished job keeps its state
      expect(outputs(data, ja.id)).toBe(false);
      expect(stored(data)).toHaveLength(1); // job b still uses it
      const frame = await api(s.url, 'GET', `/v1/jobs/${ja.id}/frames/0`);
      expect(frame.status).toBe(404);
      expect(frame.json.error.message).toBe(`job ${ja.id}: no such job (it may have expired)`); // its record went too
      expect(outputs(data, jb.id)).toBe(true);
      expect((await api(s.url, 'DELETE', `/v1/jobs/${jb.id}`)).status).toBe(200);
      expect(outputs(data, jb.id)).toBe(false);
      expect(stored(data)).toEqual([]);
      expect((await api(s.url, 'DELETE', `/v1/jobs/${jb.id}`)).status).toBe(404); // again: no such job
    } finally {
      await s.close();
    }
  });

  it('DELETE of a queued job cancels it and removes its input', async () => {
    const s = await startService({ workers: 0 });
    try {
      const r = await upload(s.url, await fixture('audioFirst'), { every: 2 });
      expect(r.json.state).toBe('queued');
      expect(stored(s.svc.data.root)).toHaveLength(1);
      const del = await api(s.url, 'DELETE', `/v1/jobs/${r.json.id}`);
      expect(del.json.state).toBe('cancelled');
      expect(stored(s.svc.data.root)).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it("a failed job's input goes, unless another job holds it", async () => {
    const data = dir('svc-data-');
    const [long, clip] = await Promise.all([fixture('longgop'), fixture('audioFirst')]);
    // First life: a job that succeeds holds the longgop upload.
    const first = await startService({ dataDir: data, workers: 1 });
    const held = await waitJob(first.url, (await upload(first.url, long, { every: 30 })).json.id);
    await first.close();
    expect(held.state, JSON.stringify(held.error)).toBe('succeeded');
    // Second life, no workers: two more jobs queued, one on the same bytes, one on its own.
    const second = await startService({ dataDir: data, workers: 0 });
    const shared = (await upload(second.url, long, { every: 10 })).json;
    const alone = (await upload(second.url, clip, { every: 2 })).json;
    await second.close();
    expect(stored(data)).toHaveLength(2);
    // Both stored files are damaged on disk (the same sizes, other bytes): both jobs fail for good
    // when they run, since their inputs are not the files that were planned.
    for (const name of stored(data)) {
      const file = join(data, 'inputs', name);
      writeFileSync(file, randomBytes(statSync(file).size));
    }
    const s = await startService({ dataDir: data, workers: 1 });
    try {
      const failed = await Promise.all([waitJob(s.url, shared.id), waitJob(s.url, alone.id)]);
      for (const j of failed) {
        expect(j.state).toBe('failed');
        expect(j.attempts).toBe(1);
        expect(j.error).toMatchObject({
          code: 'CORRUPT',
          message: `${j.input.name}: changed since it was planned (its SHA-256 is not the one planned); plan it again`,
        });
        expect(outputs(data, j.id)).toBe(false);
      }
      // The runner frees the input just after the failure is recorded.
      await waitFor('the lone failed input to go', () => stored(data).length === 1, 10_000);
      expect(stored(data)).toEqual([`${held.input.sha256}.mp4`]); // the job alone on its input freed it
      // The succeeded job still holds the longgop bytes; deleting it frees them (the failed job let go).
      expect((await api(s.url, 'DELETE', `/v1/jobs/${held.id}`)).status).toBe(200);
      expect(stored(data)).toEqual([]);
    } finally {
      await s.close();
    }
  }, 120_000);
});

describe('releaseInput', () => {
  const data = new DataDir(dir('svc-data-'));
  const store = new SqliteStore(join(dir('svc-db-'), 'jobs.db'));
  afterAll(() => store.close());

  const job = async (id: string, file: string, createdAt: number): Promise<JobRecord> => {
    const j = queuedJob(id, file, createdAt);
    await store.create(j);
    return j;
  };

  it('keeps a file a submission holds or one stored again after the job; removes it otherwise', async () => {
    await data.init();
    const file = 'inputs/aa.mp4';
    const abs = join(data.root, file);
    writeFileSync(abs, 'bytes');
    const past = new Date(Date.now() - 60_000);
    utimesSync(abs, past, past);
    const j = await job('j1', file, Date.now() - 30_000);
    let pinned = true;
    const holders = { data, objects: new LocalObjects(data.root), store, isPinned: (f: string) => pinned && f === file, shared: true };
    expect(await releaseInput(j, holders)).toBe(false); // a submission on this node holds it
    expect(await store.inputInUse(file)).toBe(false); // but the job let go of it
    pinned = false;
    utimesSync(abs, new Date(), new Date()); // stored again (another node's submission) since the job was made
    expect(await releaseInput(j, holders)).toBe(false);
    expect(existsSync(abs)).toBe(true);
    utimesSync(abs, past, past);
    expect(await releaseInput(j, holders)).toBe(true);
    expect(existsSync(abs)).toBe(false);
    // Nothing stored (a URL read by ranges), or a file outside --data: nothing is touched.
    expect(await releaseInput(await job('j2', '', Date.now()), holders)).toBe(false);
    const outside = join(dir('svc-elsewhere-'), 'clip.mp4');
    writeFileSync(outside, 'bytes');
    utimesSync(outside, past, past);
    expect(await releaseInput(await job('j3', outside, Date.now()), holders)).toBe(false);
    expect(existsSync(outside)).toBe(true);
  });
});
