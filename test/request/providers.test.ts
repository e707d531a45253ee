// Anthropic Messages and Gemini generateContent bodies: exact shapes, validity against JSON Schemas
// derived from the SDKs' own request types (test/helpers/sdk/schemas.ts), estimates, and the
// Claude limits (100 images per request, 2000 px above 20 images) splitting requests.
import { readFileSync, statSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { inlineVideo, prepareVideo } from '../../src/prepare.js';
import { fixture } from '../helpers/fixtures.js';
import { buildRequest, buildRequests, type BuiltRequest } from '../../src/request/index.js';
import type { FrameAsset, PreparedMedia } from '../../src/request/types.js';
import type { GeminiBody } from '../../src/providers/gemini/shapes.js';
import { imageTokens, textTokens } from '../../src/models/tokens.js';
import { builtinRegistry } from '../../src/models/registry.js';
import { OmniprepError } from '../../src/errors.js';
import { validateSdk } from '../helpers/sdk/schemas.js';
import { audioAsset, frameAsset, makeAudio, makeImage, segment } from '../helpers/request-media.js';

const PROMPT = 'Describe what happens, with times.';
const b64 = (b: Buffer): string => b.toString('base64');

function thrown(fn: () => unknown): OmniprepError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OmniprepError);
    return e as OmniprepError;
  }
  throw new Error('expected a throw');
}

function expectValid(r: BuiltRequest): void {
  const kind = r.api === 'messages' ? 'anthropic.messages' : 'gemini.generateContent';
  expect(validateSdk(kind, r.body).message).toBe('valid');
}

let claude0: FrameAsset;
let claude1: FrameAsset;
let gem0: FrameAsset;
let gem1: FrameAsset;

beforeAll(async () => {
  // Deriving the schemas takes up to a minute on a busy machine the first time (then cached).
  validateSdk('anthropic.messages', {});
  validateSdk('gemini.generateContent', {});
  claude0 = await frameAsset(0, 0, { width: 320, height: 180, model: 'claude-sonnet-4.5', detail: 'auto' });
  claude1 = await frameAsset(1, 5.4, { width: 320, height: 180, model: 'claude-sonnet-4.5', detail: 'auto', format: 'jpeg' });
  gem0 = await frameAsset(0, 0, { width: 320, height: 180, model: 'gemini-2.5-flash', detail: 'auto' });
  gem1 = await frameAsset(1, 5.4, { width: 800, height: 450, model: 'gemini-2.5-flash', detail: 'auto' });
}, 240_000);

describe('Anthropic Messages bodies', () => {
  it('prompt, then each frame after its [mm:ss] as a base64 image block; the API model id; max_tokens; system', () => {
    const r = buildRequest(segment(0, 0, 10, [claude0, claude1]), { model: 'claude-sonnet-4.5', prompt: PROMPT, system: 'Be brief.', input: 'clip.mp4' });
    expect(r.provider).toBe('anthropic');
    expect(r.api).toBe('messages');
    expect(r.url).toBe('/v1/messages');
    expect(r.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 64000,
      system: 'Be brief.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: PROMPT },
            { type: 'text', text: '[00:00]' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: b64(claude0.data!) } },
            { type: 'text', text: '[00:05]' },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: b64(claude1.data!) } },
          ],
        },
      ],
    });
    expectValid(r);
    expect(r.bytes).toBe(Buffer.byteLength(JSON.stringify(r.body)));
    // 320x180 under the 28 px patch rule: ceil(320/28) * ceil(180/28) = 12 * 7 = 84 each.
    expect(imageTokens('claude-sonnet-4.5', 320, 180).tokens).toBe(84);
    const m = builtinRegistry().get('claude-sonnet-4.5');
    const text = [PROMPT, 'Be brief.', '[00:00]', '[00:05]'].reduce((s, t) => s + textTokens(m, t), 0) + m.text.perRequest + 2 * m.text.perMessage;
    expect(r.estimate).toMatchObject({ model: 'claude-sonnet-4.5', images: 2, imageTokens: 168, textTokens: text, inputTokens: 168 + text });
  });

  it('structured output as output_config.format with the JSON Schema; max_tokens from maxOutputTokens', () => {
    const schema = { type: 'object', properties: { events: { type: 'array', items: { type: 'string' } } }, required: ['events'], additionalProperties: false };
    const r = buildRequest(segment(0, 0, 10, [claude0]), { model: 'claude-haiku-4.5', prompt: PROMPT, schema, maxOutputTokens: 500, timestamps: false });
    expect(r.body).toMatchObject({ model: 'claude-haiku-4-5', max_tokens: 500, output_config: { format: { type: 'json_schema', schema } } });
    expect(r.schema).toEqual(schema);
    expectValid(r);
  });

  it('a frame by URL is a url image source', async () => {
    const f = await frameAsset(0, 0, { width: 320, height: 180, model: 'claude-sonnet-4.5', detail: 'auto', url: 'https://example.com/f0.png' });
    const r = buildRequest(segment(0, 0, 1, [f]), { model: 'claude-sonnet-4.5', prompt: PROMPT, imageUrls: true, timestamps: false });
    expect((r.body as { messages: Array<{ content: unknown[] }> }).messages[0]!.content[1]).toEqual({
      type: 'image',
      source: { type: 'url', url: 'https://example.com/f0.png' },
    });
    expectValid(r);
  });

  it('refuses OpenAI APIs and audio for a Claude model, naming what it takes', async () => {
    expect(thrown(() => buildRequest(segment(0, 0, 1, [claude0]), { model: 'claude-sonnet-4.5', prompt: PROMPT, api: 'chat' })).message).toBe(
      'option api: chat is not an API of anthropic (model claude-sonnet-4.5); anthropic takes messages',
    );
    const mp3 = await makeAudio('mp3', 1);
    expect(
      thrown(() => buildRequest(segment(0, 0, 1, [], [audioAsset(0, 0, 1, 'mp3', { data: mp3 })]), { model: 'claude-sonnet-4.5', prompt: PROMPT })).message,
    ).toMatch(/model claude-sonnet-4.5 takes no audio input; send transcripts instead/);
  });

  it('150 frames are split into requests of at most 100 images, in time order, each valid', async () => {
    const data = await makeImage(64, 36, 1, 'jpeg');
    const frames: FrameAsset[] = Array.from({ length: 150 }, (_, i) => ({
      index: i,
      timestampSec: i,
      data,
      mime: 'image/jpeg',
      width: 64,
      height: 36,
      detail: 'auto',
      tokens: imageTokens('claude-sonnet-4.5', 64, 36).tokens,
    }));
    const prepared: PreparedMedia = { input: 'long.mp4', model: 'claude-sonnet-4.5', durationSec: 150, segments: [segment(0, 0, 150, frames)] };
    const reqs = buildRequests(prepared, { prompt: PROMPT });
    expect(reqs.map((r) => r.estimate.images)).toEqual([100, 50]);
    expect(reqs.map((r) => r.id)).toEqual(['long.mp4#0.0', 'long.mp4#0.1']);
    expect(reqs.map((r) => [r.segment.startSec, r.segment.endSec])).toEqual([
      [0, 100],
      [100, 150],
    ]);
    for (const r of reqs) expectValid(r);
  });

  it('more than 20 images with a side over 2000 px are split into requests of 20 (Claude 4.7, high-resolution)', async () => {
    const data = await makeImage(2400, 1350, 3, 'jpeg');
    const frames: FrameAsset[] = Array.from({ length: 25 }, (_, i) => ({
      index: i,
      timestampSec: i * 2,
      data,
      mime: 'image/jpeg',
      width: 2400,
      height: 1350,
      detail: 'auto',
      tokens: imageTokens('claude-opus-4.7', 2400, 1350).tokens,
    }));
    const prepared: PreparedMedia = { input: 'big.mp4', model: 'claude-opus-4.7', durationSec: 50, segments: [segment(0, 0, 50, frames)] };
    const reqs = buildRequests(prepared, { prompt: PROMPT });
    expect(reqs.map((r) => r.estimate.images)).toEqual([20, 5]);
    // At 2000 px the 25 fit one request.
    const small = await makeImage(2000, 1125, 3, 'jpeg');
    const fitted = frames.map((f) => ({ ...f, data: small, width: 2000, height: 1125, tokens: imageTokens('claude-opus-4.7', 2000, 1125).tokens }));
    expect(buildRequests({ ...prepared, segments: [segment(0, 0, 50, fitted)] }, { prompt: PROMPT }).map((r) => r.estimate.images)).toEqual([25]);
  }, 60_000);
});

describe('Gemini generateContent bodies', () => {
  it('prompt, then frames as inlineData after their [mm:ss], audio as inlineData; config carries system and schema', async () => {
    const mp3 = await makeAudio('mp3', 2);
    const schema = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] };
    const seg = segment(0, 0, 10, [gem0, gem1], [audioAsset(0, 2, 4, 'mp3', { data: mp3 }, 'gemini-2.5-flash')]);
    const r = buildRequest(seg, { model: 'gemini-2.5-flash', prompt: PROMPT, system: 'Be brief.', schema, maxOutputTokens: 800 });
    expect(r.provider).toBe('gemini');
    expect(r.api).toBe('gemini');
    expect(r.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(r.body).toEqual({
      model: 'gemini-2.5-flash',
      contents: [
        {
          role: 'user',
          parts: [
            { text: PROMPT },
            { text: '[00:00]' },
            { inlineData: { mimeType: 'image/png', data: b64(gem0.data!) } },
            { text: '[audio 00:02-00:04]' },
            { inlineData: { mimeType: 'audio/mp3', data: b64(mp3) } },
            { text: '[00:05]' },
            { inlineData: { mimeType: 'image/png', data: b64(gem1.data!) } },
          ],
        },
      ],
      config: { systemInstruction: 'Be brief.', maxOutputTokens: 800, responseMimeType: 'application/json', responseJsonSchema: schema },
    });
    expectValid(r);
    // 320x180: both sides <= 384 -> 258; 800x450: unit floor(450/1.5)=300 -> 3*2 tiles -> 1548.
    expect(r.estimate.imageTokens).toBe(258 + 1548);
    expect(r.estimate.audioTokens).toBe(64);
    expect(r.bytes).toBe(Buffer.byteLength(JSON.stringify(r.body)));
  });

  it('Gemini 3: each image carries its media resolution level', async () => {
    const f = await frameAsset(0, 0, { width: 640, height: 360, model: 'gemini-3-pro', detail: 'medium' });
    const r = buildRequest(segment(0, 0, 1, [f]), { model: 'gemini-3-pro', prompt: PROMPT, timestamps: false });
    expect((r.body as { contents: Array<{ parts: unknown[] }> }).contents[0]!.parts[1]).toEqual({
      inlineData: { mimeType: 'image/png', data: b64(f.data!) },
      mediaResolution: { level: 'MEDIA_RESOLUTION_MEDIUM' },
    });
    expect(r.estimate.imageTokens).toBe(560);
    expectValid(r);
  });

  it('--provider picks the wire format for a model the registry lists elsewhere; an unknown provider is refused', () => {
    const r = buildRequest(segment(0, 0, 1, [claude0]), { model: 'claude-sonnet-4.5', prompt: PROMPT, provider: 'openai' });
    expect(r.api).toBe('responses');
    expect(thrown(() => buildRequest(segment(0, 0, 1, [claude0]), { model: 'claude-sonnet-4.5', prompt: PROMPT, provider: 'mistral' as never })).message).toBe(
      'option provider: expected openai, anthropic, gemini, local, got "mistral"',
    );
    // Anthropic's and Gemini's APIs take their own models only.
    expect(thrown(() => buildRequest(segment(0, 0, 1, [claude0]), { model: 'claude-sonnet-4.5', prompt: PROMPT, provider: 'gemini' })).message).toBe(
      "option provider: gemini serves its own models only, and model claude-sonnet-4.5 is anthropic's; send it to anthropic, or to an OpenAI-compatible server with provider openai or local",
    );
  });
});

describe('Gemini native video in a request body (`request --send video`)', () => {
  it('each window names the clip inline with its offsets and fps; the bodies are valid', async () => {
    const clip = await fixture('timecode'); // 20 s
    const options = { model: 'gemini-2.5-flash', every: 2, windowSec: 10 };
    const media = await prepareVideo(clip, options, (p) => inlineVideo(clip, p, options));
    const requests = buildRequests(media, { prompt: PROMPT });
    expect(requests).toHaveLength(2);
    const data = b64(readFileSync(clip));
    requests.forEach((r, i) => {
      expectValid(r);
      const parts = (r.body as GeminiBody).contents[0]!.parts!;
      expect(parts.at(-1)).toEqual({
        inlineData: { mimeType: 'video/mp4', data },
        videoMetadata: { fps: 0.5, startOffset: `${i * 10}s`, endOffset: `${i * 10 + 10}s` },
      });
    });
    expect(requests[0]!.bytes).toBeGreaterThan(data.length); // the clip counts against the request size
  });

  it('a clip whose base64 is over the request size is refused, naming run, which uploads it', async () => {
    const clip = await fixture('timecode');
    const registry = builtinRegistry().withOverrides({ models: { 'gemini-2.5-flash': { limits: { requestBytes: 100_000 } } } });
    const options = { model: 'gemini-2.5-flash', every: 5, registry };
    const bytes = statSync(clip).size;
    await expect(prepareVideo(clip, options, (p) => inlineVideo(clip, p, options))).rejects.toThrow(
      `${clip}: ${bytes} bytes of video are ${Math.ceil(bytes / 3) * 4} bytes as base64, over the 100000 bytes gemini-2.5-flash takes in one request; \`omniprep run --send video\` uploads it through the File API instead`,
    );
  });
});
