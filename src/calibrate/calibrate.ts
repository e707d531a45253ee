/**
 * calibrate(options): rules drift and the docs lag the billing, so ask the server. Send a few
 * noise images of chosen sizes, each with the same short text, at each detail level; send the text
 * alone once; the difference in reported input tokens (`usage.prompt_tokens` on Chat Completions,
 * `usage.input_tokens` on Responses) is what each image was billed. Then find the rule and
 * parameters that explain every bill (fit.ts), show the residuals of that rule and of the
 * registry's current one, and build a registry override that `--models FILE` can use.
 *
 *   const report = await calibrate({ model: 'gpt-5.5', baseURL: 'http://127.0.0.1:8000/v1', save: 'calibrated.json' });
 *   report.fit.description; // 'patch rule: ceil(32 px patches x 1.2); high 2048 px / 2500 patches, low 512 px / 256 patches'
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { OmniprepError, invalidOption } from '../errors.js';
import { dispatchAll, type DispatchOptions, type DispatchReport, type DispatchRequest } from '../dispatch/dispatch.js';
import type { RequestEstimate } from '../request/estimate.js';
import type { Api } from '../request/options.js';
import { API_DETAILS, type OpenAIApi } from '../providers/openai/render.js';
import type { FrameAsset, Part } from '../providers/parts.js';
import { PROVIDERS, type RequestBody } from '../providers/registry.js';
import { resolveRegistry, type ModelEntry, type ModelRegistry, type RegistryOverrides } from '../models/registry.js';
import { detailLevels, type ImageRule } from '../models/rules.js';
import { chatTextTokens, dollars, getModel, imageTokens } from '../models/tokens.js';
import { fitImageRule, type FitResult, type FittedRule, type Observation, type RuleFit } from './fit.js';
import { CALIBRATION_SIZES, noiseJpeg, type ImageSize } from './images.js';

export const CALIBRATE_DEFAULTS = {
  api: 'chat' as Api,
  details: ['high', 'low'],
  text: 'Reply with one word: what is in the image?',
  maxOutputTokens: 16,
  concurrency: 4,
  tolerance: 0,
};

export interface CalibrateOptions
  extends Pick<
    DispatchOptions,
    'apiKey' | 'baseURL' | 'organization' | 'project' | 'timeoutMs' | 'client' | 'maxRetries' | 'signal' | 'registry' | 'modelsFile' | 'rule'
  > {
  /** The model to calibrate (a registry name, or any name with `rule`). */
  model: string;
  /** chat (default: `usage.prompt_tokens`) or responses (`usage.input_tokens`). */
  api?: Api | undefined;
  /** Image sizes (default CALIBRATION_SIZES). */
  sizes?: readonly ImageSize[] | undefined;
  /** Detail levels to send each size at (default high, low). */
  details?: readonly string[] | undefined;
  /** The fixed text sent with every image, and alone once. */
  text?: string | undefined;
  /** Requests in flight at once (default 4). */
  concurrency?: number | undefined;
  /** Largest residual that still counts as explained (default 0; the docs allow billing 1 token off). */
  tolerance?: number | undefined;
  /** Write the registry override to this file (merged into it when it already holds overrides). */
  save?: string | undefined;
  /** The date the calibration is stamped with (default now). */
  now?: Date | undefined;
}

export interface CalibratedImage {
  width: number;
  height: number;
  detail: string;
  bytes: number;
  /** The request's reported input tokens. */
  inputTokens: number;
  /** inputTokens minus the text-only request's: what the image was billed. */
  imageTokens: number;
  /** What the fitted rule predicts, and billed minus predicted. */
  predicted: number | null;
  residual: number | null;
  /** What the registry's current rule predicts, and billed minus that. */
  registryPredicted: number | null;
  registryResidual: number | null;
}

export interface CalibrationReport {
  model: string;
  api: Api;
  baseURL: string;
  /** YYYY-MM-DD. */
  date: string;
  text: string;
  /** Input tokens of the text alone. */
  baselineTokens: number;
  images: CalibratedImage[];
  /** The rule that explains the bills best. */
  fit: Pick<RuleFit, 'family' | 'origin' | 'name' | 'rule' | 'description' | 'sameAs' | 'ranges' | 'maxAbsResidual' | 'totalAbsResidual'> & {
    explained: boolean;
  };
  /** The registry's current rule for the model, against the same bills. */
  registry: { rule: string | null; description: string | null; explained: boolean; maxAbsResidual: number | null };
  /** The nearest candidates, best first. */
  candidates: Array<{ origin: RuleFit['origin']; name?: string; description: string; maxAbsResidual: number; totalAbsResidual: number }>;
  /** What the calibration itself cost. */
  usage: { requests: number; inputTokens: number; outputTokens: number; costUsd: number };
  /** The registry override that makes the registry bill as the server does. */
  override: RegistryOverrides;
  /** Detail levels the override keeps from the registry's rule because none was measured (e.g. original). */
  keptLevels: string[];
  /** Where the override was written (with `save`). */
  saved: string | null;
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** A calibration body: the text, then the image when there is one, as the OpenAI adapter renders them. */
function body(api: OpenAIApi, model: ModelEntry, text: string, maxOutputTokens: number, image?: { url: string; detail: string }): RequestBody {
  const parts: Part[] = [{ kind: 'text', text }];
  if (image) {
    const frame: FrameAsset = { index: 0, timestampSec: 0, url: image.url, mime: 'image/jpeg', width: 0, height: 0, detail: image.detail, tokens: 0 };
    parts.push({ kind: 'image', frame, detail: image.detail, tokens: 0 });
  }
  const o = { model, system: undefined, maxOutputTokens, schema: undefined, schemaName: 'answer', strict: true, tier: 'standard' as const };
  return PROVIDERS.openai.renderBody(api, parts, () => image?.url ?? '', o, `calibration of ${model.name}`) as RequestBody;
}

/** The registry override that makes `model` bill images by `rule`. */
export function calibrationOverride(o: {
  model: ModelEntry;
  known: boolean;
  rule: FittedRule;
  current?: (ImageRule & { name: string }) | undefined;
  baseURL: string;
  date: string;
}): { name: string; overrides: RegistryOverrides; keptLevels: string[] } {
  const name = `${o.model.name}-calibrated-${o.date}`;
  const stamp = { source: `calibrated against ${o.baseURL} on ${o.date}`, date: o.date };
  let rule: Record<string, unknown>;
  let keptLevels: string[] = [];
  const { source: _s, date: _d, ...params } = o.rule;
  if (params.type === 'patch' && o.current?.type === 'patch') {
    // Levels not measured (e.g. original) keep the registry's values; the multiplier is the model's.
    const { name: _n, source: _cs, date: _cd, ...cur } = o.current;
    rule = { ...cur, ...params, levels: { ...cur.levels, ...params.levels }, auto: cur.auto, ...stamp };
    keptLevels = Object.keys(cur.levels).filter((l) => !(l in params.levels));
  } else {
    rule = { ...params, ...stamp };
  }
  const entry: Record<string, unknown> = { image: name };
  if (!o.known) {
    const base = o.model.derivedFrom;
    if (!base)
      throw new OmniprepError(
        'INVALID_OPTION',
        `model ${o.model.name} is not in the registry: say which model it follows with --rule MODEL to save an override`,
        { input: o.model.name },
      );
    entry.extends = base;
  }
  return { name, overrides: { rules: { [name]: rule } as RegistryOverrides['rules'], models: { [o.model.name]: entry } }, keptLevels };
}

/** Writes the override, merged into `file` when it already holds overrides; checks the result loads. */
export function saveOverride(file: string, overrides: RegistryOverrides, check: (json: unknown) => void): void {
  let merged: RegistryOverrides = overrides;
  if (existsSync(file)) {
    let old: RegistryOverrides;
    try {
      old = JSON.parse(readFileSync(file, 'utf8')) as RegistryOverrides;
    } catch (e) {
      throw new OmniprepError('INVALID_OPTION', `${file}: not valid JSON, not overwritten (${(e as Error).message})`, { input: file });
    }
    if (!old || typeof old !== 'object' || Array.isArray(old))
      throw new OmniprepError('INVALID_OPTION', `${file}: not a registry override file, not overwritten`, { input: file });
    const models = { ...(old.models ?? {}) };
    for (const [k, v] of Object.entries(overrides.models ?? {})) models[k] = { ...(models[k] ?? {}), ...v };
    merged = { ...old, rules: { ...(old.rules ?? {}), ...(overrides.rules ?? {}) }, models };
  }
  check(merged);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(merged, null, 2)}\n`);
    renameSync(tmp, file);
  } catch (e) {
    throw new OmniprepError('INVALID_OPTION', `option save: cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      input: file,
    });
  }
}

/** The API, sizes and detail levels asked for, checked (one line naming the option when not). */
function checkOptions(options: CalibrateOptions): { api: OpenAIApi; sizes: readonly ImageSize[]; details: string[] } {
  const api = options.api ?? CALIBRATE_DEFAULTS.api;
  if (!PROVIDERS.openai.apis.includes(api)) throw invalidOption('api', 'chat or responses', api);
  const openaiApi = api as OpenAIApi;
  const sizes = options.sizes ?? CALIBRATION_SIZES;
  if (!sizes.length) throw invalidOption('sizes', 'at least one image size', sizes);
  for (const s of sizes)
    if (!(Number.isInteger(s.width) && Number.isInteger(s.height) && s.width >= 1 && s.height >= 1)) throw invalidOption('sizes', 'whole numbers of pixels', s);
  const details = [...new Set(options.details ?? CALIBRATE_DEFAULTS.details)];
  const sendable = API_DETAILS[openaiApi].filter((d) => d !== 'auto');
  if (!details.length) throw invalidOption('details', sendable.join(', '), details);
  for (const d of details)
    if (!(sendable as readonly string[]).includes(d)) throw invalidOption('details', `${sendable.join(', ')} (auto would leave the level to the server)`, d);
  return { api: openaiApi, sizes, details };
}

/** The estimate of one calibration request: the text, and one image of `imageTok` tokens (0: none). */
function estimateOf(model: ModelEntry, imageTok: number, textTokens: number, maxOut: number): RequestEstimate {
  const counts = { imageTokens: imageTok, textTokens };
  return {
    model: model.name,
    tier: 'standard',
    images: imageTok ? 1 : 0,
    audioChunks: 0,
    audioSeconds: 0,
    imageTokens: imageTok,
    videoFrames: 0,
    videoTokens: 0,
    audioTokens: 0,
    textTokens,
    inputTokens: imageTok + textTokens,
    outputTokens: maxOut,
    inputUsd: dollars(model, counts),
    usd: dollars(model, { ...counts, outputTokens: maxOut }),
  };
}

type NamedRule = ImageRule & { name: string };
type Sent = { width: number; height: number; detail: string; bytes: number };

/** The registry's rule for the model when calibration can fit against it (tile or patch), else undefined. */
function fittableRule(model: ModelEntry): NamedRule | undefined {
  return model.image && (model.image.type === 'tile' || model.image.type === 'patch') ? model.image : undefined;
}

/** The requests: the text alone, then every size at every detail, each estimated with the registry's current rule. */
async function calibrationRequests(
  api: OpenAIApi,
  model: ModelEntry,
  text: string,
  maxOut: number,
  checked: { sizes: readonly ImageSize[]; details: string[]; current: NamedRule | undefined },
): Promise<{ requests: DispatchRequest[]; sent: Sent[] }> {
  const images = await Promise.all(checked.sizes.map(async (s) => ({ ...s, jpeg: await noiseJpeg(s) })));
  const textTokens = chatTextTokens(model, [text]);
  const estimate = (imageTok: number): RequestEstimate => estimateOf(model, imageTok, textTokens, maxOut);
  const predict = (w: number, h: number, d: string): number =>
    checked.current && detailLevels(checked.current).includes(d) ? imageTokens(model, w, h, d).tokens : 0;
  const sent: Sent[] = [];
  const requests: DispatchRequest[] = [{ id: 'text-only', api, body: body(api, model, text, maxOut), estimate: estimate(0) }];
  for (const img of images) {
    const url = `data:image/jpeg;base64,${img.jpeg.toString('base64')}`;
    for (const detail of checked.details) {
      sent.push({ width: img.width, height: img.height, detail, bytes: img.jpeg.length });
      requests.push({
        id: `${img.width}x${img.height}-${detail}`,
        api,
        body: body(api, model, text, maxOut, { url, detail }),
        estimate: estimate(predict(img.width, img.height, detail)),
      });
    }
  }
  return { requests, sent };
}

/** The input tokens each answer reports, in request order; the first request that failed or reported none is an error. */
function reportedInputTokens(report: DispatchReport, where: string, baseURL: string): number[] {
  const usage: number[] = [];
  for (const r of report.results) {
    if (r.status === 'ok' && r.usage) {
      usage.push(r.usage.inputTokens);
      continue;
    }
    const why = r.status === 'ok' ? 'the answer has no usage' : r.status === 'error' ? r.error.message : r.message;
    throw new OmniprepError(r.status === 'ok' ? 'INVALID_RESPONSE' : 'REQUEST_FAILED', `${where}: request ${r.id}: ${why}`, { input: baseURL });
  }
  return usage;
}

/** Writes the override to `options.save` when the fit explains every bill (refuses when not); where it went. */
function saveWhenExplained(
  options: CalibrateOptions,
  fit: FitResult,
  overrides: RegistryOverrides,
  where: string,
  baseURL: string,
  registry: ModelRegistry,
): string | null {
  if (!options.save) return null;
  if (!fit.explained) {
    throw new OmniprepError(
      'INVALID_OPTION',
      `${where}: no rule explains every bill (nearest: ${fit.best.description}, off by up to ${fit.best.maxAbsResidual} tokens); nothing saved`,
      { input: baseURL },
    );
  }
  saveOverride(options.save, overrides, (json) => void registry.withOverrides(json, options.save));
  return options.save;
}

/** The report's fit, registry and candidates sections: the best rule, the registry's against the same bills, the nearest five. */
function fitSections(
  fit: FitResult,
  currentFit: RuleFit | undefined,
  model: ModelEntry,
  tolerance: number,
): Pick<CalibrationReport, 'fit' | 'registry' | 'candidates'> {
  const best = fit.best;
  return {
    fit: {
      family: best.family,
      origin: best.origin,
      ...(best.name ? { name: best.name } : {}),
      rule: best.rule,
      description: best.description,
      sameAs: best.sameAs,
      ...(best.ranges ? { ranges: best.ranges } : {}),
      maxAbsResidual: best.maxAbsResidual,
      totalAbsResidual: best.totalAbsResidual,
      explained: fit.explained,
    },
    registry: {
      rule: model.image?.name ?? null,
      description: currentFit?.description ?? null,
      explained: currentFit ? currentFit.maxAbsResidual <= tolerance : false,
      maxAbsResidual: currentFit && Number.isFinite(currentFit.maxAbsResidual) ? currentFit.maxAbsResidual : null,
    },
    candidates: fit.candidates.slice(0, 5).map((c) => ({
      origin: c.origin,
      ...(c.name ? { name: c.name } : {}),
      description: c.description,
      maxAbsResidual: c.maxAbsResidual,
      totalAbsResidual: c.totalAbsResidual,
    })),
  };
}

/** Each image's bill beside what the fitted rule and the registry's rule predict. */
function calibratedImages(sent: Sent[], usage: number[], observations: Observation[], best: RuleFit, currentFit: RuleFit | undefined): CalibratedImage[] {
  return observations.map((o, i) => ({
    ...sent[i]!,
    inputTokens: usage[i + 1]!,
    imageTokens: o.tokens,
    predicted: best.predicted[i] ?? null,
    residual: best.residuals[i] ?? null,
    registryPredicted: currentFit?.predicted[i] ?? null,
    registryResidual: currentFit?.residuals[i] ?? null,
  }));
}

/** Measures how a server bills images for a model and finds the rule that explains it. */
export async function calibrate(options: CalibrateOptions): Promise<CalibrationReport> {
  const { api, sizes, details } = checkOptions(options);
  const registry = resolveRegistry({ registry: options.registry, modelsFile: options.modelsFile });
  const model = getModel(options.model, { registry, rule: options.rule });
  const text = options.text ?? CALIBRATE_DEFAULTS.text;
  const maxOut = CALIBRATE_DEFAULTS.maxOutputTokens;
  const baseURL = options.baseURL ?? process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1';
  const date = isoDate(options.now ?? new Date());
  const current = fittableRule(model);
  const { requests, sent } = await calibrationRequests(api, model, text, maxOut, { sizes, details, current });

  const report = await dispatchAll(requests, {
    apiKey: options.apiKey,
    baseURL,
    organization: options.organization,
    project: options.project,
    timeoutMs: options.timeoutMs,
    client: options.client,
    maxRetries: options.maxRetries,
    signal: options.signal,
    registry,
    rule: options.rule,
    concurrency: options.concurrency ?? CALIBRATE_DEFAULTS.concurrency,
  });
  const where = `calibrate ${model.name} at ${baseURL}`;
  const usage = reportedInputTokens(report, where, baseURL);
  const baseline = usage[0]!;
  const observations: Observation[] = sent.map((s, i) => ({ width: s.width, height: s.height, detail: s.detail, tokens: usage[i + 1]! - baseline }));

  const tolerance = options.tolerance ?? CALIBRATE_DEFAULTS.tolerance;
  const fit = fitImageRule(observations, { registry, current, tolerance });
  const currentFit = current ? fit.candidates.find((c) => c.origin === 'registry' && c.name === current.name) : undefined;
  const { overrides, keptLevels } = calibrationOverride({ model, known: registry.has(model.name), rule: fit.best.rule, current, baseURL, date });
  const saved = saveWhenExplained(options, fit, overrides, where, baseURL, registry);

  const spent = report.totals;
  return {
    model: model.name,
    api,
    baseURL,
    date,
    text,
    baselineTokens: baseline,
    images: calibratedImages(sent, usage, observations, fit.best, currentFit),
    ...fitSections(fit, currentFit, model, tolerance),
    usage: { requests: requests.length, inputTokens: spent.actualInputTokens, outputTokens: spent.actualOutputTokens, costUsd: spent.spentUsd },
    override: overrides,
    keptLevels,
    saved,
  };
}
