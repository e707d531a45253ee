/**
 * plan and sample of http(s) inputs (src/source/remote.ts) from the range server on 127.0.0.1:
 * the plan reads only the first block and moov; keyframe mode fetches only the keyframes it
 * keeps, exact mode the spans it decodes; the frames are the ones the local file gives (same
 * bytes, and the frame numbers drawn in them), for moov-last and moov-first MP4. Servers without
 * range support and containers other than MP4 are read whole, and the manifest says so; a file
 * that changes mid-job fails with one line and leaves nothing behind. Hostile files and servers:
 * a WebM padded with tens of thousands of tiny elements (read in blocks), a server answering 4-KB
 * ranges (continued), one dripping (the time cap), an MP4 whose stsz lies (CORRUPT, never a
 * RangeError).
 */
import { lyingStsz } from '../helpers/lies.js';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chunkAudio } from '../../src/audio/chunk.js';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import type { OmniprepError } from '../../src/errors.js';
import { plan } from '../../src/plan/plan.js';
import { packetIndex } from '../../src/probe/keyframes.js';
import { MATROSKA_ID, matroskaLayout, readHeader, type ElementHeader } from '../../src/probe/matroska.js';
import { fileSource, mp4Index, trackSamples } from '../../src/probe/mp4.js';
import { probe } from '../../src/probe/probe.js';
import { sample, type Manifest } from '../../src/sample/sample.js';
import { voidHeader } from '../../src/source/remote-matroska.js';
import { cli, leftovers } from '../helpers/cli.js';
import { fixture, readFrameNumber, tempDir } from '../helpers/fixtures.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';

let server: RangeServer;
const files: Record<string, string> = {};
const remote = { allowAddress: (a: string) => a === '127.0.0.1', backoffMs: 5 };
const HEAD_BLOCK = 64 * 1024;
const MERGE_GAP = 16 * 1024;

async function ffmpeg(args: string[]): Promise<void> {
  await runProcess({
    command: resolveBinary('ffmpeg').path,
    args: ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args],
    input: 'remote test',
    timeoutMs: 120_000,
  });
}

beforeAll(async () => {
  files['last.mp4'] = await fixture('timecode');
  files['long.mp4'] = await fixture('longgop');
  const dir = tempDir('remote-');
  files['first.mp4'] = join(dir, 'first.mp4');
  await ffmpeg(['-i', files['last.mp4']!, '-c', 'copy', '-movflags', '+faststart', files['first.mp4']!]);
  files['clip.mkv'] = join(dir, 'clip.mkv');
  await ffmpeg(['-i', files['last.mp4']!, '-c', 'copy', files['clip.mkv']!]);
  files['clip.ts'] = join(dir, 'clip.ts');
  await ffmpeg(['-i', files['last.mp4']!, '-c', 'copy', files['clip.ts']!]);
  files['long.webm'] = await fixture('webmLong');
  files['live.webm'] = await fixture('liveWebm');
  files['voids.webm'] = join(dir, 'voids.webm');
  await voidWebm(files['long.webm'], files['voids.webm']);
  files['badcues.webm'] = join(dir, 'badcues.webm');
  await badCues(files['long.webm'], files['badcues.webm']);
  files['lie.mp4'] = join(dir, 'lie.mp4');
  await stszLie(files['lie.mp4']);
  server = await startRangeServer(files);
}, 180_000);
afterAll(() => server.close());
beforeEach(() => server.reset());

/** Two-byte Void elements (ID 0xEC, size 0) the padded WebM holds before its first Cluster. */
const TINY_VOIDS = 33_000;
/** Where they start in it (past the first block the reader fetches). */
let tinyVoidsAt = 0;

/**
 * long.webm with Void padding before its first Cluster (ffmpeg's reserved index space, the Cues
 * written at the front), whose last TINY_VOIDS * 2 bytes are rewritten as two-byte Void elements:
 * no offset changes, so the Cues and the SeekHead still hold.
 */
async function voidWebm(src: string, out: string): Promise<void> {
  await ffmpeg(['-i', src, '-c', 'copy', '-reserve_index_space', '140000', out]);
  const b = readFileSync(out);
  const ebml = readHeader(b, 0)!;
  const segment = readHeader(b, ebml.data + ebml.size)!;
  let pad: ElementHeader | undefined;
  for (let h = readHeader(b, segment.data)!; h.id !== MATROSKA_ID.Cluster; h = readHeader(b, h.data + h.size)!) pad = h;
  if (pad?.id !== MATROSKA_ID.Void) throw new Error('no Void before the first Cluster');
  const end = pad.data + pad.size;
  tinyVoidsAt = end - TINY_VOIDS * 2;
  voidHeader(tinyVoidsAt - pad.offset).copy(b, pad.offset);
  for (let at = tinyVoidsAt; at < end; at += 2) b.set([MATROSKA_ID.Void, 0x80], at);
  writeFileSync(out, b);
}

/**
 * long.webm whose cues all place their blocks one byte into their clusters (each
 * CueRelativePosition rewritten in place, same width): no keyframe block starts there.
 */
async function badCues(src: string, out: string): Promise<void> {
  const b = readFileSync(src);
  const file = await fileSource(src);
  const { cuesAt } = await matroskaLayout(file).finally(() => file.close());
  const walk = (start: number, end: number): void => {
    for (let at = start; at < end; ) {
      const h = readHeader(b, at)!;
      if (h.id === MATROSKA_ID.CueRelativePosition) b.fill(0, h.data, h.data + h.size).writeUInt8(1, h.data + h.size - 1);
      else if (h.id === MATROSKA_ID.Cues || h.id === MATROSKA_ID.CuePoint || h.id === MATROSKA_ID.CueTrackPositions) walk(h.data, h.data + h.size);
      at = h.data + h.size;
    }
  };
  walk(cuesAt.offset, cuesAt.offset + cuesAt.size);
  writeFileSync(out, b);
}

/** A real MP4 of a few KB whose stsz declares a fixed sample size of 1 byte and 2^32-1 samples. */
async function stszLie(out: string): Promise<void> {
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=s=32x32:r=10:d=0.3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', out]);
  writeFileSync(out, lyingStsz(readFileSync(out), 0xffffffff));
}

/** Byte ranges the server sent, as [start, end) (a 200 answer is the whole file). */
function sent(name: string): Array<[number, number]> {
  return server.log
    .filter((e) => e.path === `/${name}` && e.bytes > 0)
    .map((e) => {
      const m = /bytes=(\d+)-(\d+)/.exec(e.range ?? '');
      return m && e.status === 206 ? [Number(m[1]), Number(m[1]) + e.bytes] : [0, e.bytes];
    });
}

async function moovOf(name: string): Promise<{ offset: number; size: number; index: Awaited<ReturnType<typeof mp4Index>> }> {
  const src = await fileSource(files[name]!);
  try {
    const index = await mp4Index(src);
    return { ...index.layout.moov, index };
  } finally {
    await src.close();
  }
}

async function frameNumbers(dir: string, m: Manifest): Promise<number[]> {
  return Promise.all(m.frames.map((f) => readFrameNumber(join(dir, f.file))));
}

describe('remote MP4 by byte ranges', () => {
  for (const name of ['last.mp4', 'first.mp4']) {
    it(`${name}: plan reads the first block and moov only, and plans what the local file plans`, async () => {
      const url = server.url(name);
      const p = await plan(url, { every: 3, mode: 'exact', remote });
      const local = await plan(files[name]!, { every: 3, mode: 'exact' });
      expect(p.input).toBe(url);
      expect(p.frames).toEqual(local.frames);
      expect(p.media).toEqual(local.media);
      const moov = await moovOf(name);
      expect(p.remote).toMatchObject({ url, mode: 'ranges', sizeBytes: local.media.sizeBytes, requests: server.requests, bytesFetched: server.bytesSent });
      // Every byte sent is in the first block or in moov (a box header's read takes a block from there on).
      for (const [a, b] of sent(name))
        expect(b <= HEAD_BLOCK || (a >= moov.offset && b <= moov.offset + Math.max(moov.size, HEAD_BLOCK)), `${a}-${b}`).toBe(true);
      expect(p.remote!.bytesFetched).toBeLessThanOrEqual(HEAD_BLOCK + Math.max(moov.size, HEAD_BLOCK));
    }, 60_000);

    it(`${name}: keyframe mode fetches only the keyframes it keeps, and writes the local file's frames`, async () => {
      const out = tempDir('remote-kf-');
      const localOut = tempDir('local-kf-');
      const m = await sample(server.url(name), { every: 4, out, remote }).manifest();
      const l = await sample(files[name]!, { every: 4, out: localOut }).manifest();
      expect(m.frames.map((f) => f.timestampSec)).toEqual([0, 4, 8, 12, 16]);
      expect(await frameNumbers(out, m)).toEqual([0, 120, 240, 360, 480]);
      for (let i = 0; i < m.frames.length; i++)
        expect(readFileSync(join(out, m.frames[i]!.file)).equals(readFileSync(join(localOut, l.frames[i]!.file)))).toBe(true);
      expect(m.timings.decodePaths).toEqual(l.timings.decodePaths);
      expect(m.remote).toMatchObject({ mode: 'ranges', requests: server.requests, bytesFetched: server.bytesSent });
      // The keyframes at 2, 6, 10, 14, 18 s were not kept: none was fetched whole.
      const { index, offset, size } = await moovOf(name);
      const ranges = sent(name);
      const keptPos = new Set(m.frames.map((f) => index.pos[index.times.indexOf(f.timestampSec)]));
      for (let i = 0; i < index.times.length; i++) {
        if (!index.keyframe[i] || keptPos.has(index.pos[i]!)) continue;
        const a = index.pos[i]!;
        const b = a + index.size[i]!;
        if (b <= HEAD_BLOCK) continue;
        expect(
          ranges.some(([x, y]) => x <= a && y >= b),
          `keyframe at ${index.times[i]} s`,
        ).toBe(false);
      }
      const kept = m.frames.reduce((n, f) => n + index.size[index.times.indexOf(f.timestampSec)]!, 0);
      expect(m.remote!.bytesFetched).toBeLessThanOrEqual(HEAD_BLOCK + size + kept + m.frames.length * MERGE_GAP);
      expect(offset).toBeGreaterThan(0);
    }, 120_000);

    it(`${name}: exact mode fetches the spans it decodes, and writes the local file's frames`, async () => {
      const out = tempDir('remote-ex-');
      const localOut = tempDir('local-ex-');
      const m = await sample(server.url(name), { every: 3.3, mode: 'exact', out, remote }).manifest();
      const l = await sample(files[name]!, { every: 3.3, mode: 'exact', out: localOut }).manifest();
      expect(m.frames.map((f) => f.timestampSec)).toEqual(l.frames.map((f) => f.timestampSec));
      expect(await frameNumbers(out, m)).toEqual(m.frames.map((f) => Math.round(f.timestampSec * 30)));
      for (let i = 0; i < m.frames.length; i++)
        expect(readFileSync(join(out, m.frames[i]!.file)).equals(readFileSync(join(localOut, l.frames[i]!.file)))).toBe(true);
      expect(m.remote!.mode).toBe('ranges');
      expect(m.remote!.bytesFetched).toBe(server.bytesSent);
      expect(m.remote!.bytesFetched).toBeLessThan(m.remote!.sizeBytes);
    }, 120_000);
  }

  it('a longer file: keyframe mode every 10 s fetches a small part of it', async () => {
    const out = tempDir('remote-long-');
    const m = await sample(server.url('long.mp4'), { every: 10, out, remote: { ...remote, blockBytes: 4096 } }).manifest();
    expect(await frameNumbers(out, m)).toEqual([0, 300, 600, 900, 1200, 1500]);
    const moov = await moovOf('long.mp4');
    const kept = m.frames.reduce((n, f) => n + moov.index.size[moov.index.times.indexOf(f.timestampSec)]!, 0);
    // The first block, moov and the six keyframes, nothing else.
    expect(m.remote!.bytesFetched).toBeLessThanOrEqual(4096 + moov.size + kept + 6 * MERGE_GAP);
  }, 120_000);
});

/** The blocks ffprobe lists for the video of a local Matroska file: time, position, size, keyframe flag. */
async function mkvPackets(name: string): Promise<Array<{ t: number; pos: number; size: number; key: boolean }>> {
  const info = await probe(files[name]!);
  const idx = await packetIndex(info, { indexSource: 'ffprobe' });
  return idx.times.map((t, i) => ({ t, pos: idx.pos[i]!, size: idx.size[i]!, key: idx.keyframe[i]! }));
}

describe('concurrent ranged GETs', () => {
  it('keyframe mode: several GETs in flight, at most `concurrency`, the same ranges, bytes and frames as one at a time', async () => {
    const runs: Array<{ m: Manifest; out: string; ranges: string[]; maxInFlight: number }> = [];
    for (const concurrency of [1, 3, undefined]) {
      server.reset();
      // Every answer waits until 8 requests are in flight (or 500 ms): what the reader sends at once shows.
      server.hold(8);
      const out = tempDir('remote-conc-');
      const m = await sample(server.url('last.mp4'), { every: 2, out, remote: { ...remote, concurrency } }).manifest();
      runs.push({ m, out, ranges: server.log.map((e) => e.range ?? '').sort(), maxInFlight: server.maxInFlight });
    }
    const [one, three, eight] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    const localOut = tempDir('local-conc-');
    const l = await sample(files['last.mp4']!, { every: 2, out: localOut }).manifest();
    expect(one.m.frames.length).toBe(10);
    expect(one.m.frames.map((f) => f.timestampSec)).toEqual(l.frames.map((f) => f.timestampSec));
    for (let i = 0; i < l.frames.length; i++)
      expect(readFileSync(join(one.out, one.m.frames[i]!.file)).equals(readFileSync(join(localOut, l.frames[i]!.file)))).toBe(true);
    expect([one.maxInFlight, three.maxInFlight]).toEqual([1, 3]);
    expect(eight.maxInFlight).toBeGreaterThan(3);
    expect(eight.maxInFlight).toBeLessThanOrEqual(8);
    for (const r of [three, eight]) {
      expect(r.ranges).toEqual(one.ranges);
      expect(r.m.remote).toMatchObject({ requests: one.m.remote!.requests, bytesFetched: one.m.remote!.bytesFetched, retries: 0 });
      expect(r.m.frames.map((f) => f.timestampSec)).toEqual(one.m.frames.map((f) => f.timestampSec));
      for (let i = 0; i < one.m.frames.length; i++)
        expect(readFileSync(join(r.out, r.m.frames[i]!.file)).equals(readFileSync(join(one.out, one.m.frames[i]!.file)))).toBe(true);
    }
  }, 180_000);

  it('an option concurrency out of range: INVALID_OPTION naming the URL, nothing asked', async () => {
    const e = (await sample(server.url('long.mp4'), { every: 5, out: tempDir('remote-conc-bad-'), remote: { ...remote, concurrency: 0 } })
      .manifest()
      .catch((x: unknown) => x)) as OmniprepError;
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toBe(`${server.url('long.mp4')}: option concurrency: expected an integer from 1 to 64, got 0`);
    expect(server.requests).toBe(0);
  }, 60_000);
});

describe('remote Matroska/WebM by byte ranges', () => {
  it('long.webm: plan reads the header elements, the Cues and what probing reads, and plans what the local file plans', async () => {
    const url = server.url('long.webm');
    const p = await plan(url, { every: 10, remote });
    const local = await plan(files['long.webm']!, { every: 10 });
    expect(p.media).toEqual(local.media);
    // The Cues give no byte positions (the blocks are found when fetched): the same frames, by time.
    expect(p.frames.map((f) => [f.timestampSec, f.keyframe, f.source])).toEqual(local.frames.map((f) => [f.timestampSec, f.keyframe, f.source]));
    expect(p.frames.map((f) => f.timestampSec)).toEqual([0.014, 10.014, 20.014, 30.014, 40.014, 50.014, 58.014]);
    expect(p.remote).toMatchObject({ url, mode: 'ranges', sizeBytes: local.media.sizeBytes, requests: server.requests, bytesFetched: server.bytesSent });
    expect(p.remote!.bytesFetched).toBeLessThan(local.media.sizeBytes / 3);
  }, 60_000);

  for (const name of ['long.webm', 'clip.mkv']) {
    it(`${name}: keyframe mode fetches the keyframes it keeps and no other, and writes the local file's frames`, async () => {
      const out = tempDir('remote-mkv-');
      const localOut = tempDir('local-mkv-');
      const every = name === 'long.webm' ? 10 : 4;
      const m = await sample(server.url(name), { every, out, remote }).manifest();
      const l = await sample(files[name]!, { every, out: localOut }).manifest();
      expect(m.frames.map((f) => f.timestampSec)).toEqual(l.frames.map((f) => f.timestampSec));
      for (let i = 0; i < m.frames.length; i++)
        expect(readFileSync(join(out, m.frames[i]!.file)).equals(readFileSync(join(localOut, l.frames[i]!.file)))).toBe(true);
      expect(await frameNumbers(out, m)).toEqual(name === 'long.webm' ? [0, 300, 600, 900, 1200, 1500, 1740] : [0, 120, 240, 360, 480, 540]);
      expect(m.remote).toMatchObject({ mode: 'ranges', requests: server.requests, bytesFetched: server.bytesSent });
      expect(m.remote!.bytesFetched).toBeLessThan(m.remote!.sizeBytes);
      // Every kept keyframe was fetched whole; a keyframe block none of the reads needed (past the
      // probe's first clusters and before its tail) was not fetched at all.
      const ranges = sent(name);
      const union = ranges
        .sort((p, q) => p[0] - q[0])
        .reduce<Array<[number, number]>>((u, [x, y]) => {
          const last = u[u.length - 1];
          if (last && x <= last[1]) last[1] = Math.max(last[1], y);
          else u.push([x, y]);
          return u;
        }, []);
      const has = (a: number, b: number): boolean => union.some(([x, y]) => x <= a && y >= b);
      const touched = (a: number, b: number): boolean => ranges.some(([x, y]) => x < b && y > a);
      const kept = new Set(m.frames.map((f) => f.timestampSec));
      const keys = (await mkvPackets(name)).filter((k) => k.key);
      for (const k of keys) if (kept.has(k.t)) expect(has(k.pos, k.pos + k.size), `kept keyframe at ${k.t} s`).toBe(true);
      const untouched = keys.filter((k) => !kept.has(k.t) && !touched(k.pos, k.pos + k.size));
      if (name === 'long.webm')
        expect(untouched.map((k) => k.t)).toEqual([
          8.014, 12.014, 14.014, 16.014, 18.014, 22.014, 24.014, 26.014, 28.014, 32.014, 34.014, 36.014, 38.014, 42.014, 44.014, 46.014, 48.014, 52.014,
        ]);
    }, 120_000);
  }

  it('a frame the Cues do not list (keyframe mode finds no keyframe near a target): the whole file, the local plan', async () => {
    const out = tempDir('remote-mkv-dense-');
    const m = await sample(server.url('long.webm'), { every: 1, end: 6, out, remote }).manifest();
    const l = await plan(files['long.webm']!, { every: 1, end: 6 });
    expect(m.frames.map((f) => f.timestampSec)).toEqual(l.frames.map((f) => f.timestampSec));
    expect(await frameNumbers(out, m)).toEqual(l.frames.map((f) => Math.round((f.timestampSec - 0.014) * 30)));
    expect(m.remote).toMatchObject({
      mode: 'download',
      reason: 'the plan needs a frame other than the keyframes the Cues list',
      bytesFetched: m.remote!.sizeBytes,
    });
  }, 120_000);

  it('exact mode, no Cues, audio: the whole file, and why', async () => {
    const exact = await plan(server.url('long.webm'), { every: 10, mode: 'exact', remote });
    expect(exact.frames).toEqual((await plan(files['long.webm']!, { every: 10, mode: 'exact' })).frames);
    expect(exact.remote).toMatchObject({ mode: 'download', reason: 'exact frames of a Matroska file need every packet (its Cues list keyframes only)' });
    const live = await plan(server.url('live.webm'), { every: 1, remote });
    expect(live.frames).toEqual((await plan(files['live.webm']!, { every: 1 })).frames);
    expect(live.remote).toMatchObject({ mode: 'download', reason: 'the Matroska file has no Cues (a live recording?)' });
    const audio = await chunkAudio(server.url('long.webm'), { outDir: tempDir('remote-mkv-audio-'), chunkSeconds: 30, remote });
    // The clip's last piece past 60 s is under the tail threshold (src/audio/cuts.ts): it joins the second chunk.
    const local = await chunkAudio(files['long.webm']!, { outDir: tempDir('local-mkv-audio-'), chunkSeconds: 30 });
    expect(audio.chunks.map((c) => c.startSec)).toEqual([0, 30]);
    expect(audio.chunks.map((c) => [c.startSec, c.endSec])).toEqual(local.chunks.map((c) => [c.startSec, c.endSec]));
    expect(audio.remote).toMatchObject({ mode: 'download', reason: 'the audio of a Matroska file is read whole' });
  }, 120_000);
});

describe('remote audio', () => {
  it('chunkAudio of a URL fetches the audio packets only, and cuts what the local file cuts', async () => {
    const out = tempDir('remote-audio-');
    const localOut = tempDir('local-audio-');
    const r = await chunkAudio(server.url('last.mp4'), { outDir: out, chunkSeconds: 8, remote });
    const l = await chunkAudio(files['last.mp4']!, { outDir: localOut, chunkSeconds: 8 });
    expect(r.input).toBe(server.url('last.mp4'));
    expect(r.chunks).toEqual(l.chunks);
    expect(r.chunks.length).toBeGreaterThanOrEqual(3);
    for (const c of r.chunks) expect(readFileSync(join(out, c.file)).equals(readFileSync(join(localOut, c.file)))).toBe(true);
    expect(r.remote).toMatchObject({ mode: 'ranges', requests: server.requests, bytesFetched: server.bytesSent });
    // Video packets are fetched only when a gap between audio packets is smaller than a request is
    // worth (the merge gap): never one larger than that gap, and at most that much per audio run.
    const { index, size: moovSize } = await moovOf('last.mp4');
    const ranges = sent('last.mp4');
    for (let i = 0; i < index.pos.length; i++) {
      const a = index.pos[i]!;
      const b = a + index.size[i]!;
      if (b <= HEAD_BLOCK || index.size[i]! <= MERGE_GAP) continue;
      expect(
        ranges.some(([x, y]) => x <= a && y >= b),
        `video packet at ${index.times[i]} s`,
      ).toBe(false);
    }
    const src = await fileSource(files['last.mp4']!);
    const audio = trackSamples(await src.read(index.layout.moov.offset, moovSize), (await probe(files['last.mp4']!)).audio!.index);
    await src.close();
    expect(audio.handler).toBe('soun');
    const audioBytes = audio.size.reduce((x, y) => x + y, 0);
    expect(r.remote!.bytesFetched).toBeLessThanOrEqual(HEAD_BLOCK + Math.max(moovSize, HEAD_BLOCK) + audioBytes + ranges.length * MERGE_GAP);
  }, 120_000);
});

describe('remote inputs read whole, and failures', () => {
  it('a server without range support: the whole file, said in the manifest', async () => {
    server.noRanges = true;
    const out = tempDir('remote-norange-');
    const m = await sample(server.url('last.mp4'), { every: 4, out, remote }).manifest();
    expect(await frameNumbers(out, m)).toEqual([0, 120, 240, 360, 480]);
    expect(m.remote).toMatchObject({ mode: 'download', reason: 'the server does not answer byte ranges', bytesFetched: m.remote!.sizeBytes, requests: 1 });
  }, 120_000);

  it('a container other than MP4/MOV and Matroska/WebM: the whole file, said in the plan', async () => {
    const p = await plan(server.url('clip.ts'), { every: 4, remote });
    const local = await plan(files['clip.ts']!, { every: 4 });
    expect(p.media.container).toBe('mpegts');
    expect(p.frames).toEqual(local.frames);
    expect(p.frames).toHaveLength(6);
    expect(p.remote).toMatchObject({ mode: 'download', reason: 'only MP4/MOV and Matroska/WebM are read by ranges' });
    expect(p.remote!.bytesFetched).toBeGreaterThanOrEqual(p.remote!.sizeBytes);
  }, 60_000);

  it('scene mode decodes every frame: the whole file, said in the plan', async () => {
    const p = await plan(server.url('last.mp4'), { every: 4, mode: 'scene', remote });
    const local = await plan(files['last.mp4']!, { every: 4, mode: 'scene' });
    expect(p.frames).toEqual(local.frames);
    expect(p.remote).toMatchObject({ mode: 'download', reason: 'scene mode decodes every frame', sizeBytes: local.media.sizeBytes });
    expect(server.bytesSent).toBeGreaterThanOrEqual(local.media.sizeBytes);
  }, 60_000);

  it('a file that changes mid-job: one clear error, nothing left behind', async () => {
    const tmp = tempDir('remote-tmp-');
    const before = process.env.OMNIPREP_TMPDIR;
    process.env.OMNIPREP_TMPDIR = tmp;
    try {
      const out = join(tempDir('remote-changed-'), 'frames');
      // The first block and moov are read; the packets are fetched after the file changed.
      server.changeEtagAfter(2);
      const e = await sample(server.url('last.mp4'), { every: 4, out, remote })
        .manifest()
        .then(
          () => undefined,
          (x: OmniprepError) => x,
        );
      expect(e?.code).toBe('CORRUPT');
      expect(e?.message).toMatch(/last\.mp4: the file changed on the server while it was being read \(its ETag went from/);
      expect(readdirSync(tmp)).toEqual([]);
      mkdirSync(out, { recursive: true });
      expect(readdirSync(out)).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.OMNIPREP_TMPDIR;
      else process.env.OMNIPREP_TMPDIR = before;
    }
  }, 60_000);

  it('refuses loopback unless allowed, like the downloader', async () => {
    const e = await plan(server.url('last.mp4'), { every: 4 }).then(
      () => undefined,
      (x: OmniprepError) => x,
    );
    expect(e?.code).toBe('FORBIDDEN_URL');
    expect(server.requests).toBe(0);
  });
});

describe('hostile files and servers', () => {
  it('a WebM with 33,000 two-byte Void elements before its first Cluster: plan reads them a block at a time', async () => {
    expect(tinyVoidsAt).toBeGreaterThan(HEAD_BLOCK);
    const normal = await plan(server.url('long.webm'), { every: 10, remote });
    server.reset();
    const url = server.url('voids.webm');
    const p = await plan(url, { every: 10, remote });
    const local = await plan(files['voids.webm']!, { every: 10 });
    expect(p.media).toEqual(local.media);
    expect(p.frames.map((f) => [f.timestampSec, f.keyframe])).toEqual(local.frames.map((f) => [f.timestampSec, f.keyframe]));
    expect(p.remote).toMatchObject({ url, mode: 'ranges', requests: server.requests, bytesFetched: server.bytesSent });
    // One request per 12-byte header read was 5,500 of them; blocks make it two more than the file without the padding.
    expect(p.remote!.requests).toBeLessThan(20);
    expect(p.remote!.requests).toBeLessThanOrEqual(normal.remote!.requests + 2);
  }, 60_000);

  it('a server answering at most 4 KB per range: plan and sample give what the normal server gives', async () => {
    const normal = {
      mp4: await plan(server.url('last.mp4'), { every: 3, mode: 'exact', remote }),
      webm: await plan(server.url('long.webm'), { every: 10, remote }),
    };
    server.maxAnswerBytes = 4096;
    const from = server.requests;
    const mp4 = await plan(server.url('last.mp4'), { every: 3, mode: 'exact', remote });
    const webm = await plan(server.url('long.webm'), { every: 10, remote });
    expect(mp4.frames).toEqual(normal.mp4.frames);
    expect(mp4.media).toEqual(normal.mp4.media);
    expect(webm.frames).toEqual(normal.webm.frames);
    expect(webm.media).toEqual(normal.webm.media);
    expect(mp4.remote!.mode).toBe('ranges');
    expect(webm.remote!.mode).toBe('ranges');
    const out = tempDir('remote-short-');
    const m = await sample(server.url('last.mp4'), { every: 4, out, remote }).manifest();
    expect(await frameNumbers(out, m)).toEqual([0, 120, 240, 360, 480]);
    const outWebm = tempDir('remote-short-webm-');
    const w = await sample(server.url('long.webm'), { every: 10, out: outWebm, remote }).manifest();
    expect(await frameNumbers(outWebm, w)).toEqual([0, 300, 600, 900, 1200, 1500, 1740]);
    expect(server.log.slice(from).every((e) => e.status === 206 && e.bytes <= 4096)).toBe(true);
  }, 120_000);

  it('the caps per input: requests (LIMIT_EXCEEDED) and total time against a server that drips after the first block (TIMEOUT)', async () => {
    server.maxAnswerBytes = 4096;
    const url = server.url('long.webm');
    const many = await plan(url, { every: 10, remote: { ...remote, maxRequests: 10 } }).then(
      () => undefined,
      (x: OmniprepError) => x,
    );
    expect(many?.code).toBe('LIMIT_EXCEEDED');
    expect(many?.message).toBe(`${url}: reading it needs more than 10 requests, the limit per input (maxRequests)`);
    expect(server.requests).toBe(10);
    server.reset();
    server.drip(1, 100);
    const slow = await plan(server.url('last.mp4'), { every: 4, remote: { ...remote, totalTimeoutMs: 2000 } }).then(
      () => undefined,
      (x: OmniprepError) => x,
    );
    expect(slow?.code).toBe('TIMEOUT');
    expect(slow?.message).toBe(`${server.url('last.mp4')}: reading it took longer than the 2.0-s limit per input (totalTimeoutMs)`);
    expect(server.log[0]!.bytes).toBe(HEAD_BLOCK);
  }, 60_000);

  it('a server that ignores Range with an endless body: TOO_LARGE at maxDownloadBytes, not the 8-GiB file limit', async () => {
    server.endless = true;
    const url = server.url('last.mp4');
    const e = await plan(url, { every: 4, remote: { ...remote, maxDownloadBytes: 1_000_000 } }).then(
      () => undefined,
      (x: OmniprepError) => x,
    );
    expect(e?.code).toBe('TOO_LARGE');
    expect(e?.message).toBe(`${url}: the body passed the 1000000-byte limit and the server ignores byte ranges (maxDownloadBytes)`);
    expect(e?.details?.bytesFetched).toBeLessThanOrEqual(1_000_000 + 65_536);
  }, 60_000);

  it('a WebM whose cues point where no keyframe block starts: keyframe mode reads it whole (was a raw MatroskaUnsupported)', async () => {
    const out = tempDir('remote-badcues-');
    const m = await sample(server.url('badcues.webm'), { every: 10, out, remote }).manifest();
    expect(await frameNumbers(out, m)).toEqual([0, 300, 600, 900, 1200, 1500, 1740]);
    expect(m.remote).toMatchObject({ mode: 'download', bytesFetched: server.bytesSent });
    expect(m.remote!.reason).toMatch(/^the Matroska file has (no block at byte \d+, where a cue points|a cue pointing to a block that is not a keyframe)/);
  }, 120_000);

  it('an MP4 of a few KB declaring 2^32-1 samples over HTTP: CORRUPT naming the URL, nothing downloaded whole', async () => {
    const url = server.url('lie.mp4');
    const size = readFileSync(files['lie.mp4']!).length;
    expect(size).toBeLessThan(8192);
    for (const run of [() => plan(url, { every: 1, remote }), () => sample(url, { every: 1, out: tempDir('remote-lie-'), remote }).manifest()]) {
      server.reset();
      const e = await run().then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toMatchObject({ name: 'OmniprepError', code: 'CORRUPT', input: url });
      expect((e as OmniprepError).message).toMatch(new RegExp(`^${url.replace(/[.]/g, '\\.')}: `));
      // The first block holds the whole file: one request, no fallback download.
      expect(server.requests).toBe(1);
    }
  }, 60_000);
});

describe('CLI', () => {
  it('omniprep plan|sample http://127.0.0.1:PORT/x.mp4 --allow-private-urls', async () => {
    const url = server.url('last.mp4');
    const refused = await cli(['plan', url, '--every', '4']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/127\.0\.0\.1 is a loopback address/);
    const p = await cli(['--json', 'plan', url, '--every', '4', '--allow-private-urls'], { timeoutMs: 120_000 });
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).remote).toMatchObject({ mode: 'ranges', url });
    const out = join(tempDir('remote-cli-'), 'frames');
    const s = await cli(['--json', 'sample', url, '--every', '4', '--out', out, '--allow-private-urls'], { timeoutMs: 120_000 });
    expect(s.code, s.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(m.remote).toMatchObject({ mode: 'ranges', url });
    expect(await frameNumbers(out, m)).toEqual([0, 120, 240, 360, 480]);
    expect(leftovers(s)).toEqual({ files: [], processes: [] });
    const info = await probe(files['last.mp4']!);
    expect(m.remote!.sizeBytes).toBe(info.sizeBytes);
  }, 240_000);
});
