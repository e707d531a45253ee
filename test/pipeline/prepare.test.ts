import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { prepare } from '../../src/prepare.js';
import { plan } from '../../src/plan/plan.js';
import { brokenInputs, fixture, sharedMedia, tempDir } from '../helpers/fixtures.js';
import { cli, leftovers } from '../helpers/cli.js';

describe('prepare', () => {
  it('frames and audio on one timeline, cut into windows, each within the model limits', async () => {
    const input = await fixture('tonesVideo');
    const media = await prepare(input, { every: 2, audio: true, windowSec: 10, audioOptions: { chunkSeconds: 10 } });
    try {
      expect(media.segments.length).toBeGreaterThanOrEqual(3);
      const frames = media.segments.flatMap((s) => s.frames.map((f) => f.timestampSec));
      expect(frames).toEqual(media.frames.frames.map((f) => f.timestampSec));
      for (const s of media.segments) {
        for (const f of s.frames) expect(f.timestampSec >= s.startSec - 1e-6 && (f.timestampSec < s.endSec || s === media.segments.at(-1))).toBe(true);
        for (const a of s.audio) expect(existsSync(a.file!)).toBe(true);
      }
      const audioSeconds = media.segments.flatMap((s) => s.audio).reduce((a, c) => a + (c.endSec - c.startSec), 0);
      expect(audioSeconds).toBeCloseTo(30, 1);
    } finally {
      await media.cleanup();
    }
    expect(existsSync(media.dir)).toBe(false);
  });

  it('sends no request without an image: a window past the last frame joins the one before it, in the plan and in the segments', async () => {
    // 20 s, a frame every 5 s in keyframe mode (0, 4, 10, 14 s): windows of 9 s would leave [18, 20] empty.
    const input = await fixture('timecode');
    const p = await plan(input, { every: 5, windowSec: 9 });
    expect(p.frames.map((f) => f.timestampSec)).toEqual([0, 4, 10, 14]);
    expect(p.requests).toBe(2);
    // Sent as video (Gemini): the 2-s tail, under half an interval, joins the window before it.
    const v = await plan(input, { every: 5, windowSec: 9, model: 'gemini-2.5-flash', send: 'video' });
    expect(v.video!.windows.map((w) => [w.startSec, w.endSec])).toEqual([
      [0, 9],
      [9, 20],
    ]);
    const media = await prepare(input, { every: 5, windowSec: 9 });
    try {
      expect(media.segments.map((s) => [s.startSec, s.endSec, s.frames.length])).toEqual([
        [0, 9, 2],
        [9, 20, 2],
      ]);
    } finally {
      await media.cleanup();
    }
  });

  it('plan --audio on a video without audio says so instead of failing', async () => {
    const p = await plan(await fixture('longgop'), { audio: true });
    expect(p.audio).toBeNull();
    expect(p.audioNote).toMatch(/has no audio stream/);
    const r = await cli(['plan', await fixture('longgop'), '--audio', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).audioNote).toMatch(/has no audio stream/);
    const text = await cli(['plan', await fixture('longgop'), '--audio']);
    expect(text.stdout).toMatch(/audio: none \(.*has no audio stream\)/);
  });
});

describe('omniprep sample (CLI)', () => {
  const videos = ['friday.mp4', 'flower.mp4', 'stream-of-water.mp4', 'echo-hereweare.webm'].filter((n) => sharedMedia(n));
  for (const name of videos) {
    it(`works on ../shared/media/${name}`, async () => {
      const out = join(tempDir('cli-sample-'), 'out');
      const r = await cli(['sample', sharedMedia(name)!, '--out', out, '--every', '2', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(m.frames.length).toBeGreaterThan(0);
      expect(readdirSync(out).filter((f) => f.startsWith('frame-'))).toHaveLength(m.frames.length);
      for (const f of m.frames)
        expect(Object.keys(f).sort()).toEqual(['bytes', 'file', 'height', 'index', 'keyframe', 'reason', 'timestampSec', 'tokens', 'width']);
      expect(m.totals).toMatchObject({ frames: m.frames.length, imageTokens: m.frames.reduce((a: number, f: { tokens: number }) => a + f.tokens, 0) });
    });
  }

  const broken = ['empty', 'random', 'truncated', 'text', 'hls', 'concat'];
  for (const name of broken) {
    it(`${name}: exit 1, one line naming the input, nothing left in --out, no child processes`, async () => {
      const files = await brokenInputs();
      const out = join(tempDir('cli-broken-'), 'out');
      const r = await cli(['sample', files[name]!, '--out', out], { timeoutMs: 10_000 });
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(files[name]!);
      expect(existsSync(out)).toBe(false);
      expect(leftovers(r)).toEqual({ files: [], processes: [] });
    });
  }

  it('an audio-only file: exit 1 with NO_VIDEO_STREAM in words', async () => {
    const r = await cli(['sample', await fixture('audioOnly'), '--out', join(tempDir('cli-audio-'), 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no video stream to sample/);
  });

  it('bad option values exit 2 and name the option', async () => {
    const r = await cli(['sample', await fixture('timecode'), '--out', tempDir(), '--mode', 'fast']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/option mode: expected one of keyframe, exact, scene, got "fast"/);
    const g = await cli(['plan', await fixture('timecode'), '--grid', '9x9']);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/option grid: expected COLSxROWS with 1 to 8 of each, e.g. 2x2 or 3x2, got "9x9"/);
  });
});
