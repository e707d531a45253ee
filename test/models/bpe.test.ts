/**
 * The O(n log n) merge gives the library's own tokens: compared with gpt-tokenizer's unpatched
 * merge on runs, mixed scripts and random text; long runs are counted without the quadratic cost
 * (checked by counting, not by timing: the merge's rank lookups are counted).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { heapMerge, installLinearMerge } from '../../src/models/bpe.js';
import { countEncoded, isCounted, rememberEncoded, textTokens } from '../../src/models/tokens.js';

const require = createRequire(import.meta.url);

/** A fresh, unpatched copy of an encoding (the module cache would hand back the patched one). */
function freshCore(encoding: string): { bytePairMerge(b: Uint8Array): number[]; getBpeRankFromBytes(b: Uint8Array): number | undefined } {
  const { GptEncoding } = require('gpt-tokenizer/cjs/GptEncoding') as {
    GptEncoding: { getEncodingApi(n: string, f: () => unknown): { bytePairEncodingCoreProcessor: any } };
  };
  const ranks = require(`gpt-tokenizer/cjs/bpeRanks/${encoding}`) as { default: unknown };
  return GptEncoding.getEncodingApi(encoding, () => ranks.default).bytePairEncodingCoreProcessor;
}

/** A deterministic generator (xorshift) for the random texts. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const ALPHABET = ['a', 'b', 'e', 't', 'h', ' ', 'A', 'Z', '0', '7', '.', ',', '\n', '😀', '🎉', '漢', '字', 'か', 'é', 'ß', 'ж', '\u0301', '\t', "'", 'ــ'];

describe('heapMerge', () => {
  for (const encoding of ['o200k_base', 'cl100k_base']) {
    it(`${encoding}: the same tokens as the library's merge, on runs, scripts and random pieces`, () => {
      const core = freshCore(encoding);
      const rankOf = (b: Uint8Array): number | undefined => core.getBpeRankFromBytes(b);
      const enc = new TextEncoder();
      const pieces: string[] = [];
      for (const ch of ['a', 'A', '😀', '漢', ' ', '.', 'ab', 'aab', '0', 'ж']) for (const n of [1, 2, 3, 7, 64, 65, 300, 1000]) pieces.push(ch.repeat(n));
      const next = rng(42);
      for (let k = 0; k < 300; k++) {
        const len = 1 + Math.floor(next() * 400);
        let s = '';
        for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
        pieces.push(s);
      }
      for (const p of pieces) {
        const bytes = enc.encode(p);
        expect(heapMerge(bytes, rankOf), JSON.stringify(p.slice(0, 40))).toEqual(core.bytePairMerge(bytes));
      }
    });
  }

  it('does a bounded number of rank lookups per byte on long runs (no rescans)', () => {
    const core = freshCore('o200k_base');
    for (const ch of ['a', '😀', '漢']) {
      const bytes = new TextEncoder().encode(ch.repeat(20_000));
      let lookups = 0;
      const tokens = heapMerge(bytes, (b) => {
        lookups++;
        return core.getBpeRankFromBytes(b);
      });
      expect(tokens.length).toBeGreaterThan(0);
      // Each merge looks up at most two new pairs; there are fewer merges than bytes.
      expect(lookups).toBeLessThanOrEqual(4 * bytes.length);
    }
  });
});

describe('textTokens with the linear merge installed', () => {
  it('counts long runs exactly as the unpatched library does', () => {
    const plain = require('gpt-tokenizer/cjs/GptEncoding') as {
      GptEncoding: { getEncodingApi(n: string, f: () => unknown): { countTokens(t: string): number } };
    };
    const ranks = require('gpt-tokenizer/cjs/bpeRanks/o200k_base') as { default: unknown };
    const reference = plain.GptEncoding.getEncodingApi('o200k_base', () => ranks.default);
    for (const text of ['a'.repeat(3000), '😀'.repeat(1500), `${'漢字'.repeat(800)} and more text, 123456789.`, 'The quick brown fox. '.repeat(200)]) {
      expect(textTokens('gpt-5.5', text)).toBe(reference.countTokens(text));
    }
  });

  it('installs once and refuses an object that is not an encoding', () => {
    expect(installLinearMerge({})).toBe(false);
    expect(installLinearMerge(undefined)).toBe(false);
    const mod = require('gpt-tokenizer/cjs/encoding/o200k_base') as { default: unknown };
    expect(installLinearMerge(mod.default)).toBe(true);
  });

  it('remembers counts of long texts made elsewhere', () => {
    const text = `${'x'.repeat(3000)} unique ${Math.random()}`;
    expect(isCounted('o200k_base', text)).toBe(false);
    rememberEncoded('o200k_base', text, 12345);
    expect(isCounted('o200k_base', text)).toBe(true);
    expect(countEncoded('o200k_base', text)).toBe(12345);
    expect(isCounted('o200k_base', 'short')).toBe(true);
  });
});
