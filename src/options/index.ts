/**
 * omniprep/options: every option described once (schema, help, default). Build a form, a CLI or
 * a validator from the same descriptions the library, the CLI and the service use.
 */
export {
  option,
  checkGroup,
  parseGroups,
  groupJsonSchema,
  groupDefaults,
  allowedText,
  flagName,
  helpText,
  type OptionDef,
  type OptionMeta,
  type Group,
  type GroupInput,
} from './define.js';
export {
  SAMPLING,
  ESTIMATE,
  SAMPLING_DEFAULTS,
  ESTIMATE_DEFAULTS,
  MAX_TARGETS,
  MAX_WINDOWS,
  MAX_TEXT_CHARS,
  MODES,
  FORMATS,
  type SamplingOptions,
  type EstimateOptions,
} from './sampling.js';
export { REQUEST, DISPATCH, APIS } from './request.js';
export { AUDIO_CUTS, AUDIO_ENCODING, AUDIO_DEFAULTS, AUDIO_FORMATS, parseBytes, parseBitrate } from './audio.js';
export { resolveOptions, withOptions, isResolved, type Resolved, type ResolvedSampling, type Surface, type KnownOption } from './resolve.js';
export { nearestNames } from './nearest.js';
