// Progress bars of the long commands (sample, audio, cost-curve) on a real terminal: each command
// runs under `script`, which gives it a pseudo-terminal, and its bar ends at the exact count; with
// --json, or when stderr is not a terminal, nothing is drawn. Runs the built CLI (npm run build first).
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli } from '../helpers/cli.js';
import { fixture, tempDir } from '../helpers/fixtures.js';

const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
if (!HAS_SCRIPT) console.log('progress.test.ts: skipped, `script` (util-linux) is not installed');

/** The CLI under a pseudo-terminal: everything it wrote to stdout and stderr, as the terminal got it. */
function onTerminal(args: string[]): Promise<{ code: number | null; out: string }> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The bar lines drawn (`\r[###...] n/m label`), in order. */
const bars = (out: string): string[] => [...out.matchAll(/\r(\[[#.]{24}\] [^\r\n]*?)\s*(?=\r)/g)].map((m) => m[1]!);

let timecode: string;
let tones: string;
beforeAll(async () => {
  [timecode, tones] = await Promise.all([fixture('timecode'), fixture('tones')]);
}, 240_000);

describe.skipIf(!HAS_SCRIPT)('progress on a terminal', () => {
  it('sample --mode exact: frames decoded of planned, ending at 20/20; nothing with --json', async () => {
    const dir = tempDir('progress-sample-');
    const r = await onTerminal(['sample', timecode, '--out', join(dir, 'f'), '--mode', 'exact', '--every', '1']);
    expect(r.code, r.out).toBe(0);
    const drawn = bars(r.out);
    expect(drawn.length).toBeGreaterThanOrEqual(2);
    expect(drawn.at(-1)).toBe('[########################] 20/20 frames');
    // Counts only go up, and the bar ends its line before the summary.
    const counts = drawn.map((b) => Number(/\] (\d+)\//.exec(b)![1]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(r.out).toMatch(/20\/20 frames\s*\r\n20 frames \(exact mode\) written to /);
    const json = await onTerminal(['sample', timecode, '--out', join(dir, 'g'), '--mode', 'exact', '--every', '1', '--json']);
    expect(json.code).toBe(0);
    expect(json.out).not.toContain('\r[');
    expect(json.out.trimStart().startsWith('{')).toBe(true);
  }, 120_000);

  it('audio: seconds decoded, ending at 30/30', async () => {
    const r = await onTerminal(['audio', tones, '--out', join(tempDir('progress-audio-'), 'a'), '--chunk-seconds', '8']);
    expect(r.code, r.out).toBe(0);
    expect(bars(r.out).at(-1)).toBe('[########################] 30/30 s of audio decoded');
  }, 120_000);

  it('cost-curve: seconds of the shot scan, from 0/20 to 20/20', async () => {
    const r = await onTerminal(['cost-curve', timecode]);
    expect(r.code, r.out).toBe(0);
    const drawn = bars(r.out);
    expect(drawn[0]).toBe('[........................] 0/20 s scanned for cuts, ETA --');
    expect(drawn.at(-1)).toBe('[########################] 20/20 s scanned for cuts');
    // --no-shots: no scan, no bar.
    const quiet = await onTerminal(['cost-curve', timecode, '--no-shots']);
    expect(quiet.code).toBe(0);
    expect(quiet.out).not.toContain('scanned for cuts');
  }, 120_000);
});

describe('progress off a terminal', () => {
  it('writes nothing to a stderr that is not a terminal', async () => {
    const dir = tempDir('progress-pipe-');
    for (const args of [
      ['sample', timecode, '--out', join(dir, 'f'), '--mode', 'exact', '--every', '1'],
      ['audio', tones, '--out', join(dir, 'a'), '--chunk-seconds', '8'],
      ['cost-curve', timecode],
    ]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr, args[0]).toBe('');
    }
  }, 180_000);
});
