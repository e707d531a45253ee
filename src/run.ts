/**
 * run(input, options): the whole job. prepare() the media from one plan, build the requests
 * (split where a provider limit requires), send them with bounded concurrency, rate limits,
 * retries and a hard budget, and (optionally) combine the segment answers with one reduce call.
 *
 *     const r = await run('talk.mp4', { prompt: 'What happens?', budget: 0.5 });
 *     console.log(r.answer, r.totals.spentUsd);
 */
import { dispatchAll, type DispatchOptions, type DispatchReport, type RequestResult } from './dispatch/dispatch.js';
import { reduceAnswers, segmentAnswers } from './dispatch/reduce.js';
import { OmniprepError } from './errors.js';
import { buildRequests, type BuildOptions, type BuiltRequest } from './request/build.js';
import type { JsonSchema } from './request/options.js';
import { prepare, prepareVideo, type Prepared, type PreparedVideo, type PrepareOptions } from './prepare.js';
import type { Plan, Send } from './plan/types.js';
import { Clients } from './dispatch/client.js';
import { givenOptions, resolveOptions, type Resolved } from './options/resolve.js';
import { uploadGeminiVideo } from './providers/gemini/client.js';

export interface RunOptions extends PrepareOptions, Omit<DispatchOptions, 'budgetUsd' | 'signal' | 'registry' | 'modelsFile' | 'rule' | 'entry'> {
  prompt: string;
  api?: BuildOptions['api'];
  /** Whose API (default: the model's registry entry says). */
  provider?: BuildOptions['provider'];
  system?: string | undefined;
  schema?: JsonSchema | undefined;
  maxOutputTokens?: number | undefined;
  /** After the segments, one more call that combines their answers (default: when there is more than one segment). */
  reduce?: boolean | undefined;
  /** Keep the prepared frames and audio in `dir` (default: removed after the run). */
  keep?: boolean | undefined;
  /** `frames` (default) or `video`: the clip uploaded once through Gemini's File API and sent as video. */
  send?: Send | undefined;
}

export interface RunResult {
  input: string;
  model: string;
  /** The final answer: the reduce call's, or the only segment's, or the segment answers joined with their time ranges. */
  answer: string;
  /** The answer parsed against the schema, when one was given. */
  parsed?: unknown;
  plan: Plan;
  requests: Array<Pick<BuiltRequest, 'id' | 'api' | 'url' | 'segment' | 'bytes' | 'estimate'>>;
  report: DispatchReport;
  reduce: RequestResult | null;
  /** The prepared frames and audio, when `keep` was set (they stay in `dir`). */
  prepared?: Prepared | PreparedVideo;
  /** Spent and estimated dollars and tokens, reduce call included. */
  totals: {
    requests: number;
    ok: number;
    failed: number;
    notSent: number;
    estimatedUsd: number;
    spentUsd: number;
    estimatedInputTokens: number;
    actualInputTokens: number;
    actualOutputTokens: number;
  };
}

/** The request options of a run: its model as resolved (not looked up again by name). */
function buildOptionsOf(r: Resolved<RunOptions>): BuildOptions {
  const { prompt, api, provider, system, schema, maxOutputTokens, outputTokens, tier } = r.options;
  return { model: r.model, prompt, api, provider, system, schema, maxOutputTokens, expectedOutputTokens: outputTokens, tier };
}

export async function run(input: string, given: RunOptions | Resolved<RunOptions>): Promise<RunResult> {
  if (!givenOptions(given).prompt) throw new OmniprepError('INVALID_OPTION', 'option prompt: a question or instruction is required');
  // Options are resolved here, once: preparing, planning, building and sending take them as they are.
  const r = resolveOptions<RunOptions>(given);
  const options = r.options;
  let media: PreparedVideo | undefined;
  try {
    media =
      options.send === 'video'
        ? // Uploaded once through the File API; every window's request names it.
          await prepareVideo(input, r, async (p) => {
            const client = await new Clients(options).gemini();
            return (await uploadGeminiVideo(client, input, p.video!.mime, { signal: options.signal })).uri;
          })
        : await prepare(input, r);
    const build = buildOptionsOf(r);
    const requests = buildRequests(media, build);
    const dispatch: DispatchOptions = { ...options, budgetUsd: options.budget, signal: options.signal, entry: r.model };
    const report = await dispatchAll(requests, dispatch);
    const answers = segmentAnswers(requests, report);
    const wantReduce = (options.reduce ?? requests.length > 1) && answers.length > 1;
    let reduce: RequestResult | null = null;
    if (wantReduce) {
      reduce = await reduceAnswers(answers, {
        ...build,
        ...dispatch,
        model: r.model,
        input,
        alreadySpentUsd: report.totals.spentUsd + report.totals.uncertainUsd,
      });
    }
    const ok = report.results.filter((r) => r.status === 'ok');
    let answer: string;
    let parsed: unknown;
    if (reduce?.status === 'ok') {
      answer = reduce.text;
      parsed = reduce.parsed;
    } else if (ok.length === 1 && requests.length === 1) {
      answer = ok[0]!.text;
      parsed = ok[0]!.parsed;
    } else {
      answer = answers.map((a) => `[${a.startSec.toFixed(0)}s-${a.endSec.toFixed(0)}s] ${a.text}`).join('\n\n');
    }
    const t = report.totals;
    const extra = reduce && reduce.status === 'ok' ? reduce : undefined;
    return {
      input,
      model: media.model,
      answer,
      ...(parsed !== undefined ? { parsed } : {}),
      plan: media.plan,
      requests: requests.map((r) => ({ id: r.id, api: r.api, url: r.url, segment: r.segment, bytes: r.bytes, estimate: r.estimate })),
      report,
      reduce,
      ...(options.keep ? { prepared: media } : {}),
      totals: {
        requests: t.requests + (reduce ? 1 : 0),
        ok: t.ok + (extra ? 1 : 0),
        failed: t.failed + (reduce?.status === 'error' ? 1 : 0),
        notSent: t.notSent + (reduce?.status === 'not-sent' ? 1 : 0),
        estimatedUsd: t.estimatedUsd + (reduce ? reduce.estimate.usd : 0),
        spentUsd: t.spentUsd + (extra ? extra.costUsd : 0),
        estimatedInputTokens: t.estimatedInputTokens + (extra?.usage ? reduce!.estimate.inputTokens : 0),
        actualInputTokens: t.actualInputTokens + (extra?.usage?.inputTokens ?? 0),
        actualOutputTokens: t.actualOutputTokens + (extra?.usage?.outputTokens ?? 0),
      },
    };
  } finally {
    if (media && !options.keep) await media.cleanup();
  }
}
