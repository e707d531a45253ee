/**
 * Long prompts are counted in a worker thread with a time limit, so the heaviest prompt the
 * schema allows (100,000 emoji, as prompt and as system) does not hold up /healthz. Asserted from
 * the order of events and relative to the request itself, not against a wall-clock figure.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { countEncoded, isCounted } from '../../src/models/tokens.js';
import { TokenCounter } from '../../src/service/tokens.js';
import { CACHE, fixture } from '../helpers/fixtures.js';
import { api, startService } from '../helpers/service.js';

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

describe('the heaviest allowed prompt', () => {
  it('does not hold up /healthz while it is counted', async () => {
    const s = await startService({ workers: 0, allowRoots: [CACHE] });
    try {
      const clip = await fixture('audioFirst');
      const prompt = `${'😀'.repeat(99_990)}${Math.random().toFixed(6)}`;
      const system = `${'漢'.repeat(99_990)}${Math.random().toFixed(6)}`;
      const t0 = performance.now();
      let done = false;
      const plan = api(s.url, 'POST', '/v1/plan', { path: clip, options: { prompt, system } }).finally(() => (done = true));
      const latencies: number[] = [];
      while (!done) {
        const t = performance.now();
        const h = await api(s.url, 'GET', '/healthz');
        expect(h.status).toBe(200);
        if (!done) latencies.push(performance.now() - t);
      }
      const r = await plan;
      const planMs = performance.now() - t0;
      expect(r.status, r.text.slice(0, 300)).toBe(200);
      expect(r.json.textTokens).toBeGreaterThanOrEqual(countEncoded('o200k_base', prompt));
      // Several health checks were answered while the prompt was being counted, each in a small
      // part of the time the plan took (counted on the event loop, one would have waited for all of it).
      console.log(
        `healthz during a 2 x 100,000-character plan: ${latencies.length} answers, slowest ${Math.max(...latencies).toFixed(1)} ms; the plan took ${planMs.toFixed(0)} ms`,
      );
      expect(latencies.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...latencies)).toBeLessThan(planMs / 3);
    } finally {
      await s.close();
    }
  }, 120_000);
});
