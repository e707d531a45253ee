/**
 * TEST CODE. The validator over OpenAI's official OpenAPI description (kept in
 * test/fixtures/openai-openapi.yaml.gz) that the OpenAI test server (./server.ts) checks every
 * JSON request body with, and the tests check bodies and answers with: the YAML is parsed, the
 * request schemas' `$ref`s are resolved by Ajv, and the OpenAPI-only keywords are turned into
 * JSON Schema (see `toJsonSchema`).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import Ajv2019Module from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ROOT } from '../fixtures.js';

const Ajv2019 = Ajv2019Module.default;
const addFormats = addFormatsModule.default;

/**
 * OpenAI's official API description (openai/openai-openapi, August 2026, MIT): the workplace copy
 * from the workplace's shared copy beside the checkout when it is there, else the same file kept
 * gzipped in test/fixtures/openai-openapi.yaml.gz (a clean clone elsewhere has only that).
 */
const SHARED_OPENAPI = join(ROOT, '..', 'shared', 'openai', 'openapi.yaml');
const VENDORED_OPENAPI = join(ROOT, 'test', 'fixtures', 'openai-openapi.yaml.gz');
export const OPENAPI_PATH = process.env.OMNIPREP_OPENAPI ?? (existsSync(SHARED_OPENAPI) ? SHARED_OPENAPI : VENDORED_OPENAPI);

function readSpecText(): string {
  const bytes = readFileSync(OPENAPI_PATH);
  return (OPENAPI_PATH.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI validator
// ---------------------------------------------------------------------------------------------

/** Request and response schemas the server (and the tests) validate against. */
export const SPEC_SCHEMAS = {
  chat: 'CreateChatCompletionRequest',
  responses: 'CreateResponse',
  batch: 'CreateBatchRequest',
  file: 'CreateFileRequest',
  chatResponse: 'CreateChatCompletionResponse',
  responsesResponse: 'Response',
  batchObject: 'Batch',
} as const;
export type SpecSchema = keyof typeof SPEC_SCHEMAS;

type Json = unknown;

/**
 * OpenAPI keywords that JSON Schema (2019-09, which Ajv runs) does not have:
 * - `nullable: true` becomes `type: [T, 'null']` (or `anyOf [..., {type: null}]` without a type);
 * - a `oneOf` with a `discriminator` is checked like `anyOf`: with a discriminator, OpenAPI picks
 *   the branch by the property, so a value that also fits another branch is not ambiguous (an
 *   input message without `type` fits both EasyInputMessage and InputMessage); a value whose
 *   property names a branch is checked against that branch (see `discriminated`), and a value
 *   naming no branch (`type: "audio"`) matches none and is rejected.
 * Everything else (`x-*`, `example`, `discriminator` itself) is an annotation Ajv ignores.
 */
export function toJsonSchema(node: Json, all: Record<string, Json> = {}): Json {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, all));
  if (!node || typeof node !== 'object') return node;
  const n = node as Record<string, Json>;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(n)) {
    if (k === 'nullable' || k === 'discriminator') continue;
    out[k] =
      k === 'properties' && v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v as Record<string, Json>).map(([p, s]) => [p, toJsonSchema(s, all)]))
        : toJsonSchema(v, all);
  }
  const discriminator = n.discriminator as { propertyName?: string } | undefined;
  if (discriminator && Array.isArray(out.oneOf)) {
    const branches = out.oneOf as Json[];
    delete out.oneOf;
    Object.assign(out, discriminated(discriminator.propertyName ?? 'type', branches, all));
  }
  if (n.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type)) out.type = [...new Set([...(out.type as string[]), 'null'])];
    else return { anyOf: [out, { type: 'null' }] };
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

/** The values a branch allows for the discriminating property (through `$ref` and `allOf`), or undefined. */
function branchValues(branch: Json, prop: string, all: Record<string, Json>, depth = 0): Json[] | undefined {
  if (!branch || typeof branch !== 'object' || depth > 8) return undefined;
  const b = branch as Record<string, Json>;
  if (typeof b.$ref === 'string') return branchValues(all[b.$ref.split('/').pop()!], prop, all, depth + 1);
  const p = (b.properties as Record<string, Record<string, Json>> | undefined)?.[prop];
  if (p && 'const' in p) return [p.const];
  if (p && Array.isArray(p.enum)) return p.enum;
  if (Array.isArray(b.allOf)) {
    for (const part of b.allOf) {
      const v = branchValues(part, prop, all, depth + 1);
      if (v) return v;
    }
  }
  return undefined;
}

/** Whether a branch requires the property (through `$ref` and `allOf`). */
function branchRequires(branch: Json, prop: string, all: Record<string, Json>, depth = 0): boolean {
  if (!branch || typeof branch !== 'object' || depth > 8) return false;
  const b = branch as Record<string, Json>;
  if (typeof b.$ref === 'string') return branchRequires(all[b.$ref.split('/').pop()!], prop, all, depth + 1);
  if (Array.isArray(b.required) && b.required.includes(prop)) return true;
  return Array.isArray(b.allOf) && b.allOf.some((part) => branchRequires(part, prop, all, depth + 1));
}

/**
 * A discriminated `oneOf` as JSON Schema that accepts what `anyOf` accepts, but when the value
 * names a known branch (`type: "input_image"`), checks it against that branch alone: the errors
 * then say what is wrong with the input_image ("must have required property 'detail'"), not
 * why it is not every other kind of part. Without the property, any branch that does not require
 * it may match.
 */
function discriminated(prop: string, branches: Json[], all: Record<string, Json>): Record<string, Json> {
  const values = branches.map((b) => branchValues(b, prop, all));
  if (values.some((v) => !v)) return { anyOf: branches };
  const known = [...new Set(values.flat())];
  // Without the property, only branches that do not require it can match.
  const optional = branches.filter((b) => !branchRequires(b, prop, all));
  return {
    if: { type: 'object', required: [prop], properties: { [prop]: { enum: known } } },
    then: {
      allOf: known.map((v) => ({
        if: { properties: { [prop]: { const: v } } },
        then: { anyOf: branches.filter((_, i) => values[i]!.includes(v)) },
      })),
    },
    else: { anyOf: optional.length ? optional : branches },
  };
}

/** The schemas reachable from `roots` through `$ref`s (`#/components/schemas/X`). */
function reachable(schemas: Record<string, Json>, roots: string[]): Record<string, Json> {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    if (!(name in schemas)) throw new Error(`openapi.yaml has no schema ${name}`);
    seen.add(name);
    walk(schemas[name]);
  };
  const walk = (n: Json): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      for (const [k, v] of Object.entries(n)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) visit(v.slice('#/components/schemas/'.length));
        else walk(v);
      }
    }
  };
  roots.forEach(visit);
  return Object.fromEntries([...seen].map((k) => [k, schemas[k]]));
}

/** The parsed, converted schemas, cached on disk (keyed by the spec's size and mtime): parsing 3 MB of YAML takes a second. */
function loadSpecSchemas(): Record<string, Json> {
  const st = statSync(OPENAPI_PATH);
  const key = createHash('sha256')
    .update(`${st.size}:${st.mtimeMs}:${Object.values(SPEC_SCHEMAS).join(',')}:v3`)
    .digest('hex')
    .slice(0, 12);
  const cache = join(ROOT, '.cache', `openapi-schemas-${key}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Record<string, Json>;
  const doc = parseYaml(readSpecText(), { maxAliasCount: -1 }) as { components: { schemas: Record<string, Json> } };
  const raw = reachable(doc.components.schemas, Object.values(SPEC_SCHEMAS));
  const schemas = toJsonSchema(raw, raw) as Record<string, Json>;
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  writeFileSync(`${cache}.${process.pid}.tmp`, JSON.stringify(schemas));
  // rename is atomic: two processes making the cache at once both write the same content
  renameSync(`${cache}.${process.pid}.tmp`, cache);
  return schemas;
}

export interface SpecCheck {
  valid: boolean;
  errors: ErrorObject[];
  /** One line: the most specific problems. */
  message: string;
}

export interface SpecValidator {
  validate(schema: SpecSchema, body: unknown): SpecCheck;
}

/** Picks the deepest errors (the most specific place in the body) and writes them on one line. */
export function describeErrors(errors: readonly ErrorObject[]): string {
  if (!errors.length) return 'valid';
  // "must match a schema in anyOf" and its kin only say that something below failed.
  const structural = new Set(['if', 'anyOf', 'oneOf', 'allOf', 'not']);
  const specific = errors.filter((e) => !structural.has(e.keyword));
  const pool = specific.length ? specific : errors;
  const depth = (e: ErrorObject): number => e.instancePath.split('/').length;
  const max = Math.max(...pool.map(depth));
  const deepest = pool.filter((e) => depth(e) === max);
  // Enum failures at one place (one per oneOf/anyOf branch) merge into one list of allowed values.
  const allowed = new Map<string, unknown[]>();
  const lines = new Set<string>();
  for (const e of deepest) {
    const at = e.instancePath || '(body)';
    if (e.keyword === 'enum') {
      allowed.set(at, [...(allowed.get(at) ?? []), ...(e.params as { allowedValues: unknown[] }).allowedValues]);
      continue;
    }
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
    lines.add(`${at} ${e.message ?? e.keyword}${extra}`);
  }
  const enums = [...allowed].map(([at, values]) => `${at} must be one of ${[...new Set(values.map((v) => JSON.stringify(v)))].join(', ')}`);
  return [...enums, ...lines].slice(0, 4).join('; ');
}

let shared: SpecValidator | undefined;

/** The validator over openapi.yaml (one per process; compiling takes a few hundred ms). */
export function specValidator(): SpecValidator {
  if (shared) return shared;
  const schemas = loadSpecSchemas();
  const ajv = new Ajv2019({ strict: false, allErrors: true, logger: false, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat('binary', true);
  ajv.addFormat('unixtime', true);
  ajv.addSchema({ $id: 'openapi.json', components: { schemas } });
  const compiled = new Map<SpecSchema, ValidateFunction>();
  const get = (name: SpecSchema): ValidateFunction => {
    let fn = compiled.get(name);
    if (!fn) compiled.set(name, (fn = ajv.compile({ $ref: `openapi.json#/components/schemas/${SPEC_SCHEMAS[name]}` })));
    return fn;
  };
  shared = {
    validate(name, body) {
      const fn = get(name);
      const valid = fn(body) as boolean;
      const errors = valid ? [] : [...(fn.errors ?? [])];
      return { valid, errors, message: valid ? 'valid' : describeErrors(errors) };
    },
  };
  return shared;
}
