/**
 * Asking one question with one plan: its requests built from the plan's frames (or the clip, for
 * `send: 'video'`), sent through the eval's sender (cache, budget), the parts of a split request
 * combined by one reduce call, and the answer scored: by text (./scoring.ts), or for `judge`
 * questions by the judge's verdict (./judge.ts), whose cost is counted apart.
 */
import type { Clients } from '../dispatch/client.js';
import { buildReduceRequest } from '../dispatch/reduce.js';
import type { ModelRegistry } from '../models/registry.js';
import { videoAssets } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { uploadGeminiVideo } from '../providers/gemini/client.js';
import { buildRequests, type BuildOptions, type BuiltRequest } from '../request/build.js';
import type { Segment } from '../request/types.js';
import { seenTimes } from '../cost/curve.js';
import type { FrameStore } from './frames.js';
import { judgeRequest, parseVerdict, type JudgeOptions } from './judge.js';
import type { Question } from './questions.js';
import type { QuestionResult } from './report.js';
import { isCorrect } from './scoring.js';
import type { Outcome, Sender } from './send.js';

/** What asking needs from the eval. */
export interface AskContext {
  registry: ModelRegistry;
  prompts: Map<string, string>;
  o: {
    system?: string | undefined;
    maxOutputTokens?: number | undefined;
    outputTokens?: number | undefined;
    tier?: BuildOptions['tier'];
    rule?: string | undefined;
    judgeModel?: string | undefined;
    judgeRubric?: string | undefined;
  };
}

export const OUTPUT_TOKENS = 100;

/** The build options of a question's requests. */
export function buildOptionsOf(ctx: AskContext, q: Question): BuildOptions {
  return {
    prompt: ctx.prompts.get(q.id)!,
    system: ctx.o.system,
    maxOutputTokens: ctx.o.maxOutputTokens,
    expectedOutputTokens: ctx.o.outputTokens ?? OUTPUT_TOKENS,
    tier: ctx.o.tier,
    registry: ctx.registry,
    rule: ctx.o.rule,
    input: `${q.id}`,
  };
}

/** The judge of a question asked of `model`: the judge model (default that model), the rubric, the build options. */
export function judgeOf(ctx: AskContext, q: Question, model: string): JudgeOptions {
  return { model: ctx.o.judgeModel ?? model, rubric: ctx.o.judgeRubric, build: buildOptionsOf(ctx, q) };
}

/** The placeholder a video request carries until it is sent (so its body hash does not depend on an upload). */
export const videoPlaceholder = (video: string): string => `omniprep-eval-video:${encodeURIComponent(video)}`;

/** Uploads a video the first time a request needing it is sent, and puts its URI in the body. */
export async function withUploads(
  req: BuiltRequest,
  uploads: Map<string, Promise<string>>,
  clients: Clients,
  signal: AbortSignal | undefined,
): Promise<BuiltRequest> {
  const text = JSON.stringify(req.body);
  const m = /omniprep-eval-video:([^"\\]+)/.exec(text);
  if (!m) return req;
  const video = decodeURIComponent(m[1]!);
  let uri = uploads.get(video);
  if (!uri) {
    uri = clients.gemini().then(async (c) => (await uploadGeminiVideo(c, video, 'video/mp4', { signal })).uri);
    uploads.set(video, uri);
  }
  const real = await uri;
  return { ...req, body: JSON.parse(text.split(videoPlaceholder(video)).join(real)) as BuiltRequest['body'] };
}

/** The requests of one question with one plan. */
function requestsOf(ctx: AskContext, q: Question, p: Plan, store: FrameStore): { requests: BuiltRequest[]; times: number[]; build: BuildOptions } {
  const build = buildOptionsOf(ctx, q);
  let segments: Segment[];
  let times: number[];
  if (p.video) {
    segments = videoAssets(p, videoPlaceholder(q.video)).map((v) => ({
      index: v.index,
      startSec: v.startSec,
      endSec: v.endSec,
      frames: [],
      audio: [],
      video: [v],
    }));
    times = seenTimes(p);
  } else {
    const frames = store.assets(p);
    segments = [{ index: 0, startSec: p.startSec, endSec: p.endSec, frames, audio: [] }];
    times = frames.map((f) => f.timestampSec);
  }
  const media = { input: q.video, model: p.model, durationSec: p.media.durationSec, segments };
  return { requests: buildRequests(media, build), times, build };
}

type Ok = Extract<Outcome, { ok: true }>;

type Grade = Pick<QuestionResult, 'answered' | 'correct' | 'verdict' | 'judgeUsd' | 'error'>;

/** The judge's grading of an answer: its verdict, reply and cost (never a rejection; an answer the judge could not grade is not counted as answered). */
async function judged(ctx: AskContext, q: Question, p: Plan, text: string, sender: Sender): Promise<Grade & { out: Outcome }> {
  const out = await sender.send(judgeRequest(q, text, judgeOf(ctx, q, p.model)));
  if (!out.ok) return { out, answered: false, correct: false, verdict: null, judgeUsd: 0, error: `judge: ${out.message}` };
  const verdict = parseVerdict(out.answer.text);
  const error = verdict === undefined ? `judge: no verdict line in ${JSON.stringify(out.answer.text.slice(0, 80))}` : undefined;
  return { out, answered: true, correct: verdict === true, verdict: out.answer.text, judgeUsd: out.answer.costUsd, ...(error ? { error } : {}) };
}

/** Asks one question with one plan: its requests (and the reduce call when they were split), scored. */
export async function askOne(ctx: AskContext, q: Question, plan: number, p: Plan, store: FrameStore, sender: Sender): Promise<QuestionResult> {
  const { requests, times, build } = requestsOf(ctx, q, p, store);
  const base = { plan, question: q.id, video: q.video, frameTimes: times, estimatedUsd: p.costUsd, judgeUsd: 0 };
  const outs: Outcome[] = [];
  for (const r of requests) outs.push(await sender.send(r));
  let final: Outcome | undefined = outs.find((x) => !x.ok);
  if (!final && outs.length > 1) {
    const answers = outs.map((x, i) => ({ startSec: requests[i]!.segment.startSec, endSec: requests[i]!.segment.endSec, text: x.ok ? x.answer.text : '' }));
    final = await sender.send(buildReduceRequest(answers, { ...build, model: p.model }));
    outs.push(final);
  }
  final ??= outs[0]!;
  const sum = (f: (a: Ok['answer']) => number): number => outs.reduce((a, x) => a + (x.ok ? f(x.answer) : 0), 0);
  const billed = { billedUsd: sum((a) => a.costUsd), inputTokens: sum((a) => a.inputTokens), latencyMs: sum((a) => a.latencyMs) };
  if (!final.ok) return { ...base, ...billed, answered: false, correct: false, answer: null, error: final.message, latencyMs: null, cached: false };
  const text = final.answer.text;
  const cached = outs.every((x) => x.ok && x.answer.cached);
  if (q.scoring !== 'judge') return { ...base, ...billed, answered: true, correct: isCorrect(q, text), answer: text, cached };
  const { out, ...grade } = await judged(ctx, q, p, text, sender);
  return { ...base, ...billed, ...grade, answer: text, cached: cached && out.ok && out.answer.cached };
}
