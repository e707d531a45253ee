/**
 * The built CLI as a server process (run `npm run build` first): kill -9 while jobs run, restart
 * on the same --data, and every job finishes; one server per data directory; SIGTERM hands
 * running jobs back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CACHE, fixture, readFrameNumber, tempDir } from '../helpers/fixtures.js';
import { api, decoders, spawnNode, waitFor, waitJob, type CliNode } from '../helpers/service.js';

const nodes: CliNode[] = [];
afterAll(() => {
  for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
});

async function serve(data: string, extra: string[] = []): Promise<CliNode & { url: string }> {
  const n = await spawnNode(['serve', '--port', '0', '--data', data, '--allow-root', CACHE, '--workers', '2', ...extra]);
  nodes.push(n);
  await waitFor('/healthz', async () => (await api(n.url!, 'GET', '/healthz').catch(() => ({ status: 0 }))).status === 200, 30_000);
  return n as CliNode & { url: string };
}

describe('omniprep serve as a process', () => {
  it('kill -9 while jobs run, restart on the same --data: every job finishes, finished ones are still served', async () => {
    const data = tempDir('svc-crash-');
    // 60 s, 30 fps, keyframes every 10 s: an exact frame every half second takes each job a while,
    // so two of them are seen running together on a busy machine too (20 s clips could all finish
    // between two looks).
    const clip = await fixture('longgop');
    const first = await serve(data);

    // One quick job that finishes before the crash, then eight that take a while (exact frames).
    const early = await api(first.url, 'POST', '/v1/jobs', { path: clip, options: { every: 10 } });
    expect(early.status).toBe(202);
    expect((await waitJob(first.url, early.json.id)).state).toBe('succeeded');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await api(first.url, 'POST', '/v1/jobs', { path: clip, options: { every: 0.5 + i / 100, mode: 'exact' } });
      expect(r.status, r.text).toBe(202);
      ids.push(r.json.id);
    }
    // A second server on the same data directory is refused while the first lives.
    await expect(spawnNode(['serve', '--port', '0', '--data', data])).rejects.toThrow(/is in use by another omniprep server/);

    // Crash while two jobs run (one-pass decoding writes a short clip's frames in a burst, so
    // frames written is not waited for: a running job is mid-work either way).
    await waitFor(
      'two running jobs',
      async () => {
        const states = await Promise.all(ids.map((id) => api(first.url, 'GET', `/v1/jobs/${id}`)));
        return states.filter((s) => s.json.state === 'running').length >= 2;
      },
      120_000,
      20,
    );
    const before = await Promise.all(ids.map(async (id) => (await api(first.url, 'GET', `/v1/jobs/${id}`)).json.state as string));
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(before.filter((s) => s === 'running').length).toBeGreaterThanOrEqual(2);
    expect(before.filter((s) => s === 'succeeded').length).toBeLessThan(ids.length);
    // Its ffmpeg children lose their pipe and end.
    await waitFor("the dead server's children to end", () => decoders(first.child.pid!).length === 0, 10_000);

    const second = await serve(data);
    const jobs = await Promise.all(ids.map((id) => waitJob(second.url, id, 300_000)));
    jobs.forEach((j, i) => {
      expect(j.state, JSON.stringify(j.error)).toBe('succeeded');
      expect(j.result.frames).toBe(j.plan.frames);
      // Each job ran once, or twice when the crash interrupted it (the snapshot was taken a few
      // milliseconds before the kill, so a job seen running may just have finished).
      expect(j.attempts).toBeGreaterThanOrEqual(1);
      expect(j.attempts).toBeLessThanOrEqual(before[i] === 'succeeded' ? 1 : 2);
    });
    const crashed = jobs.find((j) => j.attempts === 2);
    expect(crashed, 'a job the crash interrupted').toBeDefined();
    expect(crashed!.progress.framesDone).toBe(crashed!.plan.frames);
    // Frames of an interrupted job are complete and right.
    const manifest = (await api(second.url, 'GET', `/v1/jobs/${crashed!.id}/manifest`)).json;
    expect(manifest.frames.frames).toHaveLength(crashed!.plan.frames);
    for (const f of manifest.frames.frames.filter((_: unknown, k: number) => k % 7 === 0)) {
      const bytes = Buffer.from(await (await fetch(`${second.url}/v1/jobs/${crashed!.id}/frames/${f.index}`)).arrayBuffer());
      expect(await readFrameNumber(bytes)).toBe(Math.round(f.timestampSec * 30));
    }
    // The job that had finished before the crash is still served.
    const old = await api(second.url, 'GET', `/v1/jobs/${early.json.id}`);
    expect(old.json).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect((await fetch(`${second.url}/v1/jobs/${early.json.id}/frames/0`)).status).toBe(200);
    const metrics = (await api(second.url, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^omniprep_jobs\{state="succeeded"\} 9$/m);

    // SIGTERM: a graceful stop, exit 143, and the data directory is free again.
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe('143');
    const third = await serve(data);
    expect((await api(third.url, 'GET', `/v1/jobs/${early.json.id}`)).json.state).toBe('succeeded');
    third.child.kill('SIGTERM');
    await third.exited;
  }, 400_000); // three server starts and nine jobs: minutes on a loaded machine
});
