import { describe, expect, it } from 'vitest';
import { resolveBinary, parseVersion, isOutdated, toolchain } from '../../src/ffmpeg/binaries.js';
import { runProcess, start, liveProcessCount } from '../../src/ffmpeg/runner.js';
import { classifyFailure } from '../../src/ffmpeg/classify.js';
import { FfmpegArgs, ACCEPTED_DEMUXERS } from '../../src/ffmpeg/args.js';
import { alive } from '../helpers/processes.js';

const ffmpeg = resolveBinary('ffmpeg');
const forever = ['-nostdin', '-hide_banner', '-re', '-f', 'lavfi', '-i', 'testsrc=s=64x64:r=10', '-f', 'null', '-'];

describe('binary resolution', () => {
  it('resolves both binaries and reads their versions', async () => {
    const tc = await toolchain();
    expect(tc.ffmpeg.path).toMatch(/ffmpeg$/);
    expect(tc.ffprobe.path).toMatch(/ffprobe$/);
    expect(['option', 'env', 'ffmpeg-static', 'npm-installer', 'path']).toContain(tc.ffmpeg.source);
    expect(tc.ffmpeg.version.version).not.toBe('unknown');
  });

  it('an explicit path wins, and a bad one is refused with the reason', () => {
    expect(resolveBinary('ffmpeg', { ffmpegPath: ffmpeg.path })).toMatchObject({ source: 'option', path: ffmpeg.path });
    expect(() => resolveBinary('ffprobe', { ffprobePath: '/nope/ffprobe' })).toThrow(
      /ffprobePath option names \/nope\/ffprobe, which is not an executable file/,
    );
  });

  it('the environment variable comes before the packages', () => {
    process.env.OMNIPREP_FFMPEG = ffmpeg.path;
    try {
      expect(resolveBinary('ffmpeg').source).toBe('env');
    } finally {
      delete process.env.OMNIPREP_FFMPEG;
    }
  });

  it('parses versions and tells old builds from patched releases', () => {
    const snap = parseVersion('ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/  Copyright (c) 2000-2018 the FFmpeg developers');
    expect(snap).toMatchObject({ release: null, year: 2018, hasFpsMode: false });
    expect(isOutdated(snap)).toBe(true);
    const rel = parseVersion('ffmpeg version 7.1.1-1+b1 Copyright (c) 2000-2025 the FFmpeg developers');
    expect(rel).toMatchObject({ release: [7, 1], hasFpsMode: true });
    expect(isOutdated(rel)).toBe(false);
    expect(isOutdated(parseVersion('ffmpeg version 6.0 Copyright (c) 2000-2023'))).toBe(true);
  });
});

describe('the safe runner', () => {
  it('kills the whole process group at the timeout and says so', async () => {
    const proc = start({ command: ffmpeg.path, args: forever, input: 'endless.mp4', timeoutMs: 300, killGraceMs: 200 });
    const err = await proc.done.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT', message: 'endless.mp4: processing took longer than 0.3 s and was stopped' });
    expect(alive(proc.pid!)).toBe(false);
    expect(liveProcessCount()).toBe(0);
  });

  it('cancels through an AbortSignal', async () => {
    const ac = new AbortController();
    const proc = start({ command: ffmpeg.path, args: forever, input: 'x.mp4', signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(proc.done).rejects.toMatchObject({ code: 'ABORTED' });
    expect(alive(proc.pid!)).toBe(false);
  });

  it('refuses to start when already cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(runProcess({ command: ffmpeg.path, args: forever, input: 'x.mp4', signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('drains a flood of stderr without hanging, and keeps only its tail', async () => {
    const lines: string[] = [];
    const r = await runProcess({
      command: ffmpeg.path,
      args: ['-nostdin', '-v', 'debug', '-f', 'lavfi', '-i', 'testsrc=s=32x32:r=50:d=20', '-vf', 'showinfo', '-f', 'null', '-'],
      input: 'flood',
      stderrTailBytes: 4096,
      onStderrLine: (l) => lines.push(l),
    });
    expect(r.exitCode).toBe(0);
    expect(r.stderrTail.length).toBeLessThanOrEqual(4096);
    expect(lines.filter((l) => l.includes('Parsed_showinfo') && l.includes('pts_time')).length).toBe(1000);
  });

  it('stops on purpose without an error', async () => {
    const proc = start({ command: ffmpeg.path, args: forever, input: 'x' });
    setTimeout(() => proc.stop(), 100);
    await expect(proc.done).resolves.toMatchObject({ stopped: true });
  });

  it('caps buffered output', async () => {
    await expect(
      runProcess({
        command: ffmpeg.path,
        args: ['-nostdin', '-f', 'lavfi', '-i', 'testsrc=d=5', '-f', 'rawvideo', 'pipe:1'],
        input: 'big',
        maxStdoutBytes: 100_000,
      }),
    ).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });
});

describe('argument builder and failure classification', () => {
  it('puts the safety flags on every input and never a shell string', () => {
    const args = new FfmpegArgs({ version: 'x', release: [7, 1], year: 2025, hasFpsMode: true })
      .input('-weird name.mp4', { seekSec: 1.5, threads: 1, skipFrame: 'nokey', maxPixels: 1e6 })
      .map('0:v:0')
      .passthroughTimestamps()
      .output('pipe:1', { format: 'rawvideo', pixFmt: 'rgb24' })
      .toArgs();
    expect(args.slice(0, 2)).toEqual(['-nostdin', '-hide_banner']);
    expect(args).toContain('-protocol_whitelist');
    expect(args[args.indexOf('-protocol_whitelist') + 1]).toBe('file,pipe');
    expect(args[args.indexOf('-format_whitelist') + 1]).toBe(ACCEPTED_DEMUXERS.join(','));
    expect(args[args.indexOf('-i') + 1]).toMatch(/^file:\/.*\/-weird name\.mp4$/);
    expect(args).toContain('-fps_mode');
    expect(args[args.indexOf('-max_pixels') + 1]).toBe('1000000');
    const old = new FfmpegArgs({ version: 'N-1', release: null, year: 2018, hasFpsMode: false })
      .input('a.mp4')
      .passthroughTimestamps()
      .output('pipe:1')
      .toArgs();
    expect(old).toContain('-vsync');
  });

  it('maps ffmpeg messages to codes with the input named', () => {
    expect(classifyFailure('a.mp4', '[mov,mp4 @ 0x1] moov atom not found\na.mp4: Invalid data found when processing input', 1, null)).toMatchObject({
      code: 'CORRUPT',
      message: 'a.mp4: the MP4 index (moov atom) is missing: the file is truncated or not finished',
    });
    expect(classifyFailure('b.mp4', 'Format not on whitelist', 1, null).code).toBe('UNSUPPORTED_FORMAT');
    expect(classifyFailure('c.mp4', 'Picture size 960x540 exceeds specified max pixel count 1000', 1, null).code).toBe('TOO_LARGE');
    expect(classifyFailure('d.mp4', 'something odd happened', 69, null)).toMatchObject({
      code: 'PROCESS_FAILED',
      message: 'd.mp4: ffmpeg failed (exit 69): something odd happened',
    });
  });
});
