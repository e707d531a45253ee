/**
 * Long prompts are counted in a worker thread with a time limit, so the heaviest prompt the
 * schema allows (100,000 emoji, as prompt and as system) does not hold up /healthz. Asserted from
 * the order of events and relative to the request itself, not against a wall-clock figure.
 */
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { countEncoded, isCounted } from '../../src/models/tokens.js';
import { TokenCounter } from '../../src/service/tokens.js';
import { CACHE, fixture, tempDir } from '../helpers/fixtures.js';
import { api, type CliNode, spawnNode } from '../helpers/service.js';

const require = createRequire(import.meta.url);

describe('TokenCounter', () => {
  it('counts long texts in its thread and leaves the exact count here', async () => {
    const { GptEncoding } = require('gpt-tokenizer/cjs/GptEncoding') as {
      GptEncoding: { getEncodingApi(n: string, f: () => unknown): { countTokens(t: string): number } };
    };
    const ranks = require('gpt-tokenizer/cjs/bpeRanks/o200k_base') as { default: unknown };
    const reference = GptEncoding.getEncodingApi('o200k_base', () => ranks.default); // unpatched
    const text = `Describe this. ${'漢字かな😀 '.repeat(600)} ${Math.random()}`;
    const c = new TokenCounter();
    try {
      expect(isCounted('o200k_base', text)).toBe(false);
      await c.prime('gpt-5.5', { prompt: text, system: 'short' });
      expect(isCounted('o200k_base', text)).toBe(true);
      expect(countEncoded('o200k_base', text)).toBe(reference.countTokens(text));
      await c.prime('no-such-model', { prompt: text }); // left to the plan to refuse
    } finally {
      await c.close();
    }
  });

  it('a text over the time limit is refused, and the next one is counted by a new thread', async () => {
    const c = new TokenCounter(1);
    try {
      const big = `${'😀'.repeat(100_000)}${Math.random()}`;
      await expect(c.prime('gpt-5.5', { prompt: big })).rejects.toThrow(
        /^option prompt: counting its tokens took longer than 0\.001 s \(\d+ characters\); send a shorter text$/,
      );
    } finally {
      await c.close();
    }
    const d = new TokenCounter();
    try {
      const next = `${'a'.repeat(5000)}${Math.random()}`;
      await d.prime('gpt-5.5', { system: next });
      expect(isCounted('o200k_base', next)).toBe(true);
    } finally {
      await d.close();
    }
  });
});

/** Health checks, one after another, until `until` says stop; their round trips in ms. */
async function healthLatencies(url: string, until: () => boolean): Promise<number[]> {
  const out: number[] = [];
  while (!until()) {
    const t = performance.now();
    const h = await api(url, 'GET', '/healthz');
    expect(h.status).toBe(200);
    out.push(performance.now() - t);
  }
  return out;
}

describe('the heaviest allowed prompt', () => {
  // The server is the built CLI in its own process, as in production: in this process, vitest's
  // on-the-fly module transforms and the test's own heap would be measured too.
  let node: CliNode | undefined;
  afterAll(() => node?.child.kill('SIGKILL'));

  it('does not hold up /healthz while it is counted (within 100 ms on a machine that is not overloaded)', async () => {
    node = await spawnNode(['serve', '--port', '0', '--data', tempDir('svc-tokens-'), '--allow-root', CACHE, '--workers', '0']);
    const url = node.url!;
    const clip = await fixture('audioFirst');
    // Warm: the first plan loads what planning needs.
    expect((await api(url, 'POST', '/v1/plan', { path: clip, options: { prompt: 'warm' } })).status).toBe(200);
    // The idle server's health checks, about as many as the plan below leaves time for.
    let n = 0;
    const idle = await healthLatencies(url, () => n++ >= 300);
    const prompt = `${'😀'.repeat(99_990)}${Math.random().toFixed(6)}`;
    const system = `${'漢'.repeat(99_990)}${Math.random().toFixed(6)}`;
    const t0 = performance.now();
    let done = false;
    const plan = api(url, 'POST', '/v1/plan', { path: clip, options: { prompt, system } }).finally(() => (done = true));
    const busy = await healthLatencies(url, () => done);
    const r = await plan;
    const planMs = performance.now() - t0;
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.json.textTokens).toBeGreaterThanOrEqual(countEncoded('o200k_base', prompt));
    const slowest = Math.max(...busy);
    const idleSlowest = Math.max(...idle);
    console.log(
      `healthz during a 2 x 100,000-character plan: ${busy.length} answers, slowest ${slowest.toFixed(1)} ms (idle server: slowest ${idleSlowest.toFixed(1)} ms); the plan took ${planMs.toFixed(0)} ms`,
    );
    // Several health checks were answered while the prompt was being counted (counted on the
    // event loop, one would have waited for all of it), each within 100 ms: the bound. On
    // a machine so loaded that the idle server's own checks are slow, the bound scales with them
    // (4x the idle slowest) or with the request (a third of it): scheduling, not the server, then
    // decides the slowest check.
    expect(busy.length).toBeGreaterThanOrEqual(3);
    expect(slowest).toBeLessThan(Math.max(100, 4 * idleSlowest, planMs / 3));
  }, 120_000);
});
