/**
 * The `openai` SDK module, loaded on first use (an optional peer). Apart from client.ts so that the
 * SDK's module type stays out of the declarations omniprep publishes: no public declaration
 * imports this file.
 */
import { loadOptional } from '../../util/optional.js';

let openaiSdk: Promise<typeof import('openai')> | undefined;

/** The SDK, loaded on first use. */
export function openaiModule(): Promise<typeof import('openai')> {
  openaiSdk ??= loadOptional('the OpenAI provider', () => import('openai'));
  return openaiSdk;
}
