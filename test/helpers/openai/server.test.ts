// The OpenAI test server (test code) is itself tested: it refuses what the spec refuses, bills
// what it receives, misbehaves on request, runs batches, and answers with bodies valid against
// the spec's response schemas.
import { readFileSync } from 'node:fs';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { audioTokens, imageTokens, textTokens } from '../../../src/models/tokens.js';
import { maxInWindow, mp3Seconds, sampleFor, specValidator, startOpenAITestServer, wavSeconds, type OpenAITestServer } from './server.js';
import { makeAudio, makeImage } from '../request-media.js';
import { fixture } from '../fixtures.js';

const spec = specValidator();
let server: OpenAITestServer;
let sdk: OpenAI;

beforeAll(async () => {
  server = await startOpenAITestServer();
  sdk = new OpenAI({ apiKey: 'test-key', baseURL: server.baseURL, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

async function post(
  path: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; json: { error?: { message: string; type: string; code: string | null } } }> {
  const res = await fetch(`${server.baseURL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as never };
}

describe('validation against openapi.yaml', () => {
  it('a wrong shape gets 400 with an OpenAI-style error naming the place', async () => {
    const res = await post('/chat/completions', {
      model: 'gpt-5.5',
      messages: [{ role: 'user', content: [{ type: 'audio', audio: { data: 'AAAA', format: 'mp3' } }] }],
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual({
      message: 'Invalid request body: /messages/0/content/0/type must be one of "text", "image_url", "input_audio", "file"',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_request_body',
    });
    expect(server.stats.invalid).toHaveLength(1);
    const noDetail = await post('/responses', {
      model: 'gpt-5.5',
      input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x.test/a.png' }] }],
    });
    expect(noDetail.json.error!.message).toBe("Invalid request body: /input/0/content/0 must have required property 'detail'");
    // The spec lets a Responses body leave out the model (a stored prompt may name it); the API then asks for one.
    expect(spec.validate('responses', { input: 'hi' }).valid).toBe(true);
    const noModel = await post('/responses', { input: 'hi' });
    expect([noModel.status, noModel.json.error!.message]).toEqual([400, "Missing required parameter: 'model'."]);
    expect(spec.validate('chat', { messages: [{ role: 'user', content: 'hi' }] }).message).toBe("(body) must have required property 'model'");
    const batch = await post('/batches', { input_file_id: 'file-x', endpoint: '/v1/chat/completions', completion_window: '48h' });
    expect(batch.json.error!.message).toBe('Invalid request body: /completion_window must be one of "24h"');
    const broken = await post('/responses', '{"model": ');
    expect([broken.status, broken.json.error!.code]).toEqual([400, 'invalid_json']);
  });

  it('valid bodies pass: a Responses input message with or without type, tools-free Chat', () => {
    expect(spec.validate('responses', { model: 'gpt-5.5', input: [{ role: 'user', content: 'hi' }] }).valid).toBe(true);
    expect(
      spec.validate('responses', { model: 'gpt-5.5', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] }).valid,
    ).toBe(true);
    expect(
      spec.validate('chat', {
        model: 'gpt-5.5',
        messages: [
          { role: 'developer', content: 'x' },
          { role: 'user', content: 'hi' },
        ],
        max_completion_tokens: null,
      }).valid,
    ).toBe(true);
    expect(spec.validate('chat', { model: 'gpt-5.5', messages: [] }).valid).toBe(false);
  });

  it("its own answers are valid against the spec's response schemas", async () => {
    const chat = await sdk.chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }] });
    expect(spec.validate('chatResponse', chat).message).toBe('valid');
    const resp = await sdk.responses.create({ model: 'gpt-5.5', input: 'hi' });
    expect(spec.validate('responsesResponse', resp).message).toBe('valid');
    const file = await sdk.files.create({
      file: await toFile(
        Buffer.from(`${JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/responses', body: { model: 'gpt-5.5', input: 'hi' } })}\n`),
        'a.jsonl',
      ),
      purpose: 'batch',
    });
    const batch = await sdk.batches.create({ input_file_id: file.id, endpoint: '/v1/responses', completion_window: '24h' });
    expect(spec.validate('batchObject', batch).message).toBe('valid');
  });

  it('unknown models are 404 model_not_found, like the API', async () => {
    const res = await post('/responses', { model: 'gpt-9', input: 'hi' });
    expect([res.status, res.json.error!.code]).toEqual([404, 'model_not_found']);
  });
});

describe('usage measured from the request', () => {
  it('images by their real pixel size and detail, audio by its real duration, text with overhead', async () => {
    const png = await makeImage(640, 360, 3);
    const jpeg = await makeImage(1000, 800, 9, 'jpeg');
    const mp3 = await makeAudio('mp3', 2.5);
    const r = await sdk.chat.completions.create({
      model: 'gpt-5.5',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look and listen.' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}`, detail: 'high' } },
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${jpeg.toString('base64')}`, detail: 'low' } },
            { type: 'input_audio', input_audio: { data: mp3.toString('base64'), format: 'mp3' } },
          ],
        },
      ],
      max_completion_tokens: 77,
    });
    const images = imageTokens('gpt-5.5', 640, 360, 'high').tokens + imageTokens('gpt-5.5', 1000, 800, 'low').tokens;
    const text = 3 + 3 + textTokens('gpt-5.5', 'Be brief.') + 3 + textTokens('gpt-5.5', 'Look and listen.');
    expect(r.usage).toMatchObject({ prompt_tokens: images + text + audioTokens('gpt-5.5', 2.5), prompt_tokens_details: { audio_tokens: 25 } });
    expect(r.choices[0]!.message.content).toBe('Seen 2 images and 2.5 s of audio.');
    expect(r.usage!.completion_tokens).toBe(textTokens('gpt-5.5', 'Seen 2 images and 2.5 s of audio.'));
    expect(server.stats.records[0]).toMatchObject({ promptTokens: r.usage!.prompt_tokens, maxOutputTokens: 77 });
  });

  it('reads WAV and MP3 durations (ffmpeg fixtures); a billing rule can be swapped', async () => {
    expect(wavSeconds(readFileSync(await fixture('tones')))).toBe(30);
    expect(mp3Seconds(readFileSync(await fixture('audioOnly')))).toBeCloseTo(8, 2);
    expect(mp3Seconds(await makeAudio('mp3', 2))).toBe(2);
    expect(wavSeconds(Buffer.from('not a wav'))).toBeUndefined();
    server.control.imageTokens = ({ width, height, detail }) => (detail === 'low' ? 1 : width + height);
    const png = await makeImage(30, 20, 1);
    const r = await sdk.responses.create({
      model: 'gpt-5.5',
      input: [{ role: 'user', content: [{ type: 'input_image', image_url: `data:image/png;base64,${png.toString('base64')}`, detail: 'high' }] }],
    });
    expect(r.usage!.input_tokens).toBe(50 + 3 + 3);
    const bad = await post('/responses', {
      model: 'gpt-5.5',
      input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'high' }] }],
    });
    expect([bad.status, bad.json.error!.code]).toEqual([400, 'invalid_image']);
  });

  it('structured-output requests get a sample of their schema by default', async () => {
    const schema = {
      type: 'object',
      properties: { n: { type: 'integer', minimum: 3 }, tags: { type: 'array', items: { enum: ['a', 'b'] } }, ok: { type: 'boolean' } },
      required: ['n'],
    };
    expect(sampleFor(schema)).toEqual({ n: 3, tags: ['a'], ok: true });
    const r = await sdk.responses.create({ model: 'gpt-5.5', input: 'x', text: { format: { type: 'json_schema', name: 's', schema, strict: false } } });
    expect(JSON.parse(r.output_text)).toEqual({ n: 3, tags: ['a'], ok: true });
  });
});

describe('misbehaviour on request', () => {
  it('429 with Retry-After and retry-after-ms headers, 5xx, latency', async () => {
    server.control.onRequest = (r) => (r.seq === 1 ? { status: 429, retryAfter: 2, retryAfterMs: 2000 } : r.seq === 2 ? { status: 502 } : undefined);
    const a = await post('/responses', { model: 'gpt-5.5', input: 'hi' });
    expect([a.status, a.headers.get('retry-after'), a.headers.get('retry-after-ms'), a.json.error!.code]).toEqual([429, '2', '2000', 'rate_limit_exceeded']);
    const b = await post('/responses', { model: 'gpt-5.5', input: 'hi' });
    expect([b.status, b.json.error!.type]).toEqual([502, 'server_error']);
    server.control.latencyMs = 120;
    const t0 = performance.now();
    const c = await post('/responses', { model: 'gpt-5.5', input: 'hi' });
    expect(c.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(115);
  });

  it('hangs until the client gives up, and counts requests in flight', async () => {
    server.control.onRequest = () => ({ hang: true });
    const ac = new AbortController();
    const pending = Promise.all(
      [1, 2, 3].map(() =>
        fetch(`${server.baseURL}/responses`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-5.5', input: 'hi' }),
          signal: ac.signal,
        }).catch((e: Error) => e.name),
      ),
    );
    for (let i = 0; i < 100 && server.stats.inFlight < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect([server.stats.inFlight, server.stats.maxInFlight]).toEqual([3, 3]);
    ac.abort();
    expect(await pending).toEqual(['AbortError', 'AbortError', 'AbortError']);
    expect(await server.settled(1000)).toBe(0);
    expect(server.stats.records.map((r) => r.closedByClient)).toEqual([true, true, true]);
  });

  it('maxInWindow finds the heaviest window (half-open)', () => {
    const items = [0, 100, 999, 1000, 1500, 1999].map((t, i) => ({ receivedAt: t, w: i + 1 }));
    expect(maxInWindow(items, 1000, (x) => x.w)).toBe(4 + 5 + 6);
    expect(maxInWindow(items, 1001, (x) => x.w)).toBe(3 + 4 + 5 + 6);
    expect(maxInWindow(items, 500, (x) => x.w)).toBe(5 + 6);
    expect(maxInWindow([], 1000, () => 1)).toBe(0);
  });
});

describe('batches', () => {
  it('answers valid lines, writes errors for invalid ones, and completes', async () => {
    const good = { custom_id: 'good', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }] } };
    const bad = {
      custom_id: 'bad',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-5.5', messages: [{ role: 'user', content: [{ type: 'audio', audio: {} }] }] },
    };
    const file = await sdk.files.create({ file: await toFile(Buffer.from(`${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`), 'in.jsonl'), purpose: 'batch' });
    const created = await sdk.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    let batch = created;
    for (let i = 0; i < 200 && batch.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 5));
      batch = await sdk.batches.retrieve(created.id);
    }
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 1, failed: 1 } });
    const out = (await (await sdk.files.content(batch.output_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const err = (await (await sdk.files.content(batch.error_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out).toMatchObject([{ custom_id: 'good', response: { status_code: 200, body: { object: 'chat.completion' } }, error: null }]);
    expect(spec.validate('chatResponse', out[0].response.body).message).toBe('valid');
    expect(err).toMatchObject([
      {
        custom_id: 'bad',
        response: {
          status_code: 400,
          body: { error: { message: 'Invalid request body: /messages/0/content/0/type must be one of "text", "image_url", "input_audio", "file"' } },
        },
      },
    ]);
  });

  it('fails a file with two models, or one not uploaded for batch', async () => {
    const line = (id: string, model: string): string => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/responses', body: { model, input: 'hi' } });
    const mixed = await sdk.files.create({
      file: await toFile(Buffer.from(`${line('a', 'gpt-5.5')}\n${line('b', 'gpt-5.4')}\n`), 'm.jsonl'),
      purpose: 'batch',
    });
    const b = await sdk.batches.create({ input_file_id: mixed.id, endpoint: '/v1/responses', completion_window: '24h' });
    await new Promise((r) => setTimeout(r, 20));
    expect(await sdk.batches.retrieve(b.id)).toMatchObject({ status: 'failed', errors: { data: [{ code: 'model_mismatch' }] } });
    const user = await sdk.files.create({ file: await toFile(Buffer.from(line('a', 'gpt-5.5')), 'u.jsonl'), purpose: 'user_data' });
    await expect(sdk.batches.create({ input_file_id: user.id, endpoint: '/v1/responses', completion_window: '24h' })).rejects.toThrow(
      /was not uploaded with purpose batch/,
    );
    await expect(sdk.files.create({ file: await toFile(Buffer.from('x'), 'x.jsonl'), purpose: 'nonsense' as 'batch' })).rejects.toThrow(
      /Invalid file upload: \/purpose must be one of/,
    );
  });
});
