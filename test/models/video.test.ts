// Video sent as video (Gemini): the registry's per-frame and per-second rates
// (token-rules.md: 258 tokens per frame at 1 fps and 32 audio tokens per second on Gemini 2.x;
// Gemini 3: 70 tokens per frame by default, 280 at high media resolution).
import { describe, expect, it } from 'vitest';
import { geminiVideoTokens } from '../../src/models/video.js';
import { builtinRegistry } from '../../src/models/registry.js';
import { OmniprepError } from '../../src/errors.js';

const model = (name: string) => builtinRegistry().get(name);

describe('Gemini video tokens', () => {
  it('Gemini 2.5: 258 per frame at the default 1 fps, 32 per second of audio', () => {
    expect(geminiVideoTokens(model('gemini-2.5-flash'), { startSec: 0, endSec: 10, hasAudio: true })).toEqual({
      fps: 1,
      frames: 10,
      tokensPerFrame: 258,
      frameTokens: 2580,
      audioSeconds: 10,
      audioTokens: 320,
      tokens: 2900,
    });
    // One second with audio is 290 by these per-part rates; Google's tokens page also quotes
    // "263 tokens per second" for video, which the parts do not add up to (see registry.json).
    expect(geminiVideoTokens(model('gemini-2.5-pro'), { startSec: 0, endSec: 1, hasAudio: true }).tokens).toBe(290);
    expect(geminiVideoTokens(model('gemini-2.5-pro'), { startSec: 0, endSec: 1, hasAudio: false }).tokens).toBe(258);
  });

  it('fps from --every; a partial window still starts with a frame; windows anywhere in the clip', () => {
    const m = model('gemini-2.5-flash');
    expect(geminiVideoTokens(m, { startSec: 0, endSec: 30, fps: 0.2, hasAudio: false }).frames).toBe(6);
    expect(geminiVideoTokens(m, { startSec: 0, endSec: 31, fps: 0.2, hasAudio: false }).frames).toBe(7);
    expect(geminiVideoTokens(m, { startSec: 12.5, endSec: 14, fps: 2, hasAudio: true })).toMatchObject({ frames: 3, audioSeconds: 1.5, audioTokens: 48 });
  });

  it('Gemini 3: 70 per frame by default and at low/medium, 280 at high/ultra_high media resolution', () => {
    const m = model('gemini-3-pro');
    const per = (detail?: string) => geminiVideoTokens(m, { startSec: 0, endSec: 4, hasAudio: false, detail }).tokensPerFrame;
    expect([per(), per('auto'), per('low'), per('medium'), per('high'), per('ultra_high')]).toEqual([70, 70, 70, 70, 280, 280]);
  });

  it('refuses models without video input and fps outside (0, 24]', () => {
    expect(() => geminiVideoTokens(model('claude-sonnet-4.5'), { startSec: 0, endSec: 1, hasAudio: false })).toThrow(OmniprepError);
    expect(() => geminiVideoTokens(model('gemini-2.5-flash'), { startSec: 0, endSec: 1, hasAudio: false, fps: 25 })).toThrow(
      'option fps: expected a number in (0, 24], got 25',
    );
  });
});
