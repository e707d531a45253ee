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
export { API_DETAILS, type ChatBody, type ResponsesBody, type MessagesBody, type GeminiBody, type RequestBody } from './render.js';
export { PROVIDERS, PROVIDER_APIS, providerOf, type Provider } from '../providers/provider.js';
export type { FrameAsset, AudioAsset, VideoAsset, Segment, PreparedMedia, ImageMime } from './types.js';
