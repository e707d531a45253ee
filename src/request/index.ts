/** omniprep/request: OpenAI (Chat Completions, Responses), Anthropic Messages and Gemini generateContent bodies from prepared media, split at the provider's limits, with exact estimates. */
export {
  buildRequests,
  buildRequest,
  buildChatRequest,
  buildResponsesRequest,
  estimateRequest,
  fitSegments,
  defaultApi,
  requestLimits,
  API_URLS,
  apiUrl,
  type BuildOptions,
  type BuiltRequest,
  type RequestLimits,
} from './build.js';
export { sumEstimates, type RequestEstimate } from './estimate.js';
export { REQUEST_DEFAULTS, APIS, type Api, type JsonSchema, type RequestOptions } from './options.js';
export { API_DETAILS, type ChatBody, type ResponsesBody } from '../providers/openai/render.js';
export type { MessagesBody } from '../providers/anthropic/render.js';
export type { GeminiBody } from '../providers/gemini/render.js';
export { PROVIDERS, PROVIDER_NAMES, PROVIDER_APIS, providerOf, type Provider, type RequestBody } from '../providers/registry.js';
export type { ProviderAdapter } from '../providers/types.js';
export type { FrameAsset, AudioAsset, VideoAsset, Segment, PreparedMedia, ImageMime } from './types.js';
