/**
 * GET /v1/models is the registry as a model picker needs it: every provider's models, each with
 * its provider, token rule, prices per tier (USD per 1M tokens) and whether it takes video.
 */
import { describe, expect, it } from 'vitest';
import { registry } from '../../src/models/registry.js';
import { api, startService } from '../helpers/service.js';

describe('GET /v1/models', () => {
  it('lists every model with its provider, rule, prices per tier and native video', async () => {
    const s = await startService({ workers: 0 });
    try {
      const r = await api(s.url, 'GET', '/v1/models');
      expect(r.status, r.text).toBe(200);
      const reg = registry();
      const byName = new Map<string, any>(r.json.models.map((m: { name: string }) => [m.name, m]));
      expect([...byName.keys()]).toEqual(reg.names());
      expect(new Set(r.json.models.map((m: { provider: string }) => m.provider))).toEqual(new Set(['openai', 'anthropic', 'gemini']));
      expect(byName.get('gpt-5.5')).toMatchObject({
        provider: 'openai',
        apis: ['responses', 'chat'],
        rule: { name: 'openai-patch-5.5', type: 'patch' },
        tiers: ['standard', 'batch', 'flex', 'priority'],
        prices: { standard: { input: 5, output: 30 }, batch: { input: 2.5, output: 15 }, priority: { input: 12.5, output: 75 } },
        audio: true,
        video: false,
      });
      expect(byName.get('claude-sonnet-4.5')).toMatchObject({
        provider: 'anthropic',
        apis: ['messages'],
        rule: { name: 'claude-standard', type: 'claude' },
        video: false,
      });
      expect(byName.get('gemini-2.5-flash')).toMatchObject({
        provider: 'gemini',
        apis: ['gemini'],
        rule: { name: 'gemini-2-tiles', type: 'gemini-tiles' },
        video: true,
      });
      // Prices and tiers are the registry's own, for every model.
      for (const name of reg.names()) {
        const m = reg.get(name);
        expect(byName.get(name).prices).toEqual(m.prices);
        expect(byName.get(name).tiers).toEqual(Object.keys(m.prices));
        expect(byName.get(name).video).toBe(m.video !== undefined);
      }
      // A model without images has no rule and no detail levels.
      expect(byName.get('gpt-audio')).toMatchObject({ images: false, details: [], rule: null, audio: true });
      expect(byName.get('gpt-4.5').retired).toBe('2025-07-14');
    } finally {
      await s.close();
    }
  }, 120_000);
});
