// Every documented example of the providers' token rules (cited per rule in src/models/registry.json),
// with its source, comes out exactly.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { imageTokens, audioTokens, textTokens, chatTextTokens, dollars, dollarsByTier, labelTokens, priceFor } from '../../src/models/tokens.js';
import { formatRange, formatTimestamp } from '../../src/request/timestamp.js';
import { builtinRegistry, ModelRegistry, registerModels, registry } from '../../src/models/registry.js';
import { chooseSize } from '../../src/models/sizing.js';
import { applyRule, patchResize, roundHalfEven, type TileRule } from '../../src/models/rules.js';

describe('OpenAI tile rule (developers.openai.com images-vision guide, gpt-4o examples)', () => {
  it('1024x1024 high -> 765', () => expect(imageTokens('gpt-4o', 1024, 1024, 'high')).toMatchObject({ tokens: 765, resizedWidth: 768, resizedHeight: 768 }));
  it('2048x4096 high -> 1105 (768x1536, 6 tiles)', () =>
    expect(imageTokens('gpt-4o', 2048, 4096, 'high')).toMatchObject({ tokens: 1105, resizedWidth: 768, resizedHeight: 1536 }));
  it('4096x8192 low -> 85', () => expect(imageTokens('gpt-4o', 4096, 8192, 'low').tokens).toBe(85));
  it('uses each model row: gpt-5 70/140, o3 75/150, gpt-4o-mini 2833/5667, computer-use 65/129', () => {
    expect(imageTokens('gpt-5', 1024, 1024, 'high').tokens).toBe(70 + 4 * 140);
    expect(imageTokens('o3', 1024, 1024, 'high').tokens).toBe(75 + 4 * 150);
    expect(imageTokens('gpt-4o-mini', 512, 512, 'high').tokens).toBe(2833 + 5667);
    expect(imageTokens('computer-use-preview', 100, 100, 'low').tokens).toBe(65);
  });
  it('does not enlarge small images', () =>
    expect(imageTokens('gpt-4o', 300, 200, 'high')).toMatchObject({ resizedWidth: 300, resizedHeight: 200, tokens: 85 + 170 }));
  it('auto means high for tile models', () => expect(imageTokens('gpt-4.1', 1024, 1024).tokens).toBe(765));
  // Bills measured on the OpenAI forum (registry source): 2049x513 -> 1453 and 2050x513 -> 773 input
  // tokens, 8 of them the message's text. Only nearest-integer scaling reproduces both.
  it('scales to the nearest integer, as measured bills show (truncating would bill 2049x513 as 765)', () => {
    expect(imageTokens('gpt-4.1', 2049, 513, 'high')).toMatchObject({ resizedWidth: 2048, resizedHeight: 513, tokens: 1453 - 8 });
    expect(imageTokens('gpt-4.1', 2050, 513, 'high')).toMatchObject({ resizedWidth: 2048, resizedHeight: 512, tokens: 773 - 8 });
    const rule: TileRule = {
      type: 'tile',
      fitBox: 2048,
      shortSide: 768,
      tile: 512,
      base: 85,
      perTile: 170,
      rounding: 'floor',
      auto: 'high',
      source: '',
      date: '',
    };
    expect(applyRule(rule, 2049, 513, 'high').tokens).toBe(765);
    expect(applyRule({ ...rule, rounding: 'round' }, 2049, 513, 'high').tokens).toBe(1445);
  });
});

describe('OpenAI patch rule (images-vision guide examples)', () => {
  it('1024x1024 -> 1024 patches', () => expect(patchResize(1024, 1024, 32, { maxDim: 2048, budget: 1536 }).patches).toBe(1024));
  it('1800x2400 -> 1452 patches, resized 1056x1408', () =>
    expect(patchResize(1800, 2400, 32, { maxDim: 2048, budget: 1536 })).toEqual({ width: 1056, height: 1408, patches: 1452 }));
  it('gpt-5.4 high 1024x1024 -> 1229', () => expect(imageTokens('gpt-5.4', 1024, 1024, 'high').tokens).toBe(1229));
  it('gpt-5.4 high 2048x2048 -> 3000', () =>
    expect(imageTokens('gpt-5.4', 2048, 2048, 'high')).toMatchObject({ tokens: 3000, resizedWidth: 1600, resizedHeight: 1600 }));
  it('gpt-5-mini bills 1.2 per patch (live billing), gpt-4.1-nano 2.46', () => {
    expect(imageTokens('gpt-5-mini', 1024, 1024, 'high').tokens).toBe(Math.ceil(1024 * 1.2));
    expect(imageTokens('gpt-4.1-nano', 1800, 2400, 'high').tokens).toBe(Math.ceil(1452 * 2.46));
  });
  it('gpt-5.5: auto means original (6000 px, 10000 patches); low fits 512x512', () => {
    // 4000x3000: 125x94 = 11750 patches > 10000; r = sqrt(1024*10000/12e6) * (86/86.6..) -> 3669x2752, 115x86 = 9890 patches, x1.2
    expect(imageTokens('gpt-5.5', 4000, 3000)).toMatchObject({ detail: 'original', resizedWidth: 3669, resizedHeight: 2752, tokens: 11868 });
    expect(imageTokens('gpt-5.5', 1920, 1080, 'low')).toMatchObject({ resizedWidth: 512, resizedHeight: 288, tokens: Math.ceil(16 * 9 * 1.2) });
    expect(imageTokens('gpt-5.4', 1024, 1024).detail).toBe('high');
  });
  it('a detail the model does not have is refused with the allowed values', () => {
    expect(() => imageTokens('gpt-5-mini', 100, 100, 'original')).toThrow(/option detail: expected one of high, low, auto/);
  });
});

describe('Claude (platform.claude.com vision guide examples)', () => {
  it('200x200 -> 64', () => expect(imageTokens('claude-sonnet-4.5', 200, 200).tokens).toBe(64));
  it('1000x1000 -> 1296', () => expect(imageTokens('claude-sonnet-4.5', 1000, 1000).tokens).toBe(1296));
  it('1920x1080 -> 1560 standard (1456x819)', () =>
    expect(imageTokens('claude-sonnet-4.5', 1920, 1080)).toMatchObject({ tokens: 1560, resizedWidth: 1456, resizedHeight: 819 }));
  it('1920x1080 -> 2691 high-res', () => expect(imageTokens('claude-opus-4.7', 1920, 1080).tokens).toBe(2691));
  it('3840x2160 high-res -> 4784', () => expect(imageTokens('claude-opus-4.7', 3840, 2160).tokens).toBe(4784));
  it('legacy rule w*h/750', () => expect(imageTokens('claude-3-5-sonnet', 1000, 750).tokens).toBe(1000));
  it('rounds half to even', () => expect([roundHalfEven(2.5), roundHalfEven(3.5), roundHalfEven(2.4)]).toEqual([2, 4, 2]));
});

describe('Gemini (ai.google.dev tokens and media-resolution docs)', () => {
  it('960x540 -> 6 tiles -> 1548', () => expect(imageTokens('gemini-2.5-pro', 960, 540).tokens).toBe(1548));
  it('both sides <= 384 -> 258', () => expect(imageTokens('gemini-2.5-flash', 384, 200).tokens).toBe(258));
  it('Gemini 3 media_resolution levels 280/560/1120/2240, default high', () => {
    expect(['low', 'medium', 'high', 'ultra_high'].map((d) => imageTokens('gemini-3-pro', 1000, 800, d).tokens)).toEqual([280, 560, 1120, 2240]);
    expect(imageTokens('gemini-3-pro', 1000, 800).tokens).toBe(1120);
  });
});

describe('audio, text, prices', () => {
  it('OpenAI audio is 10 tokens per second, Gemini 32', () => {
    expect(audioTokens('gpt-audio', 2.12)).toBe(22);
    expect(audioTokens('gpt-5.5', 60)).toBe(600);
    expect(audioTokens('gemini-2.5-pro', 10)).toBe(320);
    expect(() => audioTokens('claude-sonnet-4.5', 1)).toThrow(/takes no audio/);
  });
  it('text through gpt-tokenizer, with chat overhead', () => {
    expect(textTokens('gpt-5.5', 'Describe what happens in this video.')).toBe(7);
    expect(chatTextTokens('gpt-5.5', ['Describe what happens in this video.'])).toBe(7 + 3 + 3);
  });
  it('dollars per tier (gpt-5.5 $5/$30, batch $2.50/$15, priority $12.50/$75)', () => {
    expect(dollars('gpt-5.5', { imageTokens: 1_000_000 })).toBe(5);
    expect(dollarsByTier('gpt-5.5', { textTokens: 1_000_000, outputTokens: 1_000_000 })).toEqual({ standard: 35, batch: 17.5, flex: 17.5, priority: 87.5 });
    expect(() => priceFor('gpt-4o', 'priority')).toThrow(/gpt-4o has no priority price \(it has standard, batch\)/);
  });
});

describe('the registry is data', () => {
  it('every model has a source and a date, and every rule too', () => {
    const json = builtinRegistry().toJSON();
    for (const [name, m] of Object.entries(json.models)) {
      expect(m.source, name).toMatch(/\S/);
      expect(m.date, name).toMatch(/^\d{4}-\d{2}/);
    }
    for (const [name, r] of Object.entries(json.rules)) expect(r.date, name).toMatch(/^\d{4}-\d{2}/);
  });
  it('unknown model: a clear error listing the known ones; --rule borrows a family', () => {
    expect(() => imageTokens('gpt-9', 10, 10)).toThrow(/unknown model gpt-9; known: .*gpt-5\.5.*--rule MODEL/);
    expect(imageTokens('my-proxy-model', 1024, 1024, 'high', { rule: 'gpt-5.4' }).tokens).toBe(1229);
    expect(imageTokens('gpt-4o-2024-08-06', 1024, 1024, 'high').tokens).toBe(765);
  });
  it('overrides change a price or add a model without a release', () => {
    const r = builtinRegistry().withOverrides({
      models: { 'gpt-5.5': { prices: { standard: { input: 4 } } }, 'house-model': { extends: 'gpt-5-mini', prices: { standard: { input: 1, output: 2 } } } },
    });
    expect(dollars('gpt-5.5', { textTokens: 1e6 }, 'standard', { registry: r })).toBe(4);
    expect(priceFor('gpt-5.5', 'standard', { registry: r }).output).toBe(30);
    expect(imageTokens('house-model', 1024, 1024, 'high', { registry: r }).tokens).toBe(1229);
    expect(() => builtinRegistry().withOverrides({ models: { broken: { provider: 'openai' } } })).toThrow(/model broken: /);
    const before = registry();
    registerModels({ models: { 'code-model': { extends: 'gpt-4o' } } });
    expect(imageTokens('code-model', 1024, 1024, 'high').tokens).toBe(765);
    expect(before.has('code-model')).toBe(false);
  });
  it('fromJson builds a registry from scratch', () => {
    const r = ModelRegistry.fromJson({
      rules: { t: { type: 'tile', fitBox: 2048, shortSide: 768, tile: 512, base: 1, perTile: 2, source: 's', date: '2026-01' } },
      models: {
        m: {
          provider: 'other',
          image: 't',
          text: { encoding: 'o200k_base', perMessage: 0, perRequest: 0 },
          contextWindow: 1,
          maxOutputTokens: 1,
          limits: { imagesPerRequest: 1, requestBytes: 1 },
          prices: { standard: { input: 1, output: 1 } },
          source: 's',
          date: '2026-01',
        },
      },
    });
    expect(imageTokens('m', 600, 600, 'high', { registry: r }).tokens).toBe(1 + 4 * 2);
  });
});

describe('choosing the size that keeps the most detail for the fewest tokens', () => {
  it('drops a needless extra 512 px tile', () => {
    const s = chooseSize('gpt-4o', 1030, 768, { detail: 'high' });
    expect(s).toEqual({ width: 1024, height: 764, tokens: 765, detail: 'high' });
  });
  it('keeps 1280x720 on the tile rule (shrinking to fewer tiles loses more than it saves)', () => {
    expect(chooseSize('gpt-4o', 1280, 720, { detail: 'high' })).toMatchObject({ width: 1280, height: 720, tokens: 1105 });
  });
  it('sends no more than the provider keeps, never enlarges, and fits maxSide', () => {
    expect(chooseSize('gpt-5.5', 1920, 1080, { detail: 'low' })).toMatchObject({ width: 512, height: 288 });
    // 320x240 has a half-empty patch row (7.5 rows): 288x216 fills its 9x7 patches better and costs 76, not 96
    expect(chooseSize('gpt-5.5', 320, 240, { detail: 'high' })).toMatchObject({ width: 288, height: 216, tokens: 76 });
    expect(chooseSize('gpt-4o', 320, 240, { detail: 'high' })).toMatchObject({ width: 320, height: 240, tokens: 255 });
    const m = chooseSize('gpt-5.5', 1920, 1080, { detail: 'high', maxSide: 768 });
    expect(Math.max(m.width, m.height)).toBeLessThanOrEqual(768);
    expect(m.tokens).toBe(imageTokens('gpt-5.5', m.width, m.height, 'high').tokens);
  });
  it('trims half-empty patch rows within the slack', () => {
    const s = chooseSize('gpt-5.5', 1280, 720, { detail: 'original' });
    expect(s.width).toBeGreaterThanOrEqual(1152);
    expect(s.tokens).toBeLessThan(imageTokens('gpt-5.5', 1280, 720, 'original').tokens);
    expect(s.tokens / (s.width * s.height)).toBeLessThan(imageTokens('gpt-5.5', 1280, 720, 'original').tokens / (1280 * 720));
  });
});

describe("omniprep's own labels are counted without loading an encoding", () => {
  const requireCjs = createRequire(import.meta.url);
  const clocks: number[] = [];
  for (let s = 0; s < 4000; s += 7) clocks.push(s);
  for (let s = 3590; s < 3700; s++) clocks.push(s);
  clocks.push(35_999, 36_000, 359_999, 360_000, 3_599_999, 3_600_000, 36_000_000);
  const labels = ['.'];
  for (const s of clocks) {
    labels.push(`[${formatTimestamp(s)}]`);
    labels.push(`[audio ${formatRange(s, s + 30)}]`, `[video ${formatRange(s, s + 3601)}]`);
  }
  it.each(['o200k_base', 'o200k_harmony', 'cl100k_base'])('%s: every label shape counts what the tokenizer counts', (enc) => {
    const real = requireCjs(`gpt-tokenizer/cjs/encoding/${enc}`) as { countTokens: (t: string) => number };
    const wrong = labels.filter((l) => labelTokens(l) !== real.countTokens(l));
    expect(wrong).toEqual([]);
    expect(labels.length).toBeGreaterThan(1800);
  });
  it('any other text goes to the tokenizer', () => {
    for (const t of ['[00:05] ', '[Audio 00:00-00:30]', '[00:5]', '[transcript 00:00-00:30] hi', 'hello', '[00:05]]', '..'])
      expect(labelTokens(t)).toBeUndefined();
    expect(textTokens('gpt-4o', '[transcript 00:00-00:30] hi')).toBe(13);
  });
});
