/**
 * The reduce step: after the segments of a long video are answered one by one, one more call
 * combines their answers, each with its time range, into one answer.
 */
import { OmniprepError } from '../errors.js';
import type { ModelEntry } from '../models/registry.js';
import { buildRequest, type BuildOptions, type BuiltRequest } from '../request/build.js';
import { formatRange } from '../request/timestamp.js';
import { dispatchAll, type DispatchOptions, type DispatchReport, type RequestResult } from './dispatch.js';

export interface SegmentAnswer {
  startSec: number;
  endSec: number;
  text: string;
}

export const REDUCE_DEFAULTS = {
  intro: 'Below are answers to that question for consecutive parts of the same media, each with its time range.',
  outro: 'Combine them into one answer to the question. Refer to moments by their times ([mm:ss]).',
};

/** The reduce prompt: the question, then every answer under its time range, in time order. */
export function reducePrompt(prompt: string, answers: readonly SegmentAnswer[]): string {
  const sorted = [...answers].sort((a, b) => a.startSec - b.startSec);
  const body = sorted.map((a) => `[${formatRange(a.startSec, a.endSec)}]\n${a.text.trim()}`).join('\n\n');
  return `${prompt}\n\n${REDUCE_DEFAULTS.intro}\n\n${body}\n\n${REDUCE_DEFAULTS.outro}`;
}

/** The answered segments of a dispatch, with their time ranges (requests from `buildRequests()`). */
export function segmentAnswers(requests: readonly BuiltRequest[], report: DispatchReport): SegmentAnswer[] {
  return report.results.flatMap((r) => {
    if (r.status !== 'ok') return [];
    const req = requests[r.index]!;
    return [{ startSec: req.segment.startSec, endSec: req.segment.endSec, text: r.text }];
  });
}

/** One text-only request combining the answers (LIMIT_EXCEEDED if they do not fit the context window). */
export function buildReduceRequest(answers: readonly SegmentAnswer[], opts: BuildOptions & { model: string | ModelEntry }): BuiltRequest {
  if (!answers.length) throw new OmniprepError('INVALID_OPTION', `${opts.input ?? 'reduce'}: no segment answers to combine`);
  const startSec = Math.min(...answers.map((a) => a.startSec));
  const endSec = Math.max(...answers.map((a) => a.endSec));
  const req = buildRequest({ index: 0, startSec, endSec, frames: [], audio: [] }, { ...opts, prompt: reducePrompt(opts.prompt, answers) });
  return { ...req, id: `${opts.input ?? 'media'}#reduce` };
}

/** Builds and sends the reduce call; its result (never a rejection once the options are accepted). */
export async function reduceAnswers(
  answers: readonly SegmentAnswer[],
  opts: BuildOptions & { model: string | ModelEntry } & DispatchOptions,
): Promise<RequestResult> {
  const req = buildReduceRequest(answers, opts);
  const report = await dispatchAll([req], { ...opts, concurrency: 1 });
  return report.results[0]!;
}
