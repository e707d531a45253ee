// src/models/sizing.ts chooseSize: start from the provider's own resize (never enlarging), cap by
// maxSide, then take the size down to (1 - slack) of it with the fewest tokens per pixel kept.
// Expected values are worked out by hand from the rules in src/models/registry.json / rules.ts.
import { describe, expect, it } from 'vitest';
import { chooseSize } from '../../src/models/sizing.js';
import { imageTokens } from '../../src/models/tokens.js';

describe('tile rule (gpt-4o: fit 2048, short side 768, 512 px tiles, 85 + 170 per tile)', () => {
  it('1920x1080 high -> 1365x768 (floor(768/1080*1920)), 3x2 tiles = 1105; every size down to 1229 px still needs 3x2 tiles', () => {
    expect(chooseSize('gpt-4o', 1920, 1080)).toEqual({ width: 1365, height: 768, tokens: 1105, detail: 'high' });
  });
  it('1030x768 -> 1024x764: one column of tiles less (4 tiles, 765) for 0.6% fewer pixels', () => {
    // the provider keeps 1030x768 (3x2 tiles = 1105); 1024 wide is 2 tiles, 1024*768/1030 = 763.5 -> 764
    expect(imageTokens('gpt-4o', 1030, 768).tokens).toBe(1105);
    expect(chooseSize('gpt-4o', 1030, 768)).toEqual({ width: 1024, height: 764, tokens: 765, detail: 'high' });
  });
  it('slack 0 keeps the provider size', () => {
    expect(chooseSize('gpt-4o', 1030, 768, { slack: 0 })).toEqual({ width: 1030, height: 768, tokens: 1105, detail: 'high' });
  });
  it('slack bounds the search: 1100x768 at 5% may go down to 1045 px only (still 3 tiles wide)', () => {
    // ceil(1100 * 0.95) = 1045 > 1024, so the 2-tile width is out of reach; at 10% (990) it is not
    expect(chooseSize('gpt-4o', 1100, 768, { slack: 0.05 })).toMatchObject({ width: 1100, height: 768, tokens: 1105 });
    // 1024 * 768 / 1100 = 714.9 -> 715
    expect(chooseSize('gpt-4o', 1100, 768, { slack: 0.1 })).toMatchObject({ width: 1024, height: 715, tokens: 765 });
  });
  it('low detail: fits 512x512 (512x288), 85 tokens whatever the size, so nothing smaller is chosen', () => {
    expect(chooseSize('gpt-4o', 1920, 1080, { detail: 'low' })).toEqual({ width: 512, height: 288, tokens: 85, detail: 'low' });
  });
  it('maxSide caps the long side (1365x768 -> 512x288, one tile: 255)', () => {
    expect(chooseSize('gpt-4o', 1920, 1080, { maxSide: 512 })).toEqual({ width: 512, height: 288, tokens: 255, detail: 'high' });
  });
  it('never enlarges a small image (300x200 stays, one tile)', () => {
    expect(chooseSize('gpt-4o', 300, 200)).toEqual({ width: 300, height: 200, tokens: 255, detail: 'high' });
  });
  it('portrait input keeps its orientation (1080x1920 -> 768x1365)', () => {
    expect(chooseSize('gpt-4o', 1080, 1920)).toEqual({ width: 768, height: 1365, tokens: 1105, detail: 'high' });
  });
  it('gpt-5 uses its own row (70 + 140 per tile)', () => {
    expect(chooseSize('gpt-5', 1920, 1080).tokens).toBe(70 + 6 * 140);
  });
});

describe('patch rule (gpt-5.5: 32 px patches x 1.2; auto = original)', () => {
  it('low: 512x288 = 16x9 patches = ceil(172.8) = 173; going narrower than 481 px costs more per pixel', () => {
    expect(chooseSize('gpt-5.5', 1920, 1080, { detail: 'low' })).toEqual({ width: 512, height: 288, tokens: 173, detail: 'low' });
  });
  it('a size that is whole patches already stays (1024x576 = 32x18 patches = ceil(691.2) = 692)', () => {
    expect(chooseSize('gpt-5.5', 1024, 576)).toEqual({ width: 1024, height: 576, tokens: 692, detail: 'original' });
  });
  it('drops a partial patch row when that lowers tokens per pixel (1024x1000 -> 1016x992)', () => {
    // 1024x1000: 32 x ceil(31.25) = 1024 patches -> 1229 tokens, 0.0012002 per pixel.
    // 1016 wide: 1016 * 1000 / 1024 = 992.2 -> 992 = 31 whole rows: 32 x 31 = 992 patches -> ceil(1190.4) = 1191,
    // 0.0011817 per pixel. Narrower candidates that also land on whole rows cost more per pixel
    // (983x960: 31 x 30 -> 1116, 0.0011826; 950x928: 30 x 29 -> 1044, 0.0011842).
    expect(imageTokens('gpt-5.5', 1024, 1000).tokens).toBe(1229);
    expect(chooseSize('gpt-5.5', 1024, 1000)).toEqual({ width: 1016, height: 992, tokens: 1191, detail: 'original' });
    expect(imageTokens('gpt-5.5', 983, 960).tokens).toBe(1116);
    expect(imageTokens('gpt-5.5', 950, 928).tokens).toBe(1044);
  });
  it('a detail the rule lacks is refused naming the allowed values', () => {
    expect(() => chooseSize('gpt-5.5', 100, 100, { detail: 'ultra' })).toThrow(/option detail: expected one of high, original, low, auto/);
  });
});

describe('Claude (28 px patches, tokens = patches)', () => {
  it('1000x1000 (36x36 = 1296) -> 980x980 (35x35 = 1225): the first size of whole patches wins ties', () => {
    // every multiple of 28 costs exactly 1/784 tokens per pixel; 980 is the first one below 1000
    expect(imageTokens('claude-sonnet-4.5', 1000, 1000).tokens).toBe(1296);
    expect(chooseSize('claude-sonnet-4.5', 1000, 1000)).toEqual({ width: 980, height: 980, tokens: 1225, detail: 'auto' });
  });
});

describe('Gemini 3 fixed levels (high: 1120 tokens, fit 1536)', () => {
  it('a fixed price per image: the largest size wins (1000x800 stays)', () => {
    expect(chooseSize('gemini-3-pro', 1000, 800)).toEqual({ width: 1000, height: 800, tokens: 1120, detail: 'high' });
    expect(chooseSize('gemini-3-pro', 4000, 2000, { detail: 'low' })).toEqual({ width: 768, height: 384, tokens: 280, detail: 'low' });
  });
});

describe('bad input', () => {
  it('slack outside 0..0.5', () => {
    expect(() => chooseSize('gpt-4o', 100, 100, { slack: 0.6 })).toThrow(/option slack: expected a number from 0 to 0.5, got 0.6/);
    expect(() => chooseSize('gpt-4o', 100, 100, { slack: Number.NaN })).toThrow(/option slack/);
  });
  it('maxSide not a whole number >= 16', () => {
    expect(() => chooseSize('gpt-4o', 100, 100, { maxSide: 15 })).toThrow(/option maxSide: expected a whole number of pixels >= 16, got 15/);
    expect(() => chooseSize('gpt-4o', 100, 100, { maxSide: 100.5 })).toThrow(/option maxSide/);
  });
  it('a model that takes no images, an unknown model', () => {
    expect(() => chooseSize('gpt-audio', 100, 100)).toThrow(/option model: expected a model that takes images, got "gpt-audio"/);
    expect(() => chooseSize('no-such-model', 100, 100)).toThrow(/unknown model no-such-model/);
  });
  it('sizes that are not positive whole pixels', () => {
    expect(() => chooseSize('gpt-4o', 0, 100)).toThrow(/width\/height/);
    expect(() => chooseSize('gpt-4o', 10.5, 100)).toThrow(/width\/height/);
  });
});
