/** Keyframe mode over long groups of pictures (pure: a made-up timeline). */
import { describe, expect, it } from 'vitest';
import { cheapestFrameIn, keyframeMode } from '../../src/plan/frames.js';

// 30 fps for 40 s, a keyframe every 10 s
const frames = Array.from({ length: 1200 }, (_, i) => Math.round((i / 30) * 1e6) / 1e6);
const flags = frames.map((_, i) => i % 300 === 0);
const tl = { frames, keyframeFlags: flags, keyframes: frames.filter((_, i) => flags[i]) };

describe('keyframe mode where a window holds no keyframe', () => {
  it("takes the window's first frame: the fewest frames after its keyframe", () => {
    expect(cheapestFrameIn(tl, 5, 2.5, { start: 0, end: 40, every: 5 })).toEqual({ time: 2.5, keyframe: false });
    // a window clipped by --start begins there
    expect(cheapestFrameIn(tl, 5, 2.5, { start: 4, end: 40, every: 5 })).toEqual({ time: 4, keyframe: false });
    // a keyframe inside the window is cheapest of all
    expect(cheapestFrameIn(tl, 9, 2.5, { start: 0, end: 40, every: 5 })).toEqual({ time: 10, keyframe: true });
  });

  it('plans keyframes where the windows hold them and the cheap frames elsewhere', () => {
    const picked = keyframeMode(tl, { start: 0, end: 40, every: 5 }, 2.5);
    expect(picked.map((f) => [f.timestampSec, f.source])).toEqual([
      [0, 'keyframe'],
      [2.5, 'exact'],
      [10, 'keyframe'],
      [12.5, 'exact'],
      [20, 'keyframe'],
      [22.5, 'exact'],
      [30, 'keyframe'],
      [32.5, 'exact'],
    ]);
  });
});
