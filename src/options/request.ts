/** The request and dispatch options, described once (see define.ts). */
import { z } from 'zod';
import { option, type GroupInput } from './define.js';
import { MAX_TEXT_CHARS } from './sampling.js';

export const APIS = ['chat', 'responses'] as const;

export const REQUEST = {
  api: option(z.enum(APIS), { help: 'chat (Chat Completions) or responses (Responses API)', defaultText: "the model's" }),
  system: option(z.string().max(MAX_TEXT_CHARS), { help: 'a system message' }),
  maxOutputTokens: option(z.number().int().min(1).max(10_000_000), { help: 'cap on output tokens per request' }),
};

export const DISPATCH = {
  concurrency: option(z.number().int().min(1).max(32), { help: 'requests in flight at once', default: 8 }),
};

/** How a job's audio is cut (a part of chunkAudio's options). */
export const AUDIO_CUTS = {
  chunkSeconds: option(z.number().finite().min(1), { help: 'longest chunk, seconds', defaultText: '600 (AUDIO_DEFAULTS)' }),
  maxBytes: option(z.number().int().min(1024), { help: 'largest chunk file, bytes', defaultText: '25000000 (AUDIO_DEFAULTS)' }),
  format: option(z.enum(['mp3', 'wav']), { help: 'mp3 or wav', defaultText: 'mp3 (AUDIO_DEFAULTS)' }),
  overlapSec: option(z.number().finite().min(0), { help: 'seconds repeated at the start of the next chunk', defaultText: '0 (AUDIO_DEFAULTS)' }),
};

export type RequestGroupOptions = GroupInput<typeof REQUEST>;
export type DispatchGroupOptions = GroupInput<typeof DISPATCH>;
export type AudioCutGroupOptions = GroupInput<typeof AUDIO_CUTS>;
