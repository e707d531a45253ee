/**
 * Gemini `generateContent` bodies, in the shape of `@google/genai`'s `GenerateContentParameters`
 * (what `ai.models.generateContent()` takes; the SDK turns it into the REST request): one user
 * turn whose parts are the prompt, then each frame as `inlineData` (or `fileData` with
 * `imageUrls`) after a text part with its `[mm:ss]`, and audio chunks as `inlineData`. The system
 * prompt is `config.systemInstruction`; structured output is `config.responseMimeType:
 * application/json` with the JSON Schema as `config.responseJsonSchema` (the SDK's field for a
 * plain JSON Schema; `responseSchema` takes Google's OpenAPI subset and would need a lossy
 * conversion). An image's detail level on a Gemini 3 model (`low`, `medium`, `high`,
 * `ultra_high`) is sent as the part's `mediaResolution.level`.
 */
import type { GeminiBody, GeminiConfig, GeminiPart } from './shapes.js';
import { apiModelName, splitDataUrl } from '../common.js';
import type { Part, PayloadOf } from '../parts.js';
import type { RenderOptions } from '../types.js';

export type { GeminiBody } from './shapes.js';

/** The REST path of a model's generateContent (for records and batch mappings). */
export function geminiUrl(model: string): string {
  return `/v1beta/models/${model}:generateContent`;
}

/** Detail levels of the registry's Gemini 3 rule, as the API's `PartMediaResolutionLevel`. */
export const GEMINI_LEVELS: Record<string, string> = {
  low: 'MEDIA_RESOLUTION_LOW',
  medium: 'MEDIA_RESOLUTION_MEDIUM',
  high: 'MEDIA_RESOLUTION_HIGH',
  ultra_high: 'MEDIA_RESOLUTION_ULTRA_HIGH',
};

/** The registry detail level of a part's `mediaResolution` (`auto` when none is sent). */
export function geminiDetail(level: string | undefined): string {
  if (!level) return 'auto';
  const found = Object.entries(GEMINI_LEVELS).find(([, v]) => v === level);
  return found ? found[0] : 'auto';
}

/** Seconds as a protobuf Duration (`12.5s`), to the microsecond. */
export function offset(sec: number): string {
  return `${Math.round(sec * 1e6) / 1e6}s`;
}

const AUDIO_MIME = { mp3: 'audio/mp3', wav: 'audio/wav' } as const;

export function geminiPart(part: Part, payloadOf: PayloadOf, o: RenderOptions): GeminiPart {
  switch (part.kind) {
    case 'text':
      return { text: part.text };
    case 'image': {
      const url = payloadOf(part);
      const data = splitDataUrl(url);
      const level = o.model.image?.type === 'gemini-fixed' ? GEMINI_LEVELS[part.detail] : undefined;
      return {
        ...(data ? { inlineData: { mimeType: part.frame.mime, data: data.base64 } } : { fileData: { fileUri: url, mimeType: part.frame.mime } }),
        ...(level ? { mediaResolution: { level } } : {}),
      };
    }
    case 'audio':
      return { inlineData: { mimeType: AUDIO_MIME[part.chunk.format], data: payloadOf(part) } };
    case 'video': {
      const v = part.clip;
      const level = v.detail !== 'auto' && o.model.image?.type === 'gemini-fixed' ? GEMINI_LEVELS[v.detail] : undefined;
      // The clip inline (a data URL: `request` prints a body that needs no upload), else by its File API URI.
      const data = v.fileUri ? splitDataUrl(v.fileUri) : undefined;
      return {
        ...(data ? { inlineData: { mimeType: v.mime, data: data.base64 } } : { fileData: { fileUri: v.fileUri ?? '', mimeType: v.mime } }),
        videoMetadata: { fps: v.fps, startOffset: offset(v.startSec), endOffset: offset(v.endSec) },
        ...(level ? { mediaResolution: { level } } : {}),
      };
    }
  }
}

export function geminiEnvelope(parts: GeminiPart[], o: RenderOptions): GeminiBody {
  const config: GeminiConfig = {
    ...(o.system === undefined ? {} : { systemInstruction: o.system }),
    ...(o.maxOutputTokens === undefined ? {} : { maxOutputTokens: o.maxOutputTokens }),
    ...(o.schema === undefined ? {} : { responseMimeType: 'application/json', responseJsonSchema: o.schema }),
  };
  return {
    model: apiModelName(o.model),
    contents: [{ role: 'user', parts }],
    ...(Object.keys(config).length ? { config } : {}),
  };
}
