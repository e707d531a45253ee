/**
 * Which ffmpeg/ffprobe decodes (src/ffmpeg/binaries.ts): OMNIPREP_FFMPEG first, then a system
 * build on PATH when it is newer than the packaged one, then the packages. The machine has no
 * system ffmpeg and no current build inside npm, so "a newer system ffmpeg" is a script on a
 * temporary PATH that prints a current build's version line; the packaged builds are the real
 * ones, and a PATH that holds the packaged binary itself (the same build, so not newer) is real too.
 */
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { doctor } from '../../src/doctor.js';
import { binaryVersion, isNewerBuild, isOutdated, parseVersion, resolveBinary, toolchain } from '../../src/ffmpeg/binaries.js';
import { tempDir } from '../helpers/fixtures.js';

const root = tempDir('binaries-');
const savedPath = process.env.PATH;
const savedEnv = { ffmpeg: process.env.OMNIPREP_FFMPEG, ffprobe: process.env.OMNIPREP_FFPROBE };
delete process.env.OMNIPREP_FFMPEG;
delete process.env.OMNIPREP_FFPROBE;
/** The packaged builds, as resolved with nothing on PATH. */
process.env.PATH = '';
const packaged = { ffmpeg: resolveBinary('ffmpeg'), ffprobe: resolveBinary('ffprobe') };
process.env.PATH = savedPath;

afterEach(() => {
  process.env.PATH = savedPath;
  delete process.env.OMNIPREP_FFMPEG;
});
afterAll(() => {
  if (savedEnv.ffmpeg !== undefined) process.env.OMNIPREP_FFMPEG = savedEnv.ffmpeg;
  if (savedEnv.ffprobe !== undefined) process.env.OMNIPREP_FFPROBE = savedEnv.ffprobe;
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
/** A directory with an `ffmpeg` script that prints `versionLine` (or exits 1 when it is null). */
function pathWith(versionLine: string | null): string {
  const dir = join(root, `bin${dirs++}`);
  mkdirSync(dir);
  const body = versionLine === null ? 'exit 1' : `echo '${versionLine}'`;
  writeFileSync(join(dir, 'ffmpeg'), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, 'ffmpeg'), 0o755);
  return dir;
}

const CURRENT = 'ffmpeg version 7.1.2-0+deb13u1 Copyright (c) 2000-2025 the FFmpeg developers';

describe('which ffmpeg decodes', () => {
  it('the packaged builds when PATH has none: the 2018 ffmpeg and 2023 ffprobe are the last resort, and doctor says so', async () => {
    expect(packaged.ffmpeg.source).toMatch(/^(ffmpeg-static|npm-installer)$/);
    const v = await binaryVersion(packaged.ffmpeg);
    if (packaged.ffmpeg.source === 'npm-installer') {
      expect(packaged.ffmpeg.origin).toBe('@ffmpeg-installer/ffmpeg');
      expect(v).toMatchObject({ release: null, year: 2018, hasFpsMode: false });
      expect(isOutdated(v)).toBe(true);
    }
    expect(packaged.ffprobe.origin).toBe('@ffprobe-installer/ffprobe');
    expect((await binaryVersion(packaged.ffprobe)).year).toBe(2023);
  });

  it('a system ffmpeg newer than the packaged one wins, and doctor reports it as what decodes', async () => {
    process.env.PATH = pathWith(CURRENT);
    const r = resolveBinary('ffmpeg');
    expect(r).toMatchObject({ source: 'path', path: join(process.env.PATH, 'ffmpeg'), origin: `PATH, newer than ${packaged.ffmpeg.origin}'s build` });
    const d = await doctor();
    expect(d.ffmpeg).toMatchObject({ version: '7.1.2-0+deb13u1', year: 2025, source: 'path', outdated: false });
    expect(d.decodes).toBe(`ffmpeg 7.1.2-0+deb13u1 (2025 build) from PATH, newer than ${packaged.ffmpeg.origin}'s build: ${r.path}`);
    expect(d.warnings.some((w) => w.startsWith('ffmpeg '))).toBe(false);
  });

  it('a system ffmpeg that is not newer, or does not run, loses to the package', () => {
    const same = join(root, `bin${dirs++}`);
    mkdirSync(same);
    symlinkSync(packaged.ffmpeg.path, join(same, 'ffmpeg'));
    for (const dir of [same, pathWith('ffmpeg version 3.4.8 Copyright (c) 2000-2017 the FFmpeg developers'), pathWith(null)]) {
      process.env.PATH = dir;
      expect(resolveBinary('ffmpeg')).toEqual(packaged.ffmpeg);
    }
  });

  it('OMNIPREP_FFMPEG comes before a newer system build, and doctor names the variable', async () => {
    process.env.PATH = pathWith(CURRENT);
    process.env.OMNIPREP_FFMPEG = packaged.ffmpeg.path;
    expect(resolveBinary('ffmpeg')).toMatchObject({ source: 'env', path: packaged.ffmpeg.path, origin: 'OMNIPREP_FFMPEG' });
    const d = await doctor();
    expect(d.decodes).toMatch(/^ffmpeg \S+ .*from OMNIPREP_FFMPEG: /);
    if (d.ffmpeg.outdated) {
      expect(d.warnings[0]).toMatch(/^ffmpeg \S+ \(OMNIPREP_FFMPEG\), a \d{4} build older than the patched 7\.1 release: fine for development/);
    }
  });

  it('compares builds by year, then release; a snapshot of the same year is not newer', () => {
    const snap2018 = parseVersion('ffmpeg version N-47683-g0e8eb07980-static Copyright (c) 2000-2018 the FFmpeg developers');
    const deb51 = parseVersion('ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2022 the FFmpeg developers');
    const r71 = parseVersion('ffmpeg version n7.1 Copyright (c) 2000-2024 the FFmpeg developers');
    const r70 = parseVersion('ffmpeg version n7.0-7-gd38bf5e08e-20240407 Copyright (c) 2000-2024 the FFmpeg developers');
    const snap2024 = parseVersion('ffmpeg version N-115000-g1234567 Copyright (c) 2000-2024 the FFmpeg developers');
    expect([isNewerBuild(deb51, snap2018), isNewerBuild(snap2018, deb51)]).toEqual([true, false]);
    expect([isNewerBuild(r71, r70), isNewerBuild(r70, r71), isNewerBuild(r71, r71)]).toEqual([true, false, false]);
    expect([isNewerBuild(snap2024, r70), isNewerBuild(r70, snap2024)]).toEqual([false, false]);
    expect(r70).toMatchObject({ release: [7, 0], year: 2024, hasFpsMode: true });
  });

  it('toolchain() gives both binaries with the version read while resolving', async () => {
    process.env.PATH = pathWith(CURRENT);
    const tc = await toolchain();
    expect(tc.ffmpeg.version).toMatchObject({ version: '7.1.2-0+deb13u1', release: [7, 1], year: 2025 });
    expect(tc.ffprobe).toMatchObject({ path: packaged.ffprobe.path, source: packaged.ffprobe.source });
  });
});
