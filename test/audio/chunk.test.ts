/** chunkAudio on real files: cuts in silences, exact bounds, both encodings, copy, videos, cover art, errors. */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkAudio, chunkAudioWith, type ChunkAudioResult } from '../../src/audio/chunk.js';
import { decodedSamples } from '../../src/audio/encode.js';
import { chunkBytes, sizeModel } from '../../src/audio/encoding.js';
import { wavDataRange } from '../../src/audio/master.js';
import { resolveEncoding } from '../../src/audio/options.js';
import { OmniprepError } from '../../src/errors.js';
import { probe } from '../../src/probe/probe.js';
import { liveProcessCount, runProcess } from '../../src/ffmpeg/runner.js';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { brokenInputs, fixture, sharedMedia, SILENCES, TONE_SECONDS, tempDir } from '../helpers/fixtures.js';

/** ffmpeg's flags for a quiet run that may overwrite its output. */
const QUIET = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];

let tmpRoot: string;
beforeAll(() => {
  // chunkAudio's temporary directories go here, so the tests can see that none is left.
  tmpRoot = tempDir('audio-tmp-');
  process.env.OMNIPREP_TMPDIR = tmpRoot;
});

/** Decodes every chunk through the runner (proving it decodes) and returns real durations in seconds. */
async function realDurations(r: ChunkAudioResult): Promise<number[]> {
  return Promise.all(r.assets.map(async (a) => (await decodedSamples(a.file!, r.encoding.channels, a.file!, {})) / r.encoding.sampleRate));
}

/** The 16-bit samples of a WAV file's data chunk. */
async function pcm(file: string): Promise<Buffer> {
  const { offset, bytes } = await wavDataRange(file);
  return readFileSync(file).subarray(offset, offset + bytes);
}

function expectCutsInSilences(r: ChunkAudioResult, silences: ReadonlyArray<readonly [number, number]>): void {
  for (const c of r.chunks.slice(0, -1)) {
    expect(c.cut).toBe('silence');
    const inside = silences.some(([a, b]) => c.endSec >= a && c.endSec <= b);
    expect(inside, `cut at ${c.endSec} s`).toBe(true);
  }
}

/** Times equal within one sample at 16 kHz: the fixture's silences end one sample after their nominal end. */
function expectTimes(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => row.forEach((t, j) => expect(Math.abs(t - expected[i]![j]!), `[${i}][${j}] = ${t}`).toBeLessThanOrEqual(1 / 16000 + 1e-9)));
}

function expectContiguous(r: ChunkAudioResult): void {
  expect(r.chunks[0]!.startSec).toBe(0);
  for (let i = 1; i < r.chunks.length; i++) expect(r.chunks[i]!.startSec).toBe(r.chunks[i - 1]!.endSec);
}

describe('chunkAudio on the tone-and-silence fixture (30 s, silences at SILENCES)', () => {
  it('mp3: every cut in a silence, ends meet starts exactly, real durations add up, every chunk decodes and keeps both limits', async () => {
    const out = tempDir('audio-mp3-');
    const r = await chunkAudio(await fixture('tones'), { outDir: out, chunkSeconds: 8 });
    expectTimes(
      r.chunks.map((c) => [c.startSec, c.endSec]),
      [
        [0, 4.4],
        [4.4, 10],
        [10, 15.3],
        [15.3, 21.5],
        [21.5, 26.6],
        [26.6, 30],
      ],
    );
    expectCutsInSilences(r, SILENCES);
    expectContiguous(r);
    const real = await realDurations(r);
    real.forEach((d, i) => expect(d, `chunk ${i}`).toBeCloseTo(r.chunks[i]!.durationSec, 3));
    expect(Math.abs(real.reduce((a, b) => a + b, 0) - TONE_SECONDS)).toBeLessThan(0.02);
    for (const c of r.chunks) {
      expect(c.durationSec).toBeLessThanOrEqual(8);
      expect(c.bytes).toBeLessThanOrEqual(r.limits.maxBytes);
      expect(c.bytes).toBe(readFileSync(join(out, c.file)).length);
      expect(c.tokens).toBe(Math.ceil(c.durationSec * 10 - 1e-9)); // gpt-5.5: 10 tokens per second
      expect(c.method).toBe('encode');
    }
    expect(r.silences).toBe(5);
    // The manifest on disk is the result without the in-memory extras.
    const onDisk = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify({ ...r, outDir: undefined, manifestPath: undefined, assets: undefined, timings: undefined })));
    expect(readdirSync(out).sort()).toEqual([...r.chunks.map((c) => c.file), 'manifest.json'].sort());
  });

  it('mp3 sizes stay under the bound the byte limit uses, by 1 to 2 frames', async () => {
    const r = await chunkAudio(await fixture('tones'), { outDir: tempDir('audio-mp3b-'), chunkSeconds: 8 });
    const m = sizeModel(resolveEncoding({}));
    for (const c of r.chunks) {
      const bound = chunkBytes(m, Math.round(c.durationSec * 16000));
      expect(c.bytes).toBeLessThan(bound);
      expect(c.bytes).toBeGreaterThanOrEqual(bound - 2 * 288);
    }
  });

  it('wav under a byte limit: the bytes bind, chunks are 44 + 2 bytes per sample, samples identical to the source', async () => {
    const src = await fixture('tones');
    const out = tempDir('audio-wav-');
    const maxBytes = 44 + 6 * 32000; // 6 s of 16 kHz mono
    const r = await chunkAudio(src, { outDir: out, format: 'wav', chunkSeconds: 30, maxBytes });
    expect(r.limits).toMatchObject({ maxChunkSec: 6, boundBy: 'bytes' });
    expectTimes([r.chunks.map((c) => c.endSec)], [[4.4, 10, 15.3, 21.3, 26.6, 30]]);
    expectCutsInSilences(r, SILENCES);
    expectContiguous(r);
    const source = await pcm(src);
    for (const c of r.chunks) {
      const file = join(out, c.file);
      expect(c.bytes).toBe(44 + Math.round(c.durationSec * 16000) * 2);
      expect(c.bytes).toBeLessThanOrEqual(maxBytes);
      expect((await probe(file)).durationSec).toBeCloseTo(c.durationSec, 4);
      expect((await pcm(file)).equals(source.subarray(Math.round(c.startSec * 16000) * 2, Math.round(c.endSec * 16000) * 2))).toBe(true);
    }
    const probed = await Promise.all(r.chunks.map(async (c) => (await probe(join(out, c.file))).durationSec));
    expect(Math.abs(probed.reduce((a, b) => a + b, 0) - TONE_SECONDS)).toBeLessThan(0.02);
  });

  it('overlap: each chunk repeats exactly the last second of the previous one', async () => {
    const src = await fixture('tones');
    const out = tempDir('audio-ovl-');
    const r = await chunkAudio(src, { outDir: out, format: 'wav', chunkSeconds: 8, overlapSec: 1 });
    expectTimes(
      r.chunks.map((c) => [c.startSec, c.endSec, c.overlapSec]),
      [
        [0, 4.5, 0],
        [3.5, 10, 1],
        [9, 15.3, 1],
        [14.3, 21.5, 1],
        [20.5, 26.6, 1],
        [25.6, 30, 1],
      ],
    );
    expectCutsInSilences(r, SILENCES);
    const data = await Promise.all(r.chunks.map((c) => pcm(join(out, c.file))));
    for (let i = 1; i < data.length; i++) {
      const prev = data[i - 1]!;
      expect(data[i]!.subarray(0, 32000).equals(prev.subarray(prev.length - 32000))).toBe(true);
    }
    // Without the overlaps, the chunks are the source.
    const own = Buffer.concat(data.map((d, i) => (i ? d.subarray(32000) : d)));
    expect(own.equals(await pcm(src))).toBe(true);
    // The same as mp3: real durations match the manifest.
    const mp3 = await chunkAudio(src, { outDir: tempDir('audio-ovl3-'), chunkSeconds: 8, overlapSec: 1 });
    expect(mp3.chunks.map((c) => [c.startSec, c.endSec])).toEqual(r.chunks.map((c) => [c.startSec, c.endSec]));
    (await realDurations(mp3)).forEach((d, i) => expect(d).toBeCloseTo(mp3.chunks[i]!.durationSec, 3));
  });

  it('copy: a source already in the asked encoding that fits one chunk is stream-copied', async () => {
    const src = await fixture('tones');
    const wav = await chunkAudio(src, { outDir: tempDir('audio-cp-'), format: 'wav', chunkSeconds: 60 });
    expect(wav.chunks).toMatchObject([{ startSec: 0, endSec: 30, method: 'copy', bytes: 44 + 960000, cut: 'end' }]);
    expect((await pcm(wav.assets[0]!.file!)).equals(await pcm(src))).toBe(true);
    // An MP3 at the asked rate and bit rate: copied, and its length is the decoded one (8 s, not the 8.046 s of whole frames).
    const mp3 = await chunkAudio(await fixture('audioOnly'), { outDir: tempDir('audio-cp3-'), sampleRate: 44100, bitrate: 96000 });
    expect(mp3.chunks).toMatchObject([{ startSec: 0, endSec: 8, method: 'copy', tokens: 80 }]);
    // Asked at another rate, or with copying off, it is encoded.
    const enc = await chunkAudio(await fixture('audioOnly'), { outDir: tempDir('audio-cp4-') });
    expect(enc.chunks).toMatchObject([{ startSec: 0, endSec: 8, method: 'encode' }]);
    const off = await chunkAudio(src, { outDir: tempDir('audio-cp5-'), format: 'wav', chunkSeconds: 60, copy: false });
    expect(off.chunks).toMatchObject([{ endSec: 30, method: 'encode' }]);
  });

  it('a shared limiter bounds the encoders of several calls together', async () => {
    const limit = pLimit(1);
    let running = 0;
    let most = 0;
    let calls = 0;
    const shared = ((fn: () => Promise<unknown>) =>
      limit(async () => {
        calls++;
        most = Math.max(most, ++running);
        try {
          return await fn();
        } finally {
          running--;
        }
      })) as unknown as LimitFunction;
    const src = await fixture('tones');
    const [a, b] = await Promise.all([
      chunkAudio(src, { outDir: tempDir('audio-lim-'), chunkSeconds: 8, limiter: shared }),
      chunkAudio(src, { outDir: tempDir('audio-lim-'), chunkSeconds: 8, format: 'wav', limiter: shared }),
    ]);
    expect([a.chunks.length, b.chunks.length]).toEqual([6, 6]);
    expect(calls).toBe(12);
    expect(most).toBe(1);
  });

  it('a chunk written over maxBytes is cut again, shorter, and the rest re-planned', async () => {
    // A size model that thinks MP3 frames are 100 bytes (they are 288) lets the first plan overshoot.
    const wrong = { kind: 'mp3' as const, frameSamples: 576, frameBytes: 100, fixedBytes: 64, delaySamples: 2304 };
    const maxBytes = 100_000;
    const r = await chunkAudioWith(await fixture('tones'), { outDir: tempDir('audio-recut-'), chunkSeconds: 30, maxBytes }, { sizeModel: wrong });
    expect(r.chunks[0]!.recut).toBe(1);
    for (const c of r.chunks) expect(c.bytes).toBeLessThanOrEqual(maxBytes);
    expectContiguous(r);
    expect(r.totals.seconds).toBe(30);
  });
});

describe('chunkAudio: a short last piece joins the chunk before it', () => {
  it('12.5 s of tone in 4-s chunks: 3 chunks, the last 4.5 s, instead of a 0.5-s fourth', async () => {
    const dir = tempDir('audio-tail-');
    const src = join(dir, 'tone.wav');
    const ffmpeg = resolveBinary('ffmpeg').path;
    const tone = 'sine=frequency=440:duration=12.5:sample_rate=16000';
    const args = [...QUIET, '-f', 'lavfi', '-i', tone, '-ac', '1', src];
    await runProcess({ command: ffmpeg, args, input: 'tone', timeoutMs: 60_000 });
    try {
      const out = join(dir, 'out');
      const r = await chunkAudio(src, { outDir: out, format: 'wav', chunkSeconds: 4 });
      // A tone has no silence: cuts at the limits; the 0.5 s after 12 s is under the tail (a quarter of 4 s).
      expect(r.chunks.map((c) => [c.startSec, c.endSec, c.cut])).toEqual([
        [0, 4, 'limit'],
        [4, 8, 'limit'],
        [8, 12.5, 'end'],
      ]);
      expect(r.chunks.map((c) => c.bytes)).toEqual([44 + 2 * 64_000, 44 + 2 * 64_000, 44 + 2 * 72_000]);
      expect(r.chunks.map((c) => c.tokens)).toEqual([40, 40, 45]);
      expect(readdirSync(out).sort()).toEqual(['chunk-000.wav', 'chunk-001.wav', 'chunk-002.wav', 'manifest.json']);
      // Not joined when the chunk may not grow: 1-s chunks have a 0.25-s tail, the 0.5 s stays.
      const small = await chunkAudio(src, { outDir: join(dir, 'small'), format: 'wav', chunkSeconds: 1 });
      expect(small.chunks.map((c) => c.durationSec)).toEqual([...Array(12).fill(1), 0.5]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('chunkAudio on videos and other audio', () => {
  it('the audio of a video (AAC in MP4): cuts in silences, durations add up to the source', async () => {
    const src = await fixture('tonesVideo');
    const r = await chunkAudio(src, { outDir: tempDir('audio-vid-'), chunkSeconds: 8 });
    expectCutsInSilences(
      r,
      SILENCES.map(([a, b]) => [a - 0.01, b + 0.01] as const),
    ); // AAC smears the edges by a few ms
    expectContiguous(r);
    const real = await realDurations(r);
    expect(Math.abs(real.reduce((a, b) => a + b, 0) - (await probe(src)).durationSec)).toBeLessThan(0.02);
  });

  it('cover art: the audio comes out, the picture is neither decoded nor kept', async () => {
    const r = await chunkAudio(await fixture('coverArt'), { outDir: tempDir('audio-cov-') });
    expect(r.chunks).toHaveLength(1);
    expect(r.chunks[0]!.endSec).toBeCloseTo(5, 2);
    const out = await probe(r.assets[0]!.file!);
    expect(out).toMatchObject({ kind: 'audio', attachedPictures: 0, audio: { codec: 'mp3', sampleRate: 16000, channels: 1 } });
  });

  const JFK = sharedMedia('jfk.flac');
  it.skipIf(!JFK)('jfk.flac cut at about 4 s splits between phrases, never inside words', async () => {
    // The pauses between phrases, as silencedetect (-30 dB, clicks of under 10 ms joined) finds
    // them in this recording and as listening confirms: "And so my fellow Americans, | ask not |
    // what your country can do for you, | ask what you can do for your country."
    const PHRASE_PAUSES = [
      [2.178, 3.29],
      [4.426, 5.414],
      [7.869, 8.188],
    ] as const;
    const r = await chunkAudio(JFK!, { outDir: tempDir('audio-jfk-'), chunkSeconds: 4 });
    expect(r.chunks.length).toBe(4);
    expectCutsInSilences(r, PHRASE_PAUSES);
    expect(r.chunks[3]!.endSec).toBe(11);
  });

  const videos = ['friday.mp4', 'flower.mp4', 'stream-of-water.mp4', 'echo-hereweare.webm'];
  for (const name of videos) {
    const file = sharedMedia(name);
    it.skipIf(!file)(`${name} yields its audio`, async () => {
      const info = await probe(file!);
      const r = await chunkAudio(file!, { outDir: tempDir('audio-shared-'), chunkSeconds: 20, format: name.endsWith('.webm') ? 'wav' : 'mp3' });
      // The stream's end by its metadata (the container's duration for WebM, whose streams have none).
      const audioEnd = info.audio!.durationSec !== null ? info.audio!.startSec + info.audio!.durationSec : info.durationSec;
      expect(Math.abs(r.durationSec - audioEnd)).toBeLessThan(0.03);
      expectContiguous(r);
      const real = await realDurations(r);
      expect(Math.abs(real.reduce((a, b) => a + b, 0) - r.durationSec)).toBeLessThan(0.002);
    });
  }
});

describe('chunkAudio on a long file: chunks start encoding while the decode pass runs', () => {
  const ECHO = sharedMedia('echo-hereweare.webm');
  it.skipIf(!ECHO)('22 minutes of a WebM video: early chunks, every chunk sample-identical to one decode of the whole', async () => {
    const dir = tempDir('audio-long-');
    const long = join(dir, 'echo-x30.webm');
    const ffmpeg = resolveBinary('ffmpeg').path;
    const head = QUIET;
    await runProcess({ command: ffmpeg, args: [...head, '-stream_loop', '29', '-i', ECHO!, '-c', 'copy', long], input: 'loop', timeoutMs: 60_000 });
    try {
      const out = join(dir, 'out');
      const r = await chunkAudio(long, { outDir: out, format: 'wav', chunkSeconds: 120 });
      expect(r.timings.chunksDuringDecode).toBeGreaterThan(0);
      expect(r.chunks.length).toBeGreaterThanOrEqual(12);
      expectContiguous(r);
      // One decode of the whole audio, the way the master is made: the chunks are its slices.
      const whole = await runProcess({
        command: ffmpeg,
        args: [...head, '-i', long, '-map', '0:a:0', '-af', 'aresample=16000:async=1:first_pts=0', '-ac', '1', '-f', 's16le', 'pipe:1'],
        input: long,
        maxStdoutBytes: 1e9,
      });
      expect(whole.stdout.length / 2 / 16000).toBeCloseTo(r.durationSec, 6);
      for (const c of r.chunks) {
        const data = await pcm(join(out, c.file));
        expect(data.equals(whole.stdout.subarray(Math.round(c.startSec * 16000) * 2, Math.round(c.endSec * 16000) * 2)), c.file).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('chunkAudio errors: one clear line, nothing left behind', () => {
  it('a video without audio: NO_AUDIO_STREAM', async () => {
    const src = await fixture('longgop');
    const out = join(tempDir('audio-err-'), 'out');
    const err = (await chunkAudio(src, { outDir: out }).catch((e: unknown) => e)) as OmniprepError;
    expect(err).toBeInstanceOf(OmniprepError);
    expect(err.code).toBe('NO_AUDIO_STREAM');
    expect(err.message).toBe(`${src}: has no audio stream`);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('broken inputs get the probe errors', async () => {
    const files = await brokenInputs();
    const out = join(tempDir('audio-err-'), 'out');
    for (const [name, code] of [
      ['truncated', 'CORRUPT'],
      ['hls', 'UNSUPPORTED_FORMAT'],
      ['empty', 'EMPTY'],
    ] as const) {
      await expect(chunkAudio(files[name]!, { outDir: out }), name).rejects.toMatchObject({ code, input: files[name] });
    }
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('cancelled while working: ABORTED, processes stopped, nothing left', async () => {
    const file = sharedMedia('echo-hereweare.webm') ?? (await fixture('tonesVideo'));
    const out = join(tempDir('audio-err-'), 'out');
    const ac = new AbortController();
    // Abort once the work has begun (its temporary directory exists).
    const watch = setInterval(() => {
      if (readdirSync(tmpRoot).length) {
        clearInterval(watch);
        ac.abort();
      }
    }, 1);
    const err = await chunkAudio(file, { outDir: out, chunkSeconds: 5, format: 'wav', signal: ac.signal }).catch((e: unknown) => e);
    clearInterval(watch);
    expect(ac.signal.aborted).toBe(true);
    expect(err).toMatchObject({ code: 'ABORTED' });
    expect(liveProcessCount()).toBe(0);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('bad options fail before any work, naming the option', async () => {
    const src = await fixture('tones');
    await expect(chunkAudio(src, { outDir: tempDir(), model: 'claude-opus-4.7' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: /takes no audio input/,
    });
    await expect(chunkAudio(src, { outDir: tempDir(), sampleRate: 15000 })).rejects.toThrow(/option sampleRate/);
    await expect(chunkAudio(src, { outDir: src })).rejects.toThrow(/option outDir: expected a directory/);
  });
});
