/** Facts about models that every layer may name: the default model and the price tiers. */
export const DEFAULT_MODEL = 'gpt-5.5';
export const TIERS = ['standard', 'batch', 'flex', 'priority'] as const;
export type Tier = (typeof TIERS)[number];

/** The providers omniprep sends to: one adapter each in the `PROVIDERS` table (src/providers/registry.ts). */
export const PROVIDER_NAMES = ['openai', 'anthropic', 'gemini', 'local'] as const;
export type Provider = (typeof PROVIDER_NAMES)[number];
export const APIS = ['chat', 'responses', 'messages', 'gemini'] as const;
export type Api = (typeof APIS)[number];
