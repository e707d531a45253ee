/**
 * Every option is described once: a zod schema (its type and its allowed values), one line of
 * help, and its default. From a group of such definitions come the TypeScript type
 * (`GroupInput`), the library's checks (`checkGroup`, one-line messages that name the option,
 * the value and what is allowed), the commander flags with their defaults in the help
 * (`addFlags`), and the JSON Schema the service validates and documents (`groupJsonSchema`).
 * So the CLI, the library and the service accept and refuse exactly the same values.
 * See ARCHITECTURE.md, "Options".
 */
import { z } from 'zod';
import { OmniprepError } from '../errors.js';
import { unknownOption } from './nearest.js';

export interface OptionMeta<T> {
  /** One line: the flag's help and the JSON Schema's description. */
  help: string;
  /** The one place the default lives (absent: none, or `defaultText` says how it is computed). */
  default?: T;
  /** How a computed default is found, for the help text (e.g. 'every/2'). */
  defaultText?: string;
  /** What is allowed, when the schema alone does not say it well (e.g. 'COLSxROWS, e.g. 2x2'). */
  allowed?: string;
  /** Command-line form: false for library/service-only options. */
  cli?: false | { flag?: string; arg?: string; parse?: (text: string) => unknown };
}

export interface OptionDef<S extends z.ZodType = z.ZodType, M extends OptionMeta<z.output<S>> = OptionMeta<z.output<S>>> {
  schema: S;
  meta: M;
}

export type Group = Record<string, OptionDef>;

/** The options object a group describes: every option optional. */
export type GroupInput<G extends Group> = { [K in keyof G]?: z.output<G[K]['schema']> | undefined };

/** The group's options with the defaults it has filled in. */
export type GroupDefaults<G extends Group> = {
  [K in keyof G as G[K]['meta'] extends { default: unknown } ? K : never]: z.output<G[K]['schema']>;
};

export function option<S extends z.ZodType, const M extends OptionMeta<z.output<S>>>(schema: S, meta: M): OptionDef<S, M> {
  return { schema, meta };
}

/** The defaults a group declares, as one object. */
export function groupDefaults<G extends Group>(group: G): GroupDefaults<G> {
  const out: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(group)) if (d.meta.default !== undefined) out[k] = d.meta.default;
  return out as GroupDefaults<G>;
}

const jsonCache = new WeakMap<z.ZodType, Record<string, unknown>>();
function jsonOf(schema: z.ZodType): Record<string, unknown> {
  let j = jsonCache.get(schema);
  if (!j) {
    j = z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete j.$schema;
    jsonCache.set(schema, j);
  }
  return j;
}

/** "a number >= 0.001", "a whole number from 1 to 100", "one of keyframe, exact, scene", ... */
export function allowedText(def: OptionDef): string {
  if (def.meta.allowed) return def.meta.allowed;
  const j = jsonOf(def.schema);
  if (Array.isArray(j.enum)) return `one of ${j.enum.join(', ')}`;
  if (j.type === 'boolean') return 'true or false';
  if (j.type === 'string') return typeof j.maxLength === 'number' ? `a string of at most ${j.maxLength} characters` : 'a string';
  if (j.type === 'number' || j.type === 'integer') {
    const kind = j.type === 'integer' ? 'a whole number' : 'a number';
    const lo = typeof j.minimum === 'number' ? j.minimum : undefined;
    const xlo = typeof j.exclusiveMinimum === 'number' ? j.exclusiveMinimum : undefined;
    const hi = typeof j.maximum === 'number' ? j.maximum : undefined;
    const xhi = typeof j.exclusiveMaximum === 'number' ? j.exclusiveMaximum : undefined;
    if (lo !== undefined && hi !== undefined) return `${kind} from ${lo} to ${hi}`;
    const parts = [
      lo !== undefined ? `>= ${lo}` : xlo !== undefined ? `> ${xlo}` : '',
      hi !== undefined ? `<= ${hi}` : xhi !== undefined ? `< ${xhi}` : '',
    ].filter(Boolean);
    return parts.length ? `${kind} ${parts.join(' and ')}` : kind;
  }
  return 'a valid value';
}

function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

/** The one-line refusal every surface prints: `<where>: expected <allowed>, got <value>`. */
export function refusal(where: string, def: OptionDef, value: unknown): string {
  return `${where}: expected ${allowedText(def)}, got ${shown(value)}`;
}

/** Checks the group's options present in `value` (others are left alone); throws INVALID_OPTION. */
export function checkGroup<G extends Group>(group: G, value: object): void {
  const v = value as Record<string, unknown>;
  for (const [k, def] of Object.entries(group)) {
    if (v[k] === undefined) continue;
    if (!def.schema.safeParse(v[k]).success) throw optionRefused(k, def, v[k]);
  }
}

/** The strict zod object of one or more groups (unknown keys refused), for untrusted JSON. */
export function groupObject(...groups: Group[]): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const g of groups) for (const [k, d] of Object.entries(g)) shape[k] = d.schema.optional();
  return z.strictObject(shape);
}

/**
 * Parses untrusted JSON against groups (`prefix` names the object when it is none); a refusal is
 * the library's: `option every: ...` for a value, `option evry: not an option (did you mean every?)`.
 */
export function parseGroups(prefix: string, value: unknown, ...groups: Group[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new OmniprepError('INVALID_OPTION', `${prefix}: expected an object, got ${shown(value)}`);
  const all: Group = Object.assign({}, ...groups);
  for (const [k, v] of Object.entries(value)) {
    const def = all[k];
    if (!def) throw unknownOption(k, Object.keys(all), Object.keys(all));
    if (v === undefined) continue;
    if (!def.schema.safeParse(v).success) throw optionRefused(k, def, v);
  }
  return value as Record<string, unknown>;
}

/**
 * The refusal of one option's value, the same line on every surface: the library
 * (`checkGroup`), the CLI (`flagParser`, the flag's parsed value) and the service (its parser and
 * its JSON Schema's errors): `option every: expected a number from 0.001 to 86400, got 0`.
 */
export function optionRefused(key: string, def: OptionDef, value: unknown): OmniprepError {
  return new OmniprepError('INVALID_OPTION', refusal(`option ${key}`, def, value), { details: { option: key } });
}

/** The JSON Schema of groups together (Fastify validates with it; /docs/json documents it). */
export function groupJsonSchema(id: string, description: string, ...groups: Group[]): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const g of groups) {
    for (const [k, d] of Object.entries(g)) {
      const dflt = d.meta.default !== undefined ? ` (default ${String(d.meta.default)})` : d.meta.defaultText ? ` (default ${d.meta.defaultText})` : '';
      properties[k] = { ...jsonOf(d.schema), description: `${d.meta.help}${dflt}` };
    }
  }
  return { $id: id, type: 'object', additionalProperties: false, description, properties };
}

/** The flag of an option: `--max-frames` for maxFrames. */
export function flagName(key: string, def?: OptionDef): string {
  const cli = def?.meta.cli || undefined;
  if (cli?.flag) return cli.flag;
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The schema's kind, read without building its JSON Schema (the CLI asks this at start-up). */
function kindOf(schema: z.ZodType): string {
  return (schema as unknown as { type: string }).type;
}

export function isBooleanOption(def: OptionDef): boolean {
  return kindOf(def.schema) === 'boolean';
}

/**
 * Parses a flag's text into the option's value, checked against the schema (commander calls it).
 * A refusal is the library's (`optionRefused`), naming the value as parsed (`--every 0`: got 0),
 * or the text when it is not a number at all (`--every x`: got "x"); the CLI prints it as it is.
 */
export function flagParser(key: string, def: OptionDef): (text: string) => unknown {
  const numeric = kindOf(def.schema) === 'number';
  const cli = def.meta.cli || {};
  return (text: string) => {
    const value = cli.parse ? cli.parse(text) : numeric ? (text.trim() === '' ? Number.NaN : Number(text)) : text;
    if (!def.schema.safeParse(value).success) throw optionRefused(key, def, typeof value === 'number' && Number.isFinite(value) ? value : text);
    return value;
  };
}

/** The help of an option, with its default. */
export function helpText(def: OptionDef): string {
  const d = def.meta.default !== undefined ? String(def.meta.default) : def.meta.defaultText;
  return d !== undefined ? `${def.meta.help} (default ${d})` : def.meta.help;
}
