import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { OmniprepError } from '../../errors.js';
import type { JsonSchema } from '../../request/options.js';
import type { Provider } from '../../models/constants.js';
import type { PrepareOptions } from '../../prepare.js';
import { action, numberArg } from '../util.js';
import { resolveCliOptions, withEstimateOptions, type EstimateCliOptions } from '../sampling-options.js';
import type { Resolved } from '../../options/resolve.js';
import type { RunOptions } from '../../run.js';
import { REQUEST } from '../../options/request.js';
import { ESTIMATE } from '../../options/sampling.js';
import { addFlags } from '../flags.js';
import { inputList } from '../inputs.js';
import { manyOrOne, withManyOptions, writeJson, type ManyCliOptions } from '../many.js';
import { runMany } from '../../util/many.js';
import { isLifecycleWarning } from '../../models/lifecycle.js';

interface RequestCliOptions extends EstimateCliOptions, ManyCliOptions {
  api?: 'chat' | 'responses';
  provider?: Provider;
  schema?: string;
  system?: string;
  maxOutputTokens?: number;
  window?: number;
}

function readSchema(file: string | undefined): JsonSchema | undefined {
  if (!file) return undefined;
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('not a JSON object');
    return json as JsonSchema;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OmniprepError('INVALID_OPTION', `${file}: ${code === 'ENOENT' ? 'no such schema file' : `not a JSON Schema (${(e as Error).message})`}`, {
      input: file,
    });
  }
}

function withRequestOptions(cmd: Command): Command {
  addFlags(withEstimateOptions(cmd), REQUEST);
  addFlags(cmd, { windowSec: ESTIMATE.windowSec });
  return cmd.option('--schema <file>', 'a JSON Schema the answer must follow (structured output)');
}

function buildOptions(o: RequestCliOptions) {
  return {
    prompt: o.prompt ?? '',
    api: o.api,
    provider: o.provider,
    system: o.system,
    schema: readSchema(o.schema),
    maxOutputTokens: o.maxOutputTokens,
    expectedOutputTokens: o.outputTokens,
    tier: o.tier,
    modelsFile: o.models,
    rule: o.rule,
  };
}

/** request and run print no plan: a deprecated model's warning goes to stderr. */
function warnLifecycle(warnings: readonly string[]): void {
  for (const w of warnings.filter(isLifecycleWarning)) process.stderr.write(`omniprep: warning: ${w}\n`);
}

function requirePrompt(o: RequestCliOptions): void {
  if (!o.prompt) throw new OmniprepError('INVALID_OPTION', 'option --prompt: a question or instruction is required');
}

/**
 * The media of bodies written out (`request`, `batch`): frames and audio, or with `send: 'video'`
 * (Gemini) the clip inline, so that the bodies need no upload (`run` uploads it instead).
 */
async function prepareMedia(input: string, options: Resolved<PrepareOptions>) {
  const { prepare, prepareVideo, inlineVideo } = await import('../../prepare.js');
  return options.options.send === 'video' ? prepareVideo(input, options, (p) => inlineVideo(input, p, options)) : prepare(input, options);
}

/**
 * Many inputs: each input's request bodies as files, DIR/<input>/request-000.json (one a request;
 * a long input needs several), each ready to send as it is; returns what they count.
 */
async function writeRequests(input: string, dir: string, o: RequestCliOptions, signal: AbortSignal) {
  const { buildRequests, wireBody } = await import('../../request/build.js');
  const options = resolveCliOptions<PrepareOptions>(o, { windowSec: o.window, maxOutputTokens: o.maxOutputTokens, signal });
  const media = await prepareMedia(input, options);
  try {
    const requests = buildRequests(media, { ...buildOptions(o), model: options.model });
    for (const [i, r] of requests.entries()) await writeJson(dir, `request-${String(i).padStart(3, '0')}.json`, wireBody(r));
    const sum = (f: (r: (typeof requests)[number]) => number): number => requests.reduce((a, r) => a + f(r), 0);
    return { requests: requests.length, frames: sum((r) => r.segment.frames), tokens: sum((r) => r.estimate.inputTokens), usd: sum((r) => r.estimate.usd) };
  } finally {
    await media.cleanup();
  }
}

function registerRequest(program: Command): void {
  withRequestOptions(
    withManyOptions(
      program
        .command('request [inputs...]')
        .description(
          'one request body on stdout, ready for the API (frames as data URLs); many inputs (several, a directory, --from): DIR/<input>/request-000.json ... each',
        )
        .option('--segment <n>', 'which request, when the media needs several', numberArg('--segment', { min: 0, integer: true }), 0)
        .option('--all', 'print every request body as a JSON array')
        .option('--out <dir>', 'many inputs: the request bodies of each input in DIR/<input>/, and DIR/summary.json'),
    ),
  ).action(
    action(async (inputs: string[], o: RequestCliOptions & { segment: number; all?: boolean; out?: string }) => {
      requirePrompt(o);
      const input = await manyOrOne(program, inputs, o, {
        force: Boolean(o.out),
        needsOut: true,
        work: (one, dir, signal) => writeRequests(one, dir!, o, signal),
        counts: (counts) => ({ counts }),
      });
      if (input === undefined) return undefined;
      const { buildRequests, wireBody } = await import('../../request/build.js');
      const options = resolveCliOptions<PrepareOptions>(o, { windowSec: o.window, maxOutputTokens: o.maxOutputTokens });
      const media = await prepareMedia(input, options);
      warnLifecycle(media.plan.warnings);
      try {
        // The model as the options resolved it: not looked up again by name.
        const requests = buildRequests(media, { ...buildOptions(o), model: options.model });
        if (o.all) return { json: requests.map(wireBody), text: JSON.stringify(requests.map(wireBody)) };
        const r = requests[o.segment];
        if (!r) throw new OmniprepError('INVALID_OPTION', `option --segment: ${input} needs ${requests.length} request(s); choose 0 to ${requests.length - 1}`);
        if (requests.length > 1)
          process.stderr.write(`omniprep: ${input} needs ${requests.length} requests; printing request ${o.segment} (${r.id}); --all prints them all\n`);
        return { json: wireBody(r), text: JSON.stringify(wireBody(r)) };
      } finally {
        await media.cleanup();
      }
    }),
  );
}

function registerRun(program: Command): void {
  withRequestOptions(
    program
      .command('run <input>')
      .description('call the model: prints the answer, tokens and dollars spent')
      // Issue 14: --base-url and --api-key go to the provider of the model (Anthropic, Gemini or OpenAI).
      .option(
        '--base-url <url>',
        "the provider's server (default OPENAI_BASE_URL, ANTHROPIC_BASE_URL, GOOGLE_GEMINI_BASE_URL or OMNIPREP_LOCAL_BASE_URL, else the provider)",
      )
      .option('--api-key <key>', 'API key (default OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY)')
      .option('--organization <id>', 'OpenAI organization')
      .option('--project <id>', 'OpenAI project')
      .option('--timeout <sec>', 'per attempt (default 120)', numberArg('--timeout', { min: 1 }))
      .option('--concurrency <n>', 'requests in flight at once (default 8)', numberArg('--concurrency', { min: 1, integer: true }))
      .option('--rpm <n>', 'requests per minute limit', numberArg('--rpm', { min: 1, integer: true }))
      .option('--tpm <n>', 'tokens per minute limit (estimated before each call)', numberArg('--tpm', { min: 1, integer: true }))
      .option('--retries <n>', 'retries on 429, 5xx and timeouts (default 4)', numberArg('--retries', { min: 0, integer: true }))
      .option('--no-reduce', 'do not combine the answers of several segments with one more call'),
  ).action(
    action(
      async (
        input: string,
        o: RequestCliOptions & {
          baseUrl?: string;
          apiKey?: string;
          organization?: string;
          project?: string;
          timeout?: number;
          concurrency?: number;
          rpm?: number;
          tpm?: number;
          retries?: number;
          reduce: boolean;
          send?: 'frames' | 'video';
        },
      ) => {
        requirePrompt(o);
        const { run } = await import('../../run.js');
        const tty = process.stderr.isTTY && !program.opts().json;
        const bar = (done: number, total: number, usd: number): void => {
          const width = 24;
          const fill = total ? Math.round((done / total) * width) : 0;
          process.stderr.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} requests, $${usd.toFixed(4)} spent`);
        };
        const options = resolveCliOptions<RunOptions>(o, {
          ...buildOptions(o),
          windowSec: o.window,
          baseURL: o.baseUrl,
          apiKey: o.apiKey,
          organization: o.organization,
          project: o.project,
          timeoutMs: o.timeout !== undefined ? o.timeout * 1000 : undefined,
          concurrency: o.concurrency,
          requestsPerMinute: o.rpm,
          tokensPerMinute: o.tpm,
          maxRetries: o.retries,
          reduce: o.reduce ? undefined : false,
          send: o.send,
          onProgress: tty ? (p) => bar(p.done, p.total, p.spentUsd) : undefined,
        });
        const r = await run(input, options);
        if (tty) process.stderr.write('\n');
        warnLifecycle(r.plan.warnings);
        const t = r.totals;
        // Error messages already name the request (`<input>#<segment>: ...`).
        const failures = r.report.results.filter((x) => x.status !== 'ok').map((x) => (x.status === 'error' ? x.error.message : `${x.id}: ${x.message}`));
        const text = [
          ...(t.ok > 0 ? [r.answer, ''] : []),
          ...(t.ok > 0
            ? [
                `${t.ok}/${t.requests} requests answered (${r.model}); input tokens: ${t.actualInputTokens} billed, ${t.estimatedInputTokens} estimated; output tokens: ${t.actualOutputTokens}`,
                `spent $${t.spentUsd.toFixed(6)} (estimated $${t.estimatedUsd.toFixed(6)})`,
              ]
            : [`0/${t.requests} requests answered (${r.model}): nothing was billed (the estimate was $${t.estimatedUsd.toFixed(6)})`]),
          ...(r.requests[0]?.estimate.priceNote ? [`note: ${r.requests[0].estimate.priceNote}`] : []),
          ...failures.map((f) => `not answered: ${f}`),
        ].join('\n');
        if (t.ok === 0) process.exitCode = 1;
        return { json: r, text };
      },
    ),
  );
}

type PreparedMedia = Awaited<ReturnType<typeof prepareMedia>>;

/**
 * The media of a batch's inputs, --jobs at a time, into `prepared` in the inputs' order (the
 * JSONL's lines follow it); an input that fails is reported on stderr and left out. Returns how
 * many failed.
 */
async function prepareAll(inputs: ReadonlyArray<{ input: string }>, o: RequestCliOptions, prepared: PreparedMedia[]): Promise<number> {
  const byIndex = new Map<number, PreparedMedia>();
  let failed = 0;
  try {
    const prepare = (input: string, _i: number, signal: AbortSignal) =>
      prepareMedia(input, resolveCliOptions<PrepareOptions>(o, { windowSec: o.window, tier: 'batch', maxOutputTokens: o.maxOutputTokens, signal }));
    for await (const r of runMany(
      inputs.map((i) => i.input),
      prepare,
      { concurrency: o.jobs },
    )) {
      if (r.ok) byIndex.set(r.index, r.result);
      else {
        failed++;
        process.stderr.write(`omniprep: ${r.error.message}\n`);
      }
    }
  } finally {
    prepared.push(...[...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m));
  }
  return failed;
}

function registerBatch(program: Command): void {
  withRequestOptions(
    withManyOptions(
      program
        .command('batch [inputs...]')
        .description('Batch API JSONL (sharded when a limit is reached); --submit, --status ID, --results ID')
        .option('--out <file>', 'the JSONL file to write (shards: FILE.001.jsonl, ...; mapping: FILE.mapping.json)')
        .option('--max-lines <n>', 'lines per file (default: the registry, else 50,000)', numberArg('--max-lines', { min: 1, integer: true }))
        .option('--max-file-bytes <n>', 'bytes per file (default: the registry, else 200 MB)', numberArg('--max-file-bytes', { min: 1, integer: true }))
        .option('--submit', 'upload the files and create the batches')
        .option('--status <id>', 'print a batch status')
        .option('--results <id>', 'download a batch result and map it back with --mapping')
        .option('--mapping <file>', 'the mapping file written next to the JSONL')
        .option('--base-url <url>', 'any OpenAI-compatible server (default OPENAI_BASE_URL, else OpenAI)')
        .option('--api-key <key>', 'API key (default OPENAI_API_KEY)'),
    ),
  ).action(
    action(
      async (
        inputs: string[],
        o: RequestCliOptions & {
          out?: string;
          maxLines?: number;
          maxFileBytes?: number;
          submit?: boolean;
          status?: string;
          results?: string;
          mapping?: string;
          baseUrl?: string;
          apiKey?: string;
        },
      ) => {
        const batch = { ...(await import('../../batch/write.js')), ...(await import('../../batch/submit.js')) };
        const client = { baseURL: o.baseUrl, apiKey: o.apiKey };
        if (o.status) {
          const s = await batch.batchStatus(o.status, client);
          return { json: s, text: `${s.id}: ${s.status}, ${s.requestCounts.completed}/${s.requestCounts.total} done, ${s.requestCounts.failed} failed` };
        }
        if (o.results) {
          if (!o.mapping) throw new OmniprepError('INVALID_OPTION', 'option --mapping: --results needs the mapping file written with the batch');
          const r = await batch.batchResults(o.results, o.mapping, client);
          return { json: r, text: JSON.stringify(r, null, 2) };
        }
        if (!o.out) throw new OmniprepError('INVALID_OPTION', 'option --out: the JSONL file to write is required');
        if (!inputs.length && !o.from) throw new OmniprepError('INVALID_OPTION', 'batch: at least one input is required');
        requirePrompt(o);
        const prepared: PreparedMedia[] = [];
        try {
          const failed = await prepareAll((await inputList(inputs, o.from)).inputs, o, prepared);
          if (!prepared.length) throw new OmniprepError('INVALID_OPTION', `batch: none of the ${failed} input(s) could be prepared`);
          if (failed) process.exitCode = 1;
          const written = await batch.writeBatch(prepared, {
            ...buildOptions(o),
            out: o.out,
            limits: { ...(o.maxLines ? { batchLines: o.maxLines } : {}), ...(o.maxFileBytes ? { batchBytes: o.maxFileBytes } : {}) },
          });
          const submitted = o.submit ? await batch.submitBatch(written.mappingFile, client) : undefined;
          const est = written.mapping.estimate.usd;
          const text = [
            `${Object.keys(written.mapping.requests).length} requests in ${written.paths.length} file(s): ${written.paths.join(', ')}`,
            `mapping: ${written.mappingFile}; estimated $${est.toFixed(6)} at the batch price`,
            ...(submitted ? submitted.map((s) => `submitted ${s.file}: batch ${s.batchId}`) : []),
          ].join('\n');
          return { json: { ...written, ...(submitted ? { submitted } : {}) }, text };
        } finally {
          await Promise.all(prepared.map((p) => p.cleanup()));
        }
      },
    ),
  );
}

export function register(program: Command): void {
  registerRequest(program);
  registerRun(program);
  registerBatch(program);
}
