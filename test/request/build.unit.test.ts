// src/request/build.ts on in-memory segments: exact Chat Completions and Responses bodies, the
// estimate (text tokens of every text part + per-message and per-request overhead), splitting at
// the model's limits, segment keys. Media bytes are small made-up buffers (the builder only
// base64-encodes them); one test reads a tiny file from a temp dir. No ffmpeg.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildChatRequest,
  buildRequest,
  buildRequests,
  buildResponsesRequest,
  defaultApi,
  estimateRequest,
  fitSegments,
  segmentKey,
} from '../../src/request/build.js';
import type { AudioAsset, FrameAsset, Segment } from '../../src/request/types.js';
import { dollars, imageTokens, textTokens } from '../../src/models/tokens.js';
import { OmniprepError } from '../../src/errors.js';

const PROMPT = 'Describe what happens, with times.';
const b64 = (b: Buffer) => b.toString('base64');

function frame(index: number, timestampSec: number, o: Partial<FrameAsset> = {}): FrameAsset {
  const width = o.width ?? 320;
  const height = o.height ?? 180;
  const detail = o.detail ?? 'high';
  return {
    index,
    timestampSec,
    data: Buffer.from([0x89, 0x50, 0x4e, 0x47, index & 0xff]),
    mime: 'image/png',
    width,
    height,
    detail,
    tokens: imageTokens('gpt-5.5', width, height, detail).tokens,
    ...o,
  };
}
function chunk(index: number, startSec: number, endSec: number, o: Partial<AudioAsset> = {}): AudioAsset {
  return { index, startSec, endSec, format: 'mp3', data: Buffer.from(`mp3-${index}`), tokens: Math.ceil((endSec - startSec) * 10), ...o };
}
const seg = (frames: FrameAsset[], audio: AudioAsset[] = [], startSec = 0, endSec = 10, index = 0): Segment => ({ index, startSec, endSec, frames, audio });

const f0 = frame(0, 0);
const f1 = frame(1, 5.4);
const a0 = chunk(0, 2, 4);

function thrown(fn: () => unknown): OmniprepError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OmniprepError);
    return e as OmniprepError;
  }
  throw new Error('expected a throw');
}

describe('Chat Completions bodies', () => {
  it('prompt, then media in time order, each after its [mm:ss] label; audio as input_audio', () => {
    const body = buildChatRequest(seg([f0, f1], [a0]), { model: 'gpt-5.5', prompt: PROMPT, maxOutputTokens: 300 });
    expect(body).toEqual({
      model: 'gpt-5.5',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: PROMPT },
            { type: 'text', text: '[00:00]' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${b64(f0.data!)}`, detail: 'high' } },
            { type: 'text', text: '[audio 00:02-00:04]' },
            { type: 'input_audio', input_audio: { data: b64(a0.data!), format: 'mp3' } },
            { type: 'text', text: '[00:05]' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${b64(f1.data!)}`, detail: 'high' } },
          ],
        },
      ],
      max_completion_tokens: 300,
    });
  });
  it('system message, structured output, priority tier; no labels with timestamps: false', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
    const body = buildChatRequest(seg([f0]), {
      model: 'gpt-5.5',
      prompt: PROMPT,
      system: 'Be brief.',
      schema,
      schemaName: 'scene_list',
      tier: 'priority',
      timestamps: false,
    });
    expect(body).toEqual({
      model: 'gpt-5.5',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: PROMPT },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${b64(f0.data!)}`, detail: 'high' } },
          ],
        },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'scene_list', schema, strict: true } },
      service_tier: 'priority',
    });
  });
  it('detail original: sent as auto where auto means original (gpt-5.5), refused with a hint elsewhere (gpt-5.4)', () => {
    const orig = frame(0, 0, { detail: 'original' });
    const body = buildChatRequest(seg([orig]), { model: 'gpt-5.5', prompt: PROMPT });
    expect(body.messages[0]!.content).toContainEqual({ type: 'image_url', image_url: { url: `data:image/png;base64,${b64(orig.data!)}`, detail: 'auto' } });
    const e = thrown(() => buildChatRequest(seg([orig]), { model: 'gpt-5.4', prompt: PROMPT }));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toBe(
      'segment 0 (00:00-00:10): detail original cannot be sent to the Chat Completions API on gpt-5.4 (it accepts auto, low, high); send it with the Responses API (--api responses)',
    );
  });
  it('image URLs instead of data URLs when asked; a frame without a url is refused', () => {
    const hosted = frame(0, 0, { url: 'https://example.com/f0.png' });
    const body = buildChatRequest(seg([hosted]), { model: 'gpt-5.5', prompt: PROMPT, imageUrls: true });
    expect(body.messages[0]!.content).toContainEqual({ type: 'image_url', image_url: { url: 'https://example.com/f0.png', detail: 'high' } });
    expect(() => buildChatRequest(seg([f0]), { model: 'gpt-5.5', prompt: PROMPT, imageUrls: true })).toThrow(
      'frame 0: imageUrls is set but the frame has no url',
    );
  });
});

describe('Responses bodies', () => {
  it('input_text and input_image with detail; instructions, max_output_tokens, text.format, flex tier', () => {
    const schema = { type: 'object' };
    const body = buildResponsesRequest(seg([f0, f1]), {
      model: 'gpt-5.5',
      prompt: PROMPT,
      system: 'Be brief.',
      maxOutputTokens: 200,
      schema,
      strict: false,
      tier: 'flex',
    });
    expect(body).toEqual({
      model: 'gpt-5.5',
      instructions: 'Be brief.',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: PROMPT },
            { type: 'input_text', text: '[00:00]' },
            { type: 'input_image', image_url: `data:image/png;base64,${b64(f0.data!)}`, detail: 'high' },
            { type: 'input_text', text: '[00:05]' },
            { type: 'input_image', image_url: `data:image/png;base64,${b64(f1.data!)}`, detail: 'high' },
          ],
        },
      ],
      max_output_tokens: 200,
      text: { format: { type: 'json_schema', name: 'answer', schema, strict: false } },
      service_tier: 'flex',
    });
  });
  it('Responses takes detail original as is', () => {
    const body = buildResponsesRequest(seg([frame(0, 0, { detail: 'original' })]), { model: 'gpt-5.4', prompt: PROMPT });
    expect(body.input).toMatchObject([{ content: [{}, {}, { type: 'input_image', detail: 'original' }] }]);
  });
  it('audio is refused; transcripts go as text instead', () => {
    const e = thrown(() => buildResponsesRequest(seg([f0], [a0]), { model: 'gpt-5.5', prompt: PROMPT }));
    expect(e.message).toBe(
      'segment 0 (00:00-00:10): the Responses API takes no audio input; use the Chat Completions API (--api chat), or send transcripts instead of the audio',
    );
    const body = buildResponsesRequest(seg([f0], [a0]), { model: 'gpt-5.5', prompt: PROMPT, transcripts: ['a dog barks'] });
    expect(body.input).toMatchObject([{ content: [{}, {}, {}, { type: 'input_text', text: '[transcript 00:02-00:04] a dog barks' }] }]);
    expect(() => buildResponsesRequest(seg([], [a0, chunk(1, 4, 6)]), { model: 'gpt-5.5', prompt: PROMPT, transcripts: ['only one'] })).toThrow(
      'audio chunk 1: no transcript for audio chunk 1 (transcripts must cover every chunk)',
    );
  });
});

describe('defaultApi and buildRequest', () => {
  it('Chat Completions when audio is sent, Responses otherwise or with transcripts', () => {
    expect(defaultApi(seg([f0], [a0]))).toBe('chat');
    expect(defaultApi(seg([f0]))).toBe('responses');
    expect(defaultApi([seg([f0]), seg([], [a0])])).toBe('chat');
    expect(defaultApi(seg([f0], [a0]), { transcripts: ['x'] })).toBe('responses');
  });
  it('a built request: id, url, segment summary, bytes of the JSON body', () => {
    const r = buildRequest(seg([f0], [a0]), { model: 'gpt-5.5', prompt: PROMPT, input: 'clip.mp4' });
    expect([r.id, r.api, r.url, r.model, r.input]).toEqual(['clip.mp4#0', 'chat', '/v1/chat/completions', 'gpt-5.5', 'clip.mp4']);
    expect(r.segment).toEqual({ index: 0, startSec: 0, endSec: 10, frames: 1, audio: 1 });
    expect(r.bytes).toBe(Buffer.byteLength(JSON.stringify(r.body)));
  });
});

describe('estimateRequest', () => {
  const m = 'gpt-5.5';
  it('image and audio tokens from the assets; text = 3 per request + 3 per message + every text part', () => {
    const e = estimateRequest(seg([f0, f1], [a0]), { model: m, prompt: PROMPT });
    const text = 3 + 3 + textTokens(m, PROMPT) + textTokens(m, '[00:00]') + textTokens(m, '[audio 00:02-00:04]') + textTokens(m, '[00:05]');
    // 320x180 high on gpt-5.5: 10 x 6 patches x 1.2 = 72
    expect(f0.tokens).toBe(72);
    expect(e).toEqual({
      model: m,
      tier: 'standard',
      images: 2,
      audioChunks: 1,
      audioSeconds: 2,
      imageTokens: 144,
      audioTokens: 20,
      textTokens: text,
      inputTokens: 144 + 20 + text,
      outputTokens: 1000,
      inputUsd: dollars(m, { imageTokens: 144, audioTokens: 20, textTokens: text }),
      usd: dollars(m, { imageTokens: 144, audioTokens: 20, textTokens: text, outputTokens: 1000 }),
      videoFrames: 0,
      videoTokens: 0,
    });
  });
  it('a system message adds its tokens and one message; maxOutputTokens is the output; tier prices', () => {
    const base = estimateRequest(seg([f0]), { model: m, prompt: PROMPT });
    const e = estimateRequest(seg([f0]), { model: m, prompt: PROMPT, system: 'Be brief.', maxOutputTokens: 50, tier: 'batch' });
    expect(e.textTokens - base.textTokens).toBe(3 + textTokens(m, 'Be brief.'));
    expect(e.outputTokens).toBe(50);
    expect(e.usd).toBeCloseTo((e.inputTokens * 2.5 + 50 * 15) / 1e6, 12);
  });
  it('a detail option re-prices every image at that detail', () => {
    const e = estimateRequest(seg([f0, f1]), { model: m, prompt: PROMPT, detail: 'low' });
    expect(e.imageTokens).toBe(2 * imageTokens(m, 320, 180, 'low').tokens);
  });
  it('reads no file: an asset whose file is missing is still estimated', () => {
    const ghost = { ...frame(0, 0), data: undefined, file: '/nonexistent/frame.png' };
    expect(estimateRequest(seg([ghost]), { model: m, prompt: PROMPT }).images).toBe(1);
  });
});

describe('fitSegments: split at the model limits, media in time order', () => {
  it('250 frames on claude-sonnet-4.5 (100 images per request): parts of 100, 100, 50 cut at the first frame of each part', () => {
    const frames = Array.from({ length: 250 }, (_, i) => frame(i, i * 0.5));
    const parts = fitSegments([seg(frames, [], 0, 125, 4)], { model: 'claude-sonnet-4.5', prompt: PROMPT });
    expect(parts.map((p) => [p.index, p.startSec, p.endSec, p.frames.length, p.split])).toEqual([
      [4, 0, 50, 100, { part: 0, parts: 3 }],
      [4, 50, 100, 100, { part: 1, parts: 3 }],
      [4, 100, 125, 50, { part: 2, parts: 3 }],
    ]);
    expect(parts.flatMap((p) => p.frames.map((f) => f.index))).toEqual(frames.map((f) => f.index));
    expect(parts.map(segmentKey)).toEqual(['4.0', '4.1', '4.2']);
  });
  it('a segment that fits comes back as it is', () => {
    const s = seg([f0, f1]);
    const [only, ...rest] = fitSegments([s], { model: 'gpt-5.5', prompt: PROMPT });
    expect(only).toBe(s);
    expect(rest).toEqual([]);
  });
  it('the context window splits too (gpt-4o: 128000 tokens, 1000 output assumed)', () => {
    const big = [0, 1, 2].map((i) => frame(i, i, { tokens: 60_000 }));
    const parts = fitSegments([seg(big, [], 0, 3)], { model: 'gpt-4o', prompt: PROMPT });
    // 2 x 60000 + text + 1000 output fits 128000; a third frame does not
    expect(parts.map((p) => p.frames.length)).toEqual([2, 1]);
    expect(parts.map((p) => [p.startSec, p.endSec])).toEqual([
      [0, 2],
      [2, 3],
    ]);
  });
  it('more than 20 images over 2000 px on Claude: parts of 20', () => {
    const wide = Array.from({ length: 30 }, (_, i) => frame(i, i, { width: 2100, height: 100 }));
    expect(fitSegments([seg(wide, [], 0, 30)], { model: 'claude-sonnet-4.5', prompt: PROMPT }).map((p) => p.frames.length)).toEqual([20, 10]);
  });
  it('audio and frames stay in time order across parts; a chunk is never split (gpt-5.5 context window)', () => {
    // 1,050,000-token window, 1000 output assumed: three 300k-token frames fit, a fourth does not.
    // Units in time order: f 0, audio 1-3, f 2, f 4, audio 5-7, f 6, f 8 -> the cut falls before f 6
    const frames = [0, 2, 4, 6, 8].map((t, i) => frame(i, t, { tokens: 300_000 }));
    const parts = fitSegments([seg(frames, [chunk(0, 1, 3), chunk(1, 5, 7)], 0, 10)], { model: 'gpt-5.5', prompt: PROMPT });
    expect(parts.map((p) => [p.startSec, p.endSec, p.frames.map((f) => f.timestampSec), p.audio.map((c) => [c.startSec, c.endSec])])).toEqual([
      [
        0,
        6,
        [0, 2, 4],
        [
          [1, 3],
          [5, 7],
        ],
      ],
      [6, 10, [6, 8], []],
    ]);
  });
});

describe('fitSegments refusals', () => {
  it('one frame too large alone', () => {
    const e = thrown(() => fitSegments([seg([frame(0, 0, { width: 9000, height: 100 })])], { model: 'claude-sonnet-4.5', prompt: PROMPT }));
    expect(e.code).toBe('LIMIT_EXCEEDED');
    expect(e.message).toBe("frame 0 (at 00:00): cannot fit in one request: its 9000x100 px exceed claude-sonnet-4.5's 8000 px per side");
  });
  it('a model without image or audio input', () => {
    expect(thrown(() => fitSegments([seg([f0])], { model: 'gpt-audio', prompt: PROMPT })).message).toBe(
      'segment 0 (00:00-00:10): model gpt-audio takes no images',
    );
    expect(thrown(() => fitSegments([seg([], [a0])], { model: 'gpt-4o', prompt: PROMPT })).message).toBe(
      'segment 0 (00:00-00:10): model gpt-4o takes no audio input; send transcripts instead',
    );
  });
  it('bad options name the option', () => {
    expect(() => fitSegments([seg([f0])], { model: 'gpt-5.5', prompt: '  ' })).toThrow(/^option prompt: expected a non-empty string, got " {2}"$/);
    expect(() => fitSegments([seg([f0])], { model: 'gpt-5.5', prompt: PROMPT, maxOutputTokens: 0 })).toThrow(
      /^option maxOutputTokens: expected an integer from 1 to 128000 \(gpt-5\.5's output limit\), got 0$/,
    );
    expect(() => fitSegments([seg([f0])], { model: 'gpt-5.5', prompt: PROMPT, schemaName: 'has space' })).toThrow(/^option schemaName/);
    expect(() => fitSegments([seg([f0])], { model: 'gpt-4o', prompt: PROMPT, tier: 'priority' })).toThrow('option tier: model gpt-4o has no priority price');
  });
});

describe('segmentKey', () => {
  it('index, or index.part for a part of a split segment', () => {
    expect(segmentKey({ index: 3 })).toBe('3');
    expect(segmentKey({ index: 3, split: { part: 1, parts: 2 } })).toBe('3.1');
    expect(segmentKey({ index: 0, split: { part: 0, parts: 1 } })).toBe('0.0');
  });
});

describe('assets on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'omniprep-unit-build-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('a frame file is read into its data URL; buildRequests names each part of a split segment', () => {
    const bytes = Buffer.from('tiny image bytes');
    const file = join(dir, 'f0.png');
    writeFileSync(file, bytes);
    const onDisk = { ...frame(0, 0), data: undefined, file };
    const body = buildResponsesRequest(seg([onDisk]), { model: 'gpt-5.5', prompt: PROMPT });
    expect(body.input).toMatchObject([{ content: [{}, {}, { type: 'input_image', image_url: `data:image/png;base64,${b64(bytes)}` }] }]);
    const frames = Array.from({ length: 101 }, (_, i) => ({ ...frame(i, i), data: undefined, file }));
    const reqs = buildRequests({ input: 'clip.mp4', model: 'claude-sonnet-4.5', durationSec: 101, segments: [seg(frames, [], 0, 101)] }, { prompt: PROMPT });
    expect(reqs.map((r) => [r.id, r.api, r.segment.frames])).toEqual([
      ['clip.mp4#0.0', 'messages', 100],
      ['clip.mp4#0.1', 'messages', 1],
    ]);
  });
  it('a missing file is NOT_FOUND, naming the file', () => {
    const missing = join(dir, 'gone.png');
    const e = thrown(() => buildResponsesRequest(seg([{ ...frame(0, 0), data: undefined, file: missing }]), { model: 'gpt-5.5', prompt: PROMPT }));
    expect([e.code, e.message]).toEqual(['NOT_FOUND', `${missing}: no such file (a frame or audio chunk the request needs)`]);
  });
});
