/**
 * MP4/MOV probed in JS (src/probe/mp4-probe.ts): on every MP4/MOV fixture and shared medium the
 * MediaInfo and the packet index are ffprobe's, field for field, and the files it models run no
 * ffprobe at all. What it does not model (a variable frame rate, an empty edit, audio only,
 * encryption) goes to ffprobe, once; a codec record that lies is not modelled, never a crash.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { packetIndex } from '../../src/probe/keyframes.js';
import { avcFacts, hevcFacts } from '../../src/probe/mp4-codecs.js';
import { mp4Facts } from '../../src/probe/mp4-probe.js';
import { Mp4Unsupported, readMoov } from '../../src/probe/mp4.js';
import { probe } from '../../src/probe/probe.js';
import { loggingFfprobe } from '../helpers/ffprobe-log.js';
import { type FixtureName, fixture, SHARED_MEDIA } from '../helpers/fixtures.js';
import { ownedTempDirs } from '../helpers/temp.js';

const dir = ownedTempDirs();
const files: Record<string, string> = {};
/** The fixtures and what probes them: JS, or ffprobe (what the JS probe does not model). */
const FIXTURES: Array<[FixtureName, 'js' | 'ffprobe']> = [
  ['timecode', 'js'],
  ['longgop', 'js'],
  ['scene', 'js'],
  ['lowContrast', 'js'],
  ['patternCut', 'js'],
  ['fadePan', 'js'],
  ['rotated', 'js'],
  ['slides', 'js'],
  ['tonesVideo', 'js'],
  ['truncatedSource', 'js'],
  ['audioFirst', 'js'],
  ['hevc', 'js'],
  ['hevcLonggop', 'js'],
  ['vfr', 'ffprobe'],
];
/** Variants of the timecode fixture: an edit list starting between keyframes, QuickTime (`wave`-wrapped esds), an empty edit, audio only. */
const VARIANTS: Array<[string, string[], 'js' | 'ffprobe']> = [
  ['trimmed.mp4', ['-ss', '3.3'], 'js'],
  ['quicktime.mov', [], 'js'],
  ['delayed.mp4', ['-itsoffset', '1.5'], 'ffprobe'],
  ['audio.m4a', ['-vn'], 'ffprobe'],
];
/** Short clips made from lavfi: full range (yuvj420p), Constrained Baseline, a pixel aspect, a cropped size, HEVC Main 10, Opus; MP3 and High 10 are not modelled. */
const X264 = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p'];
const CLIPS: Array<[string, string[], 'js' | 'ffprobe']> = [
  ['fullrange.mp4', ['-c:v', 'libx264', '-pix_fmt', 'yuvj420p'], 'js'],
  ['baseline.mp4', [...X264, '-profile:v', 'baseline'], 'js'],
  ['sar.mp4', [...X264, '-vf', 'setsar=4/3'], 'js'],
  ['cropped.mp4', [...X264, '-vf', 'scale=318:178'], 'js'],
  ['hevc10.mp4', ['-c:v', 'libx265', '-pix_fmt', 'yuv420p10le', '-tag:v', 'hvc1', '-x265-params', 'log-level=error'], 'js'],
  ['opus.mp4', [...X264, '-map', '1:a', '-c:a', 'libopus', '-strict', '-2'], 'js'],
  ['mp3.mp4', [...X264, '-map', '1:a', '-c:a', 'libmp3lame'], 'ffprobe'],
  ['high10.mp4', ['-c:v', 'libx264', '-pix_fmt', 'yuv420p10le'], 'ffprobe'],
];
const expected: Record<string, 'js' | 'ffprobe'> = {};
const ffmpeg = (args: string[], input: string) =>
  runProcess({ command: resolveBinary('ffmpeg').path, args: ['-v', 'error', ...args], input, timeoutMs: 60_000 });

beforeAll(async () => {
  for (const [name, by] of FIXTURES) [files[name], expected[name]] = [await fixture(name), by];
  const out = dir('mp4-probe-');
  for (const [name, args, by] of VARIANTS) {
    const file = join(out, name);
    const [before, after] = args[0] === '-vn' ? [[], args] : [args, []];
    await ffmpeg([...before, '-i', files.timecode!, ...after, '-map', '0', '-c', 'copy', file], name);
    [files[name], expected[name]] = [file, by];
  }
  const lavfi = ['-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1:sample_rate=44100'];
  for (const [name, args, by] of CLIPS) {
    const file = join(out, name);
    await ffmpeg([...lavfi, '-map', '0:v', ...args, file], name);
    [files[name], expected[name]] = [file, by];
  }
  const shared = existsSync(SHARED_MEDIA) ? readdirSync(SHARED_MEDIA).filter((f) => /\.(mp4|mov|m4a)$/i.test(f)) : [];
  if (!shared.length) console.log('../shared/media is absent: the shared MP4 files are not compared');
  for (const f of shared) [files[`shared/${f}`], expected[`shared/${f}`]] = [join(SHARED_MEDIA, f), 'js'];
}, 300_000);

describe('MP4/MOV facts from the moov', () => {
  it('every fixture and shared medium: the MediaInfo and packet index are ffprobe’s, with no ffprobe run for what is modelled', async () => {
    for (const [name, file] of Object.entries(files)) {
      const log = loggingFfprobe(dir('mp4-ffprobe-'));
      const runs = expected[name] === 'js' ? 0 : 1;
      const js = await probe(file, { ffprobePath: log.path });
      const ff = await probe(file, { factsSource: 'ffprobe' });
      expect([name, log.calls().length]).toEqual([name, runs]);
      expect(js, name).toEqual(ff);
      if (!js.video) continue;
      const { times, pos, size, keyframe } = await packetIndex(js, { ffprobePath: log.path });
      const ffIdx = await packetIndex(ff, { indexSource: 'ffprobe' });
      expect({ times, pos, size, keyframe }, name).toEqual({ times: ffIdx.times, pos: ffIdx.pos, size: ffIdx.size, keyframe: ffIdx.keyframe });
      expect([name, log.calls().length]).toEqual([name, runs]);
    }
  }, 600_000);

  it('the facts it models: codecs, profiles, rotation, edit lists, QuickTime', async () => {
    const facts = async (n: string): Promise<unknown> => {
      const i = await probe(files[n]!, { ffprobePath: '/nonexistent/ffprobe' });
      return [i.container, i.durationSec, i.video?.codec, i.video?.profile, i.video?.width, i.video?.height, i.video?.rotation, i.video?.fps, i.audio?.codec];
    };
    expect(await facts('rotated')).toEqual(['mp4', 6, 'h264', 'High', 180, 320, 270, 30, undefined]);
    expect(await facts('hevc')).toEqual(['mp4', 6, 'hevc', 'Main', 320, 180, 0, 30, undefined]);
    expect(await facts('quicktime.mov')).toEqual(['mov', 20, 'h264', 'High', 640, 360, 0, 30, 'aac']);
    expect(await facts('audioFirst')).toEqual(['mp4', 4, 'h264', 'High', 320, 240, 0, 25, 'aac']);
    expect(await facts('baseline.mp4')).toEqual(['mp4', 1, 'h264', 'Constrained Baseline', 320, 180, 0, 25, undefined]);
    // A 4:3 pixel aspect shows 320 coded pixels 426 wide; 318x178 is coded 320x192, cropped, and
    // its SPS states the 1424:1431 pixel aspect that keeps 16:9 (shown 316 wide).
    expect(await facts('sar.mp4')).toEqual(['mp4', 1, 'h264', 'High', 426, 180, 0, 25, undefined]);
    expect(await facts('cropped.mp4')).toEqual(['mp4', 1, 'h264', 'High', 316, 178, 0, 25, undefined]);
    expect((await probe(files['cropped.mp4']!, { ffprobePath: '/nonexistent/ffprobe' })).video?.codedWidth).toBe(318);
    expect(await facts('hevc10.mp4')).toEqual(['mp4', 1, 'hevc', 'Main 10', 320, 180, 0, 25, undefined]);
    expect((await probe(files['fullrange.mp4']!, { ffprobePath: '/nonexistent/ffprobe' })).video?.pixFmt).toBe('yuvj420p');
    expect((await probe(files['opus.mp4']!, { ffprobePath: '/nonexistent/ffprobe' })).audio).toMatchObject({ codec: 'opus', sampleRate: 48000, channels: 1 });
    // A variable frame rate is not modelled: without ffprobe, probe says so.
    await expect(probe(files.vfr!, { ffprobePath: '/nonexistent/ffprobe' })).rejects.toMatchObject({ code: 'BINARY_NOT_FOUND' });
  }, 120_000);

  it('a codec record or esds that lies is not modelled (ffprobe reads the file), never a raw RangeError', async () => {
    // An avcC whose SPS length runs past the record; an SPS cut inside its Exp-Golomb codes.
    const avcC = Buffer.from([1, 100, 0, 31, 0xff, 0xe1, 0x00, 0x40, 0x67, 0x64]);
    expect(() => avcFacts(avcC)).toThrow(Mp4Unsupported);
    expect(() => avcFacts(Buffer.from([1, 100, 0, 31, 0xff, 0xe1, 0, 5, 0x67, 100, 0, 31, 0]))).toThrow(new Mp4Unsupported('an SPS cut short'));
    expect(() => hevcFacts(Buffer.alloc(10), 320, 180)).toThrow(Mp4Unsupported);
    // The timecode fixture's esds with its descriptor lengths made to run past the box.
    const read = (await readMoov(files.timecode!))!;
    const moov = Buffer.from(read.moov);
    const esds = moov.indexOf('esds');
    expect(esds).toBeGreaterThan(0);
    expect(mp4Facts(moov, 'isom', 1000)?.streams.map((s) => s.codec_name)).toEqual(['h264', 'aac']);
    moov.fill(0xff, esds + 9, esds + 13);
    expect(mp4Facts(moov, 'isom', 1000)).toBeUndefined();
    // An esds box longer than its sample entry: malformed outside the video's tables, left to ffprobe.
    const long = Buffer.from(read.moov);
    long.writeUInt32BE(0x7fffffff, esds - 4);
    expect(mp4Facts(long, 'isom', 1000)).toBeUndefined();
    const log = loggingFfprobe(dir('mp4-ffprobe-'));
    expect((await probe(files.timecode!, { ffprobePath: log.path })).audio?.codec).toBe('aac');
    expect(log.calls()).toEqual([]);
  }, 60_000);
});
