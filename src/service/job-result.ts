/**
 * What a finished job records besides its frames (runner.ts): what the model said and cost (any
 * provider's usage and dollars, as run() reports them), and a job that sent the clip as video
 * (Gemini): its windows, what they were billed, and the clip kept beside the outputs when it fits
 * in one request inline (an input read by byte ranges is fetched whole for it first), so that GET /v1/jobs/:id/requests and /batch write the bodies `omniprep
 * request --send video` writes.
 */
import { copyFile, link, mkdir, rm, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { DispatchReport } from '../dispatch/dispatch.js';
import { isOmniprepError } from '../errors.js';
import type { ModelEntry } from '../models/registry.js';
import type { Plan } from '../plan/types.js';
import type { Provider } from '../providers/registry.js';
import { checkInline, type Prepared, type PreparedVideo } from '../prepare.js';
import type { RunResult } from '../run.js';
import { RemoteInput, type RemoteOptions } from '../source/remote.js';
import type { JobRecord } from './store/types.js';
import { estimated } from './view.js';

/** The clip of a video job, kept in its output directory (`video/clip.mp4`). */
export interface KeptClip {
  file: string;
  bytes: number;
  mime: string;
}

/** What a job's work made: frames (and audio) prepared, or the clip's windows sent as video. */
export type Work = { provider: Provider; called: RunResult | undefined } & ({ prepared: Prepared } | { video: PreparedVideo & { clip: KeptClip | undefined } });

export const CLIP_DIR = 'video';

/** A job's result as stored: its own fields, and the estimate against what happened. */
export type JobResult = Record<string, unknown> & { estimate: { estimated: Record<string, number>; actual: Record<string, number | null> } };

/**
 * Keeps the clip under `dir/video/` when its base64 fits one request of the model (a hard link
 * where the file system allows, else a copy); undefined when it does not fit (its bodies then
 * need the File API, and the requests route says so in the library's words).
 */
export async function keepClip(file: string, dir: string, plan: Plan, model: ModelEntry): Promise<KeptClip | undefined> {
  const bytes = (await stat(file)).size;
  const name = `clip${extname(file).toLowerCase() || '.mp4'}`;
  const to = join(dir, CLIP_DIR, name);
  try {
    checkInline(file, bytes, model);
  } catch (e) {
    if (!isOmniprepError(e) || e.code !== 'LIMIT_EXCEEDED') throw e;
    if (file === to) await rm(to, { force: true }); // fetched for the upload alone
    return undefined;
  }
  if (file !== to) {
    await mkdir(join(dir, CLIP_DIR), { recursive: true });
    await link(file, to).catch(() => copyFile(file, to));
  }
  return { file: name, bytes, mime: plan.video!.mime };
}

/**
 * A clip read by byte ranges (a URL, an object in the store), fetched whole into `dir/video/`,
 * pinned to what its submission saw (a file that changed fails as CORRUPT): video is sent whole.
 */
export async function fetchClip(url: string, remote: RemoteOptions, dir: string): Promise<string> {
  const r = await RemoteInput.open(url, { ...remote, whole: 'the clip is sent as video' });
  try {
    await mkdir(join(dir, CLIP_DIR), { recursive: true });
    const to = join(dir, CLIP_DIR, `clip${extname(new URL(url).pathname).toLowerCase() || '.mp4'}`);
    await copyFile(r.path, to);
    return to;
  } finally {
    await r.close();
  }
}

type AnyResult = DispatchReport['results'][number];

function answerOf(r: AnyResult): Record<string, unknown> {
  if (r.status === 'ok') return { index: r.index, id: r.id, status: r.status, text: r.text, usage: r.usage, costUsd: r.costUsd, drift: r.drift };
  if (r.status === 'error') return { index: r.index, id: r.id, status: r.status, error: r.error, costUsd: r.costUsd };
  return { index: r.index, id: r.id, status: r.status, reason: r.reason, message: r.message };
}

/** What the model said: each segment's answer, the reduce call's, the final answer and the totals (reduce included). */
export function calledSummary(called: RunResult | undefined): { dispatch?: Record<string, unknown> } {
  if (!called) return {};
  return {
    dispatch: {
      totals: called.report.totals,
      answers: called.report.results.map(answerOf),
      reduce: called.reduce ? answerOf(called.reduce) : null,
      answer: called.answer,
      ...(called.parsed !== undefined ? { parsed: called.parsed } : {}),
      combined: called.totals,
    },
  };
}

/** What happened, against the plan's estimate: the media sent, and (when the model was called) the billed tokens and dollars. */
export function actualOf(media: Record<string, number>, called: RunResult | undefined): Record<string, number | null> {
  return {
    ...media,
    inputTokens: called ? called.totals.actualInputTokens : null,
    outputTokens: called ? called.totals.actualOutputTokens : null,
    costUsd: called ? called.totals.spentUsd : null,
  };
}

/** The result of a job that sent the clip as video: no frames sampled here; the provider's frames and tokens per window. */
export function videoResult(job: JobRecord, v: PreparedVideo & { clip: KeptClip | undefined }, called: RunResult | undefined): JobResult {
  const p = v.plan;
  const pv = p.video!;
  const windows = v.segments.flatMap((s) => s.video ?? []).map(({ fileUri: _uri, ...w }) => w);
  const media = { frames: 0, imageTokens: 0, videoFrames: pv.frames, videoTokens: pv.frameTokens, audioSeconds: pv.audioSeconds, audioTokens: pv.audioTokens };
  return {
    send: 'video',
    frames: 0,
    bytes: 0,
    format: null,
    width: p.width,
    height: p.height,
    audioChunks: 0,
    segmentCount: v.segments.length,
    warnings: p.warnings,
    video: { fps: pv.fps, mime: pv.mime, frames: pv.frames, tokensPerFrame: pv.tokensPerFrame, clip: v.clip ?? null },
    estimate: { estimated: estimated(job.plan), actual: actualOf(media, called) },
    ...calledSummary(called),
    manifest: { input: job.input.name, model: p.model, send: 'video', detail: p.detailApplied, format: p.format, frames: [] },
    audioManifest: null,
    segments: v.segments.map((s) => ({
      index: s.index,
      startSec: s.startSec,
      endSec: s.endSec,
      frames: [],
      audio: [],
      video: windows.filter((w) => w.index === s.index),
    })),
  };
}
