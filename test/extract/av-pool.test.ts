/**
 * The node-av decoder's child processes: a child killed mid-task fails its task in one line
 * naming the input and is replaced; nothing is left behind, neither after closing the pool nor
 * when the calling process simply ends; a decoder name that does not exist is refused.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { avPoolPids, closeAvPool } from '../../src/extract/av-pool.js';
import { sample } from '../../src/sample/sample.js';
import { fixture, readFrameNumber, tempDir } from '../helpers/fixtures.js';
import { join } from 'node:path';
import { alive, gone } from '../helpers/processes.js';

afterAll(() => closeAvPool());

describe('the node-av decoder processes', () => {
  it('a child SIGKILLed mid-task fails the run in one line naming the input; the next run gets a fresh child', async () => {
    const input = await fixture('longgop');
    const killed: number[] = [];
    const err = await sample(input, {
      out: tempDir('av-kill-'),
      mode: 'exact',
      every: 0.5,
      decoder: 'node-av',
      onFrame: () => {
        if (killed.length) return;
        killed.push(...avPoolPids());
        for (const pid of killed) process.kill(pid, 'SIGKILL');
      },
    })
      .manifest()
      .catch((e: unknown) => e);
    expect(killed.length).toBeGreaterThan(0);
    expect(err).toMatchObject({ code: 'PROCESS_FAILED', input });
    expect((err as Error).message).toBe(`${input}: the node-av decoder process died (SIGKILL) decoding it; it was restarted`);
    expect(await gone(killed)).toBe(true);

    const out = tempDir('av-after-');
    const m = await sample(input, { out, mode: 'exact', every: 7, decoder: 'node-av' }).manifest();
    expect(Object.keys(m.timings.decodePaths)).toEqual(['node-av']);
    expect(await Promise.all(m.frames.map((f) => readFrameNumber(join(out, f.file))))).toEqual(m.frames.map((f) => Math.round(f.timestampSec * 30)));
    const fresh = avPoolPids();
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.some((p) => killed.includes(p))).toBe(false);
    await closeAvPool();
    expect(avPoolPids()).toEqual([]);
    expect(fresh.some(alive)).toBe(false);
  }, 120_000);

  it('a program that samples and ends leaves no decoder process behind (idle children never keep it alive)', async () => {
    const input = await fixture('longgop');
    const script = `
      const { sample } = await import(${JSON.stringify(fileURLToPath(new URL('../../src/sample/sample.ts', import.meta.url)))});
      const { avPoolPids } = await import(${JSON.stringify(fileURLToPath(new URL('../../src/extract/av-pool.ts', import.meta.url)))});
      const m = await sample(${JSON.stringify(input)}, { out: ${JSON.stringify(tempDir('av-exit-'))}, every: 10, decoder: 'node-av' }).manifest();
      console.log(JSON.stringify({ frames: m.frames.length, pids: avPoolPids() }));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 90_000 });
    expect(r.status).toBe(0);
    const { frames, pids } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { frames: number; pids: number[] };
    expect(frames).toBe(6);
    expect(pids.length).toBeGreaterThan(0);
    expect(await gone(pids)).toBe(true);
  }, 120_000);

  it('a decoder that does not exist is refused by name', async () => {
    const err = await sample(await fixture('longgop'), { out: tempDir('av-bad-'), decoder: 'gpu' as never })
      .manifest()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_OPTION', message: 'option decoder: expected auto, node-av, ffmpeg, got "gpu"' });
  });
});
