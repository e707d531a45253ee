/** The pure parts of the audio stage: cut planning, size model, silence parsing, windows, stitching. No ffmpeg. */
import { describe, expect, it } from 'vitest';
import type { OmniprepError } from '../../src/errors.js';
import { finalChunks, mergeSilences, planAudioCuts, tailSeconds, type ChunkBounds, type Silence } from '../../src/audio/cuts.js';
import { chunkBytes, maxSamplesFor, sizeModel } from '../../src/audio/encoding.js';
import { resolveCuts, resolveEncoding } from '../../src/audio/options.js';
import { audioPlanFor, planAudioChunks } from '../../src/audio/plan.js';
import { parseSilenceLog, SilenceLog } from '../../src/audio/silence.js';
import { segmentTimeline } from '../../src/audio/segments.js';
import { stitchTranscripts } from '../../src/audio/stitch.js';
import type { MediaInfo } from '../../src/probe/types.js';
import { SILENCES } from '../helpers/fixtures.js';

const silences = (pairs: Array<[number, number]>): Silence[] => pairs.map(([startSec, endSec]) => ({ startSec, endSec }));
const bounds = (chunks: ChunkBounds[]): Array<[number, number]> => chunks.map((c) => [c.startSec, c.endSec]);

/** Checks what every plan must satisfy, in whole samples. */
function checkInvariants(
  chunks: ChunkBounds[],
  p: { endSec: number; sampleRate: number; maxChunkSec: number; overlapSec: number; searchSec: number; silences: Silence[] },
): void {
  const sr = p.sampleRate;
  const n = (t: number): number => Math.round(t * sr);
  const maxN = Math.floor(p.maxChunkSec * sr + 1e-6);
  const ovN = n(p.overlapSec);
  const winN = Math.min(n(p.searchSec), Math.floor((maxN - ovN) / 2));
  expect(chunks[0]!.startSec).toBe(0);
  expect(chunks[chunks.length - 1]!.endSec).toBe(n(p.endSec) / sr); // the end, on the sample grid
  let covered = 0;
  chunks.forEach((c, i) => {
    expect(c.index).toBe(i);
    // Every bound is a whole sample.
    expect(c.startSec * sr).toBeCloseTo(n(c.startSec), 6);
    expect(n(c.endSec) - n(c.startSec)).toBeLessThanOrEqual(maxN);
    if (i > 0) {
      const prev = chunks[i - 1]!;
      expect(n(prev.endSec) - n(c.startSec)).toBe(Math.min(ovN, n(prev.endSec)));
      expect(n(c.overlapSec)).toBe(n(prev.endSec) - n(c.startSec));
    }
    covered += n(c.endSec) - Math.max(n(c.startSec), i > 0 ? n(chunks[i - 1]!.endSec) : 0);
    if (c.cut === 'end') return;
    const limit = n(c.startSec) + maxN;
    expect(n(c.endSec)).toBeLessThanOrEqual(limit);
    expect(n(c.endSec)).toBeGreaterThanOrEqual(limit - winN);
    if (c.cut === 'limit') {
      expect(n(c.endSec)).toBe(limit);
      // No silence reached into the window.
      expect(p.silences.some((s) => n(s.endSec) > limit - winN && n(s.startSec) < limit)).toBe(false);
    } else {
      expect(p.silences.some((s) => c.endSec >= s.startSec - 1 / sr && c.endSec <= s.endSec + 1 / sr)).toBe(true);
    }
  });
  expect(covered).toBe(n(p.endSec));
}

describe('planAudioCuts (pure cut planning)', () => {
  it('cuts at the limits when there is no silence', () => {
    const chunks = planAudioCuts({ endSec: 30, sampleRate: 16000, maxChunkSec: 8, searchSec: 4 });
    expect(bounds(chunks)).toEqual([
      [0, 8],
      [8, 16],
      [16, 24],
      [24, 30],
    ]);
    expect(chunks.map((c) => c.cut)).toEqual(['limit', 'limit', 'limit', 'end']);
  });

  it('moves every cut of the tone fixture into the middle of a silence', () => {
    const p = { endSec: 30, sampleRate: 16000, maxChunkSec: 8, overlapSec: 0, searchSec: 10, silences: silences(SILENCES) };
    const chunks = planAudioCuts(p);
    expect(bounds(chunks)).toEqual([
      [0, 4.4],
      [4.4, 10],
      [10, 15.3],
      [15.3, 21.5],
      [21.5, 26.6],
      [26.6, 30],
    ]);
    expect(chunks.map((c) => c.cut)).toEqual(['silence', 'silence', 'silence', 'silence', 'silence', 'end']);
    expect(chunks[1]!.silence).toEqual({ startSec: 9.5, endSec: 10.5 });
    checkInvariants(chunks, p);
  });

  it('prefers the silence closest to the limit, and pulls a middle outside the window into it', () => {
    // Window [5, 10]: both silences reach in; the later one wins, at its middle.
    expect(
      planAudioCuts({
        endSec: 15,
        sampleRate: 1000,
        maxChunkSec: 10,
        searchSec: 5,
        silences: silences([
          [5.2, 5.6],
          [8, 8.5],
        ]),
      })[0]!.endSec,
    ).toBe(8.25);
    // A silence [3, 6]: its middle 4.5 lies before the window, so the cut is at the window's start.
    expect(planAudioCuts({ endSec: 15, sampleRate: 1000, maxChunkSec: 10, searchSec: 5, silences: silences([[3, 6]]) })[0]!.endSec).toBe(5);
    // A silence across the limit: the cut is at the limit, inside the silence.
    const across = planAudioCuts({ endSec: 15, sampleRate: 1000, maxChunkSec: 10, searchSec: 5, silences: silences([[9, 14]]) });
    expect(across[0]).toMatchObject({ endSec: 10, cut: 'silence' });
    // The search never exceeds half a chunk: with 4 s chunks a 10 s search is 2 s.
    expect(planAudioCuts({ endSec: 9, sampleRate: 1000, maxChunkSec: 4, searchSec: 10, silences: silences([[1, 1.5]]) })[0]).toMatchObject({
      endSec: 4,
      cut: 'limit',
    });
  });

  it('repeats the overlap at the start of each chunk, within the length limit', () => {
    const p = { endSec: 30, sampleRate: 16000, maxChunkSec: 8, overlapSec: 1, searchSec: 10, silences: silences(SILENCES) };
    const chunks = planAudioCuts(p);
    expect(bounds(chunks)).toEqual([
      [0, 4.5],
      [3.5, 10],
      [9, 15.3],
      [14.3, 21.5],
      [20.5, 26.6],
      [25.6, 30],
    ]);
    expect(chunks.map((c) => c.overlapSec)).toEqual([0, 1, 1, 1, 1, 1]);
    checkInvariants(chunks, p);
  });

  it('keeps bounds whole samples at 44.1 kHz: ends meet starts exactly and the chunks add up', () => {
    const p = {
      endSec: 123.456789,
      sampleRate: 44100,
      maxChunkSec: 7.3,
      overlapSec: 0,
      searchSec: 2,
      silences: silences([
        [6.01, 6.33],
        [20.2, 21.9],
        [50.5, 50.9],
      ]),
    };
    const chunks = planAudioCuts(p);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.startSec).toBe(chunks[i - 1]!.endSec);
    checkInvariants(chunks, p);
  });

  it('holds its invariants on random silences, limits and overlaps', () => {
    let x = 12345;
    const rnd = (): number => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x / 2 ** 31;
    };
    for (let trial = 0; trial < 200; trial++) {
      const endSec = 5 + rnd() * 600;
      const maxChunkSec = 1 + rnd() * 60;
      const overlapSec = rnd() < 0.5 ? 0 : rnd() * maxChunkSec * 0.5;
      const sil: Silence[] = [];
      for (let t = rnd() * 3; t < endSec; t += 0.5 + rnd() * 8) sil.push({ startSec: t, endSec: Math.min(endSec, t + 0.05 + rnd() * 1.5) });
      const p = { endSec, sampleRate: [8000, 16000, 44100, 48000][trial % 4]!, maxChunkSec, overlapSec, searchSec: rnd() * 20, silences: sil };
      checkInvariants(planAudioCuts(p), p);
    }
  });

  it('continues an earlier plan from a chunk (for re-cuts) exactly as the whole plan would', () => {
    const p = { endSec: 30, sampleRate: 16000, maxChunkSec: 8, overlapSec: 1, searchSec: 10, silences: silences(SILENCES) };
    const whole = planAudioCuts(p);
    const tail = planAudioCuts({ ...p, from: { index: 2, startSec: whole[2]!.startSec, prevCutSec: whole[1]!.endSec } });
    expect(tail).toEqual(whole.slice(2));
  });

  it('finalChunks: what is final while the audio is still read is the start of the whole-file plan', () => {
    let x = 777;
    const rnd = (): number => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x / 2 ** 31;
    };
    let finalSeen = 0;
    let joined = 0;
    for (let trial = 0; trial < 100; trial++) {
      const endSec = 20 + rnd() * 400;
      const raw: Silence[] = [];
      for (let t = rnd() * 3; t < endSec; t += 0.5 + rnd() * 6) raw.push({ startSec: t, endSec: Math.min(endSec, t + 0.1 + rnd() * (rnd() < 0.1 ? 30 : 1.5)) });
      const sil = mergeSilences(raw); // as the detector reports them: sorted, disjoint
      const p = { sampleRate: 16000, maxChunkSec: 2 + rnd() * 40, overlapSec: 0, searchSec: rnd() * 10, tailSec: 0, maxMergedSec: 0 };
      p.overlapSec = rnd() < 0.5 ? 0 : rnd() * p.maxChunkSec * 0.5;
      // The tail rule in half the trials, its joined length sometimes tighter than a chunk and its tail.
      p.tailSec = trial % 2 ? tailSeconds(p.maxChunkSec) * (1 + rnd() * 20) : 0;
      p.maxMergedSec = p.maxChunkSec + (rnd() < 0.3 ? rnd() : 2) * p.tailSec;
      const whole = planAudioCuts({ ...p, endSec, silences: sil });
      for (let k = 0; k < 20; k++) {
        const read = rnd() * endSec;
        // Known while reading up to `read`: silences that ended before it; one that started before it and goes on is open.
        const closed = sil.filter((s) => s.endSec < read);
        const open = sil.find((s) => s.startSec < read && s.endSec >= read);
        const fin = finalChunks({ ...p, endSec: read, silences: closed }, open ? open.startSec : Infinity);
        expect(fin).toEqual(whole.slice(0, fin.length));
        finalSeen += fin.length;
      }
      if (whole.length > 1 && whole[whole.length - 1]!.endSec - whole[whole.length - 2]!.endSec > p.maxChunkSec) joined++;
    }
    expect(finalSeen).toBeGreaterThan(1000);
    expect(joined).toBeGreaterThan(10); // the tail rule was exercised
  });

  it('a last piece under tailSec joins the chunk before it, within maxMergedSec (audio --chunk-seconds 60 on 120.5 s)', () => {
    const p = { endSec: 120.5, sampleRate: 16000, maxChunkSec: 60 };
    const cuts = (o: object = {}) => planAudioCuts({ ...p, ...o }).map((c) => [c.startSec, c.endSec, c.overlapSec, c.cut]);
    // Before: a 0.5-s last chunk.
    expect(cuts()).toEqual([
      [0, 60, 0, 'limit'],
      [60, 120, 0, 'limit'],
      [120, 120.5, 0, 'end'],
    ]);
    expect(cuts({ tailSec: 2, maxMergedSec: 100 })).toEqual([
      [0, 60, 0, 'limit'],
      [60, 120.5, 0, 'end'],
    ]);
    // The joined chunk keeps its overlap: 59 to 120.5 s, 61.5 s.
    expect(cuts({ tailSec: 2, maxMergedSec: 61.5, overlapSec: 1 })).toEqual([
      [0, 60, 0, 'limit'],
      [59, 120.5, 1, 'end'],
    ]);
    // Not joined: a piece of exactly tailSec, a joined chunk over maxMergedSec (default: maxChunkSec).
    expect(cuts({ tailSec: 0.5, maxMergedSec: 100 })).toHaveLength(3);
    expect(cuts({ tailSec: 2, maxMergedSec: 60.49 })).toHaveLength(3);
    expect(cuts({ tailSec: 2 })).toHaveLength(3);
    // A cut moved back to a silence leaves a longer piece: 2.5 s after a cut at 118 s is not joined.
    expect(cuts({ tailSec: 2, maxMergedSec: 100, searchSec: 10, silences: [{ startSec: 117.5, endSec: 118.5 }] }).at(-1)).toEqual([118, 120.5, 0, 'end']);
    expect(tailSeconds(60)).toBe(2);
    expect(tailSeconds(4)).toBe(1);
  });

  it('plan --audio joins the tail within the byte limit only', () => {
    const plan = planAudioChunks(120.5, { chunkSeconds: 60 });
    expect(plan.chunks.map((c) => [c.startSec, c.endSec, c.tokens])).toEqual([
      [0, 60, 600],
      [60, 120.5, 605],
    ]);
    expect(plan.totals).toMatchObject({ chunks: 2, seconds: 120.5, tokens: 1205 });
    // WAV at 16 kHz: 781.248625 s fill 25 MB; 0.5 s more would pass it, so it stays a chunk of its own.
    const wav = planAudioChunks(2 * 781.248625 + 0.5, { format: 'wav', chunkSeconds: 1000 });
    expect(wav.chunks.map((c) => c.bytes)).toEqual([25_000_000, 25_000_000, 44 + 2 * 8000]);
  });

  it('refuses an overlap over half a chunk', () => {
    expect(() => planAudioCuts({ endSec: 30, sampleRate: 16000, maxChunkSec: 8, overlapSec: 4.5 })).toThrow(/overlapSec/);
  });
});

describe('silences from silencedetect', () => {
  // Lines ffmpeg 2018 printed for jfk.flac (mono, -30 dB, 50 ms): one pause split by single loud samples.
  const log = [
    '[silencedetect @ 0x1] silence_start: 0',
    '[silencedetect @ 0x1] silence_end: 0.325625 | silence_duration: 0.325625',
    '[silencedetect @ 0x1] silence_start: 2.17806',
    '[silencedetect @ 0x1] silence_end: 2.28619 | silence_duration: 0.108125',
    '[silencedetect @ 0x1] silence_start: 2.28631',
    '[silencedetect @ 0x1] silence_end: 2.85719 | silence_duration: 0.570875',
    '[silencedetect @ 0x1] silence_start: 2.85725',
    '[silencedetect @ 0x1] silence_end: 3.28931 | silence_duration: 0.432063',
    '[silencedetect @ 0x1] silence_start: 3.70887',
    '[silencedetect @ 0x1] silence_end: 3.76969 | silence_duration: 0.0608125',
    'size=N/A time=00:00:11.00 bitrate=N/A speed= 800x',
    '[silencedetect @ 0x1] silence_start: 10.6',
  ].join('\n');

  it('joins a pause split by clicks, drops short gaps, and closes a silence still open at the end', () => {
    expect(parseSilenceLog(log, 11, 0.3)).toEqual([
      { startSec: 0, endSec: 0.325625 },
      { startSec: 2.17806, endSec: 3.28931 },
      { startSec: 10.6, endSec: 11 },
    ]);
    expect(parseSilenceLog(log, 11, 0.05)).toHaveLength(4);
  });

  it('while reading: a silence that may still grow or join the next one is open', () => {
    const log = new SilenceLog();
    for (const l of [
      'silence_start: 1',
      'silence_end: 2 | silence_duration: 1',
      'silence_start: 2.005',
      'silence_end: 3 | silence_duration: 0.995',
      'silence_start: 3.5',
    ])
      log.line(l);
    expect(log.settledAt(4, 0.3)).toEqual({ closed: [{ startSec: 1, endSec: 3 }], openFromSec: 3.5 });
    // Just after 3 s a pause could still follow within the 10 ms that joins pauses.
    expect(log.settledAt(3.005, 0.3)).toEqual({ closed: [], openFromSec: 1 });
    expect(log.silences(10, 0.3)).toEqual([
      { startSec: 1, endSec: 3 },
      { startSec: 3.5, endSec: 10 },
    ]);
  });

  it('mergeSilences joins across small gaps only', () => {
    expect(
      mergeSilences(
        silences([
          [5, 6],
          [1, 2],
          [2.005, 3],
          [3.5, 4],
        ]),
        { gapSec: 0.01, minSec: 1.5 },
      ),
    ).toEqual(silences([[1, 3]]));
  });
});

describe('sizes: exact for WAV, a bound for MP3', () => {
  it('WAV is a 44-byte header and 2 bytes per sample and channel', () => {
    const wav = sizeModel(resolveEncoding({ format: 'wav', sampleRate: 16000 }));
    expect(chunkBytes(wav, 16000)).toBe(32044);
    expect(maxSamplesFor(wav, 32044)).toBe(16000);
    expect(maxSamplesFor(wav, 32043)).toBe(15999);
    const stereo = sizeModel(resolveEncoding({ format: 'wav', sampleRate: 48000, channels: 2 }));
    expect(chunkBytes(stereo, 48000)).toBe(44 + 192000);
  });

  it('MP3 frames: 288 bytes of 576 samples at 64k/16 kHz, 418 bytes of 1152 at 128k/44.1 kHz; maxSamplesFor inverts chunkBytes', () => {
    const m16 = sizeModel(resolveEncoding({ format: 'mp3', sampleRate: 16000, bitrate: 64000 }));
    expect(m16).toMatchObject({ frameSamples: 576, frameBytes: 288 });
    const m44 = sizeModel(resolveEncoding({ format: 'mp3', sampleRate: 44100, bitrate: 128000 }));
    expect(m44).toMatchObject({ frameSamples: 1152, frameBytes: 418 });
    // 89,600 samples at 64k/16 kHz: LAME writes 20 + 159 * 288 = 45,812 bytes (measured); the bound is 1 frame more.
    expect(chunkBytes(m16, 89600)).toBe(64 + 160 * 288);
    for (const m of [m16, m44]) {
      for (let bytes = 2000; bytes < 3_000_000; bytes = Math.ceil(bytes * 1.37)) {
        const n = maxSamplesFor(m, bytes);
        expect(chunkBytes(m, n)).toBeLessThanOrEqual(bytes);
        expect(chunkBytes(m, n + (m.kind === 'mp3' ? m.frameSamples : 1))).toBeGreaterThan(bytes);
      }
    }
  });
});

describe('planAudioChunks and audioPlanFor (for plan --audio)', () => {
  it('an hour into 10-minute chunks, priced by the registry', () => {
    const plan = planAudioChunks(3600);
    expect(plan.model).toBe('gpt-5.5');
    // A last piece under 2 s would join the chunk before it, up to the 3,124.836 s 25 MB holds at 64 kbit/s.
    expect(plan.limit).toEqual({ seconds: 600, by: 'seconds', tailSec: 2, mergedSec: 3124.836 });
    expect(plan.chunks.map((c) => [c.startSec, c.endSec, c.tokens])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i * 600, i * 600 + 600, 6000]));
    expect(plan.totals).toMatchObject({ chunks: 6, seconds: 3600, tokens: 36000 });
    expect(planAudioChunks(3600, { model: 'gemini-2.5-flash' }).totals.tokens).toBe(3600 * 32);
  });

  it('the byte limit binds when it holds less than chunkSeconds', () => {
    const plan = planAudioChunks(2000, { format: 'wav', chunkSeconds: 1000 });
    // (25,000,000 - 44) / 2 samples at 16 kHz; a joined last chunk may not pass it either.
    expect(plan.limit).toEqual({ seconds: 781.248625, by: 'bytes', tailSec: 2, mergedSec: 781.248625 });
    // 12,499,978 samples fill 25,000,000 - 44 bytes; the rest, 32,000,000 - 2 * 12,499,978 samples, is the last chunk.
    expect(plan.chunks.map((c) => c.bytes)).toEqual([25_000_000, 25_000_000, 44 + 2 * 7_000_044]);
    expect(planAudioChunks(100, { maxBytes: 1_000_000 }).limit.by).toBe('bytes');
  });

  it('a model without audio input is a usage error; bad options name themselves', () => {
    const err = (() => {
      try {
        planAudioChunks(10, { model: 'claude-opus-4.7' });
      } catch (e) {
        return e as OmniprepError;
      }
      return undefined;
    })();
    expect(err).toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/^model claude-opus-4\.7 takes no audio input; models that do: .*gpt-audio/),
    });
    expect(err?.isUsageError).toBe(true);
    expect(() => planAudioChunks(10, { format: 'ogg' as 'mp3' })).toThrow(/option format: expected one of mp3, wav, got "ogg"/);
    expect(() => planAudioChunks(10, { bitrate: 65000 })).toThrow(/option bitrate/);
    expect(() => planAudioChunks(10, { maxBytes: 1000 })).toThrow(/option maxBytes: expected at least/);
    expect(() => planAudioChunks(10, { chunkSeconds: 10, overlapSec: 6 })).toThrow(/option overlapSec/);
    expect(() => resolveCuts({ silenceDb: 3 })).toThrow(/option silenceDb/);
  });

  it('says "no audio" for a file without an audio stream instead of failing', () => {
    const silent = { input: 'clip.mp4', kind: 'video', durationSec: 60 } as MediaInfo;
    expect(audioPlanFor(silent)).toEqual({ hasAudio: false, code: 'NO_AUDIO_STREAM', reason: 'clip.mp4: has no audio stream' });
    const withAudio = { input: 'a.mp4', kind: 'video', durationSec: 60, audio: { startSec: 0, durationSec: 59.5 } } as MediaInfo;
    const r = audioPlanFor(withAudio, { chunkSeconds: 30 });
    expect(r.hasAudio && r.chunks.map((c) => c.endSec)).toEqual([30, 59.5]);
  });
});

describe('segmentTimeline: one long video, several requests', () => {
  const framesEvery = (step: number, until: number): Array<{ timestampSec: number }> =>
    Array.from({ length: Math.floor(until / step) }, (_, i) => ({ timestampSec: i * step }));

  it('groups audio chunks into windows and gives each window its frames', () => {
    const audio = planAudioCuts({
      endSec: 600,
      sampleRate: 16000,
      maxChunkSec: 60,
      searchSec: 5,
      silences: silences([
        [57, 58],
        [175, 176.2],
        [290, 291],
      ]),
    });
    const windows = segmentTimeline(600, framesEvery(5, 600), audio, { windowSec: 300 });
    // Cuts: 57.5, 117.5 (no silence), 175.6, 235.6, then 290.6 (the end of the window of [290, 291]), then every 60 s.
    expect(audio.map((c) => c.endSec)).toEqual([57.5, 117.5, 175.6, 235.6, 290.6, 350.6, 410.6, 470.6, 530.6, 590.6, 600]);
    expect(windows.map((w) => [w.startSec, w.endSec, w.audio.length, w.frames.length])).toEqual([
      [0, 290.6, 5, 59],
      [290.6, 590.6, 5, 60],
      [590.6, 600, 1, 1],
    ]);
    // Every frame lands in exactly one window, inside it.
    for (const w of windows) for (const f of w.frames) expect(f.timestampSec >= w.startSec && f.timestampSec < w.endSec + 1e-9).toBe(true);
    expect(windows.flatMap((w) => w.audio)).toEqual(audio);
  });

  it('keeps each window within maxFrames', () => {
    const audio = planAudioCuts({ endSec: 600, sampleRate: 16000, maxChunkSec: 60 });
    const windows = segmentTimeline(600, framesEvery(1, 600), audio, { windowSec: 300, maxFrames: 130 });
    expect(windows.map((w) => w.frames.length)).toEqual([120, 120, 120, 120, 120]);
    expect(() => segmentTimeline(600, framesEvery(1, 600), audio, { maxFrames: 50 })).toThrow(/spans 60 frames, over the 50-frame limit/);
  });

  it('without audio, fixed windows, shortened where frames are dense', () => {
    expect(segmentTimeline(650, framesEvery(10, 650), [], { windowSec: 300 }).map((w) => [w.startSec, w.endSec, w.frames.length])).toEqual([
      [0, 300, 30],
      [300, 600, 30],
      [600, 650, 5],
    ]);
    expect(segmentTimeline(100, framesEvery(0.5, 100), [], { windowSec: 300, maxFrames: 80 }).map((w) => [w.startSec, w.endSec, w.frames.length])).toEqual([
      [0, 40, 80],
      [40, 80, 80],
      [80, 100, 40],
    ]);
  });

  it('a window without audio that holds no frame, or a tail under minWindowSec, joins the window before it (within maxFrames)', () => {
    const rows = (ws: Array<{ startSec: number; endSec: number; frames: unknown[] }>) => ws.map((w) => [w.startSec, w.endSec, w.frames.length]);
    // 600.08 s in windows of 120 s, a frame every 5 s up to 595 s: no sixth request for the last 0.08 s.
    expect(rows(segmentTimeline(600.08, framesEvery(5, 600), [], { windowSec: 120 }))).toEqual([
      [0, 120, 24],
      [120, 240, 24],
      [240, 360, 24],
      [360, 480, 24],
      [480, 600.08, 24],
    ]);
    // A frame at 600 s too: the 0.08 s tail holds it, and joins the window before it as a sliver.
    const upTo600 = [...framesEvery(5, 600), { timestampSec: 600 }];
    expect(rows(segmentTimeline(600.08, upTo600, [], { windowSec: 120, minWindowSec: 2.5 })).at(-1)).toEqual([480, 600.08, 25]);
    expect(rows(segmentTimeline(600.08, upTo600, [], { windowSec: 120 })).at(-1)).toEqual([600, 600.08, 1]);
    // A window in the middle with no frame (a static stretch in scene mode).
    const sparse = [0, 10, 250].map((timestampSec) => ({ timestampSec }));
    expect(rows(segmentTimeline(300, sparse, [], { windowSec: 100 }))).toEqual([
      [0, 200, 2],
      [200, 300, 1],
    ]);
    // Joining would break the images-per-request limit: the sliver stays a window of its own.
    const dense = [...framesEvery(1, 100), { timestampSec: 100 }];
    expect(rows(segmentTimeline(100.2, dense, [], { windowSec: 50, maxFrames: 50, minWindowSec: 0.5 })).at(-1)).toEqual([100, 100.2, 1]);
    // Video after the audio: an empty tail joins the audio's last window.
    expect(rows(segmentTimeline(60.05, framesEvery(10, 60), [{ startSec: 0, endSec: 60 }], { windowSec: 30 }))).toEqual([[0, 60.05, 6]]);
  });

  it('a window starting after an overlapping chunk begins at the previous cut', () => {
    const audio = planAudioCuts({ endSec: 100, sampleRate: 16000, maxChunkSec: 30, overlapSec: 2 });
    const windows = segmentTimeline(100, [], audio, { windowSec: 30 });
    expect(windows.map((w) => [w.startSec, w.endSec])).toEqual([
      [0, 30],
      [30, 58],
      [58, 86],
      [86, 100],
    ]);
    expect(windows[1]!.audio[0]).toMatchObject({ startSec: 28, endSec: 58, overlapSec: 2 });
  });
});

describe('stitchTranscripts', () => {
  it('joins texts without overlap as they are', () => {
    const r = stitchTranscripts([
      { startSec: 5, endSec: 10, text: 'ask not what your country can do for you,' },
      { startSec: 0, endSec: 5, text: ' And so, my fellow Americans: ' },
    ]);
    expect(r.text).toBe('And so, my fellow Americans: ask not what your country can do for you,');
    expect(r.junctions).toEqual([{ index: 1, overlapSec: 0, method: 'none', droppedWords: 0 }]);
  });

  it('by word timing: each side keeps the words on its side of the middle of the overlap', () => {
    const w = (word: string, startSec: number, endSec: number) => ({ word, startSec, endSec });
    const r = stitchTranscripts([
      {
        startSec: 0,
        endSec: 6,
        text: 'my fellow Americans, ask not',
        words: [w('my', 0.5, 0.8), w('fellow', 0.9, 1.3), w('Americans', 1.4, 2.1), w('ask', 3.3, 3.6), w('not', 4.0, 4.3)],
      },
      // Starts 2 s earlier (overlap 4..6): the middle is 5.
      {
        startSec: 4,
        endSec: 10,
        text: 'not, what your country',
        words: [w('not', 0.0, 0.3), w('what', 1.4, 1.7), w('your', 1.8, 2.0), w('country', 2.1, 2.6)],
      },
    ]);
    expect(r.text).toBe('my fellow Americans, ask not what your country');
    expect(r.words!.map((x) => x.word)).toEqual(['my', 'fellow', 'Americans', 'ask', 'not', 'what', 'your', 'country']);
    expect(r.words![5]).toEqual({ word: 'what', startSec: 5.4, endSec: 5.7 });
    expect(r.junctions[0]).toMatchObject({ method: 'timing', droppedWords: 1 });
  });

  it('by text: the longest shared run is kept once, a clipped word at the edge goes', () => {
    const r = stitchTranscripts([
      { startSec: 0, endSec: 10, text: 'ask not what your country can do for you, ask wh' },
      { startSec: 8, endSec: 18, text: 'For you ask what you can do for your country.' },
    ]);
    expect(r.text).toBe('ask not what your country can do for you, ask what you can do for your country.');
    expect(r.junctions[0]).toMatchObject({ method: 'match', droppedWords: 4 });
  });

  it('by proportion when the two texts share nothing', () => {
    const r = stitchTranscripts([
      { startSec: 0, endSec: 10, text: 'one two three four five six seven eight nine ten' },
      { startSec: 8, endSec: 18, text: 'uno dos tres cuatro cinco seis siete ocho nueve diez' },
    ]);
    // 2 s of 10 s: the first 2 of 10 words of the next chunk are the overlap.
    expect(r.text).toBe('one two three four five six seven eight nine ten tres cuatro cinco seis siete ocho nueve diez');
    expect(r.junctions[0]).toMatchObject({ method: 'proportion', droppedWords: 2, overlapSec: 2 });
  });
});
