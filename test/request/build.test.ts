// Request building: exact bodies, their validity against the official OpenAPI description
// (OpenAI's official API description, the validator the test server uses), estimates, and splitting at
// the registry's limits.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildChatRequest,
  buildRequest,
  buildRequests,
  buildResponsesRequest,
  defaultApi,
  estimateRequest,
  fitSegments,
  type BuiltRequest,
} from '../../src/request/build.js';
import { formatTimestamp } from '../../src/request/timestamp.js';
import type { FrameAsset, PreparedMedia, Segment } from '../../src/request/types.js';
import { builtinRegistry } from '../../src/models/registry.js';
import { audioTokens, dollars, imageTokens, textTokens } from '../../src/models/tokens.js';
import { OmniprepError } from '../../src/errors.js';
import { specValidator, mp3Seconds, wavSeconds } from '../helpers/openai/server.js';
import { audioAsset, frameAsset, makeAudio, segment, videoFrame } from '../helpers/request-media.js';
import { fixture, sharedMedia } from '../helpers/fixtures.js';

const spec = specValidator();
const PROMPT = 'Describe what happens, with times.';
const b64 = (b: Buffer): string => b.toString('base64');

function expectValid(kind: 'chat' | 'responses', body: unknown): void {
  const check = spec.validate(kind, body);
  expect(check.message).toBe('valid');
}

function thrown(fn: () => unknown): OmniprepError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OmniprepError);
    return e as OmniprepError;
  }
  throw new Error('expected a throw');
}

let png0: FrameAsset;
let png1: FrameAsset;
let mp3: Buffer;
let wav: Buffer;

beforeAll(async () => {
  png0 = await frameAsset(0, 0, { width: 320, height: 180 });
  png1 = await frameAsset(1, 5.4, { width: 320, height: 180 });
  mp3 = await makeAudio('mp3', 2);
  wav = await makeAudio('wav', 1.5);
});

describe('timestamps', () => {
  it('mm:ss below an hour, h:mm:ss from an hour, fractions dropped', () => {
    expect([0, 5, 5.99, 65, 599, 3599.5, 3600, 3725, 36000].map(formatTimestamp)).toEqual([
      '00:00',
      '00:05',
      '00:05',
      '01:05',
      '09:59',
      '59:59',
      '1:00:00',
      '1:02:05',
      '10:00:00',
    ]);
  });
});

describe('Chat Completions bodies', () => {
  it('prompt, then each frame after its [mm:ss], audio as input_audio, in time order', () => {
    const seg = segment(0, 0, 10, [png0, png1], [audioAsset(0, 2, 4, 'mp3', { data: mp3 })]);
    const body = buildChatRequest(seg, { model: 'gpt-5.5', prompt: PROMPT, maxOutputTokens: 300 });
    expect(body).toEqual({
      model: 'gpt-5.5',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: PROMPT },
            { type: 'text', text: '[00:00]' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${b64(png0.data!)}`, detail: 'high' } },
            { type: 'text', text: '[audio 00:02-00:04]' },
            { type: 'input_audio', input_audio: { data: b64(mp3), format: 'mp3' } },
            { type: 'text', text: '[00:05]' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${b64(png1.data!)}`, detail: 'high' } },
          ],
        },
      ],
      max_completion_tokens: 300,
    });
    expectValid('chat', body);
  });

  it('system message, structured output, WAV audio, flex tier and hosted image URLs', () => {
    const schema = { type: 'object', properties: { events: { type: 'array', items: { type: 'string' } } }, required: ['events'], additionalProperties: false };
    const hosted = { ...png0, timestampSec: 60, url: 'https://frames.example.com/clip/0.png' };
    const seg = segment(3, 60, 70, [hosted], [audioAsset(4, 60, 61.5, 'wav', { data: wav })]);
    const body = buildChatRequest(seg, { model: 'gpt-5.5', prompt: PROMPT, system: 'Be brief.', schema, imageUrls: true, tier: 'flex' });
    expect(body).toEqual({
      model: 'gpt-5.5',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: PROMPT },
            { type: 'text', text: '[01:00]' },
            { type: 'image_url', image_url: { url: 'https://frames.example.com/clip/0.png', detail: 'high' } },
            { type: 'text', text: '[audio 01:00-01:01]' },
            { type: 'input_audio', input_audio: { data: b64(wav), format: 'wav' } },
          ],
        },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
      service_tier: 'flex',
    });
    expectValid('chat', body);
  });

  it('detail original goes as auto on gpt-5.5 (auto means original there); gpt-5.4 refuses it in Chat', async () => {
    const orig = await frameAsset(0, 0, { width: 320, height: 180, detail: 'original' });
    const body = buildChatRequest(segment(0, 0, 1, [orig]), { model: 'gpt-5.5', prompt: PROMPT });
    const part = (body.messages[0]!.content as Array<{ type: string; image_url?: { detail: string } }>)[2]!;
    expect(part.image_url!.detail).toBe('auto');
    expectValid('chat', body);
    // The spec's Chat image detail has no `original`: sending it would be refused.
    const raw = structuredClone(body) as { messages: Array<{ content: Array<{ image_url?: { detail: string } }> }> };
    raw.messages[0]!.content[2]!.image_url!.detail = 'original';
    expect(spec.validate('chat', raw).message).toMatch(/\/messages\/0\/content\/2\/image_url\/detail must be one of "auto", "low", "high"/);
    const o54 = await frameAsset(0, 0, { width: 320, height: 180, detail: 'original', model: 'gpt-5.4' });
    const e = thrown(() => buildChatRequest(segment(0, 0, 1, [o54]), { model: 'gpt-5.4', prompt: PROMPT }));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toBe(
      'segment 0 (00:00-00:01): detail original cannot be sent to the Chat Completions API on gpt-5.4 (it accepts auto, low, high); send it with the Responses API (--api responses)',
    );
    expect(buildResponsesRequest(segment(0, 0, 1, [o54]), { model: 'gpt-5.4', prompt: PROMPT }).input).toMatchObject([
      { content: [{}, {}, { detail: 'original' }] },
    ]);
  });

  it('the validator refuses the GPT-5.5 guide\'s {type: "audio"} part, and a bad audio format', () => {
    const good = buildChatRequest(segment(0, 0, 4, [], [audioAsset(0, 0, 2, 'mp3', { data: mp3 })]), { model: 'gpt-5.5', prompt: PROMPT });
    expectValid('chat', good);
    const guide = structuredClone(good) as { messages: Array<{ content: unknown[] }> };
    guide.messages[0]!.content[2] = { type: 'audio', audio: { data: b64(mp3), format: 'mp3' } };
    const check = spec.validate('chat', guide);
    expect(check.valid).toBe(false);
    expect(check.message).toBe('/messages/0/content/2/type must be one of "text", "image_url", "input_audio", "file"');
    const ogg = structuredClone(good) as { messages: Array<{ content: Array<{ input_audio?: { format: string } }> }> };
    ogg.messages[0]!.content[2]!.input_audio!.format = 'ogg';
    expect(spec.validate('chat', ogg).message).toContain('/messages/0/content/2/input_audio/format must be one of "wav", "mp3"');
  });
});

describe('Responses bodies', () => {
  it('input_text and input_image with its detail; instructions and text.format', () => {
    const schema = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'], additionalProperties: false };
    const body = buildResponsesRequest(segment(0, 0, 10, [png0, png1]), {
      model: 'gpt-5.5',
      prompt: PROMPT,
      system: 'Answer in English.',
      maxOutputTokens: 500,
      schema,
      schemaName: 'clip_summary',
      strict: false,
    });
    expect(body).toEqual({
      model: 'gpt-5.5',
      instructions: 'Answer in English.',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: PROMPT },
            { type: 'input_text', text: '[00:00]' },
            { type: 'input_image', image_url: `data:image/png;base64,${b64(png0.data!)}`, detail: 'high' },
            { type: 'input_text', text: '[00:05]' },
            { type: 'input_image', image_url: `data:image/png;base64,${b64(png1.data!)}`, detail: 'high' },
          ],
        },
      ],
      max_output_tokens: 500,
      text: { format: { type: 'json_schema', name: 'clip_summary', schema, strict: false } },
    });
    expectValid('responses', body);
  });

  it('the spec requires detail on input_image: a body without it is refused', () => {
    const body = buildResponsesRequest(segment(0, 0, 1, [png0]), { model: 'gpt-5.5', prompt: PROMPT });
    const bare = structuredClone(body) as unknown as { input: Array<{ content: Array<Record<string, unknown>> }> };
    delete bare.input[0]!.content[2]!.detail;
    const check = spec.validate('responses', bare);
    expect(check.valid).toBe(false);
    expect(check.message).toBe("/input/0/content/2 must have required property 'detail'");
  });

  it('refuses audio with a clear error, or sends the transcripts instead', () => {
    const seg = segment(0, 0, 10, [png0], [audioAsset(7, 0, 2, 'mp3', { data: mp3 })]);
    const e = thrown(() => buildResponsesRequest(seg, { model: 'gpt-5.5', prompt: PROMPT, input: 'talk.mp4' }));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toBe(
      'talk.mp4 segment 0 (00:00-00:10): the Responses API takes no audio input; use the Chat Completions API (--api chat), or send transcripts instead of the audio',
    );
    const body = buildResponsesRequest(seg, { model: 'gpt-5.5', prompt: PROMPT, transcripts: { 7: 'hello there' } });
    expect(body.input).toEqual([
      {
        role: 'user',
        content: [
          { type: 'input_text', text: PROMPT },
          { type: 'input_text', text: '[00:00]' },
          { type: 'input_image', image_url: `data:image/png;base64,${b64(png0.data!)}`, detail: 'high' },
          { type: 'input_text', text: '[transcript 00:00-00:02] hello there' },
        ],
      },
    ]);
    expectValid('responses', body);
    expect(thrown(() => buildResponsesRequest(seg, { model: 'gpt-5.5', prompt: PROMPT, transcripts: { 1: 'x' } })).message).toBe(
      'audio chunk 7: no transcript for audio chunk 7 (transcripts must cover every chunk)',
    );
  });

  it('default API: Responses without audio, Chat with audio, Responses again with transcripts', () => {
    const withAudio = segment(0, 0, 10, [png0], [audioAsset(0, 0, 2, 'mp3', { data: mp3 })]);
    expect(defaultApi(segment(0, 0, 10, [png0]))).toBe('responses');
    expect(defaultApi(withAudio)).toBe('chat');
    expect(defaultApi([segment(0, 0, 1, []), withAudio])).toBe('chat');
    expect(defaultApi(withAudio, { transcripts: ['x'] })).toBe('responses');
    expect(buildRequest(withAudio, { model: 'gpt-5.5', prompt: PROMPT })).toMatchObject({ api: 'chat', url: '/v1/chat/completions' });
  });

  it('checks options up front, naming the option', () => {
    const seg = segment(0, 0, 1, [png0]);
    expect(thrown(() => buildResponsesRequest(seg, { model: 'gpt-5.5', prompt: ' ' })).message).toBe('option prompt: expected a non-empty string, got " "');
    expect(thrown(() => buildResponsesRequest(seg, { model: 'gpt-5.5', prompt: 'x', maxOutputTokens: 0 })).message).toBe(
      "option maxOutputTokens: expected an integer from 1 to 128000 (gpt-5.5's output limit), got 0",
    );
    expect(thrown(() => buildResponsesRequest(seg, { model: 'gpt-5.5', prompt: 'x', schemaName: 'has space' })).message).toMatch(/^option schemaName:/);
    expect(thrown(() => buildResponsesRequest(seg, { model: 'gpt-4o', prompt: 'x', tier: 'priority' })).message).toBe(
      'option tier: model gpt-4o has no priority price',
    );
    expect(thrown(() => buildResponsesRequest(seg, { model: 'gpt-5.5', prompt: 'x', imageUrls: true })).message).toBe(
      'frame 0: imageUrls is set but the frame has no url',
    );
    expect(thrown(() => buildChatRequest(segment(0, 0, 2, [], [audioAsset(0, 0, 2, 'mp3', { data: mp3 })]), { model: 'gpt-5.4', prompt: 'x' })).message).toBe(
      'segment 0 (00:00-00:02): model gpt-5.4 takes no audio input; send transcripts instead',
    );
  });
});

describe('estimates', () => {
  it('images from the assets, audio from the chunks, every text part with the overhead, dollars from the registry', () => {
    const seg = segment(0, 0, 10, [png0, png1], [audioAsset(0, 2, 4, 'mp3', { data: mp3 })]);
    const e = estimateRequest(seg, { model: 'gpt-5.5', prompt: PROMPT, system: 'Be brief.', maxOutputTokens: 300 });
    const perImage = imageTokens('gpt-5.5', 320, 180, 'high').tokens;
    const text =
      3 /* per request */ +
      3 +
      textTokens('gpt-5.5', 'Be brief.') /* system */ +
      3 /* user */ +
      textTokens('gpt-5.5', PROMPT) +
      textTokens('gpt-5.5', '[00:00]') +
      textTokens('gpt-5.5', '[00:05]') +
      textTokens('gpt-5.5', '[audio 00:02-00:04]');
    expect(e).toEqual({
      model: 'gpt-5.5',
      tier: 'standard',
      images: 2,
      audioChunks: 1,
      audioSeconds: 2,
      imageTokens: 2 * perImage,
      videoFrames: 0,
      videoTokens: 0,
      audioTokens: audioTokens('gpt-5.5', 2),
      textTokens: text,
      inputTokens: 2 * perImage + 20 + text,
      outputTokens: 300,
      inputUsd: dollars('gpt-5.5', { imageTokens: 2 * perImage, audioTokens: 20, textTokens: text }),
      usd: dollars('gpt-5.5', { imageTokens: 2 * perImage, audioTokens: 20, textTokens: text, outputTokens: 300 }),
    });
    expect(perImage).toBe(Math.ceil(10 * 6 * 1.2)); // 320x180: 10 x 6 patches at 1.2
    // A built request carries the same estimate; the batch tier halves the dollars.
    const built = buildRequest(seg, { model: 'gpt-5.5', prompt: PROMPT, system: 'Be brief.', maxOutputTokens: 300 });
    expect(built.estimate).toEqual(e);
    expect(estimateRequest(seg, { model: 'gpt-5.5', prompt: PROMPT, system: 'Be brief.', maxOutputTokens: 300, tier: 'batch' }).usd).toBe(e.usd / 2);
  });

  it('a detail override re-prices the frames; without maxOutputTokens the expected output is 1000', () => {
    const e = estimateRequest(segment(0, 0, 10, [png0, png1]), { model: 'gpt-5.5', prompt: PROMPT, detail: 'low' });
    expect(e.imageTokens).toBe(2 * imageTokens('gpt-5.5', 320, 180, 'low').tokens);
    expect(e.outputTokens).toBe(1000);
    const body = buildResponsesRequest(segment(0, 0, 10, [png0]), { model: 'gpt-5.5', prompt: PROMPT, detail: 'low' });
    expect(body.input).toMatchObject([{ content: [{}, {}, { detail: 'low' }] }]);
  });
});

describe('provider limits from the registry', () => {
  async function frames(n: number, every: number, size = { width: 64, height: 48 }): Promise<FrameAsset[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => frameAsset(i, i * every, size)));
  }

  it('splits at imagesPerRequest, keeping time order and cutting the time range at each part', async () => {
    const registry = builtinRegistry().withOverrides({ models: { 'gpt-5.5': { limits: { imagesPerRequest: 2 } } } });
    const fs = await frames(5, 2);
    const prepared: PreparedMedia = { input: 'clip.mp4', model: 'gpt-5.5', durationSec: 12, segments: [segment(0, 0, 10, fs), segment(1, 10, 12, [])] };
    const reqs = buildRequests(prepared, { prompt: PROMPT, registry });
    expect(reqs.map((r) => [r.id, r.segment.startSec, r.segment.endSec, r.segment.frames, r.segment.split])).toEqual([
      ['clip.mp4#0.0', 0, 4, 2, { part: 0, parts: 3 }],
      ['clip.mp4#0.1', 4, 8, 2, { part: 1, parts: 3 }],
      ['clip.mp4#0.2', 8, 10, 1, { part: 2, parts: 3 }],
      ['clip.mp4#1', 10, 12, 0, undefined],
    ]);
    const stamps = reqs.flatMap((r) =>
      (r.body as { input: Array<{ content: Array<{ type: string; text?: string }> }> }).input[0]!.content.filter((p) => p.text?.startsWith('[')).map(
        (p) => p.text,
      ),
    );
    expect(stamps).toEqual(['[00:00]', '[00:02]', '[00:04]', '[00:06]', '[00:08]']);
    for (const r of reqs) expectValid('responses', r.body);
    // Direct building of the whole segment is refused rather than sent to fail.
    const e = thrown(() => buildRequest(prepared.segments[0]!, { model: 'gpt-5.5', prompt: PROMPT, registry, input: 'clip.mp4' }));
    expect(e.code).toBe('LIMIT_EXCEEDED');
    expect(e.message).toBe("clip.mp4 segment 0 (00:00-00:10): 5 images exceed gpt-5.5's 2 per request; split it with buildRequests() or fitSegments()");
  });

  it('splits at requestBytes: every body fits, and each part is as full as it can be', async () => {
    const fs = await frames(8, 1, { width: 96, height: 64 });
    const seg = segment(0, 0, 8, fs, [audioAsset(0, 3.5, 5, 'wav', { data: wav })]);
    const whole = buildRequest(seg, { model: 'gpt-5.5', prompt: PROMPT });
    const limit = Math.floor(whole.bytes / 3);
    const registry = builtinRegistry().withOverrides({ models: { 'gpt-5.5': { limits: { requestBytes: limit } } } });
    const parts = fitSegments([seg], { model: 'gpt-5.5', prompt: PROMPT, registry });
    expect(parts.length).toBeGreaterThan(3);
    const built = parts.map((p) => buildRequest(p, { model: 'gpt-5.5', prompt: PROMPT, registry, api: 'chat' }));
    for (const b of built) {
      expect(b.bytes).toBeLessThanOrEqual(limit);
      expect(b.bytes).toBe(Buffer.byteLength(JSON.stringify(b.body)));
      expectValid('chat', b.body);
    }
    // Greedy and exact: moving the next part's first frame or chunk into a part would break the limit.
    for (let i = 0; i + 1 < parts.length; i++) {
      const next = parts[i + 1]!;
      const firstFrame = next.frames[0];
      const firstAudio = next.audio[0];
      const takeAudio = firstAudio !== undefined && (firstFrame === undefined || firstAudio.startSec < firstFrame.timestampSec);
      const grown: Segment = {
        ...parts[i]!,
        frames: [...parts[i]!.frames, ...(takeAudio || !firstFrame ? [] : [firstFrame])],
        audio: [...parts[i]!.audio, ...(takeAudio ? [firstAudio] : [])],
      };
      expect(Buffer.byteLength(JSON.stringify(buildChatRequest(grown, { model: 'gpt-5.5', prompt: PROMPT })))).toBeGreaterThan(limit);
    }
    // All media kept, once, in time order, and the ranges tile the segment.
    expect(parts.flatMap((p) => p.frames.map((f) => f.index))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(parts.flatMap((p) => p.audio.map((a) => a.index))).toEqual([0]);
    expect(parts[0]!.startSec).toBe(0);
    expect(parts.at(-1)!.endSec).toBe(8);
    for (let i = 0; i + 1 < parts.length; i++) expect(parts[i]!.endSec).toBe(parts[i + 1]!.startSec);
  });

  it('splits at the context window (input + output tokens)', async () => {
    const fs = await frames(6, 1);
    const per = fs[0]!.tokens;
    const one = estimateRequest(segment(0, 0, 6, fs.slice(0, 1)), { model: 'gpt-5.5', prompt: PROMPT, maxOutputTokens: 100 });
    // Room for exactly two frames with their labels.
    const window = one.inputTokens + (one.inputTokens - one.textTokens + textTokens('gpt-5.5', '[00:01]')) + 100;
    expect(per).toBe(one.imageTokens);
    const registry = builtinRegistry().withOverrides({ models: { 'gpt-5.5': { contextWindow: window } } });
    const reqs = buildRequests(
      { input: 'c.mp4', model: 'gpt-5.5', durationSec: 6, segments: [segment(0, 0, 6, fs)] },
      { prompt: PROMPT, maxOutputTokens: 100, registry },
    );
    expect(reqs.map((r) => r.segment.frames)).toEqual([2, 2, 2]);
    for (const r of reqs) expect(r.estimate.inputTokens + 100).toBeLessThanOrEqual(window);
  });

  it('a frame that cannot fit alone is a one-line LIMIT_EXCEEDED naming it', async () => {
    const big = await frameAsset(4, 125, { width: 800, height: 600, format: 'png' });
    const registry = builtinRegistry().withOverrides({ models: { 'gpt-5.5': { limits: { requestBytes: 2000 } } } });
    const e = thrown(() =>
      buildRequests({ input: 'talk.mp4', model: 'gpt-5.5', durationSec: 200, segments: [segment(0, 120, 180, [big])] }, { prompt: PROMPT, registry }),
    );
    expect(e.code).toBe('LIMIT_EXCEEDED');
    expect(e.message).toMatch(/^talk\.mp4 frame 4 \(at 02:05\): cannot fit in one request: \d+ bytes exceed gpt-5\.5's 2000 bytes per request$/);
    const claude = await frameAsset(0, 0, { width: 64, height: 48, model: 'claude-sonnet-4.5', detail: 'auto' });
    const small = builtinRegistry().withOverrides({ models: { 'claude-sonnet-4.5': { limits: { imageBytes: 100 } } } });
    expect(
      thrown(() =>
        buildRequests({ input: 'a.png', model: 'claude-sonnet-4.5', durationSec: 0, segments: [segment(0, 0, 0, [claude])] }, { prompt: 'x', registry: small }),
      ).message,
    ).toMatch(/^a\.png frame 0 \(at 00:00\): cannot fit in one request: its \d+ bytes exceed claude-sonnet-4\.5's 100 bytes per image$/);
    expect(
      thrown(() => buildRequests({ input: 'a.mp3', model: 'gpt-audio', durationSec: 1, segments: [segment(0, 0, 1, [png0])] }, { prompt: 'x' })).message,
    ).toBe('a.mp3 segment 0 (00:00-00:01): model gpt-audio takes no images');
  });

  it('above manyImages, images with a side over maxSideManyImages go in smaller requests (Claude)', async () => {
    const fs = await Promise.all(
      Array.from({ length: 5 }, (_, i) => frameAsset(i, i, { width: 2100, height: 40, model: 'claude-sonnet-4.5', detail: 'auto', format: 'jpeg' })),
    );
    const registry = builtinRegistry().withOverrides({ models: { 'claude-sonnet-4.5': { limits: { manyImages: 2 } } } });
    const reqs = buildRequests({ input: 'wide.mp4', model: 'claude-sonnet-4.5', durationSec: 5, segments: [segment(0, 0, 5, fs)] }, { prompt: 'x', registry });
    expect(reqs.map((r) => r.segment.frames)).toEqual([2, 2, 1]);
  });
});

describe('real media: fixtures and ../shared/media', () => {
  it('frames cut from shared videos and the tone fixtures make valid Chat and Responses bodies', async () => {
    const reqs: BuiltRequest[] = [];
    const shared = ['flower.mp4', 'stream-of-water.mp4', 'friday.mp4'].map(sharedMedia).filter((p): p is string => Boolean(p));
    // Without ../shared/media (a clone on another machine), the fixtures stand in.
    const videos = shared.length ? shared : [await fixture('timecode'), await fixture('audioFirst')];
    expect(videos.length).toBeGreaterThan(0);
    const frames: FrameAsset[] = [];
    for (const [i, v] of videos.entries()) {
      const data = await videoFrame(v, 1, 320);
      const meta = await import('sharp').then((s) => s.default(data).metadata());
      frames.push(await frameAsset(i, i * 2, { width: meta.width!, height: meta.height!, data, format: 'jpeg' }));
    }
    const tones = await fixture('tones');
    const mp3File = await fixture('audioOnly');
    expect(wavSeconds(readFileSync(tones))).toBe(30);
    expect(mp3Seconds(readFileSync(mp3File))).toBeCloseTo(8, 2);
    const audio = [audioAsset(0, 0, 30, 'wav', { file: tones }), audioAsset(1, 30, 38, 'mp3', { file: mp3File })];
    const prepared: PreparedMedia = { input: 'shared', model: 'gpt-5.5', durationSec: 38, segments: [segment(0, 0, 38, frames, audio)] };
    reqs.push(...buildRequests(prepared, { prompt: PROMPT }));
    reqs.push(...buildRequests(prepared, { prompt: PROMPT, api: 'responses', transcripts: ['tone', 'tone again'] }));
    reqs.push(...buildRequests({ ...prepared, segments: [segment(0, 0, 38, frames)] }, { prompt: PROMPT, detail: 'low', schema: { type: 'object' } }));
    expect(reqs.map((r) => r.api)).toEqual(['chat', 'responses', 'responses']);
    for (const r of reqs) expectValid(r.api as 'chat' | 'responses', r.body);
    const chat = reqs[0]!.body as { messages: Array<{ content: Array<{ type: string; input_audio?: { data: string } }> }> };
    expect(chat.messages[0]!.content.filter((p) => p.type === 'input_audio').map((p) => p.input_audio!.data)).toEqual([
      readFileSync(tones).toString('base64'),
      readFileSync(mp3File).toString('base64'),
    ]);
  });
});
