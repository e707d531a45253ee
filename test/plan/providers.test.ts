// Plans for other providers' limits and inputs: Claude frames sized to the 2000 px rule when a
// request holds more than 20 images; Gemini's native video (`send: 'video'`) beside frames, both
// estimates exact against the Gemini test server (the clip uploaded once through the File API);
// cost-curve drawing both ways.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleGenAI } from '@google/genai';
import { plan, videoAssets } from '../../src/plan/plan.js';
import { costCurve } from '../../src/cost/curve.js';
import { buildRequests } from '../../src/request/index.js';
import { dispatchAll, type OkResult } from '../../src/dispatch/index.js';
import { run as runJob } from '../../src/run.js';
import { imageTokens } from '../../src/models/tokens.js';
import { uploadGeminiVideo } from '../../src/providers/gemini/client.js';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { OmniprepError } from '../../src/errors.js';
import { fixture, tempDir } from '../helpers/fixtures.js';
import { startGeminiTestServer, type GeminiTestServer } from '../helpers/gemini/server.js';
import { validateSdk } from '../helpers/sdk/schemas.js';

let big: string;
let dir: string;
let tones: string;
let gemini: GeminiTestServer;

beforeAll(async () => {
  validateSdk('gemini.generateContent', {});
  dir = tempDir('omniprep-plan-providers-');
  big = join(dir, 'big.mp4');
  // 25 s of 2560x1440 at 1 fps, every frame a keyframe: 25 frames at --every 1.
  await runProcess({
    command: resolveBinary('ffmpeg').path,
    args: [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=2560x1440:rate=1:duration=25',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '1',
      '-pix_fmt',
      'yuv420p',
      big,
    ],
    input: 'big test video',
    timeoutMs: 120_000,
  });
  tones = await fixture('tonesVideo');
  gemini = await startGeminiTestServer();
}, 240_000);
afterAll(async () => {
  await gemini?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Claude: more than 20 images in a request', () => {
  it('25 frames in one request are sized to 2000 px; 13 keep the high-resolution size', async () => {
    const many = await plan(big, { model: 'claude-opus-4.7', every: 1 });
    expect(many.frames).toHaveLength(25);
    expect(many.requests).toBe(1);
    expect(Math.max(many.width, many.height)).toBeLessThanOrEqual(2000);
    expect(many.tokensPerFrame).toBe(imageTokens('claude-opus-4.7', many.width, many.height).tokens);
    expect(many.warnings).toContain('frames sized to 2000 px: claude-opus-4.7 takes at most 2000 px per side in a request of more than 20 images');
    const few = await plan(big, { model: 'claude-opus-4.7', every: 2 });
    expect(few.frames).toHaveLength(13);
    expect(Math.max(few.width, few.height)).toBeGreaterThan(2000);
    // Windows of 10 s hold at most 10 frames: no cap.
    const windowed = await plan(big, { model: 'claude-opus-4.7', every: 1, windowSec: 10 });
    expect(windowed.requests).toBe(3);
    expect(Math.max(windowed.width, windowed.height)).toBeGreaterThan(2000);
  }, 60_000);
});

describe('Gemini: the clip sent as video', () => {
  it('plan --send video: frames at 1/every fps and the audio track, one request per window', async () => {
    const p = await plan(tones, { model: 'gemini-2.5-flash', every: 2, send: 'video', prompt: 'What happens?', windowSec: 12 });
    expect(p.send).toBe('video');
    expect(p.frames).toEqual([]);
    expect(p.video).toMatchObject({ fps: 0.5, tokensPerFrame: 258, mime: 'video/mp4' });
    // 30 s in windows of 12, 12, 6 s at 0.5 fps: 6 + 6 + 3 frames; 32 audio tokens a second.
    expect(p.video!.windows.map((w) => [w.startSec, w.endSec, w.frames, w.audioTokens])).toEqual([
      [0, 12, 6, 384],
      [12, 24, 6, 384],
      [24, 30, 3, 192],
    ]);
    expect(p.videoTokens).toBe(15 * 258);
    expect(p.audioTokens).toBe(960);
    expect(p.inputTokens).toBe(p.videoTokens + p.audioTokens + p.textTokens);
    expect(p.requests).toBe(3);
  });

  it('both estimates are exact: the video uploaded once, each window billed as planned; frames billed as planned', async () => {
    const p = await plan(tones, { model: 'gemini-2.5-flash', every: 2, send: 'video', prompt: 'What happens?', windowSec: 12 });
    const client = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: gemini.baseURL } });
    const file = await uploadGeminiVideo(client, tones, p.video!.mime);
    expect(gemini.files.get(file.name)!.durationSec).toBe(30);
    const segments = videoAssets(p, file.uri).map((v) => ({ index: v.index, startSec: v.startSec, endSec: v.endSec, frames: [], audio: [], video: [v] }));
    const reqs = buildRequests({ input: tones, model: p.model, durationSec: 30, segments }, { prompt: 'What happens?' });
    expect(reqs[0]!.body).toMatchObject({
      contents: [
        {
          parts: [
            { text: 'What happens?' },
            { text: '[video 00:00-00:12]' },
            { fileData: { fileUri: file.uri, mimeType: 'video/mp4' }, videoMetadata: { fps: 0.5, startOffset: '0s', endOffset: '12s' } },
          ],
        },
      ],
    });
    for (const r of reqs) expect(validateSdk('gemini.generateContent', r.body).message).toBe('valid');
    expect(reqs.reduce((s, r) => s + r.estimate.inputTokens, 0)).toBe(p.inputTokens);
    const before = gemini.stats.records.length;
    const report = await dispatchAll(reqs, { apiKey: 'test-key', baseURL: gemini.baseURL });
    expect(report.results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(gemini.stats.records.slice(before).reduce((s, r) => s + r.promptTokens, 0)).toBe(p.inputTokens);
    for (const r of report.results as OkResult[]) expect(r.usage!.inputTokens).toBe(r.estimate.inputTokens);

    // The whole job through runProcess(): upload, requests, no reduce; billed exactly the plan.
    const job = await runJob(tones, {
      model: 'gemini-2.5-flash',
      every: 2,
      send: 'video',
      prompt: 'What happens?',
      apiKey: 'test-key',
      baseURL: gemini.baseURL,
      reduce: false,
    });
    expect(job.plan.requests).toBe(1);
    expect(job.totals.actualInputTokens).toBe(job.plan.inputTokens);
    const frames = await runJob(tones, {
      model: 'gemini-2.5-flash',
      every: 2,
      prompt: 'What happens?',
      apiKey: 'test-key',
      baseURL: gemini.baseURL,
      reduce: false,
    });
    expect(frames.plan.send).toBe('frames');
    expect(frames.totals.actualInputTokens).toBe(frames.plan.inputTokens);
  }, 120_000);

  it('a model without video input refuses --send video in one line', async () => {
    const e = await plan(tones, { model: 'claude-sonnet-4.6', send: 'video' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OmniprepError);
    expect((e as OmniprepError).message).toBe('option send: model claude-sonnet-4.6 takes no video input (--send video is for Gemini models); send frames');
    const bad = await plan(tones, { model: 'gemini-2.5-flash', send: 'clip' as never }).catch((x: unknown) => x);
    expect((bad as OmniprepError).message).toBe('option send: expected one of frames, video, got "clip"');
  });

  it("cost-curve draws frames and video side by side, each point the plan's own numbers", async () => {
    const curve = await costCurve(tones, { models: ['gemini-2.5-flash', 'gpt-5-mini'], every: [1, 5], sends: ['frames', 'video'], shots: false });
    expect(curve.series.map((s) => [s.model, s.send])).toEqual([
      ['gemini-2.5-flash', 'frames'],
      ['gemini-2.5-flash', 'video'],
      ['gpt-5-mini', 'frames'],
    ]);
    expect(curve.warnings).toContain('gpt-5-mini takes no video input: no video series for it');
    const video = curve.series[1]!;
    for (const pt of video.points) {
      const p = await plan(tones, { model: 'gemini-2.5-flash', every: pt.every, send: 'video' });
      expect([pt.frames, pt.videoTokens, pt.inputTokens, pt.costUsd]).toEqual([p.video!.frames, p.videoTokens, p.inputTokens, p.costUsd]);
    }
  }, 60_000);
});
