/**
 * Batch input files: one JSONL line per request, one model and one endpoint per file, sharded at
 * the registry's limits (`limits.batchLines` and `limits.batchBytes`, else OpenAI's 50,000 lines
 * and 200 MB), with a mapping file next to the JSONL that says which input, segment and time
 * range each id stands for. Estimates use the batch price tier. The line is the provider
 * adapter's (src/providers/<provider>/batch.ts):
 *
 * - OpenAI Batch API: `{custom_id, method, url, body}`;
 * - Anthropic Message Batches: `{custom_id, params}` (the Messages body); a shard becomes one
 *   `POST /v1/messages/batches` of `{requests: [lines...]}`, so a shard's bytes are kept a few
 *   bytes under the limit for the wrapping (100,000 requests or 256 MB per batch);
 * - Gemini batch mode: `{key, request}` with the REST `GenerateContentRequest`, uploaded through
 *   the File API.
 *
 *   const batch = await writeBatch([prepared], { out: 'talk.jsonl', prompt: 'Summarise.' });
 *   // talk.jsonl (or talk.001.jsonl, talk.002.jsonl, ...) and talk.mapping.json
 *
 * `custom_id` = `omni-<12 hex>-s<segment>`: the hex is a SHA-256 of the input as named, its
 * content hash when known, the model, the endpoint and the segment (index, part, time range),
 * so it is the same on every rerun of the same inputs and differs between inputs and segments.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OmniprepError, invalidOption } from '../errors.js';
import { BATCH_DEFAULTS } from '../models/registry.js';
import { getModel } from '../models/tokens.js';
import { buildRequests, segmentKey, type ApiUrl, type BuildOptions, type BuiltRequest } from '../request/build.js';
import { adapterOf, resolveProvider, type Provider } from '../providers/registry.js';
import type { BatchApi } from '../providers/types.js';
import { sumEstimates, type RequestEstimate } from '../request/estimate.js';
import type { JsonSchema, RequestOptions } from '../request/options.js';
import type { PreparedMedia } from '../request/types.js';

export interface BatchLimits {
  /** Most lines per file. */
  batchLines: number;
  /** Most bytes per file (newlines included). */
  batchBytes: number;
}

export interface BatchWriteOptions extends Omit<BuildOptions, 'tier' | 'transcripts' | 'input' | 'model'> {
  /** The model of every line (default: the prepared inputs'). */
  model?: string | undefined;
  /** The JSONL to write (`x.jsonl`; shards become `x.001.jsonl`, `x.002.jsonl`, ...). */
  out: string;
  /** Lower (or raise) the registry's limits. */
  limits?: Partial<BatchLimits> | undefined;
  /** Transcripts per input (by the input's name), sent instead of its audio. */
  transcripts?: Readonly<Record<string, RequestOptions['transcripts']>> | undefined;
}

export interface BatchRequestInfo {
  /** The request's id (`<input>#<segment>`). */
  id: string;
  input: string;
  segment: number;
  /** The part of a segment split to fit the request limits. */
  part?: number;
  startSec: number;
  endSec: number;
  model: string;
  /** The JSONL file (name, next to the mapping file) and the line (1-based). */
  file: string;
  line: number;
  estimate: Pick<RequestEstimate, 'inputTokens' | 'outputTokens' | 'usd'>;
}

export interface BatchFileInfo {
  file: string;
  lines: number;
  bytes: number;
  /** Set by `submitBatch()`. */
  fileId?: string;
  batchId?: string;
}

export interface BatchMapping {
  version: 1;
  /** Whose batch API (absent in mappings written before providers: OpenAI). */
  provider?: Provider;
  model: string;
  endpoint: ApiUrl;
  tier: 'batch';
  createdAt: string;
  limits: BatchLimits;
  /** The structured-output schema every answer must follow, when one was asked for. */
  schema?: JsonSchema;
  files: BatchFileInfo[];
  requests: Record<string, BatchRequestInfo>;
  estimate: ReturnType<typeof sumEstimates>;
}

export interface BatchWriteResult {
  /** Absolute paths of the JSONL files, in order. */
  paths: string[];
  mappingFile: string;
  mapping: BatchMapping;
}

export interface BatchLine {
  custom_id: string;
  method: 'POST';
  url: ApiUrl;
  body: BuiltRequest['body'];
}

/** A line of an Anthropic shard: one entry of Message Batches' `requests`. */
export interface AnthropicBatchLine {
  custom_id: string;
  params: BuiltRequest['body'];
}

export type { GeminiBatchLine } from '../providers/gemini/batch.js';

/** The batch API of a provider (INVALID_OPTION for one that has none). */
export function batchApiOf(provider: Provider): BatchApi {
  const b = adapterOf(provider).batch;
  if (!b) throw new OmniprepError('INVALID_OPTION', `option provider: ${provider} has no batch API`, { details: { option: 'provider' } });
  return b;
}

/** The stable `custom_id` of a request (see the module comment). */
export function customId(o: {
  provider?: Provider | undefined;
  input: string;
  contentHash?: string | undefined;
  model: string;
  url: string;
  segment: { index: number; split?: { part: number; parts: number } | undefined; startSec: number; endSec: number };
}): string {
  const key = segmentKey(o.segment);
  const identity = JSON.stringify([o.input, o.contentHash ?? null, o.model, o.url, key, o.segment.startSec, o.segment.endSec]);
  const id = `omni-${createHash('sha256').update(identity).digest('hex').slice(0, 12)}-s${key}`;
  // Some providers allow fewer characters (Anthropic: a split segment's `3.1` is `3_1` there).
  const b = o.provider ? adapterOf(o.provider).batch : undefined;
  return b?.customId ? b.customId(id) : id;
}

/** The batch limits for a model: the registry entry's, else the Batch API defaults, then `override`. */
export function batchLimits(
  model: string,
  o: Pick<BatchWriteOptions, 'registry' | 'modelsFile' | 'rule'> & { limits?: Partial<BatchLimits> | undefined } = {},
): BatchLimits {
  const m = getModel(model, o);
  const limits = {
    batchLines: o.limits?.batchLines ?? m.limits.batchLines ?? BATCH_DEFAULTS.batchLines,
    batchBytes: o.limits?.batchBytes ?? m.limits.batchBytes ?? BATCH_DEFAULTS.batchBytes,
  };
  for (const [k, v] of Object.entries(limits)) if (!Number.isInteger(v) || v < 1) throw invalidOption(`limits.${k}`, 'an integer >= 1', v);
  return limits;
}

function stemOf(out: string): string {
  return out.endsWith('.jsonl') ? out.slice(0, -'.jsonl'.length) : out;
}

/** The mapping file that goes with a JSONL path. */
export function mappingPath(out: string): string {
  return `${stemOf(resolve(out))}.mapping.json`;
}

class ShardWriter {
  private handle: FileHandle | undefined;
  private readonly tmpFiles: string[] = [];
  readonly shards: Array<{ lines: number; bytes: number }> = [];

  constructor(
    private readonly stem: string,
    private readonly limits: BatchLimits,
  ) {}

  private get current(): { lines: number; bytes: number } | undefined {
    return this.shards.at(-1);
  }

  async add(line: string, id: string): Promise<{ shard: number; line: number }> {
    const bytes = Buffer.byteLength(line) + 1;
    if (bytes > this.limits.batchBytes) {
      throw new OmniprepError(
        'LIMIT_EXCEEDED',
        `${id}: its batch line is ${bytes} bytes, more than the ${this.limits.batchBytes} bytes a batch file may hold`,
        {
          input: id,
        },
      );
    }
    const cur = this.current;
    if (!cur || cur.lines + 1 > this.limits.batchLines || cur.bytes + bytes > this.limits.batchBytes) {
      await this.handle?.close();
      const tmp = `${this.stem}.part${this.shards.length + 1}.${process.pid}.tmp`;
      this.tmpFiles.push(tmp);
      this.handle = await open(tmp, 'w');
      this.shards.push({ lines: 0, bytes: 0 });
    }
    const shard = this.current!;
    await this.handle!.write(`${line}\n`);
    shard.lines++;
    shard.bytes += bytes;
    return { shard: this.shards.length - 1, line: shard.lines };
  }

  /** Final names: `x.jsonl` for one shard, `x.001.jsonl`, `x.002.jsonl`, ... for several. */
  names(): string[] {
    const n = this.shards.length;
    return this.shards.map((_, i) => (n === 1 ? `${this.stem}.jsonl` : `${this.stem}.${String(i + 1).padStart(3, '0')}.jsonl`));
  }

  async commit(): Promise<string[]> {
    await this.handle?.close();
    this.handle = undefined;
    const names = this.names();
    this.tmpFiles.forEach((t, i) => renameSync(t, names[i]!));
    return names;
  }

  async abort(): Promise<void> {
    await this.handle?.close().catch(() => {});
    for (const t of this.tmpFiles) rmSync(t, { force: true });
  }
}

/** Writes the Batch API input files and the mapping file for prepared media (one model, one endpoint). */
export async function writeBatch(prepared: readonly PreparedMedia[], opts: BatchWriteOptions): Promise<BatchWriteResult> {
  if (typeof opts.out !== 'string' || !opts.out) throw invalidOption('out', 'a file path', opts.out);
  if (!prepared.length) throw new OmniprepError('INVALID_OPTION', `${opts.out}: no inputs to write into the batch`);
  const models = [...new Set(prepared.map((p) => p.model))];
  const model = opts.model ?? models[0]!;
  if (opts.model === undefined && models.length > 1) {
    const which = prepared.map((p) => `${p.input} for ${p.model}`).join(', ');
    throw new OmniprepError('INVALID_OPTION', `${opts.out}: a batch file holds one model, but the inputs differ (${which}); pass a model`, {
      details: { option: 'model' },
    });
  }
  const limits = batchLimits(model, opts);
  const provider = resolveProvider(getModel(model, opts), opts.provider);
  const batchApi = batchApiOf(provider);
  // One API for the file: the one that carries every input's audio (when any is sent as audio).
  const audio = prepared.some((p) => opts.transcripts?.[p.input] === undefined && p.segments.some((s) => s.audio.length > 0));
  const api = opts.api ?? adapterOf(provider).defaultApi(audio);
  // A limit on the submission that wraps the shard's lines (Anthropic: a POST body, commas for newlines).
  const shardLimits = { ...limits, batchBytes: limits.batchBytes - batchApi.wrapBytes };
  const stem = stemOf(resolve(opts.out));
  mkdirSync(dirname(stem), { recursive: true });
  const { out: _out, limits: _limits, transcripts: byInput, ...buildOptions } = opts;

  const writer = new ShardWriter(stem, shardLimits);
  const requests: Record<string, BatchRequestInfo & { shard: number }> = {};
  const estimates: RequestEstimate[] = [];
  let url: ApiUrl | undefined;
  try {
    for (const p of prepared) {
      const transcripts = byInput?.[p.input];
      const built = buildRequests(p, { ...buildOptions, model, api, tier: 'batch', input: p.input, ...(transcripts ? { transcripts } : {}) });
      for (const r of built) {
        const id = customId({ provider, input: p.input, contentHash: p.contentHash, model, url: r.url, segment: { ...r.segment } });
        if (requests[id]) {
          throw new OmniprepError('INVALID_OPTION', `${p.input}: appears twice in the batch (custom_id ${id} is taken by ${requests[id].id})`, {
            input: p.input,
          });
        }
        url = r.url;
        const at = await writer.add(JSON.stringify(batchApi.line(id, r)), r.id);
        estimates.push(r.estimate);
        requests[id] = {
          id: r.id,
          input: p.input,
          segment: r.segment.index,
          ...(r.segment.split ? { part: r.segment.split.part } : {}),
          startSec: r.segment.startSec,
          endSec: r.segment.endSec,
          model,
          file: '',
          line: at.line,
          shard: at.shard,
          estimate: { inputTokens: r.estimate.inputTokens, outputTokens: r.estimate.outputTokens, usd: r.estimate.usd },
        };
      }
    }
    if (!estimates.length) throw new OmniprepError('INVALID_OPTION', `${opts.out}: the inputs make no requests`);
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const paths = await writer.commit();
  const names = paths.map((p) => basename(p));
  const mapping: BatchMapping = {
    version: 1,
    provider,
    model,
    endpoint: url!,
    tier: 'batch',
    createdAt: new Date().toISOString(),
    limits,
    ...(opts.schema ? { schema: opts.schema } : {}),
    files: writer.shards.map((s, i) => ({ file: names[i]!, lines: s.lines, bytes: s.bytes })),
    requests: Object.fromEntries(Object.entries(requests).map(([id, { shard, ...info }]) => [id, { ...info, file: names[shard]! }])),
    estimate: sumEstimates(estimates),
  };
  const mappingFile = `${stem}.mapping.json`;
  writeMapping(mappingFile, mapping);
  return { paths, mappingFile, mapping };
}

export function writeMapping(file: string, mapping: BatchMapping): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(mapping, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The JSONL path of a mapping's file entry. */
export function batchFilePath(mappingFile: string, entry: Pick<BatchFileInfo, 'file'>): string {
  return join(dirname(resolve(mappingFile)), entry.file);
}
