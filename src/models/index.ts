/** omniprep/models: the model registry, token rules and prices (ARCHITECTURE.md, "Public API"). */
export {
  registry,
  registerModels,
  builtinRegistry,
  resolveRegistry,
  ModelRegistry,
  DEFAULT_MODEL,
  TIERS,
  type Tier,
  type ModelEntry,
  type RegistryOverrides,
  type Price,
} from './registry.js';
export {
  getModel,
  imageTokens,
  audioTokens,
  textTokens,
  chatTextTokens,
  acceptsAudio,
  modelDetails,
  priceFor,
  dollars,
  dollarsByTier,
  type ImageTokens,
  type ModelOptions,
  type TokenCounts,
} from './tokens.js';
export { chooseSize, type SizeChoice, type SizeOptions } from './sizing.js';
export { checkLifecycle, lifecycleOf, type Lifecycle, type LifecycleOptions } from './lifecycle.js';
