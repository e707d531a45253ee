/** Facts about models that every layer may name: the default model and the price tiers. */
export const DEFAULT_MODEL = 'gpt-5.5';
export const TIERS = ['standard', 'batch', 'flex', 'priority'] as const;
export type Tier = (typeof TIERS)[number];
