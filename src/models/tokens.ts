/**
 * Pure token and dollar math over registry entries.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { installLinearMerge } from './bpe.js';
import { OmniprepError, invalidOption } from '../errors.js';
import { applyRule, resolveDetail, detailLevels } from './rules.js';
import { resolveRegistry, TIERS, type ModelEntry, type ModelRegistry, type Price, type Tier } from './registry.js';

export interface ModelOptions {
  registry?: ModelRegistry | undefined;
  modelsFile?: string | undefined;
  /** For an unknown model: the known model whose rules it follows. */
  rule?: string | undefined;
}

export function getModel(model: string | ModelEntry, o: ModelOptions = {}): ModelEntry {
  return typeof model === 'string' ? resolveRegistry(o).get(model, { rule: o.rule }) : model;
}

export interface ImageTokens {
  model: string;
  detail: string;
  width: number;
  height: number;
  resizedWidth: number;
  resizedHeight: number;
  tokens: number;
  /** Which rule, parameters' date and source: `openai-patch-5.5 original (2026-11)`. */
  rule: string;
  source: string;
}

function imageRuleOf(m: ModelEntry): NonNullable<ModelEntry['image']> {
  if (!m.image) throw new OmniprepError('LIMIT_EXCEEDED', `model ${m.name} takes no images`, { input: m.name });
  return m.image;
}

/** Detail levels the model accepts. */
export function modelDetails(model: string | ModelEntry, o: ModelOptions = {}): string[] {
  return detailLevels(imageRuleOf(getModel(model, o)));
}

/** Tokens one image of width x height costs (the provider's resizing and rounding applied). */
export function imageTokens(model: string | ModelEntry, width: number, height: number, detail?: string, o: ModelOptions = {}): ImageTokens {
  const m = getModel(model, o);
  const rule = imageRuleOf(m);
  const d = resolveDetail(rule, detail, `${m.name} (${rule.name})`);
  const r = applyRule(rule, width, height, d);
  const shownDetail = r.detail === 'auto' ? (detail ?? 'auto') : r.detail;
  return {
    model: m.name,
    detail: shownDetail,
    width,
    height,
    resizedWidth: r.resizedWidth,
    resizedHeight: r.resizedHeight,
    tokens: r.tokens,
    rule: `${rule.name}${r.detail === 'auto' ? '' : ` ${r.detail}`} (${rule.date})`,
    source: rule.source,
  };
}

/** Audio input tokens for `seconds` of audio (whole tokens, rounded up). */
export function audioTokens(model: string | ModelEntry, seconds: number, o: ModelOptions = {}): number {
  const m = getModel(model, o);
  if (!m.audio) throw new OmniprepError('NO_AUDIO_STREAM', `model ${m.name} takes no audio input`, { input: m.name });
  if (!(seconds >= 0)) throw invalidOption('seconds', 'a duration >= 0', seconds);
  return Math.ceil(seconds * m.audio.tokensPerSecond - 1e-9);
}

export function acceptsAudio(model: string | ModelEntry, o: ModelOptions = {}): boolean {
  return Boolean(getModel(model, o).audio);
}

// Encodings load on first use (each takes ~0.2 s to load), through gpt-tokenizer's CommonJS build
// so that counting stays synchronous. Long pieces merge in O(n log n) (src/models/bpe.ts).
const requireCjs = createRequire(import.meta.url);
export type Encoding = 'o200k_base' | 'o200k_harmony' | 'cl100k_base';
const counters = new Map<Encoding, (text: string) => number>();
function counter(encoding: Encoding): (text: string) => number {
  let c = counters.get(encoding);
  if (!c) {
    const mod = requireCjs(`gpt-tokenizer/cjs/encoding/${encoding}`) as { countTokens: (text: string) => number; default: unknown };
    installLinearMerge(mod.default);
    c = mod.countTokens;
    counters.set(encoding, c);
  }
  return c;
}

/** Texts at least this long have their counts remembered (by hash), and may be counted elsewhere first. */
export const LONG_TEXT = 2048;
const LONG_COUNTS_KEPT = 256;
const longCounts = new Map<string, number>();
const longKey = (encoding: Encoding, text: string): string => `${encoding}:${createHash('sha256').update(text).digest('base64')}`;

// The labels omniprep writes itself ('[01:05]', '[audio 00:00-00:30]', '[video ...]', and the '.'
// that stands in for a missing prompt) are counted without loading an encoding (~0.4 s): all three
// encodings split them the same way (a run of 1-3 digits is one token, '[', ']', ':', '-', ' ' and
// '.' one each, '[audio' and '[video' two each), checked against the tokenizer on every label shape
// in test/models/tokens.unit.test.ts.
const CLOCK = String.raw`(\d+(?::\d\d){1,2})`;
const LABEL = new RegExp(String.raw`^\[(?:(audio|video) )?${CLOCK}(?:-${CLOCK})?\]$`);
function clockTokens(clock: string): number {
  let n = 0;
  for (const run of clock.split(':')) n += Math.ceil(run.length / 3) + 1;
  return n - 1;
}

/** Tokens of one of omniprep's own labels, or undefined for any other text. */
export function labelTokens(text: string): number | undefined {
  if (text === '.') return 1;
  const m = LABEL.exec(text);
  if (!m) return undefined;
  const [, kind, from, to] = m;
  return (kind ? 3 : 1) + clockTokens(from!) + (to ? 1 + clockTokens(to) : 0) + 1;
}

/** Tokens of a text in an encoding (what textTokens counts, without the model lookup). */
export function countEncoded(encoding: Encoding, text: string): number {
  if (!text) return 0;
  const label = labelTokens(text);
  if (label !== undefined) return label;
  if (text.length < LONG_TEXT) return counter(encoding)(text);
  const key = longKey(encoding, text);
  let n = longCounts.get(key);
  if (n === undefined) {
    n = counter(encoding)(text);
    rememberCount(key, n);
  }
  return n;
}

function rememberCount(key: string, n: number): void {
  longCounts.delete(key);
  longCounts.set(key, n);
  if (longCounts.size > LONG_COUNTS_KEPT) longCounts.delete(longCounts.keys().next().value as string);
}

/** Records a long text's count made elsewhere (a worker thread) so that counting it here is a lookup. */
export function rememberEncoded(encoding: Encoding, text: string, n: number): void {
  if (text.length >= LONG_TEXT) rememberCount(longKey(encoding, text), n);
}

/** Whether countEncoded would answer this text from memory. */
export function isCounted(encoding: Encoding, text: string): boolean {
  return text.length < LONG_TEXT || longCounts.has(longKey(encoding, text));
}

/** Loads the model's encoding now (a caller that knows free text is coming, while it waits on I/O). */
export function loadEncoding(model: string | ModelEntry, o: ModelOptions = {}): void {
  counter(getModel(model, o).text.encoding);
}

/** Text tokens of a string in the model's encoding (no message overhead). */
export function textTokens(model: string | ModelEntry, text: string, o: ModelOptions = {}): number {
  const m = getModel(model, o);
  return countEncoded(m.text.encoding, text);
}

/** Tokens of a chat request's messages: text of each plus the per-message and per-request overhead. */
export function chatTextTokens(model: string | ModelEntry, messages: string[], o: ModelOptions = {}): number {
  const m = getModel(model, o);
  return messages.reduce((sum, t) => sum + textTokens(m, t) + m.text.perMessage, m.text.perRequest);
}

export function priceFor(model: string | ModelEntry, tier: Tier = 'standard', o: ModelOptions = {}): Price {
  const m = getModel(model, o);
  if (!TIERS.includes(tier)) throw invalidOption('tier', TIERS.join(', '), tier);
  const p = m.prices[tier];
  if (!p) {
    const have = TIERS.filter((t) => m.prices[t]);
    throw new OmniprepError('INVALID_OPTION', `model ${m.name} has no ${tier} price (it has ${have.join(', ')})`);
  }
  return p;
}

export interface TokenCounts {
  imageTokens?: number;
  audioTokens?: number;
  textTokens?: number;
  outputTokens?: number;
}

/** Dollars for token counts at a tier. Audio uses the model's audio price, else its input price. */
export function dollars(model: string | ModelEntry, counts: TokenCounts, tier: Tier = 'standard', o: ModelOptions = {}): number {
  const p = priceFor(model, tier, o);
  const input = (counts.imageTokens ?? 0) + (counts.textTokens ?? 0);
  const usd = (input * p.input + (counts.audioTokens ?? 0) * (p.audioInput ?? p.input) + (counts.outputTokens ?? 0) * p.output) / 1e6;
  return Math.round(usd * 1e8) / 1e8;
}

/** Every tier the model has a price for, with the dollars of these counts. */
export function dollarsByTier(model: string | ModelEntry, counts: TokenCounts, o: ModelOptions = {}): Partial<Record<Tier, number>> {
  const m = getModel(model, o);
  const out: Partial<Record<Tier, number>> = {};
  for (const t of TIERS) if (m.prices[t]) out[t] = dollars(m, counts, t);
  return out;
}
