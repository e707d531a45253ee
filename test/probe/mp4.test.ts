/**
 * The moov parser (src/probe/mp4.ts) against ffprobe: the same packet index, packet for packet
 * (time, byte position, size, keyframe flag), on every MP4 fixture, on copies of one with the
 * index moved to the front, trimmed (an edit list starting between keyframes), delayed (an empty
 * edit), as MOV, and on ../shared/media/*.mp4 when present. What it does not model is refused, and
 * packetIndex() then falls back to ffprobe.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptContainer, OmniprepError } from '../../src/errors.js';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { indexFromMoov, packetIndex } from '../../src/probe/keyframes.js';
import { fileSource, mp4Index, mp4Layout, Mp4Unsupported, parseMoov } from '../../src/probe/mp4.js';
import { probe } from '../../src/probe/probe.js';
import { plan } from '../../src/plan/plan.js';
import { fixture, RECIPES, SHARED_MEDIA, tempDir, type FixtureName } from '../helpers/fixtures.js';
import { loggingFfprobe } from '../helpers/ffprobe-log.js';
import { findBox, lyingStsz, tinyMp4, writeReproducers } from '../helpers/lies.js';

const MP4_FIXTURES = (Object.keys(RECIPES) as FixtureName[]).filter((k) => RECIPES[k].ext === 'mp4' && k !== 'cenc'); // an encrypted file is refused before any index

async function ffmpeg(args: string[]): Promise<void> {
  await runProcess({
    command: resolveBinary('ffmpeg').path,
    args: ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args],
    input: 'mp4 test',
    timeoutMs: 120_000,
  });
}

/** Every MP4 fixture, and variants of the timecode one. */
const files: Record<string, string> = {};

beforeAll(async () => {
  for (const name of MP4_FIXTURES) files[name] = await fixture(name);
  const dir = tempDir('mp4-');
  const src = files.timecode!;
  const variant = async (name: string, args: string[]): Promise<void> => {
    files[name] = join(dir, name);
    await ffmpeg(args.map((a) => (a === 'OUT' ? files[name]! : a)));
  };
  await variant('faststart.mp4', ['-i', src, '-c', 'copy', '-movflags', '+faststart', 'OUT']);
  await variant('trimmed.mp4', ['-ss', '3.3', '-i', src, '-c', 'copy', 'OUT']);
  await variant('delayed.mp4', ['-itsoffset', '1.5', '-i', src, '-map', '0', '-c', 'copy', 'OUT']);
  await variant('noeditlist.mp4', ['-i', src, '-c', 'copy', '-use_editlist', '0', 'OUT']);
  await variant('quicktime.mov', ['-i', src, '-c', 'copy', 'OUT']);
  await variant('fragmented.mp4', ['-i', src, '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov', 'OUT']);
  // ../shared/media when this checkout has it (a CI clone elsewhere may not).
  const shared = existsSync(SHARED_MEDIA) ? readdirSync(SHARED_MEDIA, { withFileTypes: true }) : [];
  for (const f of shared.filter((d) => d.isFile() && /\.(mp4|mov)$/i.test(d.name))) {
    files[`shared/${f.name}`] = join(SHARED_MEDIA, f.name);
  }
}, 300_000);

async function both(file: string): Promise<{ ff: Awaited<ReturnType<typeof packetIndex>>; moov: Awaited<ReturnType<typeof mp4Index>> }> {
  const info = await probe(file);
  const ff = await packetIndex(info, { indexSource: 'ffprobe' });
  const src = await fileSource(info.path);
  try {
    const moov = await mp4Index(src, { streamIndex: info.video!.index, startTimeSec: info.startTimeSec });
    return { ff, moov };
  } finally {
    await src.close();
  }
}

describe('moov parser', () => {
  it("gives ffprobe's packet index, packet for packet, on every MP4 fixture and variant", async () => {
    const names = Object.keys(files).filter((n) => n !== 'fragmented.mp4');
    expect(names.length).toBeGreaterThanOrEqual(MP4_FIXTURES.length + 5);
    for (const name of names) {
      const { ff, moov } = await both(files[name]!);
      expect(moov.streamIndex, name).toBe(ff.streamIndex);
      expect(moov.times.length, name).toBe(ff.times.length);
      // One assertion per column keeps a failure's message short and still exact.
      expect(moov.times, name).toEqual(ff.times);
      expect(moov.pos, name).toEqual(ff.pos);
      expect(moov.size, name).toEqual(ff.size);
      expect(moov.keyframe, name).toEqual(ff.keyframe);
    }
  }, 300_000);

  it('finds moov at either end, and the edit list of a trimmed copy drops the packets before the cut', async () => {
    const src = await fileSource(files['faststart.mp4']!);
    const first = await mp4Layout(src);
    await src.close();
    expect(first.moovFirst).toBe(true);
    const last = await fileSource(files.timecode!);
    const l = await mp4Layout(last);
    await last.close();
    expect(l.moovFirst).toBe(false);
    expect(l.moov.offset).toBeGreaterThan(l.mdat[0]!.offset);
    // Trimmed at 3.3 s with keyframes every 2 s: the packets from 2 s to 3.3 s are decoded, never shown.
    const { moov } = await both(files['trimmed.mp4']!);
    expect(moov.times[0]).toBe(0);
    expect(moov.decodeOrder.pos.length).toBeGreaterThan(moov.times.length);
  }, 120_000);

  it('refuses what it does not model, and packetIndex falls back to ffprobe', async () => {
    const src = await fileSource(files['fragmented.mp4']!);
    await expect(mp4Index(src)).rejects.toBeInstanceOf(Mp4Unsupported);
    await src.close();
    const info = await probe(files['fragmented.mp4']!);
    const auto = await packetIndex(info);
    const ff = await packetIndex(info, { indexSource: 'ffprobe' });
    expect(auto.times).toEqual(ff.times);
    expect(auto.times.length).toBe(600);
  }, 120_000);

  it('refuses tables whose counts overrun their boxes with CorruptContainer naming the box, never a crash', async () => {
    const dir = tempDir('mp4-bad-');
    const whole = await fileSource(files.timecode!);
    const layout = await mp4Layout(whole);
    const moov = await whole.read(layout.moov.offset, layout.moov.size);
    await whole.close();
    // A table count far past its box: find stsz and raise its sample count.
    const at = moov.indexOf('stsz');
    const bad = Buffer.from(moov);
    bad.writeUInt32BE(0x0fffffff, at + 4 + 8);
    const room = bad.readUInt32BE(at - 4) - 8 - 12;
    expect(() => parseMoov(bad)).toThrow(new CorruptContainer('stsz box', `declares ${0x0fffffff} entries of 4 bytes, more than its ${room} bytes hold`));
    // A box size past its parent.
    const bad2 = Buffer.from(moov);
    const trak = moov.indexOf('trak') - 4;
    bad2.writeUInt32BE(0x7fffffff, trak);
    expect(() => parseMoov(bad2)).toThrow(
      new CorruptContainer('trak box', `at byte ${trak} of the moov declares ${0x7fffffff} bytes, past the end of its parent (byte ${moov.length})`),
    );
    // A file cut before its moov ends.
    const cut = join(dir, 'cut.mp4');
    const full = await fileSource(files.timecode!);
    writeFileSync(cut, await full.read(0, full.size - 100));
    await full.close();
    const c = await fileSource(cut);
    await expect(mp4Layout(c)).rejects.toThrow(/cut short|truncated/);
    await c.close();
  }, 60_000);
});

describe('probe reads an MP4’s packets from its moov, not with ffprobe', () => {
  /** An ffprobe that logs each call's arguments, one line per call, then runs the real one. */
  it('no ffprobe call, or one that lists no packet; a fragmented file (no sample tables) and an audio-only one list them in their one call', async () => {
    const audio = join(tempDir('mp4-audio-'), 'audio.m4a');
    await ffmpeg(['-i', files.timecode!, '-vn', '-c:a', 'copy', audio]);
    const m4a = loggingFfprobe(tempDir('ffprobe-log-'));
    expect((await probe(audio, { ffprobePath: m4a.path })).kind).toBe('audio');
    expect(m4a.calls()).toHaveLength(1);
    expect(m4a.calls()[0]).toContain('packet=');
    // What src/probe/mp4-probe.ts models runs no ffprobe; an empty edit (delayed), a variable
    // frame rate and a fragmented file are asked of ffprobe, once.
    const js = new Set(['faststart.mp4', 'trimmed.mp4', 'noeditlist.mp4', 'quicktime.mov', 'longgop']);
    for (const name of ['faststart.mp4', 'trimmed.mp4', 'delayed.mp4', 'noeditlist.mp4', 'quicktime.mov', 'vfr', 'longgop', 'fragmented.mp4']) {
      const ffprobe = loggingFfprobe(tempDir('ffprobe-log-'));
      const info = await probe(files[name]!, { ffprobePath: ffprobe.path });
      const calls = ffprobe.calls();
      const fragmented = name === 'fragmented.mp4';
      expect([name, calls.length]).toEqual([name, js.has(name) ? 0 : 1]);
      expect([name, calls.some((c) => c.includes('packet='))]).toEqual([name, fragmented]);
      // The index probe kept is the one ffprobe's packets give.
      const ff = await packetIndex(info, { indexSource: 'ffprobe' });
      expect([name, (await packetIndex(info, { ffprobePath: '/nonexistent/ffprobe' })).times]).toEqual([name, ff.times]);
    }
    expect((await probe(files.vfr!)).video?.vfr).toBe(true);
    expect((await probe(files.longgop!)).video?.vfr).toBe(false);
  }, 120_000);

  it('a moov whose box is too short for its fields is refused as CorruptContainer (not a RangeError, not a fallback)', () => {
    // moov holding an empty mvhd: its timescale would be read past the buffer.
    const moov = Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.from('moov'), Buffer.from([0, 0, 0, 8]), Buffer.from('mvhd')]);
    const refusal = new CorruptContainer('mvhd box', 'is 0 bytes long, too short for its 4 bytes of fields');
    expect(() => parseMoov(moov)).toThrow(refusal);
    expect(() => indexFromMoov(moov, 0, 0)).toThrow(refusal);
  });

  it('a single frame shown for 5 s is whole, not truncated (its data ends where the moov says)', async () => {
    const one = join(tempDir('mp4-one-'), 'one.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'color=c=red:s=64x64:r=0.2:d=5', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', one]);
    const info = await probe(one);
    expect(info.video?.frameCount).toBe(1);
    expect(info.durationSec).toBeCloseTo(5, 1);
  }, 60_000);

  it('a fast-start MP4 cut inside its media data keeps a whole moov, and is refused as truncated', async () => {
    const cut = join(tempDir('mp4-cut-'), 'cut.mp4');
    const whole = readFileSync(files['faststart.mp4']!);
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const err = (await probe(cut).catch((e: unknown) => e)) as OmniprepError;
    expect(err).toBeInstanceOf(OmniprepError);
    expect(err.code).toBe('CORRUPT');
    expect(err.message).toMatch(/^\S+cut\.mp4: the file is truncated: its data ends at \d+\.\d\d s of the \d+\.\d\d s it declares$/);
  }, 60_000);
});

describe('issue 26: a moov that declares more samples than the file holds is refused before anything is allocated', () => {
  let tiny: Buffer;
  let dir: string;
  let mdatBytes: number;
  beforeAll(async () => {
    dir = tempDir('mp4-lies-');
    tiny = readFileSync(await tinyMp4(dir));
    const src = await fileSource(join(dir, 'tiny.mp4'));
    mdatBytes = (await mp4Layout(src)).mdatBytes;
    await src.close();
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the reproducers (a ~4 KB MP4 whose fixed-size stsz declares 2^31, 33.5M or 2^32-1 samples): probe() and plan() refuse them as CORRUPT naming the file and the box', async () => {
    expect(tiny.length).toBeGreaterThan(3000);
    expect(tiny.length).toBeLessThan(5000);
    const files = writeReproducers(tiny, dir);
    for (const [name, n] of [
      ['2^31', 2 ** 31],
      ['33.5M', 2 ** 25],
      ['2^32-1', 2 ** 32 - 1],
    ] as const) {
      const file = files[name];
      const cause = `the stsz box declares ${n} samples of 1 bytes, more than the ${mdatBytes.toLocaleString('en-US')} bytes of its mdat boxes hold`;
      for (const call of [() => probe(file), () => plan(file)]) {
        const err = (await call().catch((e: unknown) => e)) as OmniprepError;
        expect(err).toBeInstanceOf(OmniprepError);
        expect([name, err.code, err.message, err.input]).toEqual([name, 'CORRUPT', `${file}: ${cause}`, file]);
      }
    }
  }, 120_000);

  it('the moov bytes alone (no bounds: a caller that does not know the file) are still bounded by the frame rate', () => {
    const moovAt = tiny.indexOf('moov') - 4;
    for (const n of [2 ** 25, 2 ** 31, 2 ** 32 - 1]) {
      const moov = lyingStsz(tiny, n).subarray(moovAt);
      const e = (() => {
        try {
          parseMoov(moov);
        } catch (x) {
          return x as CorruptContainer;
        }
      })();
      expect(e).toBeInstanceOf(CorruptContainer);
      expect(e!.message).toMatch(
        new RegExp(`^the stsz box declares ${n} video samples in \\d+(\\.\\d+)? s \\(stts\\), more than 1000 frames a second of the 21600 s limit$`),
      );
    }
  });

  it('samples the mdat holds, but more than 1000 frames a second of the duration: CORRUPT (the frame-rate bound)', async () => {
    // 2,000 one-byte samples fit the mdat; at the tiny file's 10 fps spacing they last 200 s, so
    // their deltas are cut to one tick (1/timescale s each: well under a second in all).
    const lie = lyingStsz(tiny, 2000);
    const stts = findBox(lie, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stts'])!;
    lie.writeUInt32BE(1, stts.start + 12);
    const file = join(dir, 'fast.mp4');
    writeFileSync(file, lie);
    const err = (await probe(file).catch((e: unknown) => e)) as OmniprepError;
    const mdhd = findBox(lie, ['moov', 'trak', 'mdia', 'mdhd'])!;
    const seconds = Number((2000 / lie.readUInt32BE(mdhd.start + 12)).toFixed(3)); // 0.195 at ffmpeg's 10,240 ticks a second
    expect([err.code, err.message]).toEqual([
      'CORRUPT',
      `${file}: the stsz box declares 2000 video samples in ${seconds} s (stts), more than 1000 frames a second`,
    ]);
    // At the bound (and within the mdat) the same lie is parsed: 1,000 samples of 10 ticks (0.98 s).
    lie.writeUInt32BE(1000, findBox(lie, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsz'])!.start + 8);
    lie.writeUInt32BE(1000, stts.start + 8);
    lie.writeUInt32BE(10, stts.start + 12);
    lie.writeUInt32BE(1000, findBox(lie, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsc'])!.start + 12);
    const moov = lie.subarray(lie.indexOf('moov') - 4);
    const idx = parseMoov(moov, { bounds: { fileBytes: lie.length, mdatBytes } });
    expect(idx.decodeOrder.pos.length).toBe(1000);
  });

  it('packetIndex on a file whose moov lies (the index read after probe) is CORRUPT, not an ffprobe fallback', async () => {
    const info = await probe(join(dir, 'tiny.mp4'));
    const file = join(dir, 'later.mp4');
    writeFileSync(file, lyingStsz(tiny, 2 ** 31));
    const err = (await packetIndex({ ...info, input: file, path: file }, { ffprobePath: '/nonexistent/ffprobe' }).catch((e: unknown) => e)) as OmniprepError;
    expect([err.code, err.message]).toEqual([
      'CORRUPT',
      `${file}: the stsz box declares ${2 ** 31} samples of 1 bytes, more than the ${mdatBytes.toLocaleString('en-US')} bytes of its mdat boxes hold`,
    ]);
  }, 60_000);
});
