/** Small pieces more than one adapter uses. */
import { OmniprepError } from '../errors.js';
import type { ModelEntry } from '../models/registry.js';
import type { BatchOutputLine } from './types.js';

/** The model id sent to the provider: the registry's `apiModel`, else the registry name. */
export function apiModelName(model: Pick<ModelEntry, 'name' | 'apiModel'>): string {
  return model.apiModel ?? model.name;
}

/** The MIME type and base64 of a data URL (undefined for any other URL). */
export function splitDataUrl(url: string): { mime: string; base64: string } | undefined {
  const m = /^data:([^;,]+);base64,/.exec(url);
  return m ? { mime: m[1]!, base64: url.slice(m[0].length) } : undefined;
}

/** The first of a provider's key variables that is set (undefined when none is). */
export function envKey(env: { apiKey: readonly string[] }, from: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const name of env.apiKey) if (from[name]) return from[name];
  return undefined;
}

export function missingKey(env: string): OmniprepError {
  return new OmniprepError('INVALID_OPTION', `option apiKey: no API key (set ${env}, or pass --api-key on the command line, apiKey in code)`, {
    details: { option: 'apiKey' },
  });
}

/** A video part on an API that takes none. */
export function videoRefused(where: string, model: Pick<ModelEntry, 'name'>): OmniprepError {
  return new OmniprepError('INVALID_OPTION', `${where}: video is sent as video to Gemini only (model ${model.name}); send frames`, {
    input: where,
    details: { option: 'send' },
  });
}

/** One result of a provider's own batch results (id, and the answer body or an error), as a Batch API output line. */
export function outputLine(id: string, r: { body?: unknown; error?: { message: string; httpStatus?: number | undefined } }): BatchOutputLine {
  if (!r.error) return { custom_id: id, response: { status_code: 200, body: r.body }, error: null };
  return { custom_id: id, response: r.error.httpStatus === undefined ? null : { status_code: r.error.httpStatus }, error: { message: r.error.message } };
}

export const seconds = (iso: string | null | undefined): number | null => (iso ? Math.floor(Date.parse(iso) / 1000) : null);

/** The lines of a JSONL text (blank lines skipped). */
export function jsonlLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim());
}
