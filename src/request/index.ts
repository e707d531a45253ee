/** omniprep/request: request bodies (Chat Completions, Responses) from prepared media, split at the model's limits, with exact estimates. */
export { buildRequests, buildRequest, buildChatRequest, buildResponsesRequest, estimateRequest, fitSegments, defaultApi, requestLimits, API_URLS, type BuildOptions, type BuiltRequest, type RequestLimits } from './build.js';
export { sumEstimates, type RequestEstimate } from './estimate.js';
export { REQUEST_DEFAULTS, APIS, type Api, type JsonSchema, type RequestOptions } from './options.js';
export { API_DETAILS, type ChatBody, type ResponsesBody, type RequestBody } from './render.js';
export type { FrameAsset, AudioAsset, Segment, PreparedMedia, ImageMime } from './types.js';
