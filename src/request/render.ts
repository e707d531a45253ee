/**
 * Parts and units in the shape of each API. Chat Completions: `text`, `image_url`, `input_audio`
 * parts. Responses: `input_text` and `input_image` (with its required `detail`); Responses has no
 * audio input part. The shapes are the SDK's own types, checked against the official OpenAPI
 * description by the tests. Anthropic Messages and Gemini generateContent bodies come from
 * src/providers (checked against JSON Schemas derived from their SDKs' request types).
 */
import type { ChatCompletionContentPart, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { ResponseCreateParamsNonStreaming, ResponseInputContent } from 'openai/resources/responses/responses';
import { OmniprepError } from '../errors.js';
import { resolveDetail } from '../models/rules.js';
import type { ModelEntry } from '../models/registry.js';
import { messagesEnvelope, messagesPart, type MessagesBody } from '../providers/anthropic.js';
import { geminiEnvelope, geminiPart, type GeminiBody } from '../providers/gemini.js';
import type { Api, ResolvedRequestOptions } from './options.js';
import type { AudioPart, ImagePart, Part, VideoPart } from './content.js';

export type ChatBody = ChatCompletionCreateParamsNonStreaming;
export type ResponsesBody = ResponseCreateParamsNonStreaming;
export type { MessagesBody, GeminiBody };
export type RequestBody = ChatBody | ResponsesBody | MessagesBody | GeminiBody;

/** Detail values each OpenAI API's schema accepts (Anthropic and Gemini take the rule's own levels). */
export const API_DETAILS = {
  chat: ['auto', 'low', 'high'],
  responses: ['auto', 'low', 'high', 'original'],
} as const satisfies Partial<Record<Api, readonly string[]>>;

/**
 * The detail value to send. A level the API does not name (Chat Completions has no `original`) is
 * sent as `auto` when `auto` means that level on the model (gpt-5.5: auto = original), else refused.
 */
export function apiDetail(api: 'chat' | 'responses', detail: string, model: ModelEntry, where: string): string {
  const allowed: readonly string[] = API_DETAILS[api];
  if (allowed.includes(detail)) return detail;
  if (model.image && resolveDetail(model.image, 'auto') === detail) return 'auto';
  const hint = api === 'chat' && detail === 'original' ? '; send it with the Responses API (--api responses)' : '';
  throw new OmniprepError(
    'INVALID_OPTION',
    `${where}: detail ${detail} cannot be sent to the ${api === 'chat' ? 'Chat Completions' : 'Responses'} API on ${model.name} (it accepts ${allowed.join(', ')})${hint}`,
    { input: where, details: { option: 'detail' } },
  );
}

export type PayloadOf = (part: ImagePart | AudioPart) => string;

export type { VideoPart };

export function chatPart(part: Part, payloadOf: PayloadOf, o: ResolvedRequestOptions, where: string): ChatCompletionContentPart {
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
      throw new OmniprepError('INVALID_OPTION', `${where}: video is sent as video to Gemini only (model ${o.model.name}); send frames`, {
        input: where,
        details: { option: 'send' },
      });
  }
}

export function responsesPart(part: Part, payloadOf: PayloadOf, o: ResolvedRequestOptions, where: string): ResponseInputContent {
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
      throw new OmniprepError('INVALID_OPTION', `${where}: video is sent as video to Gemini only (model ${o.model.name}); send frames`, {
        input: where,
        details: { option: 'send' },
      });
  }
}

function serviceTier(o: ResolvedRequestOptions): { service_tier?: 'flex' | 'priority' } {
  return o.tier === 'flex' || o.tier === 'priority' ? { service_tier: o.tier } : {};
}

export function chatEnvelope(content: ChatCompletionContentPart[], o: ResolvedRequestOptions): ChatBody {
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

export function responsesEnvelope(content: ResponseInputContent[], o: ResolvedRequestOptions): ResponsesBody {
  return {
    model: o.model.name,
    ...(o.system === undefined ? {} : { instructions: o.system }),
    input: [{ role: 'user', content }],
    ...(o.maxOutputTokens === undefined ? {} : { max_output_tokens: o.maxOutputTokens }),
    ...(o.schema === undefined ? {} : { text: { format: { type: 'json_schema' as const, name: o.schemaName, schema: o.schema, strict: o.strict } } }),
    ...serviceTier(o),
  };
}

/** One part in an API's shape. */
export function renderPart(api: Api, part: Part, payloadOf: PayloadOf, o: ResolvedRequestOptions, where: string): unknown {
  switch (api) {
    case 'chat':
      return chatPart(part, payloadOf, o, where);
    case 'responses':
      return responsesPart(part, payloadOf, o, where);
    case 'messages':
      return messagesPart(part, payloadOf, o, where);
    case 'gemini':
      return geminiPart(part, payloadOf, o);
  }
}

/** A whole body from parts. */
export function renderBody(api: Api, parts: Part[], payloadOf: PayloadOf, o: ResolvedRequestOptions, where: string): RequestBody {
  switch (api) {
    case 'chat':
      return chatEnvelope(
        parts.map((p) => chatPart(p, payloadOf, o, where)),
        o,
      );
    case 'responses':
      return responsesEnvelope(
        parts.map((p) => responsesPart(p, payloadOf, o, where)),
        o,
      );
    case 'messages':
      return messagesEnvelope(
        parts.map((p) => messagesPart(p, payloadOf, o, where)),
        o,
      );
    case 'gemini':
      return geminiEnvelope(
        parts.map((p) => geminiPart(p, payloadOf, o)),
        o,
      );
  }
}
