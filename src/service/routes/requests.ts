/**
 * What a finished job would send, built from what it wrote: GET /v1/jobs/:id/requests (the
 * bodies of its provider's API, as `omniprep request --all` prints them: Responses or Chat
 * Completions, Anthropic Messages, Gemini's REST generateContent), GET /v1/jobs/:id/batch (the
 * provider's batch JSONL, as `omniprep batch` writes it), and GET /v1/jobs/:id/audio/:n (an audio
 * chunk's bytes). The request builders read the job's frame and audio files, and a video job's
 * kept clip (put inline, as `omniprep request --send video` does); nothing is decoded again.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { writeBatch } from '../../batch/write.js';
import type { ImageFormat } from '../../plan/types.js';
import { APIS, type Api } from '../../models/constants.js';
import { getModel } from '../../models/tokens.js';
import { buildRequests, wireBody } from '../../request/build.js';
import { checkInline, imageAssets, inlineClip } from '../../prepare.js';
import type { AudioAsset, FrameAsset, PreparedMedia, VideoAsset } from '../../request/types.js';
import { CLIP_DIR } from '../job-result.js';
import { ServiceError } from '../errors.js';
import { errorResponses, idParams } from '../schemas.js';
import type { RouteContext } from '../context.js';
import type { JobRecord } from '../store/types.js';
import { localOutputs, sendStored } from './stored.js';

interface StoredFrame {
  index: number;
  file: string;
  timestampSec: number;
  width: number;
  height: number;
  tokens: number;
}
interface StoredGrid extends Omit<StoredFrame, 'timestampSec'> {
  timestamps: number[];
  /** The frames it holds (the manifest's indices). */
  frames: number[];
}
interface StoredManifest {
  model: string;
  detail: string;
  format: ImageFormat;
  frames: StoredFrame[];
  grids?: StoredGrid[];
}
interface StoredChunk {
  index: number;
  file: string;
  startSec: number;
  endSec: number;
  tokens: number;
}
interface StoredSegment {
  index: number;
  startSec: number;
  endSec: number;
  frames: number[];
  audio: number[];
  /** A video job's windows (without the clip's URI). */
  video?: VideoAsset[];
}

const SAFE_NAME = /^[\w.-]+$/;
const AUDIO_MIME: Record<string, string> = { mp3: 'audio/mpeg', wav: 'audio/wav' };

function audioFormat(file: string): 'mp3' | 'wav' {
  return file.endsWith('.wav') ? 'wav' : 'mp3';
}

/** The job's prepared media again, from its stored manifests and the files in its output directory. */
export async function preparedOf(job: JobRecord, outDir: string): Promise<PreparedMedia> {
  const r = job.result!;
  const m = r.manifest as StoredManifest;
  const frameDir = join(outDir, 'frames');
  const audioDir = join(outDir, 'audio');
  const checked = (dir: string, file: string): string => {
    if (!SAFE_NAME.test(file)) throw new ServiceError('INTERNAL', `job ${job.id}: bad file name in its manifest`);
    return join(dir, file);
  };
  // Grids, and the frames no grid holds: what prepare() sent (imageAssets).
  const images: FrameAsset[] = imageAssets(m, (file) => checked(frameDir, file));
  const chunks: AudioAsset[] = ((r.audioManifest as StoredChunk[] | null) ?? []).map((c) => ({
    index: c.index,
    startSec: c.startSec,
    endSec: c.endSec,
    format: audioFormat(c.file),
    file: checked(audioDir, c.file),
    tokens: c.tokens,
  }));
  // A video job: its clip inline (as `omniprep request --send video` puts it), refused in the library's words when it does not fit.
  const clip = r.send === 'video' ? await inlineJobClip(job, (file) => checked(join(outDir, CLIP_DIR), file)) : undefined;
  const byFrame = new Map(images.map((i) => [i.index, i]));
  const byChunk = new Map(chunks.map((c) => [c.index, c]));
  const segments = (r.segments as StoredSegment[]).map((s) => ({
    index: s.index,
    startSec: s.startSec,
    endSec: s.endSec,
    frames: s.frames.map((i) => byFrame.get(i)!).filter(Boolean),
    audio: s.audio.map((i) => byChunk.get(i)!).filter(Boolean),
    ...(clip ? { video: (s.video ?? []).map((v) => ({ ...v, fileUri: clip })) } : {}),
  }));
  // The input as named, without its content hash: the batch ids are those `omniprep batch` writes for it.
  return {
    input: job.input.name,
    model: m.model,
    durationSec: Number((job.plan.media as { durationSec?: number } | undefined)?.durationSec ?? 0),
    segments,
  };
}

/** A video job's kept clip as a data URL; refused (LIMIT_EXCEEDED) as the library refuses a clip too large to go inline. */
async function inlineJobClip(job: JobRecord, path: (file: string) => string): Promise<string> {
  const v = job.result!.video as { mime: string; clip: { file: string; bytes: number } | null };
  const model = getModel(String((job.result!.manifest as StoredManifest).model));
  if (!v.clip) {
    checkInline(job.input.name, Number(job.input.bytes ?? 0), model);
    throw new ServiceError('NOT_READY', `job ${job.id}: its clip was not kept; its requests cannot be built`);
  }
  return inlineClip(path(v.clip.file), { bytes: v.clip.bytes, mime: v.mime, model }, job.input.name);
}

const apiQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    api: {
      type: 'string',
      enum: [...APIS],
      description: "default: the job's api, else its provider's (OpenAI: Responses, Chat Completions when audio is sent); one its provider speaks",
    },
  },
} as const;

async function succeeded(svc: RouteContext, id: string, what: string): Promise<JobRecord> {
  const job = await svc.store.get(id);
  if (!job) throw new ServiceError('JOB_NOT_FOUND', `job ${id}: no such job (it may have expired)`);
  if (job.state !== 'succeeded' || !job.result) throw new ServiceError('NOT_READY', `job ${id}: is ${job.state}; ${what} exist once it has succeeded`);
  return job;
}

/** The job and a directory with its outputs (with --store, a temporary copy that `done` removes). */
async function finished(svc: RouteContext, id: string, what: string): Promise<{ job: JobRecord; outDir: string; done(): Promise<void> }> {
  const job = await succeeded(svc, id, what);
  if (svc.objects.kind === 's3') {
    const copy = await localOutputs(svc, id);
    return { job, outDir: copy.dir, done: copy.done };
  }
  const outDir = svc.data.abs(job.outputDir);
  // Its frames, or a video job's kept clip (one whose clip was too large to keep: refused by preparedOf).
  const video = job.result!.send === 'video';
  const kept = video ? (job.result!.video as { clip: unknown } | undefined)?.clip : true;
  if (
    kept &&
    !(await stat(join(outDir, video ? CLIP_DIR : 'frames')).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    throw new ServiceError('JOB_NOT_FOUND', `job ${id}: its files are not on this node (a shared --data directory is needed to serve them from any node)`);
  }
  return { job, outDir, done: async () => {} };
}

export async function requestRoutes(app: FastifyInstance): Promise<void> {
  const svc: RouteContext = app.omniprep;
  // The options `omniprep request` and `omniprep batch` build with, from the job's.
  const buildOptions = (job: JobRecord, api: Api | undefined) => ({
    prompt: job.options.prompt ?? '',
    api: api ?? job.options.api,
    provider: job.options.provider,
    system: job.options.system,
    maxOutputTokens: job.options.maxOutputTokens,
    expectedOutputTokens: job.options.outputTokens,
  });

  app.get(
    '/v1/jobs/:id/requests',
    {
      schema: {
        summary: "The request bodies a finished job sends, in its provider's API (as `omniprep request --all`), images inline",
        tags: ['jobs'],
        params: idParams,
        querystring: apiQuery,
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const { api } = request.query as { api?: Api };
      const { job, outDir, done } = await finished(svc, id, 'its requests');
      const built = await preparedOf(job, outDir)
        .then((media) => buildRequests(media, { ...buildOptions(job, api), tier: job.options.tier, input: job.input.name }))
        .finally(done);
      return {
        id: job.id,
        provider: built[0]?.provider,
        api: built[0]?.api ?? api,
        // Each body as its provider's HTTP API takes it (Gemini's REST body), as `omniprep request` prints it.
        requests: built.map((r) => ({ id: r.id, url: r.url, model: r.model, segment: r.segment, bytes: r.bytes, estimate: r.estimate, body: wireBody(r) })),
      };
    },
  );

  app.get(
    '/v1/jobs/:id/batch',
    {
      schema: {
        summary: "The batch JSONL file of a finished job's requests in its provider's batch format (as `omniprep batch`)",
        tags: ['jobs'],
        params: idParams,
        querystring: apiQuery,
        produces: ['application/jsonl'],
        response: { 200: { type: 'string' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const { api } = request.query as { api?: Api };
      const { job, outDir, done } = await finished(svc, id, 'its batch lines');
      const dir = svc.data.tmpFile();
      await mkdir(dir, { recursive: true });
      try {
        const written = await writeBatch([await preparedOf(job, outDir)], { ...buildOptions(job, api), out: join(dir, `${job.id}.jsonl`) });
        if (written.paths.length !== 1) {
          throw new ServiceError(
            'BAD_REQUEST',
            `job ${id}: its batch needs ${written.paths.length} files (the Batch API's size limits); write it with \`omniprep batch\``,
          );
        }
        const text = await readFile(written.paths[0]!, 'utf8');
        return reply.type('application/jsonl; charset=utf-8').header('content-disposition', `attachment; filename="omniprep-${job.id}.jsonl"`).send(text);
      } finally {
        await rm(dir, { recursive: true, force: true });
        await done();
      }
    },
  );

  app.get(
    '/v1/jobs/:id/audio/:n',
    {
      schema: {
        summary: 'Audio chunk n (its index in the audio manifest): the encoded bytes',
        tags: ['jobs'],
        params: { type: 'object', required: ['id', 'n'], properties: { id: idParams.properties.id, n: { type: 'integer', minimum: 0 } } },
        produces: ['audio/mpeg', 'audio/wav'],
        response: { 200: { type: 'string', format: 'binary' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, n } = request.params as { id: string; n: number };
      const job = await succeeded(svc, id, 'its audio chunks');
      const chunks = (job.result!.audioManifest as StoredChunk[] | null) ?? [];
      const chunk = chunks.find((c) => c.index === n);
      if (!chunk) throw new ServiceError('JOB_NOT_FOUND', `job ${id}: has no audio chunk ${n} (chunks: ${chunks.map((c) => c.index).join(', ') || 'none'})`);
      if (!SAFE_NAME.test(chunk.file)) throw new ServiceError('INTERNAL', `job ${id}: bad audio file name`);
      if (svc.objects.kind === 's3') return sendStored(svc, reply, id, `audio/${chunk.file}`, AUDIO_MIME[audioFormat(chunk.file)]!);
      const { outDir } = await finished(svc, id, 'its audio chunks');
      const path = join(outDir, 'audio', chunk.file);
      const st = await stat(path).catch(() => undefined);
      if (!st) throw new ServiceError('JOB_NOT_FOUND', `job ${id}: audio chunk ${n} is not on this node`);
      return reply
        .type(AUDIO_MIME[audioFormat(chunk.file)]!)
        .header('content-length', st.size)
        .header('cache-control', 'private, max-age=3600')
        .send(createReadStream(path));
    },
  );
}
