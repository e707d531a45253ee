/**
 * WebM/Matroska probed in JS (src/probe/matroska-probe.ts): on every WebM/Matroska fixture and
 * shared medium the MediaInfo and the packet index are ffprobe's, field for field, and the files it
 * models run no ffprobe at all (sample() neither). What it does not model goes to ffprobe; a file
 * whose sizes lie is refused in one line before anything is allocated for it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OmniprepError } from '../../src/errors.js';
import { packetIndex } from '../../src/probe/keyframes.js';
import { MATROSKA_ID as ID, matroskaLayout } from '../../src/probe/matroska.js';
import { probeMatroska } from '../../src/probe/matroska-probe.js';
import { fileSource } from '../../src/probe/mp4.js';
import { probe } from '../../src/probe/probe.js';
import { sample } from '../../src/sample/sample.js';
import { loggingFfprobe } from '../helpers/ffprobe-log.js';
import { type FixtureName, fixture, SHARED_MEDIA } from '../helpers/fixtures.js';
import { ebml, ebmlUint, matroskaParts, tinyMatroska } from '../helpers/lies.js';
import { ownedTempDirs } from '../helpers/temp.js';

const dir = ownedTempDirs();
const files: Record<string, string> = {};
/** The fixtures and what probes them: JS, or ffprobe (HEVC is not modelled). */
const FIXTURES: Array<[FixtureName, 'js' | 'ffprobe']> = [
  ['vp8', 'js'],
  ['vp9', 'js'],
  ['webmLong', 'js'],
  ['av1', 'js'],
  ['liveWebm', 'js'],
  ['vorbisWebm', 'js'],
  ['vfrWebm', 'js'],
  ['hevcLonggopMkv', 'ffprobe'],
];

/** The vp8 fixture without Cues: the Cues element made a Void, and its SeekHead entry pointed at Tags. */
function withoutCues(src: string, cues: { offset: number; size: number }, out: string): string {
  const b = Buffer.from(readFileSync(src));
  const id = Buffer.from([0x1c, 0x53, 0xbb, 0x6b]);
  const entry = b.indexOf(Buffer.concat([Buffer.from([0x53, 0xab, 0x84]), id]));
  expect(entry).toBeGreaterThan(0);
  Buffer.from([0x12, 0x54, 0xc3, 0x67]).copy(b, entry + 3);
  // A Void of the same length: its ID and an 8-byte size in place of the Cues' header.
  b[cues.offset] = ID.Void;
  b[cues.offset + 1] = 0x01;
  b.writeUIntBE(0, cues.offset + 2, 1);
  b.writeUIntBE(cues.size - 9, cues.offset + 3, 6);
  writeFileSync(out, b);
  return out;
}

beforeAll(async () => {
  for (const [name] of FIXTURES) files[name] = await fixture(name);
  const src = await fileSource(files.vp8!);
  const layout = await matroskaLayout(src).finally(() => src.close());
  files.noCues = withoutCues(files.vp8!, layout.cuesAt, join(dir('mkv-nocues-'), 'nocues.webm'));
  const shared = existsSync(SHARED_MEDIA) ? readdirSync(SHARED_MEDIA).filter((f) => /\.(webm|mkv)$/i.test(f)) : [];
  if (!shared.length) console.log('../shared/media is absent: the shared WebM files are not compared');
  for (const f of shared) files[`shared/${f}`] = join(SHARED_MEDIA, f);
}, 300_000);

describe('WebM/Matroska facts from the file itself', () => {
  it('every fixture and shared medium: the MediaInfo and packet index are ffprobe’s, with no ffprobe run for what is modelled', async () => {
    const expected = Object.fromEntries([
      ...FIXTURES.map(([n, by]) => [n, by]),
      ['noCues', 'js'],
      ...Object.keys(files)
        .filter((k) => k.startsWith('shared/'))
        .map((k) => [k, 'js']),
    ]);
    for (const [name, file] of Object.entries(files)) {
      const log = loggingFfprobe(dir('mkv-ffprobe-'));
      const js = await probe(file, { ffprobePath: log.path });
      const ff = await probe(file, { factsSource: 'ffprobe' });
      expect([name, log.calls().length]).toEqual([name, expected[name] === 'js' ? 0 : 1]);
      expect(js, name).toEqual(ff);
      const idx = await packetIndex(js, { ffprobePath: log.path });
      const ffIdx = await packetIndex(ff, { indexSource: 'ffprobe' });
      // Read in JS, the index knows its packets are the frames' bytes (the keyframe IVF path reads them).
      expect([name, idx.rawFrames]).toEqual([name, expected[name] === 'js' ? true : undefined]);
      expect({ ...idx, rawFrames: undefined }, name).toEqual(ffIdx);
      // A copy of the facts (no index with it) is indexed from the clusters, the same again.
      const copy = await packetIndex({ ...js }, { ffprobePath: log.path });
      expect([name, copy.rawFrames]).toEqual([name, true]);
      expect({ ...copy, rawFrames: undefined }, name).toEqual(ffIdx);
      expect([name, log.calls().length]).toEqual([name, expected[name] === 'js' ? 0 : 1]);
    }
  }, 300_000);

  it('the facts it models: codecs, profiles, rates, variable rate, start times (Opus moved back by its CodecDelay)', async () => {
    const facts = async (n: string): Promise<unknown> => {
      const i = await probe(files[n]!);
      return [
        i.container,
        i.durationSec,
        i.startTimeSec,
        i.video?.codec,
        i.video?.profile,
        i.video?.fps,
        i.video?.vfr,
        i.audio?.codec,
        i.audio?.channels,
        i.audio?.startSec,
      ];
    };
    expect(await facts('vp8')).toEqual(['webm', 6, 0, 'vp8', '0', 30, false, undefined, undefined, undefined]);
    expect(await facts('vfrWebm')).toEqual(['webm', 10, 0, 'vp9', 'Profile 0', 30, true, undefined, undefined, undefined]);
    expect(await facts('av1')).toEqual(['matroska', 2, 0, 'av1', 'Main', 30, false, undefined, undefined, undefined]);
    expect(await facts('vorbisWebm')).toEqual(['webm', 4.003, 0, 'vp8', '0', 30, false, 'vorbis', 2, 0]);
    expect(await facts('webmLong')).toEqual(['webm', 60.008, -0.007, 'vp9', 'Profile 0', 30, false, 'opus', 1, 0]);
    // No duration in the header (a live recording): where its last packet ends.
    expect(await facts('liveWebm')).toEqual(['webm', 3, 0, 'vp8', '0', 30, false, undefined, undefined, undefined]);
  }, 120_000);

  it('a long file is read at its head and tail only, with the same first packets and the same last one', async () => {
    const o = { maxDurationSec: 21_600, headPackets: 240, tailSec: 3 };
    const whole = (await probeMatroska(files.webmLong!, { ...o, wholeBytes: Infinity }))!;
    const parts = (await probeMatroska(files.webmLong!, { ...o, wholeBytes: 0 }))!;
    expect([whole.whole, parts.whole]).toEqual([true, false]);
    expect(whole.parsed.packets).toHaveLength(1800);
    expect(parts.parsed.packets.slice(0, 240)).toEqual(whole.parsed.packets.slice(0, 240));
    expect(parts.parsed.packets.at(-1)).toEqual(whole.parsed.packets.at(-1));
    expect(parts.parsed.packets.length).toBeLessThan(600);
    expect(parts.parsed.streams).toEqual(whole.parsed.streams);
    expect(parts.parsed.format).toEqual(whole.parsed.format);
  });

  it('sample() of a WebM runs no ffprobe, and keeps the frames it kept with ffprobe', async () => {
    const log = loggingFfprobe(dir('mkv-sample-'));
    const m = await sample(files.vp8!, { every: 1, mode: 'exact', out: dir('mkv-frames-'), ffprobePath: log.path }).manifest();
    expect(m.frames.map((f) => f.timestampSec)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(log.calls()).toEqual([]);
  }, 120_000);
});

describe('a WebM whose sizes lie is refused in one line, nothing allocated for it', () => {
  const write = (bytes: Buffer): string => {
    const path = join(dir('mkv-lie-'), 'lie.webm');
    writeFileSync(path, bytes);
    return path;
  };
  const refusal = async (bytes: Buffer): Promise<OmniprepError> => {
    const e = await probe(write(bytes), { ffprobePath: '/nonexistent/ffprobe' }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(OmniprepError);
    expect((e as OmniprepError).message).not.toContain('\n');
    return e as OmniprepError;
  };

  /** tinyMatroska's parts, its VP9 track with a picture size (else the JS reader leaves the file to ffprobe). */
  const parts = (): ReturnType<typeof matroskaParts> => {
    const p = matroskaParts();
    const video = ebml(ID.Video, [ebmlUint(ID.PixelWidth, 320), ebmlUint(ID.PixelHeight, 180)]);
    p.tracks = ebml(ID.Tracks, [ebml(ID.TrackEntry, [ebmlUint(ID.TrackNumber, 1), ebmlUint(ID.TrackType, 1), ebml(ID.CodecID, Buffer.from('V_VP9')), video])]);
    return p;
  };

  it('a block that runs past its cluster', async () => {
    const p = parts();
    const block = ebml(ID.SimpleBlock, Buffer.from([0x81, 0, 0, 0x80, 0x82, 0x49, 0x83]));
    block[1] = 0x01; // an 8-byte size: 2 GB
    block.writeUIntBE(2 ** 31, 3, 6);
    p.cluster = [p.cluster[0]!, block];
    const e = await refusal(tinyMatroska(p));
    expect([e.code, e.message]).toEqual([
      'CORRUPT',
      expect.stringMatching(/lie\.webm: the Cluster element has a child of 2147483648 bytes at byte \d+, past its end/),
    ]);
  });

  it('more video blocks than 1,000 frames a second of its duration (no array of them is grown further)', async () => {
    const p = parts();
    p.info = ebml(ID.Info, [ebmlUint(ID.TimecodeScale, 1_000_000), ebml(ID.Duration, Buffer.from([0x3f, 0x80, 0, 0]))]);
    const block = ebml(ID.SimpleBlock, Buffer.from([0x81, 0, 0, 0x80, 0x82, 0x49, 0x83]));
    p.cluster = [p.cluster[0]!, ...Array.from({ length: 1001 }, () => block)];
    const e = await refusal(tinyMatroska(p));
    expect([e.code, e.message]).toEqual([
      'CORRUPT',
      expect.stringMatching(/lie\.webm: the Cluster element holds more than 1000 video blocks, more than 1000 frames a second/),
    ]);
  });
});
