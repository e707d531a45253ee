/**
 * The pure planner: from the facts about an input (MediaInfo, its packet index, its scene scores)
 * and the options to the exact frames, their size, the audio, and the tokens and dollars of the
 * requests. It does no I/O: plan() (plan.ts) gathers the facts, and sampling, cost curves, budgets
 * and the service call this with facts they already hold. See ARCHITECTURE.md, "Planning".
 */
import { OmniprepError } from '../errors.js';
import type { ModelEntry, ModelRegistry } from '../models/registry.js';
import { chooseSize } from '../models/sizing.js';
import { geminiVideoTokens, MAX_VIDEO_FPS } from '../models/video.js';
import { dollars, dollarsByTier, imageTokens, textTokens } from '../models/tokens.js';
import { audioPlanFor } from '../audio/plan.js';
import { segmentTimeline } from '../audio/segments.js';
import { MIME, MODE_TRAITS, type Mode, type SceneMeasure } from '../media/formats.js';
import { estimateRequest } from '../request/build.js';
import type { AudioAsset, FrameAsset, Segment, VideoAsset } from '../request/types.js';
import type { MediaInfo, PacketIndex } from '../probe/types.js';
import { checkWorkBounds } from '../options/sampling.js';
import { dedupeTimes, exactMode, keyframeMode, numberFrames, sceneMode, thin, type Timeline } from './frames.js';
import { resolveOptions, type Resolved, type ResolvedSampling } from '../options/resolve.js';
import { cutTest } from './scenes.js';
import type { BudgetReport, Plan, PlannedAudioChunk, PlannedFrame, PlannedGrid, PlanOptions, PlannedVideo } from './types.js';

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
  every: number,
): { requests: number; textTokens: number } {
  const { model, options: o, end } = ctx;
  const windows = segmentTimeline(
    end,
    images,
    audio.map((c): AudioAsset => ({ index: c.index, startSec: c.startSec, endSec: c.endSec, format: 'mp3', tokens: c.tokens })),
    {
      windowSec: o.windowSec ?? NO_WINDOWS,
      maxFrames: Math.max(1, model.limits.imagesPerRequest || 1),
      startSec: ctx.sampling.start,
      minWindowSec: every / 2,
    },
  );
  // The builder needs a prompt; without one (a plan of the media alone) a '.' stands in and its
  // token is taken off again.
  const prompt = o.prompt ?? '';
  const stand = prompt ? 0 : textTokens(model, '.');
  let text = 0;
  for (const w of windows) {
    const seg: Segment = { index: w.index, startSec: w.startSec, endSec: w.endSec, frames: w.frames, audio: w.audio };
    text += estimateRequest(seg, { model, prompt: prompt || '.', tier, expectedOutputTokens: outputTokens }).textTokens - stand;
  }
  return { requests: windows.length, textTokens: text };
}

/**
 * The most images one request of this plan holds: the frames of the fullest window (`windowSec`
 * from the start), at most the model's images per request. Claude's smaller side limit above
 * `manyImages` images (2000 px above 20) depends on it.
 */
function imagesPerRequestOf(frames: readonly PlannedFrame[], model: ModelEntry, start: number, windowSec: number | undefined): number {
  const cap = Math.max(1, model.limits.imagesPerRequest || 1);
  if (!windowSec) return Math.min(frames.length, cap);
  const counts = new Map<number, number>();
  for (const f of frames) {
    const w = Math.floor((f.timestampSec - start) / windowSec);
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return Math.min(cap, Math.max(0, ...counts.values()));
}

interface Setting {
  every: number;
  detail: string | undefined;
  maxSide: number | undefined;
  maxFrames: number | undefined;
}

type Window = { start: number; end: number; every: number };
type Selection = { picked: PlannedFrame[]; tolerance: number | null };

/** Each mode's frame selection (pure: facts + window -> planned frames); MODE_TRAITS says what else a mode needs. */
const SELECT: Readonly<Record<Mode, (facts: PlanFacts, s: ResolvedSampling, setting: Setting, w: Window) => Selection>> = {
  keyframe(facts, s, setting, w) {
    const tolerance = s.tolerance ?? setting.every / 2;
    const idx = needIndex(facts);
    // An index of keyframes only has no other frame to fall back on (frames.ts: IncompleteIndex).
    const frames = idx.keyframesOnly ? undefined : idx.times;
    const timeline: Timeline = { keyframes: idx.times.filter((_, i) => idx.keyframe[i]), frames, keyframeFlags: idx.keyframe };
    return { picked: keyframeMode(timeline, w, tolerance), tolerance };
  },
  exact(facts, _s, _setting, w) {
    const idx = needIndex(facts);
    return { picked: exactMode({ frames: idx.keyframesOnly ? undefined : idx.times, keyframeFlags: idx.keyframe }, w), tolerance: null };
  },
  scene(facts, s, setting, w) {
    const scan = facts.scene;
    if (!scan) throw new Error('plan: scene mode needs the scene scores among the facts');
    const cuts = cutTest(scan, s);
    const picked = sceneMode({ frames: scan.times, keyframeFlags: scan.keys, sceneScores: cuts.values }, w, {
      threshold: cuts.threshold,
      minGap: s.minGap ?? setting.every / 5,
      maxGap: s.maxGap ?? setting.every * 4,
    });
    return { picked, tolerance: null };
  },
};

function selectFrames(
  facts: PlanFacts,
  s: ResolvedSampling,
  setting: Setting,
  end: number,
): { frames: PlannedFrame[]; tolerance: number | null; before: number } {
  const info = facts.info;
  const w = { start: s.start, end, every: setting.every };
  const { picked, tolerance }: Selection =
    info.kind === 'image'
      ? { picked: [{ index: 0, timestampSec: 0, targetSec: 0, keyframe: true, source: 'exact', pos: -1 }], tolerance: null }
      : SELECT[s.mode](facts, s, setting, w);
  const unique = dedupeTimes(picked);
  let frames = numberFrames(thin(unique, setting.maxFrames));
  if (info.kind !== 'image') {
    const idx = needIndex(facts);
    const posOf = new Map<number, number>();
    idx.times.forEach((t, i) => posOf.set(Math.round(t * 1e6), idx.pos[i]!));
    frames = frames.map((f) => ({ ...f, pos: posOf.get(Math.round(f.timestampSec * 1e6)) ?? -1 }));
  }
  return { frames, tolerance, before: unique.length };
}

/**
 * Whether a grid of `frames` frames costs fewer tokens than those frames sent alone. A group it
 * does not pay for (the last, part-filled grid; every grid where the model bills a large image
 * by area) is sent as its frames.
 */
export function gridPays(gridTokens: number, frames: number, tokensPerFrame: number): boolean {
  return gridTokens < frames * tokensPerFrame;
}

/** --grid: the grids that pay (gridPays), the frames sent alone, and a warning naming what was not tiled. */
function planGrids(
  model: ModelEntry,
  frames: PlannedFrame[],
  cell: { width: number; height: number; tokens: number },
  grid: { cols: number; rows: number },
  detail: string | undefined,
  slack: number,
): { grids: PlannedGrid[] | null; alone: PlannedFrame[]; warning: string | undefined } {
  const size = chooseSize(model, cell.width * grid.cols, cell.height * grid.rows, { detail, slack });
  const cellWidth = Math.floor(size.width / grid.cols);
  const cellHeight = Math.floor(size.height / grid.rows);
  const width = cellWidth * grid.cols;
  const height = cellHeight * grid.rows;
  const tokens = imageTokens(model, width, height, detail).tokens;
  const per = grid.cols * grid.rows;
  const grids: PlannedGrid[] = [];
  const alone: PlannedFrame[] = [];
  for (let i = 0; i < frames.length; i += per) {
    const group = frames.slice(i, i + per);
    if (!gridPays(tokens, group.length, cell.tokens)) {
      alone.push(...group);
      continue;
    }
    const at = { index: grids.length, frames: group.map((f) => f.index), timestamps: group.map((f) => f.timestampSec) };
    grids.push({ ...at, width, height, cellWidth, cellHeight, tokens });
  }
  const name = `--grid ${grid.cols}x${grid.rows}`;
  const warning = !alone.length
    ? undefined
    : !grids.length
      ? `${name}: a grid costs ${tokens} tokens, no fewer than its frames sent alone (${Math.min(per, frames.length)} x ${cell.tokens}): every frame is sent alone`
      : `${name}: the last ${alone.length} frame(s) are sent alone (${alone.length * cell.tokens} tokens), not in a grid that would cost ${tokens}`;
  return { grids: grids.length ? grids : null, alone, warning };
}

/** What is known about an input before planning: all the planner reads. */
export interface PlanFacts {
  info: MediaInfo;
  /** The video stream's packet index (needed for a video in keyframe and exact mode, and for scene mode's positions). */
  index?: PacketIndex | undefined;
  /** Scene scores on the index's timeline (scene mode only): see sceneOnIndex(). */
  scene?: SceneFacts | undefined;
}

export interface SceneFacts {
  /** What the scores are: ffmpeg's scene score (the ffmpeg detector) or the HSV difference (content, adaptive). */
  measure: SceneMeasure;
  times: number[];
  keys: boolean[];
  scores: number[];
}

function needIndex(facts: PlanFacts): PacketIndex {
  if (!facts.index) throw new Error(`plan: ${facts.info.input} needs its packet index among the facts`);
  return facts.index;
}

/** Which facts a plan of this input needs, beyond MediaInfo. */
export function factsNeeded(info: MediaInfo, o: Pick<PlanOptions, 'mode' | 'send'>): { index: boolean; scene: boolean } {
  const video = Boolean(info.video) && info.kind !== 'audio' && info.kind !== 'image';
  const frames = video && (o.send ?? 'frames') === 'frames';
  return { index: frames, scene: frames && MODE_TRAITS[o.mode ?? 'keyframe'].sceneScan };
}

/** What the plan says of the input itself (zeros for what an audio-only input lacks). */
function mediaSummary(info: MediaInfo): Plan['media'] {
  const video = info.video;
  return {
    durationSec: info.durationSec,
    container: info.container,
    sizeBytes: info.sizeBytes,
    width: video?.width ?? 0,
    height: video?.height ?? 0,
    fps: video?.fps ?? 0,
    rotation: video?.rotation ?? 0,
    vfr: video?.vfr ?? false,
    hasAudio: Boolean(info.audio),
  };
}

/** A scene scan's frames put on the index's timeline (matched by byte position where known). */
export function sceneOnIndex(
  idx: PacketIndex,
  scan: { measure: SceneMeasure; times: number[]; pos: number[]; keyframes: boolean[]; scores: number[] },
): SceneFacts {
  const byPos = new Map<number, number>();
  idx.pos.forEach((p, i) => p >= 0 && byPos.set(p, i));
  const out: SceneFacts = { measure: scan.measure, times: [], keys: [], scores: [] };
  scan.times.forEach((t, i) => {
    const at = scan.pos[i]! >= 0 ? byPos.get(scan.pos[i]!) : undefined;
    out.times.push(at !== undefined ? idx.times[at]! : t);
    out.keys.push(at !== undefined ? idx.keyframe[at]! : scan.keyframes[i]!);
    out.scores.push(scan.scores[i]!);
  });
  return out;
}

export interface PlanContext {
  facts: PlanFacts;
  info: MediaInfo;
  model: ModelEntry;
  registry: ModelRegistry;
  registryVersion: string;
  sampling: ResolvedSampling;
  end: number;
  options: PlanOptions;
}

const VIDEO_MIME: Record<string, string> = {
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  matroska: 'video/x-matroska',
  webm: 'video/webm',
  avi: 'video/x-msvideo',
  mpegts: 'video/mp2t',
  flv: 'video/x-flv',
};

/** The clip's MIME type for the File API (by container; mp4 when unknown). */
export function videoMime(container: string): string {
  return VIDEO_MIME[container.split(',')[0]!] ?? 'video/mp4';
}

/** The windows of a video plan as request assets (`fileUri` once the clip is uploaded). */
export function videoAssets(p: Pick<Plan, 'video' | 'detailApplied'>, fileUri?: string): VideoAsset[] {
  if (!p.video) return [];
  const v = p.video;
  return v.windows.map((w) => ({
    index: w.index,
    startSec: w.startSec,
    endSec: w.endSec,
    fps: v.fps,
    mime: v.mime,
    ...(fileUri ? { fileUri } : {}),
    detail: p.detailApplied,
    frames: w.frames,
    frameTokens: w.frameTokens,
    audioSeconds: w.audioSeconds,
    audioTokens: w.audioTokens,
  }));
}

/**
 * The clip sent as video (Gemini): one request per window (`windowSec`, else the whole clip
 * window), each naming its window with `startOffset`/`endOffset` and `fps` = 1/`every` (at most
 * 24, the API's limit); frames and audio billed by the registry's video rule (src/models/video.ts).
 * The text tokens are those of the real request bodies, as for frames.
 */
function planVideo(ctx: PlanContext, setting: Setting, started: number): Plan {
  const { info, model, sampling: s, end, options: o } = ctx;
  if (!info.video || info.kind !== 'video') {
    throw new OmniprepError('NO_VIDEO_STREAM', `${info.input}: has no video stream to send as video`, { input: info.input });
  }
  if (!model.video) {
    throw new OmniprepError('INVALID_OPTION', `option send: model ${model.name} takes no video input (--send video is for Gemini models); send frames`, {
      details: { option: 'send' },
    });
  }
  const warnings: string[] = [];
  if (o.audio) warnings.push('--audio: the video carries its own audio track; it is billed with the video');
  const fps = Math.min(MAX_VIDEO_FPS, Math.round(1e6 / setting.every) / 1e6);
  const detail = setting.detail ?? 'auto';
  const windowSec = o.windowSec ?? NO_WINDOWS;
  const windows: PlannedVideo['windows'] = [];
  for (let t = s.start; t < end - 1e-9; ) {
    // A tail shorter than half an interval joins the window before it (as segmentTimeline's minWindowSec).
    const w = { startSec: t, endSec: end - (t + windowSec) < setting.every / 2 ? end : t + windowSec };
    const v = geminiVideoTokens(model, { ...w, fps, hasAudio: Boolean(info.audio), detail });
    windows.push({ index: windows.length, ...w, frames: v.frames, frameTokens: v.frameTokens, audioSeconds: v.audioSeconds, audioTokens: v.audioTokens });
    t = w.endSec;
  }
  const first = geminiVideoTokens(model, { startSec: 0, endSec: 1, fps, hasAudio: false, detail });
  const video: PlannedVideo = {
    fps,
    frames: windows.reduce((a, w) => a + w.frames, 0),
    tokensPerFrame: first.tokensPerFrame,
    frameTokens: windows.reduce((a, w) => a + w.frameTokens, 0),
    audioSeconds: Math.round(windows.reduce((a, w) => a + w.audioSeconds, 0) * 1e6) / 1e6,
    audioTokens: windows.reduce((a, w) => a + w.audioTokens, 0),
    windows,
    mime: videoMime(info.container),
  };
  // Text tokens of the real bodies (prompt, a [video mm:ss-mm:ss] label, overhead), as for frames.
  const prompt = o.prompt ?? '';
  const stand = prompt ? 0 : textTokens(model, '.');
  let text = 0;
  for (const clip of videoAssets({ video, detailApplied: detail })) {
    const seg: Segment = { index: clip.index, startSec: clip.startSec, endSec: clip.endSec, frames: [], audio: [], video: [clip] };
    text +=
      estimateRequest(seg, {
        model,
        prompt: prompt || '.',
        tier: s.tier,
        expectedOutputTokens: s.outputTokens,
      }).textTokens - stand;
  }
  const inputTokens = video.frameTokens + video.audioTokens + text;
  const counts = { imageTokens: video.frameTokens, audioTokens: video.audioTokens, textTokens: text, outputTokens: s.outputTokens };
  return {
    input: info.input,
    send: 'video',
    video,
    mode: s.mode,
    model: model.name,
    detail: detail,
    detailApplied: detail,
    every: setting.every,
    startSec: s.start,
    endSec: end,
    tolerance: null,
    format: s.format,
    quality: s.quality,
    width: info.video.width,
    height: info.video.height,
    tokensPerFrame: video.tokensPerFrame,
    frames: [],
    framesBeforeCap: 0,
    grids: null,
    imageTokens: 0,
    videoTokens: video.frameTokens,
    audio: null,
    audioNote: null,
    audioSeconds: video.audioSeconds,
    audioTokens: video.audioTokens,
    textTokens: text,
    inputTokens,
    outputTokens: s.outputTokens,
    tier: s.tier,
    costUsd: dollars(model, counts, s.tier),
    costByTier: dollarsByTier(model, counts),
    rules: {
      image: `${model.name} video: ${video.tokensPerFrame} tokens per frame at ${fps} fps, ${model.video.audioTokensPerSecond} audio tokens per second (${model.date})`,
      registryVersion: ctx.registryVersion,
      source: model.source,
    },
    budget: null,
    requests: windows.length,
    upperBound: false,
    warnings,
    media: mediaSummary(info),
    planMs: Math.round(performance.now() - started),
  };
}

/** The frames one setting picks, and the size that costs least for them (a video; else none). */
function sizedFrames(
  ctx: PlanContext,
  setting: Setting,
  warnings: string[],
): { frames: PlannedFrame[]; tolerance: number | null; before: number; width: number; height: number; tokensPerFrame: number; detailApplied: string } {
  const { info, model, sampling: s, end, options: o } = ctx;
  const video = info.video;
  let frames: PlannedFrame[] = [];
  let tolerance: number | null = null;
  let before = 0;
  let width = 0;
  let height = 0;
  let tokensPerFrame = 0;
  let detailApplied = setting.detail ?? 'auto';
  if (video && info.kind !== 'audio') {
    const sel = selectFrames(ctx.facts, s, setting, end);
    frames = sel.frames;
    tolerance = sel.tolerance;
    before = sel.before;
    // Claude: above `manyImages` images per request, every image must fit `maxSideManyImages`
    // (2000 px above 20): size the frames to it rather than splitting the request.
    let maxSide = setting.maxSide;
    const l = model.limits;
    if (l.manyImages !== undefined && l.maxSideManyImages !== undefined && imagesPerRequestOf(frames, model, s.start, o.windowSec) > l.manyImages) {
      if (maxSide === undefined || maxSide > l.maxSideManyImages) {
        const natural = chooseSize(model, video.width, video.height, { detail: setting.detail, maxSide, slack: s.sizeSlack });
        if (Math.max(natural.width, natural.height) > l.maxSideManyImages) {
          warnings.push(
            `frames sized to ${l.maxSideManyImages} px: ${model.name} takes at most ${l.maxSideManyImages} px per side in a request of more than ${l.manyImages} images`,
          );
        }
        maxSide = l.maxSideManyImages;
      }
    }
    const size = chooseSize(model, video.width, video.height, { detail: setting.detail, maxSide, slack: s.sizeSlack });
    width = size.width;
    height = size.height;
    tokensPerFrame = size.tokens;
    detailApplied = size.detail;
  } else if (!o.audio) {
    throw new OmniprepError('NO_VIDEO_STREAM', `${info.input}: has no video stream to sample (it is ${info.container} audio; use --audio or omniprep audio)`, {
      input: info.input,
    });
  }
  return { frames, tolerance, before, width, height, tokensPerFrame, detailApplied };
}

/**
 * The audio in the estimate: the chunks chunkAudio() would cut at its limits (it moves each cut
 * to a nearby pause, which can add a chunk and a token or two: see the audio module).
 */
function audioEstimate(ctx: PlanContext, warnings: string[]): { audio: Plan['audio']; audioNote: string | null } {
  const { info, model, options: o } = ctx;
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
  return { audio, audioNote };
}

/** One plan for one setting (the budget chooser calls this for each candidate). */
function planFor(ctx: PlanContext, setting: Setting, started: number): Plan {
  if (ctx.options.send === 'video') return planVideo(ctx, setting, started);
  const { info, model, sampling: s, end } = ctx;
  const warnings: string[] = [];
  const { frames, tolerance, before, width, height, tokensPerFrame, detailApplied } = sizedFrames(ctx, setting, warnings);
  const tiled = s.grid && frames.length ? planGrids(model, frames, { width, height, tokens: tokensPerFrame }, s.grid, setting.detail, s.sizeSlack) : null;
  const grids = tiled?.grids ?? null;
  // The frames sent as they are: all of them, or those no grid pays for.
  const alone = tiled ? tiled.alone : frames;
  if (tiled?.warning) warnings.push(tiled.warning);
  const imageTokensTotal = (grids ?? []).reduce((a, g) => a + g.tokens, 0) + alone.length * tokensPerFrame;

  const { audio, audioNote } = audioEstimate(ctx, warnings);

  const asset = (index: number, timestampSec: number, w: number, h: number, tokens: number): FrameAsset => ({
    index,
    timestampSec,
    mime: MIME[s.format],
    width: w,
    height: h,
    detail: detailApplied,
    tokens,
  });
  const images = [
    ...(grids ?? []).map((g) => asset(g.index, g.timestamps[0]!, g.width, g.height, g.tokens)),
    ...alone.map((f) => asset(f.index, f.timestampSec, width, height, tokensPerFrame)),
  ];
  const { requests, textTokens } = estimateRequests(ctx, images, audio?.chunks ?? [], s.tier, s.outputTokens, setting.every);
  const audioTok = audio?.tokens ?? 0;
  const inputTokens = imageTokensTotal + audioTok + textTokens;
  const counts = { imageTokens: imageTokensTotal, audioTokens: audioTok, textTokens, outputTokens: s.outputTokens };
  const image = model.image;
  return {
    input: info.input,
    send: 'frames',
    video: null,
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
    videoTokens: 0,
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
    media: mediaSummary(info),
    planMs: Math.round(performance.now() - started),
  };
}

export const BUDGET_ORDER =
  'interval (x1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32 of --every, up to one frame), then detail and size (--max-side 1024, 768, 512, then low detail), then a frame cap';

function fits(p: Plan, o: PlanOptions): boolean {
  return (o.budget === undefined || p.costUsd <= o.budget + 1e-12) && (o.maxTokens === undefined || p.inputTokens <= o.maxTokens);
}

/** The densest plan within the budget, walking BUDGET_ORDER; refuses with the cheapest cost when none fits. */
function chooseWithinBudget(ctx: PlanContext, asked: Setting, started: number): Plan {
  const o = ctx.options;
  let tried = 0;
  // The cheapest plan tried (a later one of equal cost wins: it is further along the order).
  let floorSeen: { plan: Plan; setting: Setting } | undefined;
  const attempt = (setting: Setting): Plan => {
    tried++;
    const p = planFor(ctx, setting, started);
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
    const p = attempt(setting);
    if (fits(p, o)) return report(p, setting);
    lastSetting = setting;
  }
  // 2. detail and size, at the sparsest interval
  const sparsest = lastSetting.every;
  const sizeSteps: Setting[] = [1024, 768, 512]
    .filter((m) => asked.maxSide === undefined || m < asked.maxSide)
    .map((maxSide) => ({ ...asked, every: sparsest, maxSide }));
  if (ctx.model.image && ctx.model.image.type !== 'claude' && ctx.model.image.type !== 'claude-legacy' && ctx.model.image.type !== 'gemini-tiles') {
    const levels =
      ctx.model.image.type === 'tile' ? ['low'] : Object.keys('levels' in ctx.model.image ? ctx.model.image.levels : {}).filter((l) => l === 'low');
    for (const d of levels) sizeSteps.push({ ...asked, every: sparsest, detail: d, maxSide: Math.min(512, asked.maxSide ?? 512) });
  }
  for (const setting of sizeSteps) {
    const p = attempt(setting);
    if (fits(p, o)) return report(p, setting);
  }
  // 3. a frame cap on the cheapest setting
  const { plan: cheapest, setting: cheapestSetting } = floorSeen!;
  for (let n = Math.min(cheapest.frames.length - 1, cheapest.framesBeforeCap - 1); n >= 1; n--) {
    const setting = { ...cheapestSetting, maxFrames: n };
    const p = attempt(setting);
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

/**
 * The plan for an input, from its facts and the options (pure: no I/O). plan() gathers the facts;
 * call this directly when you hold them (a service, a cost curve, many plans of one file).
 */
export function planFromFacts(facts: PlanFacts, given: PlanOptions | Resolved<PlanOptions> = {}, started = performance.now()): Plan {
  const info = facts.info;
  const r = resolveOptions<PlanOptions>(given);
  const { options, sampling, registry: reg, model } = r;
  if (options.audio && (options.start !== undefined || options.end !== undefined)) {
    throw new OmniprepError(
      'INVALID_OPTION',
      'option audio: --audio covers the whole file; it cannot be combined with --start/--end yet (cut the clip first, or plan frames and audio separately)',
    );
  }
  if (sampling.start >= info.durationSec && info.kind !== 'image') {
    throw new OmniprepError('INVALID_OPTION', `option start: ${sampling.start} s is at or past the end of ${info.input} (${info.durationSec} s)`);
  }
  const end = info.kind === 'image' ? 1 : Math.min(sampling.end ?? info.durationSec, info.durationSec);
  checkWorkBounds(end - sampling.start, { every: sampling.every, windowSec: options.windowSec, maxGap: sampling.maxGap, mode: sampling.mode });
  const ctx: PlanContext = { facts, info, model, registry: reg, registryVersion: reg.version, sampling, end, options };
  const asked: Setting = { every: sampling.every, detail: sampling.detail, maxSide: sampling.maxSide, maxFrames: sampling.maxFrames };
  if (options.budget !== undefined || options.maxTokens !== undefined) return chooseWithinBudget(ctx, asked, started);
  return planFor(ctx, asked, started);
}
