/** What clients see of a job: the stored record, summarised, with links. */
import type { Plan } from '../plan/types.js';
import type { JobRecord } from './store/types.js';

/** The estimate without the per-frame list (POST /v1/plan returns the full plan). */
export function planSummary(p: Plan): Record<string, unknown> {
  return {
    input: p.input,
    model: p.model,
    send: p.send,
    mode: p.mode,
    detail: p.detailApplied,
    every: p.every,
    startSec: p.startSec,
    endSec: p.endSec,
    format: p.format,
    frames: p.frames.length,
    grids: p.grids?.length ?? null,
    width: p.width,
    height: p.height,
    tokensPerFrame: p.tokensPerFrame,
    imageTokens: p.imageTokens,
    audioSeconds: p.audioSeconds,
    audioTokens: p.audioTokens,
    audioChunks: p.audio?.chunks.length ?? 0,
    // The clip sent as video (Gemini): the frames the provider samples and their tokens.
    ...(p.video
      ? {
          videoTokens: p.videoTokens,
          video: { fps: p.video.fps, frames: p.video.frames, tokensPerFrame: p.video.tokensPerFrame, windows: p.video.windows.length, mime: p.video.mime },
        }
      : {}),
    textTokens: p.textTokens,
    inputTokens: p.inputTokens,
    outputTokens: p.outputTokens,
    tier: p.tier,
    costUsd: p.costUsd,
    requests: p.requests,
    upperBound: p.upperBound,
    budget: p.budget,
    rules: p.rules,
    warnings: p.warnings,
    media: p.media,
    // A URL input: how it was read and what that fetched (the plan's own reading).
    ...(p.remote ? { remote: p.remote } : {}),
  };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The result without the manifests (GET /v1/jobs/:id/manifest has them). */
function resultSummary(r: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!r) return null;
  const { manifest: _m, audioManifest: _a, segments: _s, ...rest } = r;
  return rest;
}

/** What a job's and an eval's views begin with: id, state, times and attempts. */
export function recordHead(j: JobRecord): Record<string, unknown> {
  return { id: j.id, state: j.state, createdAt: iso(j.createdAt), startedAt: iso(j.startedAt), finishedAt: iso(j.finishedAt), attempts: j.attempts };
}

export function jobView(j: JobRecord): Record<string, unknown> {
  const base = `/v1/jobs/${j.id}`;
  return {
    ...recordHead(j),
    worker: j.worker,
    input: {
      kind: j.input.kind,
      name: j.input.name,
      bytes: j.input.bytes,
      ...(j.input.sha256 ? { sha256: j.input.sha256 } : {}),
      ...(j.input.upload ? { upload: j.input.upload } : {}),
    },
    options: j.options,
    progress: j.progress,
    plan: j.plan,
    result: resultSummary(j.result),
    estimate: (j.result?.estimate as Record<string, unknown> | undefined) ?? { estimated: estimated(j.plan), actual: null },
    error: j.error,
    links: {
      self: base,
      events: `${base}/events`,
      manifest: `${base}/manifest`,
      frames: `${base}/frames/{n}`,
      grids: `${base}/grids/{n}`,
      cancel: `${base}/cancel`,
    },
  };
}

/** The numbers of the plan that the actual run is compared with. */
export function estimated(plan: Record<string, unknown>): Record<string, number> {
  const pick = (k: string): number => Number(plan[k] ?? 0);
  return {
    frames: pick('frames'),
    imageTokens: pick('imageTokens'),
    audioSeconds: pick('audioSeconds'),
    audioTokens: pick('audioTokens'),
    textTokens: pick('textTokens'),
    inputTokens: pick('inputTokens'),
    costUsd: pick('costUsd'),
    ...(plan.send === 'video' ? { videoFrames: Number((plan.video as { frames?: number } | undefined)?.frames ?? 0), videoTokens: pick('videoTokens') } : {}),
  };
}
