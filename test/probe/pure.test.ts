/**
 * probe() is a pure read of the file: the packet index it reads on the way (an MP4/MOV's moov, a
 * short clip's packet list) travels with the MediaInfo it returns, and no cache outside that
 * object is filled. sample() after probe() still reads no moov and runs no ffprobe again.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { packetIndex } from '../../src/probe/keyframes.js';
import { probe } from '../../src/probe/probe.js';
import { sample } from '../../src/sample/sample.js';
import { loggingFfprobe } from '../helpers/ffprobe-log.js';
import { fixture } from '../helpers/fixtures.js';
import { ownedTempDirs } from '../helpers/temp.js';

/** Every read of a moov (src/probe/mp4.ts readMoov), by path. */
const moovReads = vi.hoisted(() => [] as string[]);
vi.mock('../../src/probe/mp4.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/probe/mp4.js')>();
  return {
    ...m,
    readMoov: (path: string, maxDurationSec?: number) => {
      moovReads.push(path);
      return m.readMoov(path, maxDurationSec);
    },
  };
});

const dir = ownedTempDirs();
const NO_FFPROBE = '/nonexistent/ffprobe';

/** A copy of a fixture no other test has indexed (the index cache is per path). */
async function fresh(name: 'timecode' | 'vp9', file: string): Promise<string> {
  const path = join(dir('pure-'), file);
  copyFileSync(await fixture(name), path);
  return path;
}

describe('probe() is a pure read', () => {
  it('MP4: the moov is read once by probe; its index goes with the result, and nowhere else', async () => {
    const file = await fresh('timecode', 'clip.mp4');
    const reads = (): number => moovReads.filter((p) => p === file).length;
    const info = await probe(file);
    const again = await probe(file);
    expect(reads()).toBe(2); // each probe reads the file itself
    expect(again).toEqual(info);
    expect(JSON.parse(JSON.stringify(info))).toEqual(info); // the index is not in the JSON
    const idx = await packetIndex(info, { ffprobePath: NO_FFPROBE });
    expect(idx.times).toHaveLength(600);
    expect(reads()).toBe(2);
    // A copy of the facts carries no index, and probe left none behind: it is read from the moov.
    expect((await packetIndex({ ...info }, { ffprobePath: NO_FFPROBE })).times).toEqual(idx.times);
    expect(reads()).toBe(3);
  }, 60_000);

  it('WebM: the packets the probe listed go with the result; a copy of the facts reads the clusters again, or asks ffprobe when told to', async () => {
    const file = await fresh('vp9', 'clip.webm');
    const info = await probe(file, { ffprobePath: NO_FFPROBE });
    expect((await packetIndex(info, { ffprobePath: NO_FFPROBE })).times).toHaveLength(180);
    expect((await packetIndex({ ...info }, { ffprobePath: NO_FFPROBE })).times).toHaveLength(180);
    await expect(packetIndex({ ...info }, { ffprobePath: NO_FFPROBE, indexSource: 'ffprobe' })).rejects.toMatchObject({ code: 'BINARY_NOT_FOUND' });
  }, 60_000);

  it('sample() reads the moov once and runs no ffprobe: the facts and the index come from the moov', async () => {
    const file = await fresh('timecode', 'sampled.mp4');
    const ffprobe = loggingFfprobe(dir('pure-ffprobe-'));
    const manifest = await sample(file, { every: 5, mode: 'exact', out: dir('pure-frames-'), ffprobePath: ffprobe.path }).manifest();
    expect(manifest.frames.map((f) => f.timestampSec)).toEqual([0, 5, 10, 15]);
    expect(moovReads.filter((p) => p === file)).toHaveLength(1);
    expect(ffprobe.calls()).toEqual([]);
  }, 120_000);
});
