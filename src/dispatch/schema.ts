/** Structured output: the answer parsed as JSON and checked against the schema the request carried. */
import { createRequire } from 'node:module';
import type Ajv2020Module from 'ajv/dist/2020.js';

type Ajv2020Ctor = typeof Ajv2020Module.default;
import type { ValidateFunction } from 'ajv';
import { OmniprepError } from '../errors.js';
import type { JsonSchema } from '../request/options.js';

// Ajv loads on the first schema (most runs have none): it costs start-up time.
const requireCjs = createRequire(import.meta.url);
let ajv: InstanceType<Ajv2020Ctor> | undefined;
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

function validatorFor(schema: JsonSchema, where: string): ValidateFunction {
  let fn = compiled.get(schema);
  if (fn) return fn;
  if (!ajv) {
    const Ajv2020 = (requireCjs('ajv/dist/2020.js') as { default: Ajv2020Ctor }).default;
    const addFormats = (requireCjs('ajv-formats') as { default: (a: InstanceType<Ajv2020Ctor>) => void }).default;
    ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
    addFormats(ajv);
  }
  // `$schema` naming another draft would make Ajv look for that meta-schema; the keywords we check are the same.
  const { $schema: _ignored, ...rest } = schema;
  try {
    fn = ajv.compile(rest);
  } catch (e) {
    throw new OmniprepError('INVALID_OPTION', `${where}: the schema is not a valid JSON Schema (${(e as Error).message})`, { details: { option: 'schema' } });
  }
  compiled.set(schema, fn);
  return fn;
}

/** Checks a schema compiles (before anything is sent). */
export function checkSchema(schema: JsonSchema, where = 'schema'): void {
  validatorFor(schema, where);
}

/** Parses `text` as JSON that must fit `schema`; INVALID_RESPONSE (one line) when it does not. */
export function parseAnswer(text: string, schema: JsonSchema, where: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const head = text.length > 60 ? `${text.slice(0, 60)}...` : text;
    throw new OmniprepError('INVALID_RESPONSE', `${where}: the answer is not JSON (${JSON.stringify(head)})`, { input: where, details: { text } });
  }
  const fn = validatorFor(schema, where);
  if (!fn(value)) {
    const problems = (fn.errors ?? []).slice(0, 3).map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
      return `${e.instancePath || '(answer)'} ${e.message ?? e.keyword}${extra}`;
    });
    throw new OmniprepError('INVALID_RESPONSE', `${where}: the answer does not match the schema: ${problems.join('; ')}`, {
      input: where,
      details: { text, errors: fn.errors },
    });
  }
  return value;
}
