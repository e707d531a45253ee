/**
 * resolveOptions(raw): the one place an options object becomes what the pipeline runs on. It
 * refuses unknown keys (naming the nearest option), checks every value against its one
 * description (define.ts), checks the relations between options, reads the model registry
 * (a `--models` file once) and looks the model up by name once, and fills in the defaults. The
 * `Resolved` it returns is frozen and taken as it is below the surface: plan(), sample(),
 * prepare(), run() and the service's runner neither parse an option nor look a model up again.
 * See ARCHITECTURE.md, "Options".
 */
import { OmniprepError } from '../errors.js';
import { DEFAULT_MODEL, type Tier } from '../models/constants.js';
import { resolveRegistry, type ModelEntry, type ModelRegistry } from '../models/registry.js';
import type { ImageFormat, Mode, SceneDetector } from '../media/formats.js';
import { checkGroup, type Group } from './define.js';
import { unknownOption } from './nearest.js';
import { DISPATCH, REQUEST } from './request.js';
import { checkRelations, ESTIMATE, ESTIMATE_DEFAULTS, SAMPLING, SAMPLING_DEFAULTS, type EstimateOptions, type SamplingOptions } from './sampling.js';

/** Where options come from: the library's functions, the command line, or the HTTP service. */
export type Surface = 'library' | 'cli' | 'service';

/** The option groups every surface describes (define.ts): their values are checked here. */
export const OPTION_GROUPS: readonly Group[] = [SAMPLING, ESTIMATE, REQUEST, DISPATCH];

/**
 * The library's other option keys (plumbing, callbacks, a plan made earlier, request and client
 * settings): accepted as they are and checked where they are used. With the groups' keys they are
 * every key plan(), sample(), prepare(), run() and the request builders take (a test holds the
 * list against their TypeScript types).
 */
export const LIBRARY_KEYS = [
  // the registry and the tools
  'registry',
  'modelsFile',
  'rule',
  'limits',
  'signal',
  'ffmpegPath',
  'ffprobePath',
  'decoder',
  'remote',
  'audioOptions',
  // a plan made earlier, where frames go, the working directory
  'plan',
  'facts',
  'sha256',
  'out',
  'onFrame',
  'dir',
  'keep',
  // requests
  'schema',
  'schemaName',
  'strict',
  'imageUrls',
  'transcripts',
  'timestamps',
  'expectedOutputTokens',
  'input',
  'reduce',
  // clients and dispatch
  'apiKey',
  'baseURL',
  'organization',
  'project',
  'timeoutMs',
  'client',
  'anthropicClient',
  'geminiClient',
  'clients',
  // the model's lifecycle checked against this date (tests), progress of a scene scan
  'today',
  'onScanProgress',
  'maxRetries',
  'baseDelayMs',
  'maxDelayMs',
  'maxRetryAfterMs',
  'random',
  'requestsPerMinute',
  'tokensPerMinute',
  'windowMs',
  'budgetUsd',
  'alreadySpentUsd',
  'onProgress',
  'onResult',
  'clock',
  'entry',
] as const;

/** Every key resolveOptions accepts. */
export type KnownOption = keyof typeof SAMPLING | keyof typeof ESTIMATE | keyof typeof REQUEST | keyof typeof DISPATCH | (typeof LIBRARY_KEYS)[number];

const GROUP_KEYS: readonly string[] = [...new Set(OPTION_GROUPS.flatMap((g) => Object.keys(g)))];
const KNOWN: ReadonlySet<string> = new Set([...GROUP_KEYS, ...LIBRARY_KEYS]);

/** The sampling and estimate options of one plan, with their defaults. */
export interface ResolvedSampling {
  every: number;
  mode: Mode;
  start: number;
  end: number | undefined;
  maxFrames: number | undefined;
  maxSide: number | undefined;
  format: ImageFormat;
  quality: number;
  dedup: boolean;
  dedupThreshold: number;
  tolerance: number | undefined;
  sceneDetector: SceneDetector;
  sceneThreshold: number;
  contentThreshold: number;
  adaptiveThreshold: number;
  minContent: number;
  minGap: number | undefined;
  maxGap: number | undefined;
  grid: { cols: number; rows: number } | undefined;
  sizeSlack: number;
  detail: string | undefined;
  tier: Tier;
  outputTokens: number;
}

/** The sampling options' defaults filled in (the values are checked already). */
export function samplingOf(o: SamplingOptions & EstimateOptions & { maxOutputTokens?: number | undefined }): ResolvedSampling {
  const d = { ...SAMPLING_DEFAULTS, ...ESTIMATE_DEFAULTS };
  return {
    every: o.every ?? d.every,
    mode: o.mode ?? d.mode,
    start: o.start ?? 0,
    end: o.end,
    maxFrames: o.maxFrames,
    maxSide: o.maxSide,
    format: o.format ?? d.format,
    quality: o.quality ?? d.quality,
    dedup: o.dedup ?? false,
    dedupThreshold: o.dedupThreshold ?? d.dedupThreshold,
    tolerance: o.tolerance,
    sceneDetector: o.sceneDetector ?? d.sceneDetector,
    sceneThreshold: o.sceneThreshold ?? d.sceneThreshold,
    contentThreshold: o.contentThreshold ?? d.contentThreshold,
    adaptiveThreshold: o.adaptiveThreshold ?? d.adaptiveThreshold,
    minContent: o.minContent ?? d.minContent,
    minGap: o.minGap,
    maxGap: o.maxGap,
    grid: o.grid,
    sizeSlack: o.sizeSlack ?? d.sizeSlack,
    detail: o.detail,
    tier: o.tier ?? d.tier,
    // The cap when there is one (what a request may be billed), as src/request/options.ts does.
    outputTokens: o.maxOutputTokens ?? o.outputTokens ?? d.outputTokens,
  };
}

const RESOLVED: unique symbol = Symbol('omniprep.resolved');

/** The options every surface resolves: the groups' and the library's keys. */
export type AnyOptions = { [K in KnownOption]?: unknown };

/** Options resolved once (resolveOptions): what the pipeline below a surface takes as it is. */
export interface Resolved<O extends object = AnyOptions> {
  readonly [RESOLVED]: true;
  readonly surface: Surface;
  /** The options as given (no unknown key, every value checked), frozen. */
  readonly options: Readonly<O>;
  /** The sampling and estimate options with their defaults. */
  readonly sampling: Readonly<ResolvedSampling>;
  /** The registry of this call (a `--models` file read once). */
  readonly registry: ModelRegistry;
  /** The model's registry entry, looked up by name once, here. */
  readonly model: ModelEntry;
}

export function isResolved<O extends object>(x: unknown): x is Resolved<O> {
  return typeof x === 'object' && x !== null && (x as { [RESOLVED]?: unknown })[RESOLVED] === true;
}

/** The options of either form, as given (nothing checked): for what is read before resolving. */
export function givenOptions<O extends object>(x: O | Resolved<O>): Readonly<O> {
  return isResolved<O>(x) ? x.options : (x as O);
}

interface Given {
  model?: unknown;
  registry?: ModelRegistry | undefined;
  modelsFile?: string | undefined;
  rule?: string | undefined;
}

function seal<O extends object>(options: O, surface: Surface, registry: ModelRegistry, model: ModelEntry): Resolved<O> {
  const sampling = Object.freeze(samplingOf(options as SamplingOptions & EstimateOptions));
  const r = { surface, options: Object.freeze({ ...options }), sampling, registry, model };
  Object.defineProperty(r, RESOLVED, { value: true, enumerable: false });
  return Object.freeze(r) as Resolved<O>;
}

/** Refuses a key no option has (one given as undefined is none given), naming the nearest option. */
export function refuseUnknown(o: object): void {
  for (const [k, v] of Object.entries(o)) if (v !== undefined && !KNOWN.has(k)) throw unknownOption(k, KNOWN, GROUP_KEYS);
}

/** Refuses an unknown key and, when asked, a value its description does not allow. */
function checkGiven(o: Record<string, unknown>, checkValues: boolean): void {
  refuseUnknown(o);
  if (checkValues) for (const g of OPTION_GROUPS) checkGroup(g, o);
}

/**
 * Resolves an options object once (an already Resolved one is returned as it is). The `cli` and
 * `service` surfaces have checked each value with the same descriptions (the flags' parsers, the
 * job options' parser), so only the library's surface checks the values here; unknown keys and
 * the relations between options are checked on every surface.
 */
export function resolveOptions<O extends object = AnyOptions>(raw: unknown, opts: { surface?: Surface } = {}): Resolved<O> {
  if (isResolved<O>(raw)) return raw;
  const surface = opts.surface ?? 'library';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new OmniprepError('INVALID_OPTION', `options: expected an object, got ${JSON.stringify(raw) ?? String(raw)}`);
  const o = raw as Record<string, unknown> & Given;
  checkGiven(o, surface === 'library');
  checkRelations(o as SamplingOptions & EstimateOptions);
  const registry = resolveRegistry({ registry: o.registry, modelsFile: o.modelsFile });
  const name = o.model ?? DEFAULT_MODEL;
  if (typeof name !== 'string') throw new OmniprepError('INVALID_OPTION', `option model: expected a model name, got ${JSON.stringify(name)}`);
  return seal(raw as O, surface, registry, registry.get(name, { rule: o.rule }));
}

/**
 * The same resolved options with a few more (a signal, an output folder, `send: 'video'`): the
 * values added are checked alone, the model is looked up again only when the patch names another.
 */
export function withOptions<O extends object>(r: Resolved<O>, patch: Partial<O>): Resolved<O> {
  const p = patch as Record<string, unknown> & Given;
  if (p.model !== undefined || p.registry !== undefined || p.modelsFile !== undefined || p.rule !== undefined)
    return resolveOptions<O>({ ...r.options, ...patch }, { surface: r.surface });
  const options = { ...r.options, ...patch } as O;
  checkGiven(p, true);
  checkRelations(options as SamplingOptions & EstimateOptions);
  return seal(options, r.surface, r.registry, r.model);
}
