/**
 * TEST CODE. JSON Schemas derived from the official SDKs' TypeScript request types with
 * ts-json-schema-generator, so the Anthropic and Gemini bodies omniprep builds are held to what
 * the SDKs themselves declare (the OpenAI bodies are held to the OpenAPI description instead:
 * test/helpers/openai/server.ts):
 *
 * - `anthropic.messages`: `MessageCreateParamsNonStreaming` (@anthropic-ai/sdk, resources/messages)
 * - `anthropic.batch`: `BatchCreateParams` (Message Batches: `requests: [{custom_id, params}]`)
 * - `gemini.generateContent`: `GenerateContentParameters` (@google/genai)
 * - `gemini.inlinedRequest`: `InlinedRequest` (a batch request in the SDK's shape)
 *
 * Objects get `additionalProperties: false`, so a misspelt or unknown field fails. Deriving a
 * schema takes 10-20 s, so each is cached in .cache/sdk-schemas, keyed by the SDK's version.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import { describeErrors } from '../openai/spec.js';
import { ROOT } from '../fixtures.js';

const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

export const SDK_TYPES = {
  'anthropic.messages': { pkg: '@anthropic-ai/sdk', file: 'resources/messages/messages.d.ts', type: 'MessageCreateParamsNonStreaming' },
  'anthropic.batch': { pkg: '@anthropic-ai/sdk', file: 'resources/messages/batches.d.ts', type: 'BatchCreateParams' },
  'gemini.generateContent': { pkg: '@google/genai', file: 'dist/genai.d.ts', type: 'GenerateContentParameters' },
  'gemini.inlinedRequest': { pkg: '@google/genai', file: 'dist/genai.d.ts', type: 'InlinedRequest' },
} as const;
export type SdkType = keyof typeof SDK_TYPES;

function version(pkg: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The JSON Schema of an SDK type (derived once per SDK version, then read from the cache). */
export function sdkSchema(name: SdkType): Record<string, unknown> {
  const t = SDK_TYPES[name];
  const key = createHash('sha256')
    .update(`${t.pkg}@${version(t.pkg)}:${t.file}:${t.type}:v1`)
    .digest('hex')
    .slice(0, 12);
  const dir = join(ROOT, '.cache', 'sdk-schemas');
  const cache = join(dir, `${name}-${key}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Record<string, unknown>;
  const tsconfig = join(dir, 'tsconfig.json');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    tsconfig,
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, skipLibCheck: true, types: [] } }),
  );
  const generator = createGenerator({
    path: join(ROOT, 'node_modules', t.pkg, t.file),
    type: t.type,
    tsconfig,
    skipTypeCheck: true,
    expose: 'export',
    topRef: true,
    additionalProperties: false,
    jsDoc: 'none',
  });
  const schema = generator.createSchema(t.type) as Record<string, unknown>;
  const tmp = `${cache}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(schema));
  renameSync(tmp, cache);
  return schema;
}

export interface SdkCheck {
  valid: boolean;
  errors: ErrorObject[];
  message: string;
}

const compiled = new Map<SdkType, ValidateFunction>();
let ajv: InstanceType<typeof Ajv> | undefined;

/** Validates a value against an SDK type's schema; `message` is one line ('valid' when it is). */
export function validateSdk(name: SdkType, value: unknown): SdkCheck {
  let fn = compiled.get(name);
  if (!fn) {
    if (!ajv) {
      ajv = new Ajv({ strict: false, allErrors: true, logger: false });
      addFormats(ajv);
    }
    fn = ajv.compile(sdkSchema(name));
    compiled.set(name, fn);
  }
  const valid = fn(value) as boolean;
  const errors = valid ? [] : [...(fn.errors ?? [])];
  return { valid, errors, message: valid ? 'valid' : describeErrors(errors) };
}
