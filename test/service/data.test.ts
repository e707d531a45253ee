/**
 * What a killed node leaves behind is removed when a node starts again: its temporary work
 * directories under DATA/tmp (audio cuts go there, not to the system's temp), uploads cut off in
 * flight, and stored inputs that no job uses.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDir } from '../../src/service/data.js';
import { makeTempDir, useTempRoot } from '../../src/util/temp.js';
import { CACHE, fixture, tempDir } from '../helpers/fixtures.js';
import { api, startService, waitJob } from '../helpers/service.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('leftovers of a killed node', () => {
  it("a restart removes the dead node's work directory, stale uploads and orphan inputs, and keeps what jobs use", async () => {
    const data = tempDir('svc-data-');
    // A first life: one job queued (its input is in use), then "killed" (closed; the debris is planted).
    const first = await startService({ dataDir: data, workers: 0, allowRoots: [CACHE] });
    const queued = await api(first.url, 'POST', '/v1/jobs', { path: await fixture('audioFirst'), options: { every: 2 } });
    expect(queued.status).toBe(202);
    await first.close();
    const dead = join(data, 'tmp', `node-${hostname()}-${deadPid()}`);
    mkdirSync(join(dead, 'omniprep-audio-x1'), { recursive: true });
    writeFileSync(join(dead, 'omniprep-audio-x1', 'pcm.raw'), Buffer.alloc(1000));
    writeFileSync(join(data, 'tmp', 'cut-off-upload'), 'partial');
    const orphan = join(data, 'inputs', `${'ab'.repeat(32)}.mp4`);
    writeFileSync(orphan, 'no job uses me');
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(orphan, old, old);
    const inUse = readdirSync(join(data, 'inputs')).filter((f) => !f.startsWith('abab'));
    expect(inUse).toHaveLength(1);

    const second = await startService({ dataDir: data, workers: 1, allowRoots: [CACHE] });
    try {
      expect(readdirSync(join(data, 'tmp'))).toEqual([]);
      expect(existsSync(orphan)).toBe(false);
      expect(readdirSync(join(data, 'inputs'))).toEqual(inUse);
      const job = await waitJob(second.url, queued.json.id, 120_000);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    } finally {
      await second.close();
    }
  }, 180_000);

  it("in a shared directory (Redis mode) only dead processes' directories of this host and old uploads go", async () => {
    const d = new DataDir(tempDir('svc-data-'));
    await d.init();
    const deadDir = join(d.tmp, `node-${hostname()}-${deadPid()}`);
    const liveDir = join(d.tmp, `node-${hostname()}-${process.ppid}`); // a live process
    const otherHost = join(d.tmp, 'node-elsewhere-1');
    for (const dir of [deadDir, liveDir, otherHost]) mkdirSync(dir);
    writeFileSync(join(d.tmp, 'fresh-upload'), 'x');
    writeFileSync(join(d.tmp, 'old-upload'), 'x');
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(d.tmp, 'old-upload'), old, old);
    expect(await d.cleanTmp(false)).toBe(2);
    expect(readdirSync(d.tmp).sort()).toEqual(['fresh-upload', `node-${hostname()}-${process.ppid}`, 'node-elsewhere-1'].sort());
    expect(await d.cleanTmp(true)).toBe(3);
    expect(readdirSync(d.tmp)).toEqual([]);
  });

  it("a node's temporary directories (audio cuts) are made under its data directory", () => {
    const root = join(tempDir('svc-data-'), 'tmp', 'node-x');
    const restore = useTempRoot(root);
    try {
      const t = makeTempDir('omniprep-audio-');
      expect(process.env.OMNIPREP_TMPDIR).toBeUndefined();
      expect(t.path.startsWith(`${root}/omniprep-audio-`)).toBe(true);
      t.remove();
    } finally {
      restore();
    }
    expect(makeTempDir('omniprep-x-').path.startsWith(root)).toBe(false);
  });
});
