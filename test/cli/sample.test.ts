/**
 * `omniprep sample` interrupted: Ctrl-C removes the frames it had written to --out and says so;
 * kill -9 leaves no ffmpeg running (the runner's watchdog). Runs the built CLI (npm run build).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cli, processesWithMarker } from '../helpers/cli.js';
import { fixture, ROOT, tempDir } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/service.js';

function startSample(
  input: string,
  out: string,
  every = '0.2',
  extra: string[] = [],
): { child: ReturnType<typeof spawn>; marker: string; stderr: () => string; exited: Promise<string> } {
  const tmp = tempDir('cli-');
  const child = spawn(process.execPath, [CLI, 'sample', input, '--every', every, '--mode', 'exact', '--out', out, ...extra], {
    cwd: ROOT,
    env: { ...process.env, OMNIPREP_TMPDIR: tmp, OMNIPREP_TEST_MARKER: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<string>((r) => child.on('exit', (code, sig) => r(sig ?? String(code))));
  return { child, marker: `OMNIPREP_TEST_MARKER=${tmp}`, stderr: () => err, exited };
}

const frameFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => /^frame-\d{5}\./.test(n)) : []);

// 300 JPEGs of 640x360 (ffmpeg encodes them) stay on the calling thread; 600 raw frames of
// 640x360 for sharp (WebP, 414 MB) go to the worker pool (src/extract/pool.ts runsHere).
const WHERE: Array<[string, string, string[]]> = [
  ['the calling thread', '0.2', []],
  ['the worker pool', '0.1', ['--format', 'webp', '--max-side', '64']],
];

describe('an interrupted sample', () => {
  it('Ctrl-C removes the frames already written and says so; nothing keeps running', async () => {
    const clip = await fixture('longgop'); // 60 s with 10 s GOPs: 300 exact frames take a while
    const parent = tempDir('out-');
    const out = join(parent, 'frames'); // made by the run
    const s = startSample(clip, out);
    await waitFor('frames to be written', () => frameFiles(out).length >= 2, 60_000, 10);
    s.child.kill('SIGINT');
    expect(await s.exited).toBe('130');
    expect(s.stderr()).toMatch(/interrupted \(SIGINT\)/);
    expect(s.stderr()).toMatch(new RegExp(`removed the \\d+ file\\(s\\) the unfinished run had written to ${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    expect(existsSync(out)).toBe(false); // the run made it, and it is gone
    await waitFor('its children to end', () => processesWithMarker(s.marker).length === 0, 10_000);
  }, 120_000);

  // Both stop before the sweep.
  it.each(WHERE)(
    "Ctrl-C in a directory that was there keeps the directory and the files that were not the run's (%s)",
    async (_, every, extra) => {
      const clip = await fixture('longgop');
      const out = tempDir('out-');
      mkdirSync(join(out, 'mine'));
      const s = startSample(clip, out, every, extra);
      await waitFor('frames to be written', () => frameFiles(out).length >= 2, 60_000, 10);
      s.child.kill('SIGINT');
      expect(await s.exited).toBe('130');
      expect(readdirSync(out)).toEqual(['mine']);
    },
    120_000,
  );

  // A second SIGINT while the first one's cleanup runs (Ctrl-C pressed twice, a supervisor that
  // signals the process and then its group) used to kill the process half-way: frames left, no manifest.
  it.each(WHERE)(
    'SIGINT twice to the process (%s): one cleanup, exit 130, nothing left',
    async (_, every, extra) => {
      const clip = await fixture('longgop');
      const out = join(tempDir('out-'), 'frames');
      const s = startSample(clip, out, every, extra);
      await waitFor('a frame to be written', () => frameFiles(out).length >= 1, 60_000, 5);
      process.kill(s.child.pid!, 'SIGINT');
      await new Promise((r) => setTimeout(r, 20));
      if (s.child.exitCode === null && s.child.signalCode === null) process.kill(s.child.pid!, 'SIGINT');
      expect(await s.exited).toBe('130');
      expect(s.stderr().match(/interrupted/g)).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
      await waitFor('its children to end', () => processesWithMarker(s.marker).length === 0, 10_000);
    },
    120_000,
  );

  it('SIGTERM to npx, whose shell dies of it: the orphaned run stops, says so and removes its frames', async () => {
    const clip = await fixture('longgop');
    const out = join(tempDir('out-'), 'frames');
    const tmp = tempDir('cli-');
    const child = spawn('npx', ['omniprep', 'sample', clip, '--every', '0.2', '--mode', 'exact', '--out', out], {
      cwd: ROOT,
      env: { ...process.env, OMNIPREP_TMPDIR: tmp, OMNIPREP_TEST_MARKER: tmp },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor('a frame to be written', () => frameFiles(out).length >= 1, 90_000, 5);
    process.kill(child.pid!, 'SIGTERM');
    await waitFor('the run to stop', () => processesWithMarker(`OMNIPREP_TEST_MARKER=${tmp}`).length === 0, 30_000);
    expect(err).toMatch(/^omniprep: interrupted \(the npm process that started it ended\); stopped all work$/m);
    expect(existsSync(out)).toBe(false);
  }, 150_000);

  it('kill -9: its ffmpeg children do not run on', async () => {
    const clip = await fixture('longgop');
    const out = join(tempDir('out-'), 'frames');
    const s = startSample(clip, out);
    await waitFor('frames to be written', () => frameFiles(out).length >= 1, 60_000, 10);
    await waitFor('an ffmpeg child', () => processesWithMarker(s.marker).length > 0, 30_000, 5);
    s.child.kill('SIGKILL');
    expect(await s.exited).toBe('SIGKILL');
    await waitFor('the ffmpeg children to be killed', () => processesWithMarker(s.marker).length === 0, 20_000);
  }, 120_000);
});

describe('sample into a folder used before', () => {
  it("removes the earlier run's frames, grids and manifest (and nothing else), and says so", async () => {
    const clip = await fixture('timecode'); // 20 s
    const out = tempDir('out-');
    writeFileSync(join(out, 'notes.txt'), 'mine');
    writeFileSync(join(out, 'frame-mine.jpg'), 'mine too'); // not our naming
    const first = await cli(['sample', clip, '--every', '1', '--mode', 'exact', '--grid', '2x2', '--out', out]);
    expect(first.code).toBe(0);
    expect(frameFiles(out)).toHaveLength(20);
    expect(readdirSync(out).filter((n) => n.startsWith('grid-'))).toHaveLength(5);
    const second = await cli(['sample', clip, '--every', '10', '--mode', 'exact', '--out', out]);
    expect(second.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['frame-00000.jpg', 'frame-00001.jpg', 'frame-mine.jpg', 'manifest.json', 'notes.txt']);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    // 20 frames, 5 grids and the manifest of the first run
    expect(second.stdout).toContain(`warning: removed the 26 file(s) an earlier run had written to ${out}\n`);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m.frames.map((f: { file: string }) => f.file)).toEqual(['frame-00000.jpg', 'frame-00001.jpg']);
  }, 120_000);

  it('--out naming a file, or a path through one, is one line (exit 2), and the file stays', async () => {
    const clip = await fixture('timecode');
    const file = join(tempDir('out-'), 'taken');
    writeFileSync(file, 'keep');
    const r = await cli(['sample', clip, '--out', file]);
    expect([r.code, r.stderr]).toEqual([2, `omniprep: option out: ${file} exists and is not a directory\n`]);
    const under = await cli(['sample', clip, '--out', join(file, 'frames')]);
    expect([under.code, under.stderr]).toEqual([2, `omniprep: option out: ${join(file, 'frames')} cannot be made: a part of its path is a file\n`]);
    expect(readFileSync(file, 'utf8')).toBe('keep');
  }, 60_000);
});
