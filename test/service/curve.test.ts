/**
 * POST /v1/cost-curve is the library's costCurve() for the same file and options (the page draws
 * it), and GET /v1/models is the registry; errors name what the client sent.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { costCurve } from '../../src/cost/curve.js';
import { registry } from '../../src/models/registry.js';
import { brokenInputs, CACHE, fixture, SCENE_CUTS } from '../helpers/fixtures.js';
import { api, startService, upload } from '../helpers/service.js';

describe('POST /v1/cost-curve and GET /v1/models', () => {
  it("answers costCurve() for an upload and a path, with the chart; uploads are not kept, a path's copy is", async () => {
    const s = await startService({ workers: 0, allowRoots: [CACHE] });
    try {
      const clip = await fixture('scene'); // 24 s, hard cuts at SCENE_CUTS
      const opts = { mode: 'keyframe', tier: 'batch', prompt: 'What happens?' } as const;
      const lib = await costCurve(clip, {
        every: [1, 5, 12],
        models: ['gpt-5.5', 'gpt-4.1-mini'],
        details: ['low', 'high'],
        mode: 'keyframe',
        tier: 'batch',
        prompt: 'What happens?',
      });
      const up = await upload(s.url, clip, opts, { path: '/v1/cost-curve?every=1,5,12&models=gpt-5.5,gpt-4.1-mini&details=low,high' });
      expect(up.status, up.text).toBe(200);
      const { svg, ms: _ms, ...curve } = up.json;
      const { ms: _m2, ...expected } = lib;
      expect(curve).toEqual({ ...expected, input: clip.split('/').pop() });
      expect(curve.shots.cuts.map((c: number) => Math.round(c))).toEqual(SCENE_CUTS);
      expect(curve.series.map((x: { model: string; detail: string }) => `${x.model} ${x.detail}`)).toEqual([
        'gpt-5.5 low',
        'gpt-5.5 high',
        'gpt-4.1-mini low',
        'gpt-4.1-mini high',
      ]);
      expect(svg).toMatch(/^<svg[\s\S]*<\/svg>$/);
      expect(svg).toContain('scene-');
      expect(readdirNames(s.svc.data.root)).toEqual([]);

      // By path; the options' every joins the default intervals; no chart asked.
      const byPath = await api(s.url, 'POST', '/v1/cost-curve?chart=false&shots=false', { path: clip, options: { every: 3 } });
      expect(byPath.status, byPath.text).toBe(200);
      expect(byPath.json.intervals).toEqual([1, 2, 3, 5, 10, 30]);
      expect(byPath.json.svg).toBeUndefined();
      expect(byPath.json.shots).toBeNull();
      expect(byPath.json.series).toHaveLength(1);
      const at3 = (await api(s.url, 'POST', '/v1/plan', { path: clip, options: { every: 3 } })).json;
      expect(byPath.json.series[0].points[2]).toMatchObject({ every: 3, frames: at3.frames.length, costUsd: at3.costUsd });

      // Errors: one line, in the client's names.
      const broken = await brokenInputs();
      const bad = await upload(s.url, broken.random!, {}, { path: '/v1/cost-curve' });
      expect(bad.status).toBe(415);
      expect(bad.json.error.message).toMatch(/^random\.mp4: /);
      expect(bad.json.error.message).not.toContain(s.svc.data.root);
      const badEvery = await api(s.url, 'POST', '/v1/cost-curve?every=1,zero', { path: clip });
      expect(badEvery.status).toBe(400);
      expect(badEvery.json.error.message).toMatch(/querystring\.every: 1,zero is not a list of seconds/);
      const badModel = await api(s.url, 'POST', '/v1/cost-curve?models=gpt-5.5,no-such-model&shots=false', { path: clip });
      expect(badModel.status).toBe(400);
      expect(badModel.json.error.message).toMatch(/no-such-model/);
      // Uploads are not kept; the path's copy is, for planning the unchanged file again (inputs.ts).
      expect(readdirNames(s.svc.data.root)).toEqual([`${createHash('sha256').update(readFileSync(clip)).digest('hex')}.${extname(clip).slice(1)}`]);

      // The models: the registry's names, with their detail levels and tiers.
      const models = await api(s.url, 'GET', '/v1/models');
      expect(models.status).toBe(200);
      expect(models.json.registryVersion).toBe(registry().version);
      expect(models.json.models.map((m: { name: string }) => m.name)).toEqual(registry().names());
      const g = models.json.models.find((m: { name: string }) => m.name === 'gpt-4.1-mini');
      expect(g).toMatchObject({ images: true, details: expect.arrayContaining(['low', 'high']), tiers: expect.arrayContaining(['standard', 'batch']) });
      const audioOnly = models.json.models.find((m: { images: boolean }) => !m.images);
      if (audioOnly) expect(audioOnly.details).toEqual([]);
    } finally {
      await s.close();
    }
  }, 300_000);
});

/** Uploads left under --data/inputs. */
function readdirNames(root: string): string[] {
  return readdirSync(join(root, 'inputs'));
}
