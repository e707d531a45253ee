/** Request building: prepared media to Chat Completions / Responses bodies that fit the provider's limits, with estimates. */
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
  type ApiUrl,
  type BuildOptions,
  type BuiltRequest,
  type RequestLimits,
} from './build.js';
export { estimateParts, sumEstimates, type RequestEstimate } from './estimate.js';
export { resolveRequestOptions, REQUEST_DEFAULTS, APIS, type Api, type JsonSchema, type RequestOptions, type ResolvedRequestOptions } from './options.js';
export { API_DETAILS, apiDetail, type ChatBody, type ResponsesBody, type RequestBody } from './render.js';
export { formatTimestamp, formatRange } from './timestamp.js';
export type { FrameAsset, AudioAsset, Segment, PreparedMedia, ImageMime } from './types.js';
