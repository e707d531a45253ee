/** Request building: prepared media to OpenAI (Chat Completions, Responses), Anthropic Messages or Gemini generateContent bodies that fit the provider's limits, with estimates. */
export {
  buildRequests,
  buildRequest,
  buildChatRequest,
  buildResponsesRequest,
  estimateRequest,
  fitSegment,
  fitSegments,
  defaultApi,
  requestLimits,
  segmentKey,
  API_URLS,
  apiUrl,
  type ApiUrl,
  type BuildOptions,
  type BuiltRequest,
  type RequestLimits,
} from './build.js';
export { estimateParts, sumEstimates, type RequestEstimate } from './estimate.js';
export { resolveRequestOptions, REQUEST_DEFAULTS, APIS, type Api, type JsonSchema, type RequestOptions, type ResolvedRequestOptions } from './options.js';
export { API_DETAILS, apiDetail, type ChatBody, type ResponsesBody, type MessagesBody, type GeminiBody, type RequestBody } from './render.js';
export { PROVIDERS, PROVIDER_APIS, providerOf, resolveProvider, apiModelName, type Provider } from '../providers/provider.js';
export { formatTimestamp, formatRange } from './timestamp.js';
export type { FrameAsset, AudioAsset, VideoAsset, Segment, PreparedMedia, ImageMime } from './types.js';
