/**
 * prepare(input, options): everything a request needs, made from one plan. Frames are sampled
 * (`sample()`), the audio is cut (`chunkAudio()`) when asked, and both are grouped into segments
 * on the source timeline (`segmentTimeline()`): one request per segment, the same segments the
 * plan's estimate used.
 *
 *     const media = await prepare('talk.mp4', { every: 10, audio: true });
 *     const requests = buildRequests(media, { prompt: 'Summarise the talk' });
 *     await media.cleanup();
 */
import { join, resolve } from 'node:path';
import { chunkAudio, type ChunkAudioResult } from './audio/chunk.js';
import type { ChunkAudioOptions } from './audio/options.js';
import { segmentTimeline } from './audio/segments.js';
import { OmniprepError } from './errors.js';
import { MIME } from './media/formats.js';
import type { ModelEntry } from './models/registry.js';
import { resolveOptions, withOptions, type Resolved } from './options/resolve.js';
import type { ImageFormat, Plan } from './plan/types.js';
import type { AudioAsset, FrameAsset, PreparedMedia } from './request/types.js';
import { framesOutsideGrids } from './sample/manifest.js';
import { sample, type Manifest, type SampleOptions } from './sample/sample.js';
import { makeTempDir } from './util/temp.js';

export interface PrepareOptions extends Omit<SampleOptions, 'out'> {
  /** Working directory: frames in DIR/frames, audio in DIR/audio. Default: a temporary directory (removed by `cleanup()` or at exit). */
  dir?: string | undefined;
  /** Options of the audio cut (chunkSeconds, maxBytes, format, overlapSec, ...). */
  audioOptions?: Omit<ChunkAudioOptions, 'outDir' | 'model' | 'registry' | 'modelsFile' | 'rule' | 'signal' | 'info'> | undefined;
}

/** prepare()'s options as given, or resolved once by resolveOptions() (then taken as they are). */
export type PrepareInput = PrepareOptions | Resolved<PrepareOptions>;

export interface Prepared extends PreparedMedia {
  plan: Plan;
  frames: Manifest;
  audioManifest: ChunkAudioResult | null;
  dir: string;
  /** Removes the working directory when it was a temporary one (a given `dir` is kept). */
  cleanup(): Promise<void>;
}

/** The clip as video (Gemini), ready for requests: the plan and one segment per window. */
export interface PreparedVideo extends PreparedMedia {
  plan: Plan;
  cleanup(): Promise<void>;
}

/**
 * The clip as video (`send: 'video'`): planned, then one segment per window naming the clip at
 * the URI `locate` gives for the plan: a File API URI once uploaded (`run`), or the clip itself
 * as a data URL (`request`, see `inlineVideo`).
 */
export async function prepareVideo(input: string, options: PrepareInput, locate: (p: Plan) => Promise<string>): Promise<PreparedVideo> {
  const { plan, videoAssets } = await import('./plan/plan.js');
  const r = resolveOptions<PrepareOptions>(options);
  // A plan made earlier for video (a service job's) is executed as it is.
  const given = r.options.plan?.send === 'video' ? r.options.plan : undefined;
  const p = given ?? (await plan(input, r.options.send === 'video' ? r : withOptions(r, { send: 'video' })));
  const uri = await locate(p);
  return {
    input,
    model: p.model,
    durationSec: p.media.durationSec,
    segments: videoAssets(p, uri).map((v) => ({ index: v.index, startSec: v.startSec, endSec: v.endSec, frames: [], audio: [], video: [v] })),
    plan: p,
    cleanup: async () => {},
  };
}

/**
 * The clip inline, as a data URL, for a request body that needs no upload: refused in one line
 * when its base64 would not fit the model's request size (Gemini: 20 MB), where only the File
 * API (`run`, which uploads it) can carry it.
 */
export async function inlineVideo(input: string, p: Plan, options: PrepareInput): Promise<string> {
  const r = resolveOptions<PrepareOptions>(options);
  const model = p.model === r.model.name ? r.model : r.registry.get(p.model, { rule: r.options.rule });
  if (/^https?:/i.test(input)) {
    checkInline(input, p.media.sizeBytes, model);
    throw new OmniprepError('INVALID_OPTION', `${input}: a remote clip is not put inline in a request; \`omniprep run --send video\` uploads it`, { input });
  }
  return inlineClip(input, { bytes: p.media.sizeBytes, mime: p.video!.mime, model });
}

/** Refuses a clip whose base64 would not fit the model's request size (Gemini: 20 MB), naming `name`. */
export function checkInline(name: string, bytes: number, model: Pick<ModelEntry, 'name' | 'limits'>): void {
  const limit = model.limits?.requestBytes;
  const encoded = Math.ceil(bytes / 3) * 4;
  if (limit !== undefined && encoded > limit) {
    throw new OmniprepError(
      'LIMIT_EXCEEDED',
      `${name}: ${bytes} bytes of video are ${encoded} bytes as base64, over the ${limit} bytes ${model.name} takes in one request; \`omniprep run --send video\` uploads it through the File API instead`,
      { input: name },
    );
  }
}

/** A local clip as a data URL, checked first (`checkInline`); `name` is the input as the user named it (default: `file`). */
export async function inlineClip(
  file: string,
  clip: { bytes: number; mime: string; model: Pick<ModelEntry, 'name' | 'limits'> },
  name = file,
): Promise<string> {
  checkInline(name, clip.bytes, clip.model);
  const { readFile } = await import('node:fs/promises');
  return `data:${clip.mime};base64,${(await readFile(file)).toString('base64')}`;
}

/** A window length that means "no windows" (the whole clip is one segment, split only by limits). */
const NO_WINDOWS = 1e9;

/** What imageAssets reads of a manifest (a Manifest, or one stored as JSON). */
export interface ManifestImages {
  format: ImageFormat;
  detail: string;
  frames: Array<{ index: number; file: string; width: number; height: number; tokens: number; timestampSec: number }>;
  grids?: Array<{ index: number; file: string; width: number; height: number; tokens: number; timestamps: number[]; frames: number[] }> | undefined;
}

/** What a manifest sends as images: its grids, and the frames no grid holds (a last group a grid would cost more for). */
export function imageAssets(m: ManifestImages, path: (file: string) => string): FrameAsset[] {
  const asset = (i: { index: number; file: string; width: number; height: number; tokens: number }, timestampSec: number): FrameAsset => ({
    index: i.index,
    timestampSec,
    file: path(i.file),
    mime: MIME[m.format],
    width: i.width,
    height: i.height,
    detail: m.detail,
    tokens: i.tokens,
  });
  return [...(m.grids ?? []).map((g) => asset(g, g.timestamps[0]!)), ...framesOutsideGrids(m).map((f) => asset(f, f.timestampSec))];
}

export async function prepare(input: string, given: PrepareInput = {}): Promise<Prepared> {
  // Options are resolved here, once: sampling and planning take them as they are.
  const r = resolveOptions<PrepareOptions>(given);
  const { options, model, registry } = r;
  const temp = options.dir ? undefined : makeTempDir('omniprep-prepare-');
  const dir = resolve(options.dir ?? temp!.path);
  const cleanup = async (): Promise<void> => {
    if (temp) temp.remove();
  };
  try {
    const run = sample(input, withOptions<SampleOptions>(r, { out: join(dir, 'frames') }));
    const framesDone = run.manifest(); // drives the sampling; the plan resolves before the first frame
    framesDone.catch(() => {});
    const plan = await run.plan;
    const wantAudio = Boolean(options.audio && plan.audio);
    const [frames, audio] = await Promise.all([
      framesDone,
      wantAudio
        ? chunkAudio(input, {
            ...options.audioOptions,
            outDir: join(dir, 'audio'),
            model,
            registry,
            signal: options.signal,
            ffmpegPath: options.ffmpegPath,
            ffprobePath: options.ffprobePath,
            limits: options.limits,
            remote: options.remote,
            // A plan made earlier: sample() has checked the input is the file its facts describe.
            ...(options.facts ? { info: { ...options.facts.info, input, path: resolve(input) } } : {}),
          })
        : Promise.resolve(null),
    ]);
    const frameDir = join(dir, 'frames');
    const images = imageAssets(frames, (file) => join(frameDir, file));
    const chunks: AudioAsset[] = audio?.assets ?? [];
    const windows = segmentTimeline(plan.endSec, images, chunks, {
      windowSec: options.windowSec ?? NO_WINDOWS,
      maxFrames: Math.max(1, model.limits.imagesPerRequest || 1),
      startSec: plan.startSec,
      minWindowSec: plan.every / 2,
    });
    if (!images.length && !chunks.length) {
      throw new OmniprepError('INVALID_OPTION', `${input}: nothing to send (no frames were planned and no audio was asked for)`, { input });
    }
    return {
      input,
      model: model.name,
      durationSec: plan.media.durationSec,
      segments: windows.map((w) => ({ index: w.index, startSec: w.startSec, endSec: w.endSec, frames: w.frames, audio: w.audio })),
      plan,
      frames,
      audioManifest: audio,
      dir,
      cleanup,
    };
  } catch (e) {
    // sample() and chunkAudio() remove what they wrote when they fail.
    await cleanup();
    throw e;
  }
}
