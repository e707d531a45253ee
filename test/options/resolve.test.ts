// Options are resolved once per surface call: one plan() and one run() parse each option's value
// once and look the model up by name once. An unknown option is refused, naming the nearest one,
// the same way by plan(), sample(), run() and the service (the CLI's commander names the same).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelRegistry } from '../../src/models/registry.js';
import { SAMPLING } from '../../src/options/sampling.js';
import { plan } from '../../src/plan/plan.js';
import { run } from '../../src/run.js';
import { sample } from '../../src/sample/sample.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { cli } from '../helpers/cli.js';
import { CACHE, fixture, tempDir } from '../helpers/fixtures.js';
import { api, startService, upload, type Running } from '../helpers/service.js';

const TYPO = 'option evry: not an option (did you mean every?)';

let s: Running;
let server: OpenAITestServer;
let clip: string;
beforeAll(async () => {
  clip = await fixture('timecode');
  s = await startService({ workers: 0, allowRoots: [CACHE] });
  server = await startOpenAITestServer();
}, 120_000);
afterAll(async () => {
  await s?.close();
  await server?.close();
});

/**
 * The calls one action makes to each option's value check and to the registry by name (the OpenAI
 * test server, in this process, measures each body it answers with the registry too: not counted).
 */
async function counted<T>(f: () => Promise<T>): Promise<{ value: T; every: number; mode: number; lookups: string[] }> {
  const every = vi.spyOn(SAMPLING.every.schema, 'safeParse');
  const mode = vi.spyOn(SAMPLING.mode.schema, 'safeParse');
  const lookups: string[] = [];
  const get = ModelRegistry.prototype.get;
  vi.spyOn(ModelRegistry.prototype, 'get').mockImplementation(function (this: ModelRegistry, ...a: Parameters<typeof get>) {
    if (!new Error().stack?.includes('/test/helpers/')) lookups.push(a[0]);
    return get.apply(this, a);
  });
  try {
    const value = await f();
    return { value, every: every.mock.calls.length, mode: mode.mock.calls.length, lookups };
  } finally {
    vi.restoreAllMocks();
  }
}

async function refusal(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  return p.then(
    () => ({ message: 'accepted' }),
    (e: Error & { code?: string }) => ({ code: e.code, message: e.message }),
  );
}

describe('resolved once', () => {
  it('plan(): each value parsed once, the model looked up once', async () => {
    const r = await counted(() => plan(clip, { every: 2, mode: 'exact', prompt: 'What happens?', windowSec: 4 }));
    expect(r.value.frames.length).toBeGreaterThan(1);
    expect(r.value.requests).toBeGreaterThan(1);
    expect([r.every, r.mode, r.lookups]).toEqual([1, 1, ['gpt-5.5']]);
  }, 120_000);

  it('plan() with a budget: the chooser tries many plans on the one resolution', async () => {
    const free = await plan(clip, { every: 1, outputTokens: 10 });
    const r = await counted(() => plan(clip, { every: 1, outputTokens: 10, budget: free.costUsd / 2 }));
    expect(r.value.budget?.changed).toBe(true);
    expect([r.every, r.lookups]).toEqual([1, ['gpt-5.5']]);
  }, 120_000);

  it('run(): prepared, planned, sampled, built, sent and priced on one resolution', async () => {
    server.reset();
    const r = await counted(() => run(clip, { every: 5, mode: 'keyframe', prompt: 'What happens?', baseURL: server.baseURL, apiKey: 'test', windowSec: 4 }));
    expect(r.value.totals.requests).toBeGreaterThan(2); // the windows and the reduce call
    expect(r.value.totals.ok).toBe(r.value.totals.requests);
    expect(r.value.totals.spentUsd).toBeGreaterThan(0);
    expect([r.every, r.mode, r.lookups]).toEqual([1, 1, ['gpt-5.5']]);
  }, 120_000);
});

describe('an unknown option', () => {
  it('is refused by plan(), sample() and run() in one line naming the nearest option', async () => {
    expect(await refusal(plan(clip, { evry: 5 } as object))).toEqual({ code: 'INVALID_OPTION', message: TYPO });
    const out = tempDir('resolve-');
    expect(await refusal(sample(clip, { evry: 5, out } as object).manifest())).toEqual({ code: 'INVALID_OPTION', message: TYPO });
    expect(await refusal(run(clip, { prompt: 'x', evry: 5 } as { prompt: string }))).toEqual({ code: 'INVALID_OPTION', message: TYPO });
    expect(await refusal(plan(clip, { every: 5, maxFrame: 2 } as object))).toMatchObject({
      message: 'option maxFrame: not an option (did you mean maxFrames?)',
    });
  }, 120_000);

  it('reads the same from the service, as JSON and as a form field, and the CLI names the same option', async () => {
    const json = await api(s.url, 'POST', '/v1/plan', { path: clip, options: { evry: 5 } });
    expect(json.status, json.text).toBe(400);
    expect(json.json.error).toEqual({ code: 'INVALID_OPTION', message: TYPO });
    const form = await upload(s.url, clip, { evry: 5 }, { path: '/v1/plan' });
    expect(form.status, form.text).toBe(400);
    expect(form.json.error).toEqual({ code: 'INVALID_OPTION', message: TYPO });
    const c = await cli(['plan', clip, '--evry', '5']);
    expect(c.code).not.toBe(0);
    // The CLI names the flag as typed, in the same line and with the same nearest name.
    expect(c.stderr.split('\n')[0]).toBe('error: option --evry: not an option (did you mean --every?)');
    const far = await cli(['plan', clip, '--brightness', '2']);
    expect(far.code).toBe(2);
    expect(far.stderr.split('\n')[0]).toBe('error: option --brightness: not an option');
  }, 120_000);
});
