/**
 * plan and sample of http(s) inputs (src/source/remote.ts) from the range server on 127.0.0.1:
 * the plan reads only the first block and moov; keyframe mode fetches only the keyframes it
 * keeps, exact mode the spans it decodes; the frames are the ones the local file gives (same
 * bytes, and the frame numbers drawn in them), for moov-last and moov-first MP4. Servers without
 * range support and containers other than MP4 are read whole, and the manifest says so; a file
 * that changes mid-job fails with one line and leaves nothing behind.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chunkAudio } from '../../src/audio/chunk.js';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import type { OmniprepError } from '../../src/errors.js';
import { plan } from '../../src/plan/plan.js';
import { fileSource, mp4Index, trackSamples } from '../../src/probe/mp4.js';
import { probe } from '../../src/probe/probe.js';
import { sample, type Manifest } from '../../src/sample/sample.js';
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
  server = await startRangeServer(files);
}, 180_000);
afterAll(() => server.close());
beforeEach(() => server.reset());

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

  it('a container other than MP4/MOV: the whole file, said in the plan', async () => {
    const p = await plan(server.url('clip.mkv'), { every: 4, remote });
    const local = await plan(files['clip.mkv']!, { every: 4 });
    expect(p.media.container).toBe('matroska');
    expect(p.frames).toEqual(local.frames);
    expect(p.frames).toHaveLength(6);
    expect(p.remote).toMatchObject({ mode: 'download', reason: 'only MP4/MOV are read by ranges' });
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
