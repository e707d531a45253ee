// src/plan/planner.ts planFromFacts: the pure planner on synthetic facts (no probe, no ffmpeg).
// A 60 s, 30 fps, 1920x1080 clip with a keyframe every 2 s; frame i is at i/30 s and its packet
// at byte 1000 + 500 i. Frame choices follow the rules in src/plan/frames.ts; sizes and tokens
// are cross-checked with chooseSize / imageTokens; dollars with dollars().
import { describe, expect, it } from 'vitest';
import { factsNeeded, planFromFacts, sceneOnIndex, type PlanFacts } from '../../src/plan/planner.js';
import type { MediaInfo, PacketIndex } from '../../src/probe/types.js';
import { chooseSize } from '../../src/models/sizing.js';
import { dollars, imageTokens, textTokens } from '../../src/models/tokens.js';
import { formatTimestamp } from '../../src/request/timestamp.js';
import { OmniprepError } from '../../src/errors.js';
import type { Plan, PlanOptions } from '../../src/plan/types.js';

const FPS = 30;

function videoInfo(durationSec: number, over: Partial<MediaInfo> = {}): MediaInfo {
  return {
    input: 'clip.mp4',
    path: '/media/clip.mp4',
    kind: 'video',
    container: 'mp4',
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    durationSec,
    sizeBytes: 12_345_678,
    bitRate: 1_600_000,
    startTimeSec: 0,
    video: {
      index: 0,
      codec: 'h264',
      profile: 'High',
      pixFmt: 'yuv420p',
      codedWidth: 1920,
      codedHeight: 1080,
      width: 1920,
      height: 1080,
      fps: FPS,
      realFps: FPS,
      rotation: 0,
      vfr: false,
      frameCount: Math.round(durationSec * FPS),
      durationSec,
      startSec: 0,
      bitRate: 1_500_000,
    },
    attachedPictures: 0,
    mtimeMs: 0,
    ...over,
  };
}

function packetIndex(durationSec: number, gopSec = 2): PacketIndex {
  const n = Math.round(durationSec * FPS);
  const idx: PacketIndex = { streamIndex: 0, times: [], pos: [], size: [], keyframe: [] };
  for (let i = 0; i < n; i++) {
    const key = i % (gopSec * FPS) === 0;
    idx.times.push(Math.round((i / FPS) * 1e6) / 1e6);
    idx.pos.push(1000 + 500 * i);
    idx.size.push(key ? 5000 : 500);
    idx.keyframe.push(key);
  }
  return idx;
}

const facts: PlanFacts = { info: videoInfo(60), index: packetIndex(60) };
const posAt = (t: number) => 1000 + 500 * Math.round(t * FPS);
const frameView = (p: Plan) => p.frames.map((f) => [f.index, f.timestampSec, f.targetSec, f.keyframe, f.source, f.pos]);
/** Plan text without a prompt: per request 3 + 3 overhead, plus one `[mm:ss]` label per image. */
const labelTokens = (times: number[]) => times.reduce((a, t) => a + textTokens('gpt-5.5', `[${formatTimestamp(t)}]`), 0);

describe('keyframe mode (the default: every 5 s, tolerance every/2, gpt-5.5)', () => {
  const p = planFromFacts(facts);
  // t = 5: [2.5, 7.5) holds keyframes 4 and 6, a tie -> 4; t = 10: 10 itself; and so on
  const times = [0, 4, 10, 14, 20, 24, 30, 34, 40, 44, 50, 54];
  it('takes the nearest keyframe to each target, ties to the earlier, with its packet position', () => {
    expect(frameView(p)).toEqual(times.map((t, i) => [i, t, i * 5, true, 'keyframe', posAt(t)]));
    expect(p.framesBeforeCap).toBe(12);
    expect([p.mode, p.every, p.tolerance, p.startSec, p.endSec]).toEqual(['keyframe', 5, 2.5, 0, 60]);
  });
  it('sizes and tokens come from the model rules (gpt-5.5, auto = original)', () => {
    const size = chooseSize('gpt-5.5', 1920, 1080);
    expect(size.detail).toBe('original');
    expect([p.width, p.height, p.tokensPerFrame, p.detail, p.detailApplied]).toEqual([size.width, size.height, size.tokens, 'auto', 'original']);
    expect(imageTokens('gpt-5.5', p.width, p.height).tokens).toBe(p.tokensPerFrame);
    expect(p.imageTokens).toBe(12 * size.tokens);
  });
  it('one request; text = 6 overhead tokens + the 12 timestamp labels; dollars of the counts', () => {
    expect(p.requests).toBe(1);
    expect(p.textTokens).toBe(6 + labelTokens(times));
    expect(p.inputTokens).toBe(p.imageTokens + p.textTokens);
    expect([p.audio, p.audioTokens, p.outputTokens, p.tier]).toEqual([null, 0, 1000, 'standard']);
    expect(p.costUsd).toBe(dollars('gpt-5.5', { imageTokens: p.imageTokens, audioTokens: 0, textTokens: p.textTokens, outputTokens: 1000 }));
    // $5 per 1M input, $30 per 1M output
    expect(p.costUsd).toBeCloseTo((p.inputTokens * 5 + 1000 * 30) / 1e6, 12);
    expect(p.costByTier.batch).toBeCloseTo((p.inputTokens * 2.5 + 1000 * 15) / 1e6, 12);
  });
  it('a prompt adds its tokens once per request', () => {
    const prompt = 'Describe what happens in this video.';
    const q = planFromFacts(facts, { prompt });
    expect(q.textTokens - p.textTokens).toBe(textTokens('gpt-5.5', prompt));
    expect(planFromFacts(facts, { prompt, windowSec: 20 }).textTokens - planFromFacts(facts, { windowSec: 20 }).textTokens).toBe(
      3 * textTokens('gpt-5.5', prompt),
    );
  });
  it('reports the media facts and no warnings', () => {
    expect(p.media).toEqual({
      durationSec: 60,
      container: 'mp4',
      sizeBytes: 12_345_678,
      width: 1920,
      height: 1080,
      fps: 30,
      rotation: 0,
      vfr: false,
      hasAudio: false,
    });
    expect(p.warnings).toEqual([]);
    expect(p.grids).toBeNull();
  });
  it("a tolerance too small for any keyframe takes the window's cheapest frame to decode (its first)", () => {
    const q = planFromFacts(facts, { every: 5, tolerance: 0.5, end: 16 });
    expect(frameView(q)).toEqual([
      [0, 0, 0, true, 'keyframe', posAt(0)],
      [1, 4.5, 5, false, 'exact', posAt(4.5)],
      [2, 10, 10, true, 'keyframe', posAt(10)],
      [3, 14.5, 15, false, 'exact', posAt(14.5)],
    ]);
  });
  it('a clip window [10, 20) and an end past the media', () => {
    const q = planFromFacts(facts, { start: 10, end: 20 });
    expect(q.frames.map((f) => f.timestampSec)).toEqual([10, 14]);
    expect([q.startSec, q.endSec]).toEqual([10, 20]);
    expect(planFromFacts(facts, { start: 50, end: 100 }).endSec).toBe(60);
  });
  it('maxFrames thins to round(i (n-1)/(max-1)) and records the count before', () => {
    const q = planFromFacts(facts, { maxFrames: 4 });
    // indexes 0, round(11/3) = 4, round(22/3) = 7, 11 of the 12
    expect(q.frames.map((f) => [f.index, f.timestampSec])).toEqual([
      [0, 0],
      [1, 20],
      [2, 34],
      [3, 54],
    ]);
    expect(q.framesBeforeCap).toBe(12);
  });
});

describe('exact mode', () => {
  it('the frame displayed at each target (keyframe flag from the index)', () => {
    const p = planFromFacts(facts, { mode: 'exact', every: 5, end: 21 });
    expect(frameView(p)).toEqual([0, 5, 10, 15, 20].map((t, i) => [i, t, t, t % 2 === 0, 'exact', posAt(t)]));
    expect(p.tolerance).toBeNull();
  });
  it('targets between frames take the last frame at or before them; before start, the first after it', () => {
    // targets 1.01, 1.51, 2.01, 2.51: frame 30 (1.0 s) is before start, so frame 31 (1.033333)
    const p = planFromFacts(facts, { mode: 'exact', every: 0.5, start: 1.01, end: 3 });
    expect(p.frames.map((f) => f.timestampSec)).toEqual([1.033333, 1.5, 2, 2.5]);
    expect(p.frames.map((f) => f.pos)).toEqual([1000 + 500 * 31, 1000 + 500 * 45, 1000 + 500 * 60, 1000 + 500 * 75]);
    expect(p.frames.map((f) => f.keyframe)).toEqual([false, false, true, false]);
  });
  it('needs the packet index among the facts', () => {
    expect(() => planFromFacts({ info: facts.info }, { mode: 'exact' })).toThrow(/clip\.mp4 needs its packet index/);
  });
});

describe('scene mode with given ffmpeg scene scores (threshold 0.3, minGap every/5, maxGap 4 every)', () => {
  const idx = facts.index!;
  const scores = idx.times.map(() => 0);
  scores[390] = 0.9; // 13 s
  scores[405] = 0.5; // 13.5 s: within minGap (1 s) of 13
  scores[1230] = 0.35; // 41 s
  scores[1500] = 0.29; // 50 s: under the threshold
  const scene = { measure: 'ffmpeg' as const, times: idx.times, keys: idx.keyframe, scores };
  it('first frame, the cuts, and a fill where cuts are more than maxGap (20 s) apart', () => {
    const p = planFromFacts({ ...facts, scene }, { mode: 'scene', sceneDetector: 'ffmpeg', every: 5 });
    // 13 -> 41 is 28 s: a fill at 13 + 20 = 33; 41 -> 60 is 19 s: no fill
    expect(frameView(p)).toEqual([
      [0, 0, 0, true, 'scene', posAt(0)],
      [1, 13, 13, false, 'scene', posAt(13)],
      [2, 33, 33, false, 'fill', posAt(33)],
      [3, 41, 41, false, 'scene', posAt(41)],
    ]);
  });
  it('explicit threshold, minGap and maxGap', () => {
    const p = planFromFacts({ ...facts, scene }, { mode: 'scene', sceneDetector: 'ffmpeg', every: 5, sceneThreshold: 0.28, minGap: 0.4, maxGap: 30 });
    expect(p.frames.map((f) => [f.timestampSec, f.source])).toEqual([
      [0, 'scene'],
      [13, 'scene'],
      [13.5, 'scene'],
      [41, 'scene'],
      [50, 'scene'],
    ]);
  });
  it('scene mode without the scene facts is refused', () => {
    expect(() => planFromFacts(facts, { mode: 'scene' })).toThrow(/scene mode needs the scene scores/);
  });
  it('scores of another measure than the detector reads are refused', () => {
    expect(() => planFromFacts({ ...facts, scene }, { mode: 'scene' })).toThrow(
      /^plan: the adaptive scene detector needs the hsv scene scores, the facts hold ffmpeg scores$/,
    );
    expect(() => planFromFacts({ ...facts, scene: { ...scene, measure: 'hsv' } }, { mode: 'scene', sceneDetector: 'ffmpeg' })).toThrow(
      /the ffmpeg scene detector needs the ffmpeg scene scores/,
    );
  });
});

describe('scene mode with given HSV differences: the content and adaptive detectors', () => {
  const idx = facts.index!;
  // Motion: every frame differs by 10 from the one before; a low-contrast cut at 13 s (12 over the
  // motion's 10 is no cut, 30 over still neighbours is), a strong one at 41 s.
  const scores = idx.times.map((t): number => (t < 12 ? 10 : 0));
  scores[300] = 12; // 10 s, amid the motion
  scores[390] = 9; // 13 s: a dim cut between still frames
  scores[1230] = 40; // 41 s
  const scene = { measure: 'hsv' as const, times: idx.times, keys: idx.keyframe, scores };
  const cuts = (o: PlanOptions) => planFromFacts({ ...facts, scene }, { mode: 'scene', every: 5, maxGap: 100, ...o }).frames.map((f) => f.timestampSec);
  it('adaptive (the default): a frame that stands out from its neighbours and reaches --min-content', () => {
    expect(cuts({})).toEqual([0, 13, 41]);
    expect(cuts({ minContent: 10 })).toEqual([0, 41]);
    expect(cuts({ adaptiveThreshold: 1.1, end: 11 })).toEqual([0, 10]);
  });
  it('content: the difference alone against --content-threshold', () => {
    expect(cuts({ sceneDetector: 'content' })).toEqual([0, 41]);
    expect(cuts({ sceneDetector: 'content', contentThreshold: 9 })).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 41]);
  });
});

describe('grids', () => {
  it('2x2 grids of consecutive frames, sized for the model', () => {
    const p = planFromFacts(facts, { grid: { cols: 2, rows: 2 } });
    const size = chooseSize('gpt-5.5', 2 * p.width, 2 * p.height, { slack: 0.1 });
    const cellWidth = Math.floor(size.width / 2);
    const cellHeight = Math.floor(size.height / 2);
    const tokens = imageTokens('gpt-5.5', 2 * cellWidth, 2 * cellHeight).tokens;
    expect(p.grids).toEqual([
      { index: 0, frames: [0, 1, 2, 3], timestamps: [0, 4, 10, 14], width: 2 * cellWidth, height: 2 * cellHeight, cellWidth, cellHeight, tokens },
      { index: 1, frames: [4, 5, 6, 7], timestamps: [20, 24, 30, 34], width: 2 * cellWidth, height: 2 * cellHeight, cellWidth, cellHeight, tokens },
      { index: 2, frames: [8, 9, 10, 11], timestamps: [40, 44, 50, 54], width: 2 * cellWidth, height: 2 * cellHeight, cellWidth, cellHeight, tokens },
    ]);
    expect(p.imageTokens).toBe(3 * tokens);
    // one label per grid (its first frame's time)
    expect(p.textTokens).toBe(6 + labelTokens([0, 20, 40]));
  });
  it('a last group that a grid would cost more for is sent as its frames, and the plan says so', () => {
    const p = planFromFacts(facts, { grid: { cols: 3, rows: 2 }, end: 35 });
    expect(p.frames).toHaveLength(7);
    const g = p.grids![0]!;
    expect(g.tokens).toBeGreaterThan(p.tokensPerFrame);
    expect(p.grids!.map((x) => x.frames)).toEqual([[0, 1, 2, 3, 4, 5]]);
    expect(p.imageTokens).toBe(g.tokens + p.tokensPerFrame);
    expect(p.warnings).toEqual([`--grid 3x2: the last 1 frame(s) are sent alone (${p.tokensPerFrame} tokens), not in a grid that would cost ${g.tokens}`]);
    // Two requests' worth of images: the grid, then the frame at 34 s with its own label.
    expect(p.textTokens).toBe(6 + labelTokens([0, 34]));
  });
  it('a grid that costs no less than its frames alone is not used: every frame is sent alone', () => {
    // gemini-2.5-pro at max side 384: a 384x216 frame is one small image (258); a 2x2 grid, 768x432, is tiled
    // with unit floor(432 / 1.5) = 288: 3 x 2 tiles = 1548 >= 4 x 258
    const p = planFromFacts(facts, { model: 'gemini-2.5-pro', maxSide: 384, grid: { cols: 2, rows: 2 } });
    expect([p.width, p.height, p.tokensPerFrame]).toEqual([384, 216, 258]);
    expect(p.grids).toBeNull();
    expect(p.imageTokens).toBe(12 * 258);
    expect(p.warnings).toEqual(['--grid 2x2: a grid costs 1548 tokens, no fewer than its frames sent alone (4 x 258): every frame is sent alone']);
    // gpt-4o low detail: 85 tokens per image whatever its size, so a grid of 4 is cheaper: no warning
    const low = planFromFacts(facts, { model: 'gpt-4o', detail: 'low', grid: { cols: 2, rows: 2 } });
    expect(low.grids![0]).toMatchObject({ width: 512, height: 288, cellWidth: 256, cellHeight: 144, tokens: 85 });
    expect(low.warnings).toEqual([]);
  });
});

describe('windows and requests', () => {
  it('windowSec 20 makes three requests over 60 s', () => {
    const p = planFromFacts(facts, { windowSec: 20 });
    expect(p.requests).toBe(3);
    expect(p.textTokens).toBe(3 * 6 + labelTokens([0, 4, 10, 14, 20, 24, 30, 34, 40, 44, 50, 54]));
  });
  it('windows shorter than 1 s are refused by the option schema; too many windows by the work bound', () => {
    expect(() => planFromFacts(facts, { windowSec: 0.5 })).toThrow(/^option windowSec: expected a number >= 1, got 0.5$/);
    const long = { info: videoInfo(86_400), index: facts.index };
    expect(() => planFromFacts(long, { every: 60, windowSec: 1 })).toThrow(
      /^option windowSec: expected at least 8\.64 s here .*at most 10000 request windows per plan\), got 1$/,
    );
  });
  it('the model images-per-request limit splits requests (claude-sonnet-4.5: 100 per request)', () => {
    const p = planFromFacts(facts, { model: 'claude-sonnet-4.5', every: 0.5 });
    expect(p.frames.length).toBe(120);
    expect(p.requests).toBe(2);
  });
});

describe('budgets: the densest plan that fits, in the documented order', () => {
  const at = (o: Parameters<typeof planFromFacts>[1]) => planFromFacts(facts, o);
  it('a budget between the 5 s and 7.5 s plans picks 7.5 s', () => {
    const p5 = at({ every: 5 });
    const p75 = at({ every: 7.5 });
    expect(p75.costUsd).toBeLessThan(p5.costUsd);
    const p = at({ every: 5, budget: (p5.costUsd + p75.costUsd) / 2 });
    expect(p.every).toBe(7.5);
    expect(frameView(p)).toEqual(frameView(p75));
    expect(p.costUsd).toBe(p75.costUsd);
    expect(p.budget).toMatchObject({
      limitUsd: (p5.costUsd + p75.costUsd) / 2,
      limitTokens: null,
      chosen: { every: 7.5, detail: 'original', maxSide: null, maxFrames: null },
      changed: true,
      tried: 2,
    });
  });
  it('a budget that the asked plan meets exactly keeps it', () => {
    const p5 = at({ every: 5 });
    const p = at({ every: 5, budget: p5.costUsd });
    expect([p.every, p.budget!.changed, p.budget!.tried]).toEqual([5, false, 1]);
  });
  it('maxTokens: the 10 s plan exactly fits its own token count', () => {
    const p10 = at({ every: 10 });
    const p = at({ every: 5, maxTokens: p10.inputTokens });
    expect([p.every, p.inputTokens, p.budget!.limitTokens, p.budget!.tried]).toEqual([10, p10.inputTokens, p10.inputTokens, 3]);
  });
  it('nothing fits: BUDGET_EXCEEDED names the cheapest plan (one frame, 512 px, low detail)', () => {
    // intervals 5, 7.5, 10, 15, 20, 30, 40, 60 (one frame), then max side 1024, 768, 512, then low detail at 512
    const cheapest = at({ every: 60, detail: 'low', maxSide: 512 });
    expect([cheapest.frames.length, cheapest.width, cheapest.height, cheapest.detailApplied]).toEqual([1, 512, 288, 'low']);
    let err: unknown;
    try {
      at({ every: 5, budget: 1e-6 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OmniprepError);
    const e = err as OmniprepError;
    expect(e.code).toBe('BUDGET_EXCEEDED');
    expect(e.message).toBe(
      `clip.mp4: nothing fits $0.000001; the cheapest plan (1 frame at 512x288 low) costs $${cheapest.costUsd.toFixed(6)} and ${cheapest.inputTokens} input tokens`,
    );
    expect(e.details).toEqual({ cheapestUsd: cheapest.costUsd, cheapestTokens: cheapest.inputTokens });
    expect(() => at({ every: 5, maxTokens: cheapest.inputTokens - 1 })).toThrow(new RegExp(`nothing fits ${cheapest.inputTokens - 1} input tokens`));
  });
  it('after the sizes, a frame cap on the cheapest setting (scene mode keeps cuts at any interval)', () => {
    // cuts at 13 s and 41 s; at the sparsest interval (60 s: minGap 12, maxGap 240) the plan still holds 0, 13, 41
    const scores = facts.index!.times.map(() => 0);
    scores[390] = 0.9;
    scores[1230] = 0.9;
    const sceneFacts = { ...facts, scene: { measure: 'ffmpeg' as const, times: facts.index!.times, keys: facts.index!.keyframe, scores } };
    const three = planFromFacts(sceneFacts, { mode: 'scene', sceneDetector: 'ffmpeg', every: 60, detail: 'low', maxSide: 512 });
    expect(three.frames.map((f) => f.timestampSec)).toEqual([0, 13, 41]);
    const two = planFromFacts(sceneFacts, { mode: 'scene', sceneDetector: 'ffmpeg', every: 60, detail: 'low', maxSide: 512, maxFrames: 2 });
    expect(two.frames.map((f) => f.timestampSec)).toEqual([0, 41]);
    const p = planFromFacts(sceneFacts, { mode: 'scene', sceneDetector: 'ffmpeg', every: 5, maxTokens: two.inputTokens });
    expect(p.frames.map((f) => f.timestampSec)).toEqual([0, 41]);
    expect(p.inputTokens).toBe(two.inputTokens);
    expect(p.budget!.chosen).toEqual({ every: 60, detail: 'low', maxSide: 512, maxFrames: 2 });
    // 8 intervals + 4 size steps + the cap at 2
    expect(p.budget!.tried).toBe(13);
  });
});

describe('other inputs', () => {
  it('an image: one frame at 0, sized by the model, no index needed', () => {
    const info = videoInfo(0, { input: 'photo.png', kind: 'image', container: 'png', formatName: 'image' });
    info.video = { ...info.video!, width: 800, height: 600, codedWidth: 800, codedHeight: 600, fps: 0 };
    const p = planFromFacts({ info }, { model: 'gpt-4o' });
    // gpt-4o high: 800x600 -> short side 600 <= 768, stays; 2x2 tiles = 765; nothing down to 720 px is cheaper per pixel
    expect(p.frames).toEqual([{ index: 0, timestampSec: 0, targetSec: 0, keyframe: true, source: 'exact', pos: -1 }]);
    expect([p.width, p.height, p.tokensPerFrame, p.imageTokens]).toEqual([800, 600, 765, 765]);
    expect(p.requests).toBe(1);
  });
  it('an audio-only input without `audio` is NO_VIDEO_STREAM', () => {
    const info: MediaInfo = {
      ...videoInfo(30, { input: 'talk.mp3', kind: 'audio', container: 'mp3', formatName: 'mp3' }),
      video: undefined,
      audio: { index: 0, codec: 'mp3', sampleRate: 44_100, channels: 2, channelLayout: 'stereo', durationSec: 30, startSec: 0, bitRate: 128_000 },
    };
    delete (info as { video?: unknown }).video;
    try {
      planFromFacts({ info });
      expect.unreachable();
    } catch (e) {
      expect((e as OmniprepError).code).toBe('NO_VIDEO_STREAM');
      expect((e as OmniprepError).message).toBe('talk.mp3: has no video stream to sample (it is mp3 audio; use --audio or omniprep audio)');
    }
  });
});

describe('bounds and bad options', () => {
  const hour = { info: videoInfo(3600) };
  it('every: 1e-7 on an hour is refused at once, naming every, the value and the limit', () => {
    // no packet index is given: a planner that built the target list first would fail differently
    expect(() => planFromFacts(hour, { every: 1e-7 })).toThrow(/^option every: expected a number from 0\.001 to 86400, got 1e-7$/);
    try {
      planFromFacts(hour, { every: 1e-7 });
    } catch (e) {
      expect((e as OmniprepError).code).toBe('INVALID_OPTION');
    }
  });
  it('every within the schema but over 100000 targets for the span is refused by the work bound', () => {
    // 3600 s / 0.01 = 360000 targets > 100000: at least 0.036 s here
    expect(() => planFromFacts(hour, { every: 0.01 })).toThrow(
      /^option every: expected at least 0\.0360 s here \(3600\.000 s of media; at most 100000 target times per plan\), got 0\.01$/,
    );
    expect(() => planFromFacts(hour, { every: 0.01, start: 3590 })).toThrow(/needs its packet index/); // 1000 targets: fine
  });
  it('maxGap too small for the span in scene mode', () => {
    expect(() => planFromFacts(hour, { mode: 'scene', every: 5, maxGap: 0.01 })).toThrow(/^option maxGap: expected at least 0\.0360 s here/);
  });
  it('start at or past the end', () => {
    expect(() => planFromFacts(facts, { start: 60 })).toThrow('option start: 60 s is at or past the end of clip.mp4 (60 s)');
    expect(() => planFromFacts(facts, { start: 75.5 })).toThrow('option start: 75.5 s is at or past the end of clip.mp4 (60 s)');
  });
  it('end before start, audio with a window, an unknown model', () => {
    expect(() => planFromFacts(facts, { start: 10, end: 5 })).toThrow(/^option end: expected a time after start \(10\), got 5$/);
    expect(() => planFromFacts(facts, { audio: true, start: 5 })).toThrow(/^option audio: --audio covers the whole file/);
    expect(() => planFromFacts(facts, { model: 'nope' })).toThrow(/unknown model nope/);
  });
});

describe('factsNeeded and sceneOnIndex', () => {
  it('a video needs its packet index, and its scene scores in scene mode; audio and images need neither', () => {
    expect(factsNeeded(facts.info, {})).toEqual({ index: true, scene: false });
    expect(factsNeeded(facts.info, { mode: 'exact' })).toEqual({ index: true, scene: false });
    expect(factsNeeded(facts.info, { mode: 'scene' })).toEqual({ index: true, scene: true });
    expect(factsNeeded({ ...facts.info, kind: 'audio' }, { mode: 'scene' })).toEqual({ index: false, scene: false });
    expect(factsNeeded({ ...facts.info, kind: 'image' }, {})).toEqual({ index: false, scene: false });
    const noVideo = { ...facts.info };
    delete noVideo.video;
    expect(factsNeeded(noVideo, {})).toEqual({ index: false, scene: false });
  });
  it('scan frames take the index time and keyframe flag of the packet at their byte position; unknown positions keep their own', () => {
    const idx: PacketIndex = { streamIndex: 0, times: [0, 0.5, 1], pos: [100, 200, -1], size: [1, 1, 1], keyframe: [true, false, false] };
    const scan = { measure: 'hsv' as const, times: [0.001, 0.499, 0.98], pos: [100, 200, -1], keyframes: [false, true, true], scores: [0, 0.5, 0.9] };
    expect(sceneOnIndex(idx, scan)).toEqual({ measure: 'hsv', times: [0, 0.5, 0.98], keys: [true, false, true], scores: [0, 0.5, 0.9] });
  });
});

describe('audio in the plan (chunks cut at the limits, 10 tokens per second on gpt-5.5)', () => {
  const audioStream = { index: 1, codec: 'aac', sampleRate: 48_000, channels: 2, channelLayout: 'stereo', durationSec: 60, startSec: 0, bitRate: 128_000 };
  const withAudio: PlanFacts = { info: { ...videoInfo(60), audio: audioStream }, index: facts.index };
  it('an audio-only input with audio: no frames, one 30 s chunk of 300 tokens, its label in the text', () => {
    const info: MediaInfo = {
      ...videoInfo(30, { input: 'talk.mp3', kind: 'audio', container: 'mp3', formatName: 'mp3' }),
      audio: { ...audioStream, codec: 'mp3', durationSec: 30 },
    };
    delete info.video;
    const p = planFromFacts({ info }, { audio: true });
    expect(p.frames).toEqual([]);
    expect([p.width, p.height, p.imageTokens]).toEqual([0, 0, 0]);
    expect(p.audio).toEqual({ seconds: 30, tokens: 300, chunks: [{ index: 0, startSec: 0, endSec: 30, tokens: 300 }] });
    expect([p.audioSeconds, p.audioTokens, p.requests]).toEqual([30, 300, 1]);
    expect(p.textTokens).toBe(6 + textTokens('gpt-5.5', '[audio 00:00-00:30]'));
    expect(p.inputTokens).toBe(300 + p.textTokens);
    expect(p.costUsd).toBe(dollars('gpt-5.5', { imageTokens: 0, audioTokens: 300, textTokens: p.textTokens, outputTokens: 1000 }));
  });
  it('frames and 20 s chunks in 20 s windows: one request per chunk, each with its frames', () => {
    const p = planFromFacts(withAudio, { audio: true, windowSec: 20, audioOptions: { chunkSeconds: 20 } });
    expect(p.audio!.chunks).toEqual([
      { index: 0, startSec: 0, endSec: 20, tokens: 200 },
      { index: 1, startSec: 20, endSec: 40, tokens: 200 },
      { index: 2, startSec: 40, endSec: 60, tokens: 200 },
    ]);
    expect(p.requests).toBe(3);
    const labels = labelTokens([0, 4, 10, 14, 20, 24, 30, 34, 40, 44, 50, 54]);
    const audioLabels = ['[audio 00:00-00:20]', '[audio 00:20-00:40]', '[audio 00:40-01:00]'].reduce((a, t) => a + textTokens('gpt-5.5', t), 0);
    expect(p.textTokens).toBe(3 * 6 + labels + audioLabels);
    expect(p.inputTokens).toBe(p.imageTokens + 600 + p.textTokens);
    // without windowSec every chunk joins the one request
    expect(planFromFacts(withAudio, { audio: true, audioOptions: { chunkSeconds: 20 } }).requests).toBe(1);
  });
  it('no audio stream, or a model without audio input: a note and a warning, not an error', () => {
    const silent = planFromFacts(facts, { audio: true });
    expect([silent.audio, silent.audioNote]).toEqual([null, 'clip.mp4: has no audio stream']);
    expect(silent.warnings).toEqual(['no audio in the estimate: clip.mp4: has no audio stream']);
    const deaf = planFromFacts(withAudio, { audio: true, model: 'gpt-4o' });
    expect([deaf.audio, deaf.audioNote]).toEqual([null, 'model gpt-4o takes no audio input']);
    expect(deaf.media.hasAudio).toBe(true);
  });
});
