/**
 * Request building: segments to Chat Completions or Responses bodies that fit the provider's
 * limits (images per request, request bytes, context window, all from the model registry), with
 * each body's estimate. Pure except for reading asset files that carry no bytes.
 *
 *   const requests = buildRequests(prepared, { prompt: 'What happens?' });
 *   // -> [{ id, api, url, model, segment, body, bytes, estimate }]
 */
import { statSync } from 'node:fs';
import { OmniprepError } from '../errors.js';
import type { ModelEntry } from '../models/registry.js';
import { textTokens } from '../models/tokens.js';
import { headParts, payload, payloadLength, segmentUnits, unitName, type Part, type Unit } from './content.js';
import { estimateParts, textTokensOf, type RequestEstimate } from './estimate.js';
import { resolveRequestOptions, type Api, type JsonSchema, type RequestOptions, type ResolvedRequestOptions } from './options.js';
import type { ChatBody, ResponsesBody } from '../providers/openai/render.js';
import { adapterOf, apiProvider, checkApi, DEFAULT_PROVIDER, resolveProvider, type ApiUrl, type Provider, type RequestBody } from '../providers/registry.js';
import { formatRange } from './timestamp.js';
import type { PreparedMedia, Segment } from './types.js';

export { API_URLS, type ApiUrl } from '../providers/registry.js';

/** The endpoint of an API for a model. */
export function apiUrl(api: Api, model: ModelEntry): ApiUrl {
  return adapterOf(apiProvider(api)).url(api, model) as ApiUrl;
}

export interface BuildOptions extends RequestOptions {
  /** Which API; default: Responses when no audio is sent, Chat Completions when audio is. */
  api?: Api | undefined;
}

export interface BuiltRequest {
  /** `<input>#<segment index>` (`#<index>.<part>` for a part of a split segment): names the request in results and errors. */
  id: string;
  /** Whose API (and so which SDK sends it). */
  provider: Provider;
  api: Api;
  url: ApiUrl;
  model: string;
  input: string | undefined;
  segment: { index: number; startSec: number; endSec: number; frames: number; audio: number; split?: Segment['split'] };
  body: RequestBody;
  /** Size of the JSON body in bytes. */
  bytes: number;
  estimate: RequestEstimate;
  /** The JSON Schema the answer must follow, when structured output was asked for. */
  schema?: JsonSchema;
}

/** The provider limits a request must meet, from the registry entry. */
export interface RequestLimits {
  imagesPerRequest: number;
  requestBytes: number;
  contextWindow: number;
  /** Largest encoded image (bytes), when the provider has one. */
  imageBytes?: number | undefined;
  /** Largest image side (px), and the smaller one that applies above `manyImages` images. */
  maxSide?: number | undefined;
  maxSideManyImages?: number | undefined;
  manyImages?: number | undefined;
}

export function requestLimits(model: ModelEntry): RequestLimits {
  const l = model.limits;
  return {
    imagesPerRequest: l.imagesPerRequest,
    requestBytes: l.requestBytes,
    contextWindow: model.contextWindow,
    imageBytes: l.imageBytes,
    maxSide: l.maxSide,
    maxSideManyImages: l.maxSideManyImages,
    manyImages: l.manyImages,
  };
}

/**
 * The API of a request, as the provider's adapter chooses it given whether audio is sent as audio
 * (OpenAI: Responses, Chat Completions when audio is sent). `o.provider` (default: OpenAI, or the
 * model's provider when `o.model` is a registry entry) picks.
 */
export function defaultApi(
  media: PreparedMedia | Segment | readonly Segment[],
  o: Pick<RequestOptions, 'transcripts'> & { provider?: Provider | undefined; model?: ModelEntry | undefined } = {},
): Api {
  const provider = o.provider ?? (o.model ? resolveProvider(o.model, undefined) : DEFAULT_PROVIDER);
  const segments = Array.isArray(media) ? (media as readonly Segment[]) : 'segments' in media ? (media as PreparedMedia).segments : [media as Segment];
  return adapterOf(provider).defaultApi(o.transcripts === undefined && segments.some((s) => s.audio.length > 0));
}

/** The API asked for (checked against the provider), else `defaultApi()`. */
function chooseApi(
  asked: Api | undefined,
  media: PreparedMedia | Segment | readonly Segment[],
  o: ResolvedRequestOptions,
  opts: Pick<RequestOptions, 'transcripts'>,
): Api {
  if (asked !== undefined) return checkApi(asked, o.provider, o.model.name);
  return defaultApi(media, { transcripts: opts.transcripts, provider: o.provider });
}

function segmentLabel(s: Segment, input: string | undefined): string {
  return `${input ? `${input} ` : ''}segment ${s.index} (${formatRange(s.startSec, s.endSec)})`;
}

interface Measure {
  bytes: number;
  tokens: number;
  images: number;
  /** The longest image side in the request. */
  maxSide: number;
}

/** Sizes of parts in a body, measured without reading any file. */
class Meter {
  private readonly o: ResolvedRequestOptions;
  private readonly api: Api;
  private readonly where: string;

  constructor(api: Api, o: ResolvedRequestOptions, where: string) {
    this.api = api;
    this.o = o;
    this.where = where;
  }

  /** JSON bytes of the body with only the head parts, and its input tokens. */
  base(head: Part[]): Measure {
    const body = adapterOf(this.o.provider).renderBody(this.api, head, () => '', this.o, this.where);
    return { bytes: Buffer.byteLength(JSON.stringify(body)), tokens: textTokensOf(head, this.o), images: 0, maxSide: 0 };
  }

  /** What a unit adds: each part's JSON plus the comma before it. */
  unit(u: Unit): Measure {
    let bytes = 0;
    let tokens = 0;
    let images = 0;
    let maxSide = 0;
    const adapter = adapterOf(this.o.provider);
    const bare = adapter.barePayload;
    for (const p of u.parts) {
      const shape = adapter.renderPart(this.api, p, () => '', this.o, this.where);
      // A video part carries its file URI in the shape itself (no payload).
      bytes += 1 + Buffer.byteLength(JSON.stringify(shape)) + (p.kind === 'text' || p.kind === 'video' ? 0 : payloadLength(p, this.o, bare));
      if (p.kind === 'text') tokens += textTokens(this.o.model, p.text);
      else tokens += p.tokens;
      if (p.kind === 'image') {
        images++;
        maxSide = Math.max(maxSide, p.frame.width, p.frame.height);
      }
    }
    return { bytes, tokens, images, maxSide };
  }
}

function checkModelTakes(units: Unit[], o: ResolvedRequestOptions, where: string): void {
  const hasImage = units.some((u) => u.parts.some((p) => p.kind === 'image'));
  const hasAudio = units.some((u) => u.parts.some((p) => p.kind === 'audio'));
  if (hasImage && (!o.model.image || o.model.limits.imagesPerRequest < 1)) {
    throw new OmniprepError('LIMIT_EXCEEDED', `${where}: model ${o.model.name} takes no images`, { input: where });
  }
  if (units.some((u) => u.clip) && !o.model.video) {
    throw new OmniprepError('LIMIT_EXCEEDED', `${where}: model ${o.model.name} takes no video input; send frames`, { input: where });
  }
  if (hasAudio && !o.model.audio) {
    throw new OmniprepError('LIMIT_EXCEEDED', `${where}: model ${o.model.name} takes no audio input; send transcripts instead`, { input: where });
  }
}

/** The first limit a request of this measure breaks, as words; undefined when it fits. */
function overLimits(m: Measure, limits: RequestLimits, o: ResolvedRequestOptions): string | undefined {
  const name = o.model.name;
  const output = o.maxOutputTokens ?? o.expectedOutputTokens;
  if (m.images > limits.imagesPerRequest) return `${m.images} images exceed ${name}'s ${limits.imagesPerRequest} per request`;
  if (m.bytes > limits.requestBytes) return `${m.bytes} bytes exceed ${name}'s ${limits.requestBytes} bytes per request`;
  if (m.tokens + output > limits.contextWindow) return `${m.tokens} input + ${output} output tokens exceed ${name}'s context window of ${limits.contextWindow}`;
  if (limits.manyImages !== undefined && limits.maxSideManyImages !== undefined && m.images > limits.manyImages && m.maxSide > limits.maxSideManyImages) {
    return `${m.images} images with a ${m.maxSide} px side exceed ${name}'s ${limits.maxSideManyImages} px limit above ${limits.manyImages} images`;
  }
  return undefined;
}

/** Limits on one image alone: encoded bytes and pixel size. */
function imageProblem(u: Unit, limits: RequestLimits, o: ResolvedRequestOptions): string | undefined {
  const f = u.frame;
  if (!f || o.imageUrls) return undefined;
  if (limits.maxSide !== undefined && Math.max(f.width, f.height) > limits.maxSide) {
    return `its ${f.width}x${f.height} px exceed ${o.model.name}'s ${limits.maxSide} px per side`;
  }
  if (limits.imageBytes !== undefined) {
    const bytes = f.data?.length ?? (f.file ? statSync(f.file, { throwIfNoEntry: false })?.size : undefined) ?? 0;
    if (bytes > limits.imageBytes) return `its ${bytes} bytes exceed ${o.model.name}'s ${limits.imageBytes} bytes per image`;
  }
  return undefined;
}

/**
 * Splits one segment into as few parts as needed for every request to fit the limits, keeping the
 * media in time order. The parts' time ranges cut the segment's range at the first media of each
 * part. A segment that fits is returned unchanged. Throws LIMIT_EXCEEDED when one frame or chunk
 * alone cannot fit.
 */
export function fitSegment(segment: Segment, api: Api, o: ResolvedRequestOptions, limits: RequestLimits = requestLimits(o.model)): Segment[] {
  const where = segmentLabel(segment, o.input);
  const units = segmentUnits(segment, o);
  checkModelTakes(units, o, where);
  const meter = new Meter(api, o, where);
  const base = meter.base(headParts(o));
  const over = (m: Measure): string | undefined => overLimits(m, limits, o);
  if (over(base)) throw new OmniprepError('LIMIT_EXCEEDED', `${where}: the prompt alone is too large: ${over(base)}`, { input: where });
  const add = (a: Measure, b: Measure): Measure => ({
    bytes: a.bytes + b.bytes,
    tokens: a.tokens + b.tokens,
    images: a.images + b.images,
    maxSide: Math.max(a.maxSide, b.maxSide),
  });
  const groups: Unit[][] = [];
  let current: Unit[] = [];
  let total: Measure = { ...base };
  for (const u of units) {
    const m = meter.unit(u);
    const alone = over(add(base, m)) ?? imageProblem(u, limits, o);
    if (alone) throw new OmniprepError('LIMIT_EXCEEDED', `${unitName(u, o.input)}: cannot fit in one request: ${alone}`, { input: o.input ?? where });
    const next = add(total, m);
    if (current.length > 0 && over(next)) {
      groups.push(current);
      current = [];
      total = add(base, m);
    } else {
      total = next;
    }
    current.push(u);
  }
  groups.push(current);
  if (groups.length === 1) return [segment];
  return groups.map((g, i) => {
    const startSec = i === 0 ? segment.startSec : g[0]!.timeSec;
    const endSec = i === groups.length - 1 ? segment.endSec : groups[i + 1]![0]!.timeSec;
    return {
      index: segment.index,
      startSec,
      endSec,
      frames: g.flatMap((u) => (u.frame ? [u.frame] : [])),
      audio: g.flatMap((u) => (u.chunk ? [u.chunk] : [])),
      split: { part: i, parts: groups.length },
    };
  });
}

/** Every segment fitted to the limits, in order; the parts of a split segment keep its index and say which part they are. */
export function fitSegments(segments: readonly Segment[], opts: BuildOptions & { model: string | ModelEntry }): Segment[] {
  const o = resolveRequestOptions(opts);
  const api = chooseApi(opts.api, segments, o, opts);
  return segments.flatMap((s) => fitSegment(s, api, o));
}

/** `<index>` or `<index>.<part>` for a part of a split segment. */
export function segmentKey(s: Pick<Segment, 'index' | 'split'>): string {
  return s.split ? `${s.index}.${s.split.part}` : String(s.index);
}

function build(segment: Segment, api: Api, o: ResolvedRequestOptions): BuiltRequest {
  checkApi(api, o.provider, o.model.name);
  const where = segmentLabel(segment, o.input);
  const units = segmentUnits(segment, o);
  checkModelTakes(units, o, where);
  const parts = [...headParts(o), ...units.flatMap((u) => u.parts)];
  const payloads = new Map<Part, string>();
  const payloadOf = (p: Part & { kind: 'image' | 'audio' }): string => {
    let v = payloads.get(p);
    if (v === undefined) {
      v = payload(p, o);
      payloads.set(p, v);
    }
    return v;
  };
  const adapter = adapterOf(o.provider);
  const body = adapter.renderBody(api, parts, payloadOf, o, where) as RequestBody;
  const bytes = Buffer.byteLength(JSON.stringify(body));
  const estimate = estimateParts(parts, o);
  const limits = requestLimits(o.model);
  const maxSide = Math.max(0, ...segment.frames.map((f) => Math.max(f.width, f.height)));
  const problem =
    overLimits({ bytes, tokens: estimate.inputTokens, images: estimate.images, maxSide }, limits, o) ??
    units.map((u) => imageProblem(u, limits, o)).find(Boolean);
  if (problem) throw new OmniprepError('LIMIT_EXCEEDED', `${where}: ${problem}; split it with buildRequests() or fitSegments()`, { input: where });
  return {
    id: `${o.input ?? 'segment'}#${segmentKey(segment)}`,
    provider: o.provider,
    api,
    url: adapter.url(api, o.model) as ApiUrl,
    model: o.model.name,
    input: o.input,
    segment: {
      index: segment.index,
      startSec: segment.startSec,
      endSec: segment.endSec,
      frames: segment.frames.length,
      audio: segment.audio.length,
      ...(segment.split ? { split: segment.split } : {}),
    },
    body,
    bytes,
    estimate,
    ...(o.schema ? { schema: o.schema } : {}),
  };
}

/** One request for one segment, as it is (no splitting); LIMIT_EXCEEDED when it does not fit. */
export function buildRequest(segment: Segment, opts: BuildOptions & { model: string | ModelEntry }): BuiltRequest {
  const o = resolveRequestOptions(opts);
  return build(segment, chooseApi(opts.api, segment, o, opts), o);
}

/** A Chat Completions body for one segment. */
export function buildChatRequest(segment: Segment, opts: RequestOptions & { model: string | ModelEntry }): ChatBody {
  return build(segment, 'chat', resolveRequestOptions(opts)).body as ChatBody;
}

/** A Responses body for one segment (audio refused unless `transcripts` are given). */
export function buildResponsesRequest(segment: Segment, opts: RequestOptions & { model: string | ModelEntry }): ResponsesBody {
  return build(segment, 'responses', resolveRequestOptions(opts)).body as ResponsesBody;
}

/** The estimate of one segment's request, without building its body (no file is read). */
export function estimateRequest(segment: Segment, opts: RequestOptions & { model: string | ModelEntry }): RequestEstimate {
  const o = resolveRequestOptions(opts);
  return estimateParts([...headParts(o), ...segmentUnits(segment, o).flatMap((u) => u.parts)], o);
}

/**
 * Every request for prepared media: segments split where a limit requires it, then built. The
 * model defaults to the prepared media's, the API to `defaultApi()`.
 */
/**
 * A request's body as its provider's HTTP API takes it (what `omniprep request` prints): the body
 * itself but for Gemini, whose SDK arguments ({ model, contents, config }) become the REST body
 * ({ contents, systemInstruction, generationConfig }, the model in the URL), as the batch file has it.
 */
export function wireBody(r: Pick<BuiltRequest, 'provider' | 'body'>): unknown {
  const adapter = adapterOf(r.provider);
  return adapter.wireBody ? adapter.wireBody(r.body) : r.body;
}

export function buildRequests(prepared: PreparedMedia, opts: BuildOptions): BuiltRequest[] {
  const o = resolveRequestOptions(opts, { model: prepared.model, input: prepared.input });
  const api = chooseApi(opts.api, prepared, o, opts);
  return prepared.segments.flatMap((s) => fitSegment(s, api, o)).map((s) => build(s, api, o));
}
