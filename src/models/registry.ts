/**
 * The model registry: token rules, limits and prices as data (registry.json), with user overrides
 * from a JSON file (`--models FILE`, `OMNIPREP_MODELS`) or from code (`registerModels()`).
 * An override with a known model's name is merged into it (change a price, a limit); a new name
 * is either complete or says `"extends": "<known model>"`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OmniprepError } from '../errors.js';
import type { ImageRule } from './rules.js';
import { TIERS } from './constants.js';

export { DEFAULT_MODEL, TIERS, type Tier } from './constants.js';

const num = z.number().finite();
const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const pos = num.positive();

const ruleSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('tile'),
    fitBox: pos,
    shortSide: pos,
    tile: pos,
    base: num.nonnegative(),
    perTile: num.nonnegative(),
    rounding: z.enum(['floor', 'round']).default('floor'),
    auto: z.string().default('high'),
    source: z.string(),
    date: z.string(),
  }),
  z.object({
    type: z.literal('patch'),
    patch: pos,
    multiplier: pos,
    levels: z.record(z.string(), z.object({ maxDim: pos, budget: pos })),
    rounding: z.enum(['floor', 'round']).default('floor'),
    auto: z.string(),
    source: z.string(),
    date: z.string(),
  }),
  z.object({ type: z.literal('claude'), patch: pos, maxLongEdge: pos, maxTokens: pos, source: z.string(), date: z.string() }),
  z.object({ type: z.literal('claude-legacy'), divisor: pos, maxLongEdge: pos, source: z.string(), date: z.string() }),
  z.object({
    type: z.literal('gemini-tiles'),
    smallSide: pos,
    tokensPerTile: pos,
    unitDivisor: pos,
    minUnit: pos,
    maxUnit: pos,
    videoTokensPerFrame: pos.optional(),
    source: z.string(),
    date: z.string(),
  }),
  z.object({
    type: z.literal('gemini-fixed'),
    levels: z.record(z.string(), z.object({ tokens: pos, maxSide: pos })),
    auto: z.string(),
    videoTokensPerFrame: z.record(z.string(), pos).optional(),
    source: z.string(),
    date: z.string(),
  }),
]);

const priceSchema = z.object({
  input: num.nonnegative(),
  output: num.nonnegative(),
  audioInput: num.nonnegative().optional(),
  audioOutput: num.nonnegative().optional(),
});

const modelSchema = z.object({
  /** `local`: a model served by a local OpenAI-compatible server (its prices are the entry's own). */
  provider: z.enum(['openai', 'anthropic', 'google', 'local', 'other']),
  /** The model id the provider's API takes, when it differs from the registry name (`claude-sonnet-4-5`). */
  apiModel: z.string().optional(),
  image: z.string().optional(),
  audio: z.object({ tokensPerSecond: pos, api: z.enum(['chat', 'realtime', 'gemini', 'other']).default('chat'), source: z.string().optional() }).optional(),
  video: z.object({ tokensPerFrame: pos, audioTokensPerSecond: pos, defaultFps: pos }).optional(),
  text: z.object({
    encoding: z.enum(['o200k_base', 'o200k_harmony', 'cl100k_base']),
    perMessage: num.nonnegative(),
    perRequest: num.nonnegative(),
    approximate: z.boolean().optional(),
  }),
  contextWindow: pos,
  maxOutputTokens: pos,
  limits: z.object({
    imagesPerRequest: num.nonnegative(),
    requestBytes: pos,
    imageBytes: pos.optional(),
    maxSide: pos.optional(),
    maxSideManyImages: pos.optional(),
    manyImages: pos.optional(),
    batchLines: pos.optional(),
    batchBytes: pos.optional(),
    /** Where the limits come from. */
    source: z.string().optional(),
  }),
  prices: z.partialRecord(z.enum(TIERS), priceSchema).refine((p) => p.standard !== undefined, 'prices.standard is required'),
  /** The lifecycle (src/models/lifecycle.ts): when the provider deprecated it, when it retires or retired, what replaces it. */
  deprecated: isoDay.optional(),
  retires: isoDay.optional(),
  retired: isoDay.optional(),
  replacement: z.string().optional(),
  source: z.string(),
  date: z.string(),
});

export type ModelData = z.infer<typeof modelSchema>;
export type Price = z.infer<typeof priceSchema>;

export interface ModelEntry extends Omit<ModelData, 'image'> {
  name: string;
  /** The image rule, with its registry name; absent for models that take no images. */
  image?: ImageRule & { name: string };
  /** Set when the entry borrows another model's rules (`extends`, or `--rule`). */
  derivedFrom?: string;
}

const overrideSchema = z.object({
  version: z.string().optional(),
  rules: z.record(z.string(), ruleSchema).optional(),
  models: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

export type RegistryOverrides = z.input<typeof overrideSchema>;

/** Batch API limits (OpenAI): lines and bytes per input file. */
export const BATCH_DEFAULTS = { batchLines: 50_000, batchBytes: 200 * 1024 * 1024 };

function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

function withoutLifecycle<T extends ModelData>(m: T): T {
  const { deprecated: _d, retires: _r, retired: _x, replacement: _p, ...rest } = m;
  return rest as T;
}

function zodMessage(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export class ModelRegistry {
  readonly version: string;
  private readonly rules: Map<string, ImageRule>;
  private readonly models: Map<string, ModelData & { derivedFrom?: string }>;

  private constructor(version: string, rules: Map<string, ImageRule>, models: Map<string, ModelData & { derivedFrom?: string }>) {
    this.version = version;
    this.rules = rules;
    this.models = models;
  }

  static fromJson(json: unknown, origin = 'registry'): ModelRegistry {
    return new ModelRegistry('0', new Map(), new Map()).withOverrides(json, origin);
  }

  /** A new registry with the overrides applied (this one is not changed). */
  withOverrides(json: unknown, origin = 'overrides'): ModelRegistry {
    const parsed = overrideSchema.safeParse(json);
    if (!parsed.success) throw new OmniprepError('INVALID_OPTION', `${origin}: not a model registry (${zodMessage(parsed.error)})`);
    const rules = new Map(this.rules);
    for (const [name, rule] of Object.entries(parsed.data.rules ?? {})) rules.set(name, rule as ImageRule);
    const models = new Map(this.models);
    for (const [name, raw] of Object.entries(parsed.data.models ?? {})) {
      const { extends: ext, ...rest } = raw as { extends?: string } & Record<string, unknown>;
      const baseName = typeof ext === 'string' ? ext : models.has(name) ? name : undefined;
      const base = baseName ? models.get(baseName) : undefined;
      if (baseName && !base) throw new OmniprepError('INVALID_OPTION', `${origin}: model ${name} extends ${baseName}, which is not known`);
      // Another name is another model: it borrows the rules, limits and prices, not the lifecycle.
      const from = base && baseName !== name ? withoutLifecycle(base) : base;
      const merged = from ? deepMerge(from as unknown as Record<string, unknown>, rest) : rest;
      // A price belongs to its provider: an entry that moves a model to another provider (a local server) gives its own, whole.
      if (base && rest.provider !== undefined && rest.provider !== base.provider) {
        if (rest.prices === undefined) {
          throw new OmniprepError(
            'INVALID_OPTION',
            `${origin}: model ${name} moves ${baseName} from provider ${base.provider} to ${String(rest.provider)}: give its own prices (0 for none)`,
          );
        }
        merged.prices = rest.prices;
      }
      const checked = modelSchema.safeParse(merged);
      if (!checked.success) throw new OmniprepError('INVALID_OPTION', `${origin}: model ${name}: ${zodMessage(checked.error)}`);
      if (checked.data.image && !rules.has(checked.data.image)) {
        throw new OmniprepError('INVALID_OPTION', `${origin}: model ${name} names image rule ${checked.data.image}, which is not defined`);
      }
      models.set(name, { ...checked.data, ...(typeof ext === 'string' && ext !== name ? { derivedFrom: ext } : {}) });
    }
    for (const [name, m] of models) {
      if (m.replacement !== undefined && !models.has(m.replacement)) {
        throw new OmniprepError('INVALID_OPTION', `${origin}: model ${name} names replacement ${m.replacement}, which is not known`);
      }
    }
    return new ModelRegistry(parsed.data.version ?? this.version, rules, models);
  }

  names(): string[] {
    return [...this.models.keys()].sort();
  }

  has(name: string): boolean {
    return this.models.has(name);
  }

  /**
   * A model by name. Dated snapshots (`gpt-4o-2024-08-06`) resolve to their family. An unknown
   * model is an error listing the known ones, unless `rule` names a known model to follow.
   */
  get(name: string, options: { rule?: string | undefined } = {}): ModelEntry {
    let data = this.models.get(name);
    let derivedFrom: string | undefined = data?.derivedFrom;
    if (!data) {
      // The provider's own id (`claude-sonnet-4-5`) names the registry entry that says so.
      const alias = [...this.models].find(([, m]) => m.apiModel === name);
      if (alias) return this.get(alias[0], options);
      const snapshot = /^(.*?)-\d{4}-\d{2}-\d{2}$/.exec(name);
      if (snapshot && this.models.has(snapshot[1]!)) {
        data = this.models.get(snapshot[1]!);
        derivedFrom = snapshot[1];
      }
    }
    if (!data && options.rule) {
      const followed = this.models.get(options.rule);
      data = followed && withoutLifecycle(followed);
      if (!data) throw new OmniprepError('UNKNOWN_MODEL', `--rule ${options.rule}: not a known model; known: ${this.names().join(', ')}`);
      derivedFrom = options.rule;
    }
    if (!data) {
      throw new OmniprepError(
        'UNKNOWN_MODEL',
        `unknown model ${name}; known: ${this.names().join(', ')} (add it with --models FILE, or say which it follows with --rule MODEL)`,
        { input: name },
      );
    }
    const { image, derivedFrom: _d, ...rest } = data;
    const entry: ModelEntry = { ...rest, name };
    if (image) entry.image = { ...this.rules.get(image)!, name: image };
    if (derivedFrom) entry.derivedFrom = derivedFrom;
    return entry;
  }

  toJSON(): { version: string; rules: Record<string, ImageRule>; models: Record<string, ModelData> } {
    return { version: this.version, rules: Object.fromEntries(this.rules), models: Object.fromEntries(this.models) };
  }
}

let builtin: ModelRegistry | undefined;
export function builtinRegistry(): ModelRegistry {
  builtin ??= ModelRegistry.fromJson(JSON.parse(readFileSync(new URL('./registry.json', import.meta.url), 'utf8')), 'built-in registry');
  return builtin;
}

export function readOverrides(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OmniprepError('INVALID_OPTION', `${file}: ${code === 'ENOENT' ? 'no such file' : `not valid JSON (${(e as Error).message})`}`, { input: file });
  }
}

let current: ModelRegistry | undefined;
let currentEnv: string | undefined;

/** The registry in use: built-in, then OMNIPREP_MODELS, then whatever registerModels() added. */
export function registry(): ModelRegistry {
  const env = process.env.OMNIPREP_MODELS;
  if (!current || env !== currentEnv) {
    currentEnv = env;
    current = env ? builtinRegistry().withOverrides(readOverrides(env), env) : builtinRegistry();
  }
  return current;
}

/** Adds or overrides models and rules for this process (in code, without a release). */
export function registerModels(overrides: RegistryOverrides | string): ModelRegistry {
  const json = typeof overrides === 'string' ? readOverrides(overrides) : overrides;
  current = registry().withOverrides(json, typeof overrides === 'string' ? overrides : 'registerModels()');
  return current;
}

/** Resolves the registry for one call: an explicit one, a --models file, or the process registry. */
export function resolveRegistry(o: { registry?: ModelRegistry | undefined; modelsFile?: string | undefined } = {}): ModelRegistry {
  if (o.registry) return o.registry;
  if (o.modelsFile) return registry().withOverrides(readOverrides(o.modelsFile), o.modelsFile);
  return registry();
}
