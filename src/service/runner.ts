/**
 * Runs one job on this node: claim it in the store, then the library does the work: prepare()
 * its input into DATA/outputs/ID (frames through the piscina pool, audio through the safe
 * runner), or, for a job that calls the model, run() (prepare, build, dispatch and the reduce
 * call that combines the segments' answers). The result is recorded with the estimate against
 * what happened, in the names the client gave (never the server's paths). Cancelling
 * (DELETE, or a cancel event from another node), the per-job time limit and shutdown all abort
 * the same AbortSignal, which stops every ffmpeg child of the job.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isOmniprepError, OmniprepError } from '../errors.js';
import { prepare, prepareVideo, type Prepared, type PreparedVideo } from '../prepare.js';
import { run, type RunOptions, type RunResult } from '../run.js';
import { SPARSE_COPY, type RemoteReport } from '../source/remote.js';
import type { EventBus } from './bus.js';
import type { ResolvedConfig } from './config.js';
import type { DataDir } from './data.js';
import { diskFull, jobError, ServiceError, storageError } from './errors.js';
import { ensureInput, jobUrlOptions } from './intake.js';
import { readJobPlan } from './job-plans.js';
import { objectUrl, objectUrlOptions } from './object-inputs.js';
import type { ObjectStore } from './objects/types.js';
import { dropOutputs, publishOutputs } from './outputs.js';
import { actualOf, calledSummary, fetchClip, keepClip, videoResult, type JobResult, type Work } from './job-result.js';
import { jobProvider, resolveJobOptions, toPrepareOptions } from './options.js';
import { withOptions } from '../options/resolve.js';
import { scrubError, scrubPaths, type Renames } from './paths.js';
import { releaseInput } from './release.js';
import { readByRanges, type Counters, type JobProgress, type JobRecord, type JobStore } from './store/types.js';
import type { TokenCounter } from './tokens.js';
import { estimated } from './view.js';
import { runEvalJob } from './eval-runner.js';

export type RunOutcome = 'succeeded' | 'failed' | 'cancelled' | 'retry' | 'skipped' | 'interrupted';

/** Failures that another attempt may not repeat: a dead worker thread, an unclassified ffmpeg crash, a bug. */
function retryable(e: unknown): boolean {
  if (e instanceof ServiceError) return false; // a full disk
  if (!isOmniprepError(e)) return true;
  if (e.details?.store) return true; // the object store did not answer (it may come back)
  return e.code === 'PROCESS_FAILED' || e.code === 'BINARY_NOT_FOUND';
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

export interface RunnerDeps {
  config: ResolvedConfig;
  store: JobStore;
  bus: EventBus;
  data: DataDir;
  tokens: TokenCounter;
  /** Whether a submission on this node holds a stored input (a failed job's input then stays). */
  isPinned(file: string): boolean;
  /** Whether other nodes submit into the same --data (Redis mode). */
  shared: boolean;
  /** Where outputs go: the data directory, or S3 (--store), whose endpoint's addresses the range reader may reach. */
  objects: ObjectStore;
  storeEndpoint: ReadonlySet<string>;
}

type Report = (p: Partial<JobProgress>, force?: boolean) => void;

export class JobWorker {
  private readonly running = new Map<string, { ac: AbortController; done: Promise<RunOutcome> }>();
  private readonly unsubscribe: () => void;
  private shuttingDown = false;
  /** Recent job durations (ms), for Retry-After. */
  private readonly durations: number[] = [];

  constructor(private readonly deps: RunnerDeps) {
    this.unsubscribe = deps.bus.subscribeAll((id, e) => {
      if (e.type === 'cancel') this.abort(id);
    });
  }

  get active(): number {
    return this.running.size;
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  /** Mean seconds of the recent jobs on this node (5 before any). */
  meanJobSeconds(): number {
    if (!this.durations.length) return 5;
    return this.durations.reduce((a, b) => a + b, 0) / this.durations.length / 1000;
  }

  abort(id: string): boolean {
    const r = this.running.get(id);
    if (!r) return false;
    r.ac.abort(new OmniprepError('ABORTED', `job ${id}: cancelled`));
    return true;
  }

  run(id: string): Promise<RunOutcome> {
    if (this.running.has(id)) return Promise.resolve('skipped');
    const ac = new AbortController();
    const done = this.execute(id, ac).finally(() => this.running.delete(id));
    this.running.set(id, { ac, done });
    return done;
  }

  /** Stops every job on this node; they go back to the queue (another node or a restart runs them). */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.unsubscribe();
    const all = [...this.running.values()];
    for (const r of all) r.ac.abort(new OmniprepError('ABORTED', 'the node is shutting down'));
    await Promise.allSettled(all.map((r) => r.done));
  }

  private async execute(id: string, ac: AbortController): Promise<RunOutcome> {
    const { store, bus, config, data } = this.deps;
    if (this.shuttingDown) return 'interrupted';
    const job = await store.claim(id, config.nodeName);
    if (!job) return 'skipped';
    const started = Date.now();
    await bus.publish(id, { type: 'state', state: 'running', attempts: job.attempts });
    const timeout = AbortSignal.timeout(config.jobTimeoutSec * 1000);
    const signal = AbortSignal.any([ac.signal, timeout]);
    const outDir = data.outputDir(id);
    const report = this.reporter(job);
    report({}, true);
    let renames: Renames = [[outDir, `job ${id}`]];
    try {
      const setRenames = (r: Renames): void => {
        renames = r;
      };
      // An eval runs the library's evaluate(); a job prepares (or runs) its input.
      const { result, counters } =
        job.kind === 'eval' ? await runEvalJob(this.deps, job, signal, report, setRenames) : await this.jobWork(job, signal, report, outDir, setRenames);
      // The time limit holds even where the work finished without looking at the signal again.
      if (signal.aborted) throw signal.reason;
      // An eval's last answer was its last progress event's.
      report({ stage: 'done', answer: undefined }, true);
      if (!(await store.finish(id, { state: 'succeeded', result, counters, worker: config.nodeName }))) {
        // Cancelled meanwhile (its files go), taken over by another worker (its files stay), or gone.
        const now = await store.get(id);
        if (!now) return this.vanished(id, outDir);
        if (now.state !== 'cancelled') return 'skipped';
        await dropOutputs(this.deps.objects, id, outDir);
        return 'cancelled';
      }
      this.durations.push(Date.now() - started);
      if (this.durations.length > 20) this.durations.shift();
      await bus.publish(id, { type: 'state', state: 'succeeded', attempts: job.attempts });
      return 'succeeded';
    } catch (e) {
      return this.failed(job, scrubError(e, renames, job.input.name), ac, timeout, outDir);
    }
  }

  /** A job's work: its input as a local file (or a URL), prepare() or run(), its outputs published; the result in the client's names. */
  private async jobWork(
    job: JobRecord,
    signal: AbortSignal,
    report: Report,
    outDir: string,
    renamed: (r: Renames) => void,
  ): Promise<{ result: Record<string, unknown>; counters: Partial<Counters> }> {
    const { config } = this.deps;
    const id = job.id;
    // An input in the store: read like a URL, through a presigned GET that outlasts the job.
    const file = job.input.object
      ? await objectUrl(this.deps.objects, job.input, config.jobTimeoutSec + 600)
      : await ensureInput(job.input, this.deps.data, config, signal);
    const renames: Renames = [
      [file, job.input.name],
      [SPARSE_COPY, job.input.name], // a URL read by ranges is decoded from a sparse local copy
      [outDir, `job ${id}`],
    ];
    renamed(renames);
    await dropOutputs(this.deps.objects, id, outDir); // an interrupted attempt's leftovers
    const done = await this.work(job, file, outDir, signal, report);
    const { called } = done;
    // The time limit holds even where the work finished without looking at the signal again.
    if (signal.aborted) throw signal.reason;
    const made: JobResult = 'video' in done ? videoResult(job, done.video, called) : await this.result(job, done.prepared, called);
    const result = scrubPaths<JobResult>({ provider: done.provider, ...made }, renames);
    // Into the S3 store, the manifest last: the job is done only once it is stored.
    await publishOutputs(this.deps.objects, id, outDir, { id, frames: result.manifest, audio: result.audioManifest, segments: result.segments });
    if (signal.aborted) throw signal.reason;
    const actual = result.estimate.actual;
    const counters: Partial<Counters> = {
      framesTotal: Number(result.frames),
      audioSecondsTotal: actual.audioSeconds ?? 0,
      tokensSpentTotal: called ? called.totals.actualInputTokens + called.totals.actualOutputTokens : 0,
      dollarsSpentTotal: called ? called.totals.spentUsd : 0,
    };
    return { result, counters };
  }

  /** Progress to the bus at once, to the store at most every 250 ms. */
  private reporter(job: JobRecord): Report {
    const { store, bus, config } = this.deps;
    let progress: JobProgress = { stage: 'preparing', framesDone: 0, framesTotal: Number(job.plan.frames ?? 0) };
    // An eval counts its questions, once per plan (its record's plan says how many of each).
    if (job.kind === 'eval') progress = { ...progress, questionsDone: 0, questionsTotal: Number(job.plan.questions) * Number(job.plan.plans), spentUsd: 0 };
    let lastWrite = 0;
    return (p, force = false) => {
      progress = { ...progress, ...p };
      void bus.publish(job.id, { type: 'progress', progress }).catch(() => {});
      const now = Date.now();
      if (force || now - lastWrite > 250) {
        lastWrite = now;
        void store.progress(job.id, progress, config.nodeName).catch(() => {});
      }
    };
  }

  /**
   * The library's work: prepare() the media, or run() the whole job when it calls the model,
   * through its provider's adapter with this server's URL and key for that provider. A job that
   * sends video (Gemini) samples nothing: run() uploads the clip through the File API.
   */
  private async work(job: JobRecord, file: string, dir: string, signal: AbortSignal, report: Report): Promise<Work> {
    const { config, tokens } = this.deps;
    const o = job.options;
    // The plan made at submit, with its facts: executed as it is (no probe, no planning again).
    const planned = await readJobPlan(this.deps.data, job.id, job.input.name);
    const base = toPrepareOptions(o, config.limits, {
      dir,
      signal,
      ...(planned ? { plan: planned.plan, facts: planned.facts, sha256: job.input.sha256 } : {}),
      onFrame: (_f, done, total) => report({ framesDone: done, framesTotal: total }),
      // A URL read by ranges: the library fetches its index and the packets the job keeps.
      ...(readByRanges(job.input) ? { remote: this.remoteOptions(job, signal) } : {}),
    });
    const calling: RunOptions = {
      ...base,
      keep: true,
      prompt: o.prompt ?? '',
      system: o.system,
      api: o.api,
      maxOutputTokens: o.maxOutputTokens,
      concurrency: o.concurrency,
      onProgress: (p) => report({ stage: 'calling', requestsDone: p.done, requestsTotal: p.total }),
    };
    // The job's options (checked at submit) resolved once: prepare() and run() take them as they are.
    const resolved = resolveJobOptions<RunOptions>(o.call ? calling : (base as RunOptions));
    const provider = jobProvider(resolved);
    const server = config.providers[provider];
    const r = o.call ? withOptions(resolved, { baseURL: server.baseURL, apiKey: server.apiKey }) : resolved;
    await tokens.prime(r.model, { prompt: o.prompt, system: o.system });
    report({ stage: 'sampling' }, true);
    if (o.send === 'video') {
      const clip = readByRanges(job.input) ? await fetchClip(file, this.remoteOptions(job, signal), dir) : file;
      const called = o.call ? await run(clip, r) : undefined;
      if (signal.aborted) throw signal.reason;
      const prepared = (called?.prepared as PreparedVideo | undefined) ?? (await prepareVideo(clip, r, async () => ''));
      return { provider, video: { ...prepared, clip: await keepClip(clip, dir, prepared.plan, r.model) }, called };
    }
    const called = o.call ? await run(file, r) : undefined;
    if (signal.aborted) throw signal.reason;
    // run() kept what prepare() made.
    return { provider, prepared: (called?.prepared as Prepared | undefined) ?? (await prepare(file, r)), called };
  }

  /** The range reader's options for the job's URL, or for its object in the store (whose endpoint it may reach). */
  private remoteOptions(job: JobRecord, signal: AbortSignal) {
    const { config, storeEndpoint } = this.deps;
    return job.input.object ? objectUrlOptions(job.input, config, storeEndpoint, signal) : jobUrlOptions(job.input, config, signal);
  }

  /**
   * The job's record is gone from the store while it ran here (DELETE on another node, or Redis
   * restarted without persistence): nothing can record its end, so its outputs go and the log says so, once.
   */
  private async vanished(id: string, outDir: string): Promise<RunOutcome> {
    await dropOutputs(this.deps.objects, id, outDir).catch(() => {});
    process.stderr.write(
      `omniprep: job ${id}: its record is gone from the store (deleted, or Redis restarted without persistence); the job was dropped and its outputs removed\n`,
    );
    return 'skipped';
  }

  /** A failed attempt: cancelled, interrupted by shutdown, tried again, or failed for good. */
  private async failed(job: JobRecord, err: unknown, ac: AbortController, timeout: AbortSignal, outDir: string): Promise<RunOutcome> {
    const { store, bus, config } = this.deps;
    const id = job.id;
    // null: the record is gone; undefined: the store did not answer.
    const now = await store.get(id).then(
      (j) => j ?? null,
      () => undefined,
    );
    if (now === null) return this.vanished(id, outDir);
    if (now && now.state !== 'cancelled' && now.worker !== config.nodeName) return 'skipped'; // another worker has it
    await dropOutputs(this.deps.objects, id, outDir).catch(() => {});
    if (ac.signal.aborted) {
      if (this.shuttingDown) {
        await store.release(id, 'the node shut down; queued again', config.nodeName);
        return 'interrupted';
      }
      // DELETE already marked it cancelled; every child process is gone with the signal.
      await bus.publish(id, { type: 'state', state: 'cancelled' });
      return 'cancelled';
    }
    const e = this.cause(job, err, timeout);
    if (!timeout.aborted && retryable(e) && job.attempts < config.attempts) {
      const note = `attempt ${job.attempts} failed (${jobError(e).message}); queued again`;
      await store.release(id, note, config.nodeName);
      await bus.publish(id, { type: 'state', state: 'queued', attempts: job.attempts });
      return 'retry';
    }
    const error = jobError(e);
    if (await store.finish(id, { state: 'failed', error, worker: config.nodeName })) {
      await bus.publish(id, { type: 'state', state: 'failed', attempts: job.attempts, error });
      await releaseInput(job, this.deps).catch(() => false); // unless another job or a submission holds it
    }
    return 'failed';
  }

  /** What a failed attempt is reported as: the time limit, a full disk (one line, not tried again), or the error itself. */
  private cause(job: JobRecord, err: unknown, timeout: AbortSignal): unknown {
    const { config } = this.deps;
    if (timeout.aborted)
      return new OmniprepError('TIMEOUT', `job ${job.id}: took longer than ${config.jobTimeoutSec} s (--job-timeout) and was stopped`, {
        input: job.input.name,
      });
    const full = diskFull(err);
    return full ? storageError(full, `the outputs of job ${job.id}`) : err;
  }

  private async result(job: JobRecord, p: Prepared, called: RunResult | undefined): Promise<JobResult> {
    const frameDir = join(p.dir, 'frames');
    const frames = await Promise.all(
      p.frames.frames.map(async (f) => ({ ...f, sha256: await sha256File(join(frameDir, f.file)), url: `/v1/jobs/${job.id}/frames/${f.index}` })),
    );
    const audio = p.audioManifest
      ? await Promise.all(
          p.audioManifest.chunks.map(async (c) => ({
            index: c.index,
            file: c.file,
            startSec: c.startSec,
            endSec: c.endSec,
            durationSec: c.durationSec,
            bytes: c.bytes,
            tokens: c.tokens,
            sha256: await sha256File(join(p.audioManifest!.outDir, c.file)),
          })),
        )
      : null;
    const audioSeconds = audio ? Math.round(audio.reduce((a, c) => a + c.durationSec, 0) * 1000) / 1000 : 0;
    const audioTokens = audio ? audio.reduce((a, c) => a + c.tokens, 0) : 0;
    const actual = actualOf({ frames: p.frames.totals.frames, imageTokens: p.frames.totals.imageTokens, audioSeconds, audioTokens }, called);
    const grids = p.frames.grids
      ? await Promise.all(
          p.frames.grids.map(async (g) => ({ ...g, sha256: await sha256File(join(frameDir, g.file)), url: `/v1/jobs/${job.id}/grids/${g.index}` })),
        )
      : undefined;
    const manifest = { ...p.frames, input: job.input.name, frames, ...(grids ? { grids } : {}) };
    return {
      frames: frames.length,
      bytes: p.frames.totals.bytes,
      format: p.frames.format,
      width: p.plan.width,
      height: p.plan.height,
      audioChunks: audio?.length ?? 0,
      segmentCount: p.segments.length,
      warnings: p.frames.warnings,
      timings: p.frames.timings,
      estimate: { estimated: estimated(job.plan), actual },
      ...calledSummary(called),
      ...remoteRead(job, p),
      manifest,
      audioManifest: audio,
      segments: p.segments.map((s) => ({
        index: s.index,
        startSec: s.startSec,
        endSec: s.endSec,
        frames: s.frames.map((f) => f.index),
        audio: s.audio.map((a) => a.index),
      })),
    };
  }
}

/**
 * What reading a URL input (or an object in the S3 store) fetched, in the range reader's report: for a URL read by ranges, the
 * job's readings (the frames', and the audio's when cut) added up; for one read whole, the
 * submission's download (the job read the stored copy).
 */
function remoteRead(job: JobRecord, p: Prepared): { remote?: RemoteReport } {
  if (!job.input.object && (job.input.kind !== 'url' || !job.input.remote)) return {};
  const readings = [p.frames.remote, p.audioManifest?.remote].filter((r): r is RemoteReport => r !== undefined);
  if (!readings.length) return { remote: job.input.remote };
  const [first] = readings as [RemoteReport];
  const sum = (k: 'bytesFetched' | 'requests' | 'retries'): number => readings.reduce((n, r) => n + r[k], 0);
  const bytesFetched = sum('bytesFetched');
  const whole = readings.find((r) => r.mode === 'download');
  return {
    remote: {
      ...first,
      mode: whole ? 'download' : 'ranges',
      ...(whole?.reason ? { reason: whole.reason } : {}),
      bytesFetched,
      requests: sum('requests'),
      retries: sum('retries'),
      fraction: first.sizeBytes ? Math.round((bytesFetched / first.sizeBytes) * 1e6) / 1e6 : 0,
    },
  };
}
