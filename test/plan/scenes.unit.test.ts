// The scene detectors on hand-made scores: the adaptive ratio (a frame's HSV difference over the
// mean of its two neighbours on each side, PySceneDetect's AdaptiveDetector) and what each
// detector compares with which threshold.
import { describe, expect, it } from 'vitest';
import { adaptiveRatios, cutTest, MAX_RATIO, type DetectorSettings } from '../../src/plan/scenes.js';

const settings = (o: Partial<DetectorSettings> = {}): DetectorSettings => ({
  sceneDetector: 'adaptive',
  sceneThreshold: 0.3,
  contentThreshold: 27,
  adaptiveThreshold: 3,
  minContent: 8,
  ...o,
});

describe('adaptiveRatios', () => {
  it('a frame over the mean of the two frames on each side; frames without a full window are 0', () => {
    //              0  1  2   3  4  5  6
    const scores = [0, 2, 4, 20, 2, 6, 4];
    // frame 2: 4 / mean(0, 2, 20, 2) = 4 / 6; frame 3: 20 / mean(2, 4, 2, 6) = 20 / 3.5; frame 4: 2 / mean(4, 20, 6, 4) = 2 / 8.5
    expect(adaptiveRatios(scores, 8)).toEqual([0, 0, 4 / 6, 20 / 3.5, 2 / 8.5, 0, 0]);
  });
  it('a wider window', () => {
    expect(adaptiveRatios([1, 1, 1, 9, 1, 1, 1], 0, 3)).toEqual([0, 0, 0, 9, 0, 0, 0]);
  });
  it('among still neighbours: MAX_RATIO if the frame reaches minContent (and is above 0), else 0', () => {
    expect(adaptiveRatios([0, 0, 9, 0, 0], 8)).toEqual([0, 0, MAX_RATIO, 0, 0]);
    expect(adaptiveRatios([0, 0, 7, 0, 0], 8)).toEqual([0, 0, 0, 0, 0]);
    expect(adaptiveRatios([0, 0, 0, 0, 0], 0)).toEqual([0, 0, 0, 0, 0]);
  });
  it('capped at MAX_RATIO', () => {
    expect(adaptiveRatios([0, 0, 200, 0.1, 0.1], 8)[2]).toBe(MAX_RATIO);
  });
  it('too few frames for a window: no ratio at all', () => {
    expect(adaptiveRatios([], 8)).toEqual([]);
    expect(adaptiveRatios([0, 50, 0, 0], 8)).toEqual([0, 0, 0, 0]);
  });
});

describe('cutTest: the value each detector compares, and its threshold', () => {
  const hsv = { measure: 'hsv' as const, scores: [0, 1, 1, 12, 1, 1, 30, 0, 0] };
  it('ffmpeg: the scene score against --scene-threshold', () => {
    expect(cutTest({ measure: 'ffmpeg', scores: [0, 0.5] }, settings({ sceneDetector: 'ffmpeg' }))).toEqual({ values: [0, 0.5], threshold: 0.3 });
  });
  it('content: the HSV difference against --content-threshold', () => {
    expect(cutTest(hsv, settings({ sceneDetector: 'content', contentThreshold: 10 }))).toEqual({ values: hsv.scores, threshold: 10 });
  });
  it('adaptive: the ratio where the difference reaches --min-content (0 elsewhere), against --adaptive-threshold', () => {
    const t = cutTest(hsv, settings());
    expect(t.threshold).toBe(3);
    // frame 3: 12 / mean(1, 1, 1, 1); frame 6: 30 / mean(1, 1, 0, 0); the rest are under min-content
    expect(t.values).toEqual([0, 0, 0, 12, 0, 0, 60, 0, 0]);
    expect(cutTest(hsv, settings({ minContent: 20 })).values).toEqual([0, 0, 0, 0, 0, 0, 60, 0, 0]);
  });
  it('refuses scores of the other measure', () => {
    expect(() => cutTest(hsv, settings({ sceneDetector: 'ffmpeg' }))).toThrow(
      /the ffmpeg scene detector needs the ffmpeg scene scores, the facts hold hsv scores/,
    );
    expect(() => cutTest({ measure: 'ffmpeg', scores: [] }, settings({ sceneDetector: 'content' }))).toThrow(/needs the hsv scene scores/);
  });
});
