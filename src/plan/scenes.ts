/**
 * The scene detectors, pure: from a scan's per-frame scores to the value each frame's cut test
 * compares and the threshold it is compared with; sceneMode (frames.ts) keeps the frames at or
 * over it, min-gap apart.
 *
 * - ffmpeg: ffmpeg's scene score (0-1) >= sceneThreshold.
 * - content: the frame's HSV difference from the frame before (0-255) >= contentThreshold
 *   (PySceneDetect's ContentDetector).
 * - adaptive: that difference divided by the mean difference of the ADAPTIVE_WINDOW frames on each
 *   side >= adaptiveThreshold, and the difference itself >= minContent (PySceneDetect's
 *   AdaptiveDetector): a cut stands out from its neighbours however low its contrast, and motion,
 *   which changes every frame alike, does not. A frame without a full window on both sides is no
 *   cut; where the neighbours do not change at all the ratio is 255.
 */
import { sceneMeasure, type SceneDetector, type SceneMeasure } from '../media/formats.js';

/** Frames on each side whose mean difference a frame's is compared with (PySceneDetect's default). */
export const ADAPTIVE_WINDOW = 2;
/** The largest adaptive ratio (a frame among still neighbours). */
export const MAX_RATIO = 255;

export interface DetectorSettings {
  sceneDetector: SceneDetector;
  sceneThreshold: number;
  contentThreshold: number;
  adaptiveThreshold: number;
  minContent: number;
}

/**
 * Each frame's adaptive ratio: its score over the mean score of `window` frames before and after
 * it (capped at MAX_RATIO; MAX_RATIO when that mean is 0 and the score is above 0 and reaches
 * minContent, 0 when it does not); 0 for a frame without `window` frames on both sides.
 */
export function adaptiveRatios(scores: readonly number[], minContent: number, window = ADAPTIVE_WINDOW): number[] {
  const out = new Array<number>(scores.length).fill(0);
  for (let i = window; i + window < scores.length; i++) {
    let sum = 0;
    for (let j = i - window; j <= i + window; j++) if (j !== i) sum += scores[j]!;
    const mean = sum / (2 * window);
    const x = scores[i]!;
    out[i] = mean < 1e-5 ? (x > 0 && x >= minContent ? MAX_RATIO : 0) : Math.min(x / mean, MAX_RATIO);
  }
  return out;
}

/** The threshold of the detector in use: --scene-threshold, --content-threshold or --adaptive-threshold. */
export function detectorThreshold(s: DetectorSettings): number {
  return { ffmpeg: s.sceneThreshold, content: s.contentThreshold, adaptive: s.adaptiveThreshold }[s.sceneDetector];
}

/** What a detector compares per frame and with what: a frame is a cut where value >= threshold. */
export function cutTest(scan: { measure: SceneMeasure; scores: readonly number[] }, s: DetectorSettings): { values: number[]; threshold: number } {
  const need = sceneMeasure(s.sceneDetector);
  if (scan.measure !== need) {
    throw new Error(`plan: the ${s.sceneDetector} scene detector needs the ${need} scene scores, the facts hold ${scan.measure} scores`);
  }
  const threshold = detectorThreshold(s);
  if (s.sceneDetector !== 'adaptive') return { values: [...scan.scores], threshold };
  const ratios = adaptiveRatios(scan.scores, s.minContent);
  return { values: ratios.map((r, i) => (scan.scores[i]! >= s.minContent ? r : 0)), threshold };
}

/** The rule a detector applies, in words (cost-curve's shot line): e.g. `ffmpeg scene score >= 0.3`. */
export function detectorRule(s: DetectorSettings): string {
  if (s.sceneDetector === 'ffmpeg') return `ffmpeg scene score >= ${s.sceneThreshold}`;
  if (s.sceneDetector === 'content') return `HSV difference >= ${s.contentThreshold}`;
  return `HSV difference >= ${s.adaptiveThreshold} x its neighbours' and >= ${s.minContent}`;
}
