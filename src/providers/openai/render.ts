/**
 * OpenAI bodies. Chat Completions: `text`, `image_url`, `input_audio` parts; the system prompt as a
 * system message; structured output as `response_format`. Responses: `input_text` and
 * `input_image` (with its required `detail`), `instructions`, `text.format`; Responses has no audio
 * input part. The shapes (./shapes.ts) are the SDK's fields omniprep sets, checked against the SDK's
 * types where client.ts sends them and against the official OpenAPI description by the tests.
 */
import { OmniprepError } from '../../errors.js';
import { resolveDetail } from '../../models/rules.js';
import type { ModelEntry } from '../../models/registry.js';
import { videoRefused } from '../common.js';
import type { Part, PayloadOf } from '../parts.js';
import type { RenderOptions } from '../types.js';
import type { ChatBody, ChatPart, ResponsesBody, ResponsesPart } from './shapes.js';

export type { ChatBody, ResponsesBody };
export type OpenAIApi = 'chat' | 'responses';

export const OPENAI_URLS = { chat: '/v1/chat/completions', responses: '/v1/responses' } as const;

/** How each API is named, and the usage field that counts its input tokens. */
export const OPENAI_API_NAMES = {
  chat: { label: 'Chat Completions', inputTokens: 'usage.prompt_tokens' },
  responses: { label: 'Responses', inputTokens: 'usage.input_tokens' },
} as const;

/** Detail values each OpenAI API's schema accepts (Anthropic and Gemini take the rule's own levels). */
export const API_DETAILS = {
  chat: ['auto', 'low', 'high'],
  responses: ['auto', 'low', 'high', 'original'],
} as const satisfies Record<OpenAIApi, readonly string[]>;

/**
 * The detail value to send. A level the API does not name (Chat Completions has no `original`) is
 * sent as `auto` when `auto` means that level on the model (gpt-5.5: auto = original), else refused.
 */
export function apiDetail(api: OpenAIApi, detail: string, model: ModelEntry, where: string): string {
  const allowed: readonly string[] = API_DETAILS[api];
  if (allowed.includes(detail)) return detail;
  if (model.image && resolveDetail(model.image, 'auto') === detail) return 'auto';
  const other = Object.keys(API_DETAILS).find((a) => (API_DETAILS[a as OpenAIApi] as readonly string[]).includes(detail)) as OpenAIApi | undefined;
  const hint = other ? `; send it with the ${OPENAI_API_NAMES[other].label} API (--api ${other})` : '';
  throw new OmniprepError(
    'INVALID_OPTION',
    `${where}: detail ${detail} cannot be sent to the ${OPENAI_API_NAMES[api].label} API on ${model.name} (it accepts ${allowed.join(', ')})${hint}`,
    { input: where, details: { option: 'detail' } },
  );
}

export function chatPart(part: Part, payloadOf: PayloadOf, o: RenderOptions, where: string): ChatPart {
  switch (part.kind) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image':
      return {
        type: 'image_url',
        image_url: { url: payloadOf(part), detail: apiDetail('chat', part.detail, o.model, where) as 'auto' | 'low' | 'high' },
      };
    case 'audio':
      return { type: 'input_audio', input_audio: { data: payloadOf(part), format: part.chunk.format } };
    case 'video':
      throw videoRefused(where, o.model);
  }
}

export function responsesPart(part: Part, payloadOf: PayloadOf, o: RenderOptions, where: string): ResponsesPart {
  switch (part.kind) {
    case 'text':
      return { type: 'input_text', text: part.text };
    case 'image':
      return {
        type: 'input_image',
        image_url: payloadOf(part),
        detail: apiDetail('responses', part.detail, o.model, where) as 'auto' | 'low' | 'high' | 'original',
      };
    case 'audio':
      throw new OmniprepError(
        'INVALID_OPTION',
        `${where}: the Responses API takes no audio input; use the Chat Completions API (--api chat), or send transcripts instead of the audio`,
        { input: where, details: { option: 'api' } },
      );
    case 'video':
      throw videoRefused(where, o.model);
  }
}

function serviceTier(o: RenderOptions): { service_tier?: 'flex' | 'priority' } {
  return o.tier === 'flex' || o.tier === 'priority' ? { service_tier: o.tier } : {};
}

export function chatEnvelope(content: ChatPart[], o: RenderOptions): ChatBody {
  return {
    model: o.model.name,
    messages: [...(o.system === undefined ? [] : [{ role: 'system' as const, content: o.system }]), { role: 'user', content }],
    ...(o.maxOutputTokens === undefined ? {} : { max_completion_tokens: o.maxOutputTokens }),
    ...(o.schema === undefined
      ? {}
      : { response_format: { type: 'json_schema' as const, json_schema: { name: o.schemaName, schema: o.schema, strict: o.strict } } }),
    ...serviceTier(o),
  };
}

export function responsesEnvelope(content: ResponsesPart[], o: RenderOptions): ResponsesBody {
  return {
    model: o.model.name,
    ...(o.system === undefined ? {} : { instructions: o.system }),
    input: [{ role: 'user', content }],
    ...(o.maxOutputTokens === undefined ? {} : { max_output_tokens: o.maxOutputTokens }),
    ...(o.schema === undefined ? {} : { text: { format: { type: 'json_schema' as const, name: o.schemaName, schema: o.schema, strict: o.strict } } }),
    ...serviceTier(o),
  };
}

/** The OpenAI APIs' renderers, by API. */
export const OPENAI_RENDER = {
  chat: {
    part: chatPart,
    body: (parts: readonly Part[], p: PayloadOf, o: RenderOptions, w: string) =>
      chatEnvelope(
        parts.map((x) => chatPart(x, p, o, w)),
        o,
      ),
  },
  responses: {
    part: responsesPart,
    body: (parts: readonly Part[], p: PayloadOf, o: RenderOptions, w: string) =>
      responsesEnvelope(
        parts.map((x) => responsesPart(x, p, o, w)),
        o,
      ),
  },
} as const;
