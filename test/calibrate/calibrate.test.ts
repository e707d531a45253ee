// Calibration against the OpenAI test server (test/helpers/openai/server.ts), set to bill
// images with a rule that differs from omniprep's registry: calibrate must recover exactly that
// rule and its parameters, and the override it saves must make imageTokens() bill as the server
// does on sizes it never sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { fitImageRule } from '../../src/calibrate/fit.js';
import { builtinRegistry } from '../../src/models/registry.js';
import { applyRule, type ImageRule, type PatchRule, type TileRule } from '../../src/models/rules.js';
import { chatTextTokens, imageTokens } from '../../src/models/tokens.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';

// The server's rules. Patch: gpt-5.5's high budget (2500) with gpt-4.1-mini's multiplier (1.62),
// a pair no registry rule has. Tile: gpt-4o's 85/170 (token-rules.md), billed for gpt-5-mini,
// which the registry bills by patches.
const SERVER_PATCH: PatchRule = {
  type: 'patch',
  patch: 32,
  multiplier: 1.62,
  levels: { high: { maxDim: 2048, budget: 2500 }, low: { maxDim: 512, budget: 256 } },
  auto: 'high',
  source: 'test server',
  date: '2026-11',
};
const SERVER_TILE: TileRule = {
  type: 'tile',
  fitBox: 2048,
  shortSide: 768,
  tile: 512,
  base: 85,
  perTile: 170,
  rounding: 'round',
  auto: 'high',
  source: 'test server',
  date: '2026-11',
};
// A server that truncates scaled sides (the cookbook's int()), where the registry rounds them.
const SERVER_TILE_FLOOR: TileRule = { ...SERVER_TILE, rounding: 'floor' };
const SERVER_TILE_NEW: TileRule = { ...SERVER_TILE, base: 90, perTile: 180 };

/** Sizes calibration never sends. */
const NEW_SIZES: Array<[number, number]> = [
  [640, 360],
  [1920, 1080],
  [3000, 1000],
  [100, 100],
  [2600, 2600],
  [777, 555],
  [1100, 2200],
];

const rulesByModel: Record<string, ImageRule> = {
  'gpt-5.5': SERVER_PATCH,
  'gpt-5-mini': SERVER_TILE,
  'house-model': SERVER_TILE_NEW,
  'gpt-4o': SERVER_TILE_FLOOR,
};
let server: OpenAITestServer;
const dir = tempDir('calibrate-');

beforeAll(async () => {
  // The server bills image parts with these rules (its `control.imageTokens` hook), text as omniprep counts it.
  server = await startOpenAITestServer({
    registry: builtinRegistry().withOverrides({ models: { 'house-model': { extends: 'gpt-5-mini' } } }),
    control: {
      imageTokens: ({ model, width, height, detail }) => {
        const rule = rulesByModel[model];
        return rule ? applyRule(rule, width, height, detail).tokens : imageTokens(model, width, height, detail).tokens;
      },
    },
  });
});
afterAll(() => server.close());

describe('calibrate against a server that bills differently from the registry', () => {
  it('recovers a patch rule (budget 2500, multiplier 1.62) for gpt-5.5, and the saved override bills new sizes as the server does', async () => {
    const save = join(dir, 'gpt-5.5.json');
    const r = await calibrate({ model: 'gpt-5.5', baseURL: server.baseURL, apiKey: 'test', save, now: new Date('2026-11-25T12:00:00Z') });
    // the text alone is what omniprep counts for one user message
    expect(r.baselineTokens).toBe(chatTextTokens('gpt-5.5', [r.text]));
    expect(r.images).toHaveLength(16);
    expect(r.fit).toMatchObject({ family: 'patch', origin: 'fitted', explained: true, maxAbsResidual: 0 });
    expect(r.fit.rule).toMatchObject({
      type: 'patch',
      patch: 32,
      multiplier: 1.62,
      levels: { high: { maxDim: 2048, budget: 2500 }, low: { maxDim: 512, budget: 256 } },
    });
    // every bill, image by image
    for (const img of r.images) {
      expect(img.imageTokens).toBe(applyRule(SERVER_PATCH, img.width, img.height, img.detail).tokens);
      expect(img.residual).toBe(0);
    }
    // the registry's rule (x1.2) is off, and says by how much
    expect(r.registry).toMatchObject({ rule: 'openai-patch-5.5', explained: false });
    expect(r.registry.maxAbsResidual).toBe(Math.max(...r.images.map((i) => Math.abs(i.registryResidual!))));
    expect(r.images.find((i) => i.width === 1024 && i.detail === 'high')).toMatchObject({ imageTokens: 1659, registryPredicted: 1229, registryResidual: 430 });
    // what the images cannot tell apart is reported as a range, not passed off as measured
    expect(r.fit.ranges!.multiplier[0]).toBeLessThan(1.62);
    expect(r.fit.ranges!.multiplier[1]).toBeGreaterThanOrEqual(1.62);
    expect(r.fit.ranges!.levels.high!.budget[0]).toBeLessThanOrEqual(2500);

    // The override: a new rule with its source, and the model pointed at it; unmeasured levels kept.
    const saved = JSON.parse(readFileSync(save, 'utf8'));
    expect(saved).toEqual(r.override);
    expect(saved.models).toEqual({ 'gpt-5.5': { image: 'gpt-5.5-calibrated-2026-11-25' } });
    const rule = saved.rules['gpt-5.5-calibrated-2026-11-25'];
    expect(rule).toMatchObject({
      type: 'patch',
      multiplier: 1.62,
      auto: 'original',
      source: `calibrated against ${server.baseURL} on 2026-11-25`,
      date: '2026-11-25',
    });
    expect(rule.levels.original).toEqual(
      builtinRegistry().get('gpt-5.5').image!.type === 'patch' ? (builtinRegistry().get('gpt-5.5').image as PatchRule).levels.original : undefined,
    );
    for (const [w, h] of NEW_SIZES) {
      for (const d of ['high', 'low'])
        expect(imageTokens('gpt-5.5', w, h, d, { modelsFile: save }).tokens, `${w}x${h} ${d}`).toBe(applyRule(SERVER_PATCH, w, h, d).tokens);
    }
    // And the server agrees: calibrating new sizes with the override, the registry explains every bill.
    const again = await calibrate({
      model: 'gpt-5.5',
      baseURL: server.baseURL,
      apiKey: 'test',
      modelsFile: save,
      sizes: NEW_SIZES.map(([width, height]) => ({ width, height })),
    });
    expect(again.registry).toMatchObject({ rule: 'gpt-5.5-calibrated-2026-11-25', explained: true, maxAbsResidual: 0 });
    expect(again.images.every((i) => i.registryResidual === 0)).toBe(true);
  });

  it('recovers a tile rule (85/170) on a model the registry bills by patches, through the Responses API', async () => {
    const save = join(dir, 'gpt-5-mini.json');
    const r = await calibrate({ model: 'gpt-5-mini', api: 'responses', baseURL: server.baseURL, apiKey: 'test', save, now: new Date('2026-11-25T00:00:00Z') });
    expect(r.fit).toMatchObject({ family: 'tile', explained: true, maxAbsResidual: 0 });
    expect(r.fit.rule).toMatchObject({ type: 'tile', base: 85, perTile: 170, fitBox: 2048, shortSide: 768, tile: 512 });
    expect(r.fit.sameAs).toContain('openai-tile-gpt4o');
    expect(r.registry).toMatchObject({ rule: 'openai-patch-5-mini', explained: false });
    expect(r.usage.requests).toBe(17);
    for (const [w, h] of NEW_SIZES) {
      for (const d of ['high', 'low']) expect(imageTokens('gpt-5-mini', w, h, d, { modelsFile: save }).tokens).toBe(applyRule(SERVER_TILE, w, h, d).tokens);
    }
  });

  it('detects the rounding mode: sizes straddling a tile edge tell truncating from rounding', async () => {
    const save = join(dir, 'gpt-4o.json');
    const r = await calibrate({ model: 'gpt-4o', baseURL: server.baseURL, apiKey: 'test', save, now: new Date('2026-11-25T00:00:00Z') });
    expect(r.fit).toMatchObject({ family: 'tile', explained: true, maxAbsResidual: 0, rule: { base: 85, perTile: 170, rounding: 'floor' } });
    // The registry rounds: it is off by two tiles exactly at the straddling sizes, nowhere else.
    expect(r.registry).toMatchObject({ rule: 'openai-tile-gpt4o', explained: false });
    const off = r.images.filter((i) => i.registryResidual !== 0).map((i) => [i.width, i.height, i.detail, i.registryResidual]);
    expect(off).toEqual([
      [2049, 1536, 'high', -340],
      [1334, 1000, 'high', -340],
    ]);
    expect(imageTokens('gpt-4o', 2049, 1536, 'high', { modelsFile: save }).tokens).toBe(765);
    expect(imageTokens('gpt-4o', 2049, 1536, 'high').tokens).toBe(1105);
  });

  it('finds parameters no registry rule has (tile 90/180), and saves one override file for several models', async () => {
    const save = join(dir, 'several.json');
    writeFileSync(save, JSON.stringify({ models: { 'gpt-5.5': { prices: { standard: { input: 4 } } } } }));
    const r = await calibrate({
      model: 'house-model',
      rule: 'gpt-5-mini',
      baseURL: server.baseURL,
      apiKey: 'test',
      save,
      registry: builtinRegistry(),
      now: new Date('2026-11-25T00:00:00Z'),
    });
    expect(r.fit).toMatchObject({ family: 'tile', origin: 'fitted', sameAs: [], rule: { base: 90, perTile: 180 } });
    // an unknown model is saved as extending the one it follows; what the file held is kept
    const saved = JSON.parse(readFileSync(save, 'utf8'));
    expect(saved.models).toEqual({
      'gpt-5.5': { prices: { standard: { input: 4 } } },
      'house-model': { extends: 'gpt-5-mini', image: 'house-model-calibrated-2026-11-25' },
    });
    expect(imageTokens('house-model', 1920, 1080, 'high', { modelsFile: save }).tokens).toBe(applyRule(SERVER_TILE_NEW, 1920, 1080, 'high').tokens);
  });

  it('bills no rule explains: says so, with the nearest, and saves nothing', async () => {
    const odd = await startOpenAITestServer({ control: { imageTokens: ({ width, height }) => ((width * 7 + height * 13) % 997) + 1 } });
    try {
      const save = join(dir, 'odd.json');
      const r = await calibrate({
        model: 'gpt-5.5',
        baseURL: odd.baseURL,
        apiKey: 'test',
        sizes: [
          { width: 512, height: 512 },
          { width: 300, height: 200 },
          { width: 1030, height: 768 },
        ],
      });
      expect(r.fit.explained).toBe(false);
      expect(r.fit.maxAbsResidual).toBeGreaterThan(0);
      await expect(
        calibrate({
          model: 'gpt-5.5',
          baseURL: odd.baseURL,
          apiKey: 'test',
          save,
          sizes: [
            { width: 512, height: 512 },
            { width: 300, height: 200 },
            { width: 1030, height: 768 },
          ],
        }),
      ).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: expect.stringMatching(/no rule explains every bill \(nearest: .*\); nothing saved$/),
      });
      expect(existsSync(save)).toBe(false);
    } finally {
      await odd.close();
    }
  });

  it('a server that refuses: one line naming the server and the request; bad options refused before sending', async () => {
    server.control.onRequest = () => ({ status: 400, message: 'images are not supported here' });
    try {
      await expect(
        calibrate({ model: 'gpt-5.5', baseURL: server.baseURL, apiKey: 'test', sizes: [{ width: 64, height: 64 }], maxRetries: 0 }),
      ).rejects.toMatchObject({
        code: 'REQUEST_FAILED',
        message: expect.stringMatching(
          new RegExp(`^calibrate gpt-5.5 at ${server.baseURL.replace(/[.]/g, '\\.')}: request text-only: .*images are not supported here`),
        ),
      });
    } finally {
      server.control.onRequest = undefined;
    }
    const before = server.stats.total;
    await expect(calibrate({ model: 'gpt-5.5', baseURL: server.baseURL, apiKey: 'test', details: ['auto'] })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(calibrate({ model: 'gpt-5.5', baseURL: server.baseURL, apiKey: 'test', details: ['original'] })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(calibrate({ model: 'gpt-9', baseURL: server.baseURL, apiKey: 'test' })).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
    expect(server.stats.total).toBe(before);
  });
});

describe('the fit (pure)', () => {
  const sizes: Array<[number, number]> = [
    [512, 512],
    [1024, 1024],
    [1030, 768],
    [2048, 2048],
    [1800, 2400],
    [300, 200],
  ];
  const bills = (rule: ImageRule, details = ['high', 'low']) =>
    sizes.flatMap(([width, height]) => details.map((detail) => ({ width, height, detail, tokens: applyRule(rule, width, height, detail).tokens })));
  it("prefers the model's current rule when it explains the bills", () => {
    const current = builtinRegistry().get('gpt-5.4').image!;
    const fit = fitImageRule(bills(current), { registry: builtinRegistry(), current });
    expect(fit).toMatchObject({ explained: true, best: { origin: 'registry', name: 'openai-patch-5.4' } });
  });
  it('recovers a budget no rule has (3000) and a new multiplier (1.35) as round numbers, with the ranges that bill the same', () => {
    const rule: PatchRule = { ...SERVER_PATCH, multiplier: 1.35, levels: { high: { maxDim: 2048, budget: 3000 }, low: { maxDim: 512, budget: 256 } } };
    const fit = fitImageRule(bills(rule), { registry: builtinRegistry() });
    expect(fit.best.rule).toMatchObject({ multiplier: 1.35, levels: { high: { maxDim: 2048, budget: 3000 }, low: { maxDim: 512, budget: 256 } } });
    const high = fit.best.ranges!.levels.high!;
    expect(high.budget[0]).toBeLessThanOrEqual(3000);
    expect(high.budget[1]).toBeGreaterThanOrEqual(3000);
    // no low image reaches 256 patches after the 512 px fit... except 512x512 itself: larger budgets bill the same
    expect(fit.best.ranges!.levels.low!.budget[1]).toBeNull();
  });
  it('allows a tolerance of a token or so (the docs warn billing can differ by one)', () => {
    const off = bills(SERVER_PATCH).map((b, i) => ({ ...b, tokens: b.tokens + (i === 3 ? 1 : 0) }));
    expect(fitImageRule(off, { registry: builtinRegistry() }).explained).toBe(false);
    const fit = fitImageRule(off, { registry: builtinRegistry(), tolerance: 1 });
    expect(fit.explained).toBe(true);
    expect(fit.best.maxAbsResidual).toBe(1);
  });
});

describe('omniprep calibrate (CLI)', () => {
  it('prints the fit, saves the override, and `tokens --models FILE` then bills as the server', async () => {
    const save = join(dir, 'cli.json');
    const r = await cli(['calibrate', '--model', 'gpt-5.5', '--base-url', server.baseURL, '--api-key', 'test', '--save', save, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.fit).toMatchObject({ family: 'patch', explained: true, rule: { multiplier: 1.62, levels: { high: { budget: 2500 } } } });
    expect(report.saved).toBe(save);
    for (const [w, h] of NEW_SIZES.slice(0, 3)) {
      const t = await cli(['tokens', '--model', 'gpt-5.5', '--width', String(w), '--height', String(h), '--detail', 'high', '--models', save, '--json']);
      expect(JSON.parse(t.stdout).tokens).toBe(applyRule(SERVER_PATCH, w, h, 'high').tokens);
    }
    const text = await cli(['calibrate', '--model', 'gpt-5-mini', '--base-url', server.baseURL, '--api-key', 'test', '--sizes', '512x512,1030x768,300x200']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/explained by: tile rule: 85 \+ 170 per 512 px tile/);
    expect(text.stdout).toMatch(/registry rule openai-patch-5-mini: off by up to \d+ tokens/);
    const bad = await cli(['calibrate', '--model', 'gpt-5.5', '--base-url', server.baseURL, '--api-key', 'test', '--sizes', '12xx']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: option '--sizes <list>' argument '12xx' is invalid/);
  });
});
