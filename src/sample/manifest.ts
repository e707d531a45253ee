/** The manifest sample() writes next to the frames: its types, and building it from a run's results. */
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Plan, PlannedFrame } from '../plan/types.js';
import type { RemoteReport } from '../source/remote.js';

/**
 * Why a frame was taken: `first` (scene mode's first frame), `cut` (a scene change), `gap` (a
 * static stretch reached --max-gap), `keyframe` (the keyframe nearest a target), `interval` (the
 * frame at or near a target time, where no keyframe was in the window, or in exact mode).
 */
export type FrameReason = 'first' | 'cut' | 'gap' | 'keyframe' | 'interval';

/** A planned frame's reason, from its source alone (only scene mode plans frames of source scene). */
export function reasonOf(f: PlannedFrame): FrameReason {
  if (f.source === 'keyframe') return 'keyframe';
  if (f.source === 'fill') return 'gap';
  if (f.source === 'scene') return f.index === 0 ? 'first' : 'cut';
  return 'interval';
}

export interface SampledFrame {
  index: number;
  /** Absolute path of the image. */
  file: string;
  timestampSec: number;
  width: number;
  height: number;
  bytes: number;
  tokens: number;
  keyframe: boolean;
  reason: FrameReason;
}

export interface ManifestFrame extends Omit<SampledFrame, 'file'> {
  /** Relative to the manifest's directory. */
  file: string;
}

export interface ManifestGrid {
  index: number;
  file: string;
  timestamps: number[];
  frames: number[];
  width: number;
  height: number;
  bytes: number;
  tokens: number;
}

export interface DroppedFrame {
  index: number;
  timestampSec: number;
  duplicateOf: number;
  distance: number;
  meanDiff: number;
}

export interface Manifest {
  input: string;
  mode: Plan['mode'];
  model: string;
  detail: string;
  every: number;
  startSec: number;
  endSec: number;
  format: Plan['format'];
  frames: ManifestFrame[];
  /** Frames --dedup dropped, and the kept frame each repeated. */
  dropped: DroppedFrame[];
  grids?: ManifestGrid[];
  totals: { frames: number; bytes: number; imageTokens: number; frameTokens: number };
  plan: Pick<Plan, 'inputTokens' | 'textTokens' | 'audioTokens' | 'costUsd' | 'tier'> & { frames: number; imageTokens: number; budget: Plan['budget'] };
  warnings: string[];
  /**
   * Times, and how many decode tasks took each path: keyframe-stream and span-stream (H.264),
   * one-pass (a sequential pass across groups of pictures), range (a seek and a decode per range).
   */
  timings: { planMs: number; sampleMs: number; decodeMs: number; decodePaths: Record<string, number> };
  /** http(s) inputs: read by ranges or whole, bytes fetched and requests made. */
  remote?: RemoteReport | undefined;
}

export interface RunRecord {
  input: string;
  plan: Plan;
  dir: string;
  kept: SampledFrame[];
  dropped: DroppedFrame[];
  grids: ManifestGrid[] | undefined;
  started: number;
  decodeMs: number;
  decodePaths: Record<string, number>;
  /** Files of an earlier run removed from the output directory first. */
  replaced?: number;
}

function driftWarning(p: Plan, kept: SampledFrame[]): string[] {
  const drift = kept.filter((f) => Math.abs(f.timestampSec - p.frames[f.index]!.timestampSec) > 0.002);
  if (!drift.length) return [];
  return [
    `${drift.length} frame(s) decoded at other times than planned (first: planned ${p.frames[drift[0]!.index]!.timestampSec}, got ${drift[0]!.timestampSec})`,
  ];
}

/** The frames sent as they are: all of them without --grid, else those no grid holds (see writeGrids). */
export function framesOutsideGrids<F extends { index: number }>(m: { frames: F[]; grids?: Array<{ frames: number[] }> | undefined }): F[] {
  if (!m.grids) return m.frames;
  const tiled = new Set(m.grids.flatMap((g) => g.frames));
  return m.frames.filter((f) => !tiled.has(f.index));
}

export function buildManifest(r: RunRecord): Manifest {
  const p = r.plan;
  const frames: ManifestFrame[] = r.kept.map((f) => ({ ...f, file: relative(r.dir, f.file) }));
  const frameTokens = frames.reduce((a, f) => a + f.tokens, 0);
  const grids = r.grids;
  return {
    input: r.input,
    mode: p.mode,
    model: p.model,
    detail: p.detailApplied,
    every: p.every,
    startSec: p.startSec,
    endSec: p.endSec,
    format: p.format,
    frames,
    dropped: r.dropped,
    ...(grids ? { grids } : {}),
    totals: {
      frames: frames.length,
      bytes: frames.reduce((a, f) => a + f.bytes, 0) + (grids?.reduce((a, g) => a + g.bytes, 0) ?? 0),
      imageTokens: (grids ?? []).reduce((a, g) => a + g.tokens, 0) + framesOutsideGrids({ frames, grids }).reduce((a, f) => a + f.tokens, 0),
      frameTokens,
    },
    plan: {
      frames: p.frames.length,
      imageTokens: p.imageTokens,
      inputTokens: p.inputTokens,
      textTokens: p.textTokens,
      audioTokens: p.audioTokens,
      costUsd: p.costUsd,
      tier: p.tier,
      budget: p.budget,
    },
    warnings: [...p.warnings, ...driftWarning(p, r.kept), ...(r.replaced ? [`removed the ${r.replaced} file(s) an earlier run had written to ${r.dir}`] : [])],
    timings: { planMs: p.planMs, sampleMs: Math.round(performance.now() - r.started), decodeMs: Math.round(r.decodeMs), decodePaths: r.decodePaths },
  };
}

export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
}
