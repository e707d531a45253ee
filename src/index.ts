/**
 * omniprep: video, audio and images into the cheapest correct requests for multimodal models,
 * with exact token and dollar estimates before anything is sent.
 *
 * The root exports the pipeline: probe -> plan -> sample / prepare -> buildRequests ->
 * dispatchAll (or run, all of it), and their option and result types. Everything else sits
 * behind subpaths (ARCHITECTURE.md, "Public API"): omniprep/models, omniprep/options,
 * omniprep/probe, omniprep/audio, omniprep/request, omniprep/dispatch, omniprep/batch,
 * omniprep/cost, omniprep/calibrate, omniprep/ffmpeg, omniprep/service, omniprep/source.
 */
export { OmniprepError, type ErrorCode } from './errors.js';
export type { Limits } from './limits.js';
export { probe, type ProbeOptions } from './probe/probe.js';
export type { MediaInfo, VideoStreamInfo, AudioStreamInfo, PacketIndex } from './probe/types.js';
export { plan, gatherFacts, planFromFacts, type PlanFacts } from './plan/plan.js';
export type {
  Plan,
  PlanOptions,
  SamplingOptions,
  EstimateOptions,
  PlannedFrame,
  PlannedGrid,
  PlannedAudioChunk,
  BudgetReport,
  Mode,
  ImageFormat,
} from './plan/types.js';
export { sample, type SampleOptions, type SampleRun, type SampledFrame, type Manifest, type ManifestFrame, type ManifestGrid } from './sample/sample.js';
export { sampleMany, planMany, type SampleManyOptions, type PlanManyOptions, type ManyOptions, type ManyResult } from './sample/many.js';
export { prepare, type PrepareOptions, type Prepared } from './prepare.js';
export { chunkAudio, type ChunkAudioResult, type AudioManifest } from './audio/chunk.js';
export type { ChunkAudioOptions } from './audio/options.js';
export { buildRequests, type BuildOptions, type BuiltRequest } from './request/build.js';
export type { RequestBody } from './providers/registry.js';
export type { ChatBody, ResponsesBody } from './providers/openai/render.js';
export type { Api, JsonSchema } from './request/options.js';
export { dispatchAll, type DispatchOptions, type DispatchReport, type RequestResult } from './dispatch/dispatch.js';
export { run, type RunOptions, type RunResult } from './run.js';
export { writeBatch, type BatchWriteOptions, type BatchWriteResult } from './batch/write.js';
export { costCurve, type CostCurve, type CostCurveOptions } from './cost/curve.js';
export { calibrate, type CalibrateOptions, type CalibrationReport } from './calibrate/calibrate.js';
export { evaluate, type EvaluateOptions, type Evaluation } from './eval/evaluate.js';
export type { EvalGrid, PlanSpec } from './eval/grid.js';
export type { Question } from './eval/questions.js';
export type { EvalReport, PlanReport, QuestionResult } from './eval/report.js';
export { registerModels, type ModelEntry, type RegistryOverrides } from './models/registry.js';
export { imageTokens, audioTokens, textTokens, type ImageTokens } from './models/tokens.js';
export { chooseSize, type SizeChoice } from './models/sizing.js';
export { doctor, type DoctorReport } from './doctor.js';
