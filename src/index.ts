/**
 * omniprep: video, audio and images into the cheapest correct requests for multimodal models,
 * with exact token and dollar estimates before anything is sent.
 */
export { OmniprepError, type ErrorCode } from './errors.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { probe, probeVideo, type ProbeOptions } from './probe/probe.js';
export { keyframes, frameIndex } from './probe/keyframes.js';
export type { MediaInfo, VideoStreamInfo, AudioStreamInfo, KeyframeMap, FrameIndex, Rotation } from './probe/types.js';
export { doctor, type DoctorReport } from './doctor.js';
export { resolveBinary, toolchain, type BinaryOptions, type ResolvedBinary } from './ffmpeg/binaries.js';
export { imageTokens, audioTokens, textTokens, chatTextTokens, dollars, dollarsByTier, priceFor, getModel, acceptsAudio, modelDetails, type ImageTokens, type ModelOptions, type TokenCounts } from './models/tokens.js';
export { registry, registerModels, builtinRegistry, ModelRegistry, TIERS, type Tier, type ModelEntry, type RegistryOverrides } from './models/registry.js';
export { chooseSize, type SizeChoice, type SizeOptions } from './models/sizing.js';
// audio
export {
  chunkAudio,
  planAudioChunks,
  audioPlanFor,
  planAudioCuts,
  mergeSilences,
  parseSilenceLog,
  segmentTimeline,
  stitchTranscripts,
  AUDIO_DEFAULTS,
  type ChunkAudioOptions,
  type ChunkAudioResult,
  type AudioManifest,
  type AudioManifestChunk,
  type AudioFormat,
  type AudioPlan,
  type AudioPlanChunk,
  type AudioPlanOptions,
  type AudioPlanResult,
  type ChunkBounds as AudioChunkBounds,
  type Silence,
  type TimelineWindow,
  type SegmentOptions,
  type ChunkText,
  type StitchResult,
  type TimedWord,
} from './audio/index.js';
// requests, dispatch, batch
export {
  buildRequests,
  buildRequest,
  buildChatRequest,
  buildResponsesRequest,
  estimateRequest,
  fitSegments,
  defaultApi,
  requestLimits,
  segmentKey,
  sumEstimates,
  formatTimestamp,
  formatRange,
  API_URLS,
  API_DETAILS,
  REQUEST_DEFAULTS,
  type Api,
  type ApiUrl,
  type BuildOptions,
  type BuiltRequest,
  type RequestOptions,
  type RequestEstimate,
  type RequestLimits,
  type JsonSchema,
  type ChatBody,
  type ResponsesBody,
  type RequestBody,
  type FrameAsset,
  type AudioAsset,
  type Segment,
  type PreparedMedia,
  type ImageMime,
} from './request/index.js';
export {
  dispatchAll,
  reduceAnswers,
  buildReduceRequest,
  reducePrompt,
  segmentAnswers,
  createClient,
  usageCost,
  parseAnswer,
  retryAfterMs,
  RateLimiter,
  BudgetGuard,
  DISPATCH_DEFAULTS,
  RETRY_DEFAULTS,
  type DispatchOptions,
  type DispatchRequest,
  type DispatchReport,
  type DispatchProgress,
  type DispatchTotals,
  type RequestResult,
  type OkResult,
  type ErrorResult,
  type NotSentResult,
  type NotSentReason,
  type AttemptRecord,
  type ClientOptions,
  type Usage,
  type RetryOptions,
  type Clock,
  type SegmentAnswer,
} from './dispatch/index.js';
export {
  writeBatch,
  submitBatch,
  batchStatus,
  batchResults,
  readMapping,
  customId,
  batchLimits,
  mappingPath,
  type BatchWriteOptions,
  type BatchWriteResult,
  type BatchMapping,
  type BatchRequestInfo,
  type BatchFileInfo,
  type BatchLimits,
  type BatchLine,
  type BatchClientOptions,
  type SubmittedBatch,
  type BatchStatus,
  type BatchResults,
  type BatchResult,
} from './batch/index.js';
// planning, sampling, preparing
export { plan, BUDGET_ORDER } from './plan/plan.js';
export { DEFAULT_SAMPLING, MODES, FORMATS, type Plan, type PlanOptions, type SamplingOptions, type PlannedFrame, type PlannedGrid, type PlannedAudioChunk, type BudgetReport, type Mode, type ImageFormat } from './plan/types.js';
export { sample, type SampleOptions, type SampleRun, type SampledFrame, type Manifest, type ManifestFrame, type ManifestGrid } from './sample/sample.js';
export { prepare, type PrepareOptions, type Prepared } from './prepare.js';
export { killAllProcesses, liveProcessCount } from './ffmpeg/runner.js';
// remote inputs (http/https by byte ranges) and the MP4 index from moov
export { RemoteFile, type RangeReaderOptions, type FetchStats, type ByteRange } from './source/range.js';
export { isRemoteInput, type RemoteOptions, type RemoteReport } from './source/remote.js';
export { mp4Index, mp4Layout, parseMoov, fileSource, Mp4Unsupported, type ByteSource, type Mp4Index, type Mp4Layout } from './probe/mp4.js';
// service
export { download, checkUrl, forbiddenAddressReason, DOWNLOAD_DEFAULTS, type DownloadOptions, type DownloadResult } from './source/download.js';
export {
  createService,
  resolveConfig as resolveServiceConfig,
  SERVICE_DEFAULTS,
  DEFAULT_SERVICE_LIMITS,
  STATUS_BY_CODE,
  type ServiceConfig,
  type ResolvedConfig as ResolvedServiceConfig,
  type CreateOptions as CreateServiceOptions,
  type Service,
  type ServiceErrorCode,
  type ErrorBody,
  type JobOptions,
  type JobRecord,
  type JobState,
  type JobInput,
  type JobProgress,
} from './service/index.js';
// cost curve, calibration
export { costCurve, costCurveTable, costCurveSpec, costCurveSvg, svgToPng, COST_CURVE_DEFAULTS, CHART_DEFAULTS, type CostCurve, type CostCurveOptions, type CostCurvePoint, type CostCurveSeries, type CostCurveShots, type ChartOptions } from './cost/index.js';
export { calibrate, fitImageRule, calibrationOverride, CALIBRATION_SIZES, CALIBRATE_DEFAULTS, type CalibrateOptions, type CalibrationReport, type CalibratedImage, type Observation, type RuleFit, type FitResult, type FittedRule, type ImageSize } from './calibrate/index.js';
