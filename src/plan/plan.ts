/**
 * plan(input, options): from metadata alone (MediaInfo, the keyframe map, the frame index) to the
 * exact frames, their size, the audio, and the tokens and dollars of the request. Nothing is
 * decoded, except in scene mode, whose cuts can only be found by decoding (a cached scan).
 * `sample()` runs the same plan, so the two agree frame for frame.
 */
import { isRemoteInput, remoteOptions, RemoteInput } from '../source/remote.js';
import { OmniprepError } from '../errors.js';
import { resolveLimits } from '../limits.js';
import { resolveRegistry, type ModelEntry, type ModelRegistry } from '../models/registry.js';
import { chooseSize } from '../models/sizing.js';
import { dollars, dollarsByTier, getModel, imageTokens, textTokens } from '../models/tokens.js';
import { audioPlanFor } from '../audio/plan.js';
import { segmentTimeline } from '../audio/segments.js';
import { MIME } from '../image/formats.js';
import { estimateRequest } from '../request/build.js';
import type { AudioAsset, FrameAsset, Segment } from '../request/types.js';
import { packetIndex, type PacketIndex } from '../probe/keyframes.js';
import { probe } from '../probe/probe.js';
import type { MediaInfo } from '../probe/types.js';
import { sceneScan } from '../extract/scene.js';
import { dedupeTimes, exactMode, keyframeMode, numberFrames, sceneMode, thin, type Timeline } from './frames.js';
import { resolveSampling, type ResolvedSampling } from './options.js';
import type { BudgetReport, Plan, PlannedAudioChunk, PlannedFrame, PlannedGrid, PlanOptions } from './types.js';

/** A window length that means "no windows": the whole clip is one segment (split only by limits). */
const NO_WINDOWS = 1e9;

/**
 * The requests `run` would send for this plan, estimated by the request builder itself (so the
 * text tokens are those of the real bodies: the prompt, a timestamp label per image and audio
 * chunk, the per-message overhead). Segments come from the same `segmentTimeline()` that
 * `prepare()` uses: windows of `windowSec` (following the audio chunks when there are some),
 * each holding at most the model's images per request.
 */
function estimateRequests(
  ctx: PlanContext,
  images: FrameAsset[],
  audio: PlannedAudioChunk[],
  tier: Plan['tier'],
  outputTokens: number,
): { requests: number; textTokens: number } {
  const { model, options: o, end } = ctx;
  const windows = segmentTimeline(
    end,
    images,
    audio.map((c): AudioAsset => ({ index: c.index, startSec: c.startSec, endSec: c.endSec, format: 'mp3', tokens: c.tokens })),
    { windowSec: o.windowSec ?? NO_WINDOWS, maxFrames: Math.max(1, model.limits.imagesPerRequest || 1), startSec: ctx.sampling.start },
  );
  // The builder needs a prompt; without one (a plan of the media alone) a '.' stands in and its
  // token is taken off again.
  const prompt = o.prompt ?? '';
  const stand = prompt ? 0 : textTokens(model, '.');
  let text = 0;
  for (const w of windows) {
    const seg: Segment = { index: w.index, startSec: w.startSec, endSec: w.endSec, frames: w.frames, audio: w.audio };
    text += estimateRequest(seg, { model: model.name, registry: ctx.registry, rule: o.rule, prompt: prompt || '.', tier, expectedOutputTokens: outputTokens }).textTokens - stand;
  }
  return { requests: windows.length, textTokens: text };
}

/** Loads timeline facts once, as the modes ask for them. */
class TimelineLoader {
  private idx?: Promise<PacketIndex>;
  private scene?: Promise<{ times: number[]; keys: boolean[]; scores: number[] }>;
  constructor(
    private readonly info: MediaInfo,
    private readonly o: PlanOptions,
    private readonly limits: ReturnType<typeof resolveLimits>,
  ) {}
  index(): Promise<PacketIndex> {
    this.idx ??= packetIndex(this.info, this.o);
    return this.idx;
  }
  /** Scene scores, on the index's timeline (frames are matched by byte position where known). */
  sceneScan(start: number, end: number): Promise<{ times: number[]; keys: boolean[]; scores: number[] }> {
    this.scene ??= Promise.all([
      this.index(),
      sceneScan(this.info, {
        start,
        end,
        maxPixels: this.limits.maxPixels,
        timeoutMs: this.limits.processTimeoutMs,
        signal: this.o.signal,
        ffmpegPath: this.o.ffmpegPath,
      }),
    ]).then(([idx, scan]) => {
      const byPos = new Map<number, number>();
      idx.pos.forEach((p, i) => p >= 0 && byPos.set(p, i));
      const times: number[] = [];
      const keys: boolean[] = [];
      const scores: number[] = [];
      scan.times.forEach((t, i) => {
        const at = scan.pos[i]! >= 0 ? byPos.get(scan.pos[i]!) : undefined;
        times.push(at !== undefined ? idx.times[at]! : t);
        keys.push(at !== undefined ? idx.keyframe[at]! : scan.keyframes[i]!);
        scores.push(scan.scores[i]!);
      });
      return { times, keys, scores };
    });
    return this.scene;
  }
}

interface Setting {
  every: number;
  detail: string | undefined;
  maxSide: number | undefined;
  maxFrames: number | undefined;
}

async function selectFrames(info: MediaInfo, s: ResolvedSampling, setting: Setting, tl: TimelineLoader, end: number): Promise<{ frames: PlannedFrame[]; tolerance: number | null; before: number }> {
  const w = { start: s.start, end, every: setting.every };
  let picked: PlannedFrame[];
  let tolerance: number | null = null;
  if (info.kind === 'image') {
    picked = [{ index: 0, timestampSec: 0, targetSec: 0, keyframe: true, source: 'exact', pos: -1 }];
  } else if (s.mode === 'keyframe') {
    tolerance = s.tolerance ?? setting.every / 2;
    const idx = await tl.index();
    const timeline: Timeline = { keyframes: idx.times.filter((_, i) => idx.keyframe[i]), frames: idx.times, keyframeFlags: idx.keyframe };
    picked = keyframeMode(timeline, w, tolerance);
  } else if (s.mode === 'exact') {
    const idx = await tl.index();
    picked = exactMode({ frames: idx.times, keyframeFlags: idx.keyframe }, w);
  } else {
    const scan = await tl.sceneScan(s.start, end);
    picked = sceneMode({ frames: scan.times, keyframeFlags: scan.keys, sceneScores: scan.scores }, w, {
      threshold: s.sceneThreshold,
      minGap: s.minGap ?? setting.every / 5,
      maxGap: s.maxGap ?? setting.every * 4,
    });
  }
  const unique = dedupeTimes(picked);
  let frames = numberFrames(thin(unique, setting.maxFrames));
  if (info.kind !== 'image') {
    const idx = await tl.index();
    const posOf = new Map<number, number>();
    idx.times.forEach((t, i) => posOf.set(Math.round(t * 1e6), idx.pos[i]!));
    frames = frames.map((f) => ({ ...f, pos: posOf.get(Math.round(f.timestampSec * 1e6)) ?? -1 }));
  }
  return { frames, tolerance, before: unique.length };
}

function planGrids(model: ModelEntry, frames: PlannedFrame[], cell: { width: number; height: number }, grid: { cols: number; rows: number }, detail: string | undefined, slack: number): PlannedGrid[] {
  if (!frames.length) return [];
  const size = chooseSize(model, cell.width * grid.cols, cell.height * grid.rows, { detail, slack });
  const cellWidth = Math.floor(size.width / grid.cols);
  const cellHeight = Math.floor(size.height / grid.rows);
  const width = cellWidth * grid.cols;
  const height = cellHeight * grid.rows;
  const tokens = imageTokens(model, width, height, detail).tokens;
  const per = grid.cols * grid.rows;
  const grids: PlannedGrid[] = [];
  for (let i = 0; i < frames.length; i += per) {
    const group = frames.slice(i, i + per);
    grids.push({ index: grids.length, frames: group.map((f) => f.index), timestamps: group.map((f) => f.timestampSec), width, height, cellWidth, cellHeight, tokens });
  }
  return grids;
}

export interface PlanContext {
  info: MediaInfo;
  model: ModelEntry;
  registry: ModelRegistry;
  registryVersion: string;
  sampling: ResolvedSampling;
  timeline: TimelineLoader;
  end: number;
  options: PlanOptions;
}

/** One plan for one setting (the budget chooser calls this for each candidate). */
async function planFor(ctx: PlanContext, setting: Setting, started: number): Promise<Plan> {
  const { info, model, sampling: s, end, options: o } = ctx;
  const video = info.video;
  const warnings: string[] = [];
  let frames: PlannedFrame[] = [];
  let tolerance: number | null = null;
  let before = 0;
  let width = 0;
  let height = 0;
  let tokensPerFrame = 0;
  let detailApplied = setting.detail ?? 'auto';
  if (video && info.kind !== 'audio') {
    const sel = await selectFrames(info, s, setting, ctx.timeline, end);
    frames = sel.frames;
    tolerance = sel.tolerance;
    before = sel.before;
    const size = chooseSize(model, video.width, video.height, { detail: setting.detail, maxSide: setting.maxSide, slack: s.sizeSlack });
    width = size.width;
    height = size.height;
    tokensPerFrame = size.tokens;
    detailApplied = size.detail;
  } else if (!o.audio) {
    throw new OmniprepError('NO_VIDEO_STREAM', `${info.input}: has no video stream to sample (it is ${info.container} audio; use --audio or omniprep audio)`, { input: info.input });
  }
  const grids = s.grid && frames.length ? planGrids(model, frames, { width, height }, s.grid, setting.detail, s.sizeSlack) : null;
  const imageTokensTotal = grids ? grids.reduce((a, g) => a + g.tokens, 0) : frames.length * tokensPerFrame;
  if (grids && grids.length && grids[0]!.tokens >= tokensPerFrame * Math.min(frames.length, s.grid!.cols * s.grid!.rows)) {
    warnings.push(`a ${s.grid!.cols}x${s.grid!.rows} grid costs ${grids[0]!.tokens} tokens, no fewer than its frames sent alone`);
  }

  // Audio: the chunks chunkAudio() would cut at its limits (it moves each cut to a nearby pause,
  // which can add a chunk and a token or two: see the audio module).
  let audio: Plan['audio'] = null;
  let audioNote: string | null = null;
  if (o.audio) {
    if (!model.audio) audioNote = `model ${model.name} takes no audio input`;
    else {
      const a = audioPlanFor(info, { ...o.audioOptions, model, registry: ctx.registry });
      if (!a.hasAudio) audioNote = a.reason;
      else {
        const chunks: PlannedAudioChunk[] = a.chunks.map((c, index) => ({ index, startSec: c.startSec, endSec: c.endSec, tokens: c.tokens }));
        audio = { seconds: Math.round(a.totals.seconds * 1e6) / 1e6, tokens: a.totals.tokens, chunks };
      }
    }
    if (audioNote) warnings.push(`no audio in the estimate: ${audioNote}`);
  }

  const asset = (index: number, timestampSec: number, w: number, h: number, tokens: number): FrameAsset => ({ index, timestampSec, mime: MIME[s.format], width: w, height: h, detail: detailApplied, tokens });
  const images = grids
    ? grids.map((g) => asset(g.index, g.timestamps[0]!, g.width, g.height, g.tokens))
    : frames.map((f) => asset(f.index, f.timestampSec, width, height, tokensPerFrame));
  const { requests, textTokens } = estimateRequests(ctx, images, audio?.chunks ?? [], s.tier, s.outputTokens);
  const audioTok = audio?.tokens ?? 0;
  const inputTokens = imageTokensTotal + audioTok + textTokens;
  const counts = { imageTokens: imageTokensTotal, audioTokens: audioTok, textTokens, outputTokens: s.outputTokens };
  const image = model.image;
  return {
    input: info.input,
    mode: s.mode,
    model: model.name,
    detail: setting.detail ?? 'auto',
    detailApplied,
    every: setting.every,
    startSec: s.start,
    endSec: end,
    tolerance,
    format: s.format,
    quality: s.quality,
    width,
    height,
    tokensPerFrame,
    frames,
    framesBeforeCap: before,
    grids,
    imageTokens: imageTokensTotal,
    audio,
    audioNote,
    audioSeconds: audio?.seconds ?? 0,
    audioTokens: audioTok,
    textTokens,
    inputTokens,
    outputTokens: s.outputTokens,
    tier: s.tier,
    costUsd: dollars(model, counts, s.tier),
    costByTier: dollarsByTier(model, counts),
    rules: {
      image: image ? `${image.name}${detailApplied !== 'auto' ? ` ${detailApplied}` : ''} (${image.date})` : 'none',
      registryVersion: ctx.registryVersion,
      source: image?.source ?? model.source,
    },
    budget: null,
    requests,
    upperBound: s.dedup,
    warnings: s.dedup ? [...warnings, '--dedup: the frame count is an upper bound (duplicates are found while sampling)'] : warnings,
    media: {
      durationSec: info.durationSec,
      container: info.container,
      sizeBytes: info.sizeBytes,
      width: video?.width ?? 0,
      height: video?.height ?? 0,
      fps: video?.fps ?? 0,
      rotation: video?.rotation ?? 0,
      vfr: video?.vfr ?? false,
      hasAudio: Boolean(info.audio),
    },
    planMs: Math.round(performance.now() - started),
  };
}

export const BUDGET_ORDER =
  'interval (x1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32 of --every, up to one frame), then detail and size (--max-side 1024, 768, 512, then low detail), then a frame cap';

function fits(p: Plan, o: PlanOptions): boolean {
  return (o.budget === undefined || p.costUsd <= o.budget + 1e-12) && (o.maxTokens === undefined || p.inputTokens <= o.maxTokens);
}

/** The densest plan within the budget, walking BUDGET_ORDER; refuses with the cheapest cost when none fits. */
async function chooseWithinBudget(ctx: PlanContext, asked: Setting, started: number): Promise<Plan> {
  const o = ctx.options;
  let tried = 0;
  // The cheapest plan tried (a later one of equal cost wins: it is further along the order).
  let floorSeen: { plan: Plan; setting: Setting } | undefined;
  const attempt = async (setting: Setting): Promise<Plan> => {
    tried++;
    const p = await planFor(ctx, setting, started);
    const f = floorSeen?.plan;
    if (!f || p.costUsd < f.costUsd || (p.costUsd === f.costUsd && p.inputTokens <= f.inputTokens)) floorSeen = { plan: p, setting };
    return p;
  };
  const report = (p: Plan, setting: Setting): Plan => {
    const budget: BudgetReport = {
      limitUsd: o.budget ?? null,
      limitTokens: o.maxTokens ?? null,
      chosen: { every: setting.every, detail: p.detailApplied, maxSide: setting.maxSide ?? null, maxFrames: setting.maxFrames ?? null },
      changed: setting.every !== asked.every || setting.detail !== asked.detail || setting.maxSide !== asked.maxSide || setting.maxFrames !== asked.maxFrames,
      tried,
      order: BUDGET_ORDER,
    };
    return { ...p, budget, planMs: Math.round(performance.now() - started) };
  };

  const span = Math.max(0.001, ctx.end - ctx.sampling.start);
  const factors = [1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32];
  const intervals: number[] = [];
  for (const f of factors) {
    const e = Math.round(asked.every * f * 1000) / 1000;
    if (intervals.length && intervals[intervals.length - 1]! >= span) break;
    intervals.push(e);
  }
  if (intervals[intervals.length - 1]! < span) intervals.push(Math.ceil(span * 1000) / 1000 + 0.001);

  // 1. interval
  let lastSetting = asked;
  for (const every of intervals) {
    const setting = { ...asked, every };
    const p = await attempt(setting);
    if (fits(p, o)) return report(p, setting);
    lastSetting = setting;
  }
  // 2. detail and size, at the sparsest interval
  const sparsest = lastSetting.every;
  const sizeSteps: Setting[] = [1024, 768, 512]
    .filter((m) => asked.maxSide === undefined || m < asked.maxSide)
    .map((maxSide) => ({ ...asked, every: sparsest, maxSide }));
  if (ctx.model.image && ctx.model.image.type !== 'claude' && ctx.model.image.type !== 'claude-legacy' && ctx.model.image.type !== 'gemini-tiles') {
    const levels = ctx.model.image.type === 'tile' ? ['low'] : Object.keys('levels' in ctx.model.image ? ctx.model.image.levels : {}).filter((l) => l === 'low');
    for (const d of levels) sizeSteps.push({ ...asked, every: sparsest, detail: d, maxSide: Math.min(512, asked.maxSide ?? 512) });
  }
  for (const setting of sizeSteps) {
    const p = await attempt(setting);
    if (fits(p, o)) return report(p, setting);
  }
  // 3. a frame cap on the cheapest setting
  const { plan: cheapest, setting: cheapestSetting } = floorSeen!;
  for (let n = Math.min(cheapest.frames.length - 1, cheapest.framesBeforeCap - 1); n >= 1; n--) {
    const setting = { ...cheapestSetting, maxFrames: n };
    const p = await attempt(setting);
    if (fits(p, o)) return report(p, setting);
  }
  const floor = floorSeen!.plan;
  const what = o.budget !== undefined ? `$${o.budget}` : `${o.maxTokens} input tokens`;
  throw new OmniprepError(
    'BUDGET_EXCEEDED',
    `${ctx.info.input}: nothing fits ${what}; the cheapest plan (${floor.frames.length} frame${floor.frames.length === 1 ? '' : 's'} at ${floor.width}x${floor.height} ${floor.detailApplied}${floor.audio ? ', with audio' : ''}) costs $${floor.costUsd.toFixed(6)} and ${floor.inputTokens} input tokens`,
    { input: ctx.info.input, details: { cheapestUsd: floor.costUsd, cheapestTokens: floor.inputTokens } },
  );
}

/** Plans sampling and the request for an input (a path, or MediaInfo from probe()). */
export async function plan(input: string | MediaInfo, options: PlanOptions = {}): Promise<Plan> {
  if (isRemoteInput(input)) {
    // A URL: its first block and index are fetched, never the file (src/source/remote.ts).
    const remote = await RemoteInput.open(input, remoteOptions(options));
    try {
      const info = await probe(remote.path, { limits: options.limits, signal: options.signal, ffprobePath: options.ffprobePath, inputName: input });
      return { ...(await plan(info, options)), remote: remote.report() };
    } finally {
      await remote.close();
    }
  }
  const started = performance.now();
  const sampling = resolveSampling(options);
  const limits = resolveLimits(options.limits);
  const reg = resolveRegistry({ registry: options.registry, modelsFile: options.modelsFile });
  const model = getModel(options.model ?? 'gpt-5.5', { registry: reg, rule: options.rule });
  // Load the tokenizer (~0.2 s) while ffprobe reads the file, not after.
  const warm = setTimeout(() => textTokens(model, '.'), 1);
  warm.unref();
  const info = typeof input === 'string' ? await probe(input, { limits: options.limits, signal: options.signal, ffprobePath: options.ffprobePath }) : input;
  if (options.audio && (options.start !== undefined || options.end !== undefined)) {
    throw new OmniprepError('INVALID_OPTION', 'option audio: --audio covers the whole file; it cannot be combined with --start/--end yet (cut the clip first, or plan frames and audio separately)');
  }
  if (sampling.start >= info.durationSec && info.kind !== 'image') {
    throw new OmniprepError('INVALID_OPTION', `option start: ${sampling.start} s is at or past the end of ${info.input} (${info.durationSec} s)`);
  }
  const end = info.kind === 'image' ? 1 : Math.min(sampling.end ?? info.durationSec, info.durationSec);
  const ctx: PlanContext = {
    info,
    model,
    registry: reg,
    registryVersion: reg.version,
    sampling,
    timeline: new TimelineLoader(info, options, limits),
    end,
    options,
  };
  const asked: Setting = { every: sampling.every, detail: sampling.detail, maxSide: sampling.maxSide, maxFrames: sampling.maxFrames };
  if (options.budget !== undefined || options.maxTokens !== undefined) return chooseWithinBudget(ctx, asked, started);
  return planFor(ctx, asked, started);
}
