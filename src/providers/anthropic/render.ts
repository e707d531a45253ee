/**
 * Anthropic Messages API bodies. A body is one user message: the prompt as a text block, then each
 * frame as an image block (base64 source, or a URL source with `imageUrls`) after a text block with
 * its `[mm:ss]`; the system prompt goes in `system`; `max_tokens` (which the API requires) is
 * `maxOutputTokens`, else the model's output limit; structured output is `output_config.format`
 * with the JSON Schema (Anthropic's structured outputs, no tool). Audio is refused earlier (Claude
 * takes no audio input: the registry entry has no `audio`).
 */
import { OmniprepError } from '../../errors.js';
import { apiModelName, splitDataUrl, videoRefused } from '../common.js';
import type { Part, PayloadOf } from '../parts.js';
import type { RenderOptions } from '../types.js';
import type { MessagesBody, MessagesPart } from './shapes.js';

export type { MessagesBody };

export const MESSAGES_URL = '/v1/messages';

export function messagesPart(part: Part, payloadOf: PayloadOf, o: RenderOptions, where: string): MessagesPart {
  switch (part.kind) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image': {
      const url = payloadOf(part);
      const data = splitDataUrl(url);
      if (!data) return { type: 'image', source: { type: 'url', url } };
      return { type: 'image', source: { type: 'base64', media_type: part.frame.mime, data: data.base64 } };
    }
    case 'audio':
      throw new OmniprepError('INVALID_OPTION', `${where}: the Anthropic Messages API takes no audio input (model ${o.model.name}); send transcripts instead`, {
        input: where,
        details: { option: 'transcripts' },
      });
    case 'video':
      throw videoRefused(where, o.model);
  }
}

export function messagesEnvelope(content: MessagesPart[], o: RenderOptions): MessagesBody {
  return {
    model: apiModelName(o.model),
    max_tokens: o.maxOutputTokens ?? o.model.maxOutputTokens,
    ...(o.system === undefined ? {} : { system: o.system }),
    messages: [{ role: 'user', content }],
    ...(o.schema === undefined ? {} : { output_config: { format: { type: 'json_schema' as const, schema: o.schema } } }),
  };
}
