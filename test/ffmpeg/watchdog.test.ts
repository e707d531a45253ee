/**
 * The runner's children die with the process that started them, even under kill -9: a process
 * starts a long ffmpeg through the runner (writing to a file and nothing to stderr, so no broken pipe would stop it),
 * is killed with SIGKILL, and the ffmpeg is gone soon after. Also: a child that ends normally is
 * forgotten by the watchdog, and the watchdog keeps no process alive.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { watchdogPid } from '../../src/ffmpeg/watchdog.js';
import { ROOT, tempDir } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/service.js';

const ffmpeg = resolveBinary('ffmpeg');

/** Whether a process runs (a zombie counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('the watchdog', () => {
  it('kills the children of a process that was killed with SIGKILL', async () => {
    const out = join(tempDir('watchdog-'), 'long.mkv');
    const runner = pathToFileURL(join(ROOT, 'src/ffmpeg/runner.ts')).href;
    const script = `
      const { start } = await import(${JSON.stringify(runner)});
      const p = start({ command: ${JSON.stringify(ffmpeg.path)}, args: ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'quiet', '-re', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=5:duration=600', '-y', ${JSON.stringify(out)}], input: 'long', onSpawn: (pid) => console.log('child ' + pid) });
      p.done.catch(() => {});
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    parent.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    const pid = await waitFor('the child to start', () => Number(/child (\d+)/.exec(text)?.[1] ?? 0), 30_000);
    expect(running(pid)).toBe(true);
    // Let it write (the run takes far longer than this test), then kill the parent outright.
    await waitFor('ffmpeg to write', () => existsSync(out), 30_000);
    parent.kill('SIGKILL');
    await new Promise((r) => parent.once('exit', r));
    await waitFor('the orphaned ffmpeg to be killed', () => !running(pid), 20_000);
  }, 90_000);

  it('forgets children that end, and keeps no process alive', async () => {
    const r = await runProcess({ command: ffmpeg.path, args: ['-hide_banner', '-version'], input: 'version' });
    expect(r.exitCode).toBe(0);
    const dog = watchdogPid();
    expect(dog).toBeGreaterThan(0);
    expect(running(dog!)).toBe(true); // it waits for this process to end
    // A process that only ran a child exits by itself (the watchdog's pipe does not hold it).
    const runner = pathToFileURL(join(ROOT, 'src/ffmpeg/runner.ts')).href;
    const script = `const { runProcess } = await import(${JSON.stringify(runner)}); await runProcess({ command: ${JSON.stringify(ffmpeg.path)}, args: ['-version'], input: 'v' }); console.log('ran');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(text).toContain('ran');
    expect(code).toBe(0);
  }, 60_000);

  it("worker threads use this thread's watchdog: threads that end leave no zombie shell (as under serve)", async () => {
    // 400 raw 640x360 frames for sharp (WebP) are over what the calling thread moves: the pool decodes them.
    const { sample } = await import('../../src/sample/sample.js');
    const { closePool } = await import('../../src/extract/pool.js');
    const { fixture } = await import('../helpers/fixtures.js');
    const { childProcesses } = await import('../helpers/service.js');
    const clip = await fixture('timecode');
    const shells = () => childProcesses().filter((c) => c.comm === 'sh');
    for (let round = 0; round < 2; round++) {
      const m = await sample(clip, { out: tempDir('dog-'), mode: 'exact', every: 0.05, format: 'webp', maxSide: 64 }).manifest();
      expect(m.frames).toHaveLength(400);
      await closePool(); // its threads end, as piscina's idle ones do between a service's jobs
    }
    const dog = watchdogPid();
    // Only this thread's shell: alive, and no exited one waiting to be reaped.
    await waitFor('the shells to settle', () => shells().every((c) => c.pid === dog || c.state === 'Z'), 10_000);
    expect(shells().map((c) => [c.pid, c.state === 'Z' ? 'zombie' : 'alive'])).toEqual([[dog, 'alive']]);
  }, 120_000);
});
