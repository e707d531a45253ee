/**
 * Work per request is bounded before it starts: options that would plan millions of frames,
 * windows or audio chunks are refused with a 400 naming the option, the value and the limit, and
 * the server keeps answering. (Without the bound one such request took the server down: a list
 * of 200 million times built on the event loop.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE, fixture } from '../helpers/fixtures.js';
import { api, startService, upload, type Running } from '../helpers/service.js';

describe('bounded work per request', () => {
  let s: Running;
  let clip: string;
  beforeAll(async () => {
    clip = await fixture('timecode'); // 20 s
    s = await startService({ workers: 0, allowRoots: [CACHE] });
  });
  afterAll(() => s.close());

  const refused = (r: { status: number; json: any; text: string }, option: string): void => {
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.code).toMatch(/^(INVALID_OPTION|BAD_REQUEST)$/);
    expect(r.json.error.message).toContain(option);
  };

  it('every, windowSec, maxGap and audio chunk lengths of 1e-7 answer 400 on /v1/plan and /v1/jobs; the server stays up', async () => {
    const tiny = [
      { every: 1e-7 },
      { every: 1e-6 },
      { windowSec: 1e-7 },
      { maxGap: 1e-7, mode: 'scene' },
      { audio: true, audioOptions: { chunkSeconds: 1e-7 } },
    ];
    for (const options of tiny) {
      const option = Object.keys(options).find((k) => k !== 'mode' && k !== 'audio')!;
      for (const route of ['/v1/plan', '/v1/jobs']) {
        const r = await api(s.url, 'POST', route, { path: clip, options });
        refused(r, option);
        expect((await api(s.url, 'GET', '/healthz')).json.ok).toBe(true);
      }
    }
    const r = await api(s.url, 'POST', '/v1/plan', { path: clip, options: { every: 1e-7 } });
    // The option's own range (options/sampling.ts) refuses it before any count: the same on the CLI.
    expect(r.json.error.message).toBe('option every: expected a number from 0.001 to 86400, got 1e-7');
    refused(await upload(s.url, clip, { every: 1e-7 }), 'every');
    refused(await upload(s.url, clip, { windowSec: 1e-7 }, { path: '/v1/plan' }), 'windowSec');
    // Nothing was queued, nothing kept; a sensible request still plans.
    expect((await api(s.url, 'GET', '/metrics')).text).toMatch(/^omniprep_queue_depth 0$/m);
    const ok = await api(s.url, 'POST', '/v1/plan', { path: clip, options: { every: 0.001, mode: 'exact', maxFrames: 5 } });
    expect(ok.status, ok.text).toBe(200);
  }, 120_000);

  it('prompt and system over 100,000 characters are refused by the schema', async () => {
    for (const key of ['prompt', 'system']) {
      const r = await api(s.url, 'POST', '/v1/plan', { path: clip, options: { [key]: 'a'.repeat(100_001) } });
      expect(r.status, r.text).toBe(400);
      expect(r.json.error.message).toBe(`option ${key}: expected a string of at most 100000 characters, got "${'a'.repeat(57)}..."`);
    }
  });
});
