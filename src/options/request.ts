/** The request and dispatch options, described once (see define.ts). */
import { z } from 'zod';
import { option, type GroupInput } from './define.js';
import { MAX_TEXT_CHARS } from './sampling.js';

import { APIS, PROVIDER_NAMES } from '../models/constants.js';

export { APIS } from '../models/constants.js';

export const REQUEST = {
  api: option(z.enum(APIS), {
    help: 'chat or responses (OpenAI), messages (Anthropic), gemini (Gemini)',
    defaultText: "the provider's: responses, chat when audio is sent",
  }),
  provider: option(z.enum(PROVIDER_NAMES), {
    help: 'openai, anthropic, gemini, or local (an OpenAI-compatible server at --base-url)',
    defaultText: "the model's provider in the registry",
  }),
  system: option(z.string().max(MAX_TEXT_CHARS), { help: 'a system message' }),
  maxOutputTokens: option(z.number().int().min(1).max(10_000_000), { help: 'cap on output tokens per request' }),
};

export const DISPATCH = {
  concurrency: option(z.number().int().min(1).max(32), { help: 'requests in flight at once', default: 8 }),
};

export { AUDIO_CUTS } from './audio.js';

export type RequestGroupOptions = GroupInput<typeof REQUEST>;
export type DispatchGroupOptions = GroupInput<typeof DISPATCH>;
