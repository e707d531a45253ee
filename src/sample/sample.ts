/**
 * sample(input, options): runs the plan. Scheduling over small modules: the plan's frames become
 * decode tasks (tasks.ts: grouped and given a strategy by cost from the packet index), the tasks
 * run in the worker pool with at most two per thread ahead of the consumer, frames come out in
 * time order as an async iterable (dedup.ts drops repeats), then grids (grids.ts) and the
 * manifest (manifest.ts) are written.
 *
 *     const run = sample('talk.mp4', { out: 'frames', every: 10 });
 *     for await (const frame of run) console.log(frame.timestampSec, frame.file);
 *     const manifest = await run.manifest();
 */
import { mkdir, readdir, readFile, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { OmniprepError } from '../errors.js';
import { binaryVersion, parseVersion, resolveBinary, type BinaryOptions } from '../ffmpeg/binaries.js';
import { acquireAvPool, releaseAvPool } from '../extract/av-pool.js';
import { resolveDecoder } from '../extract/decoder.js';
import { resolveLimits } from '../limits.js';
import { acquirePool, poolThreads, releasePool, runHere, runsHere, type TaskRunner } from '../extract/pool.js';
import { frameFileName } from '../extract/graph.js';
import type { FfmpegRef, FrameResult, FrameTask } from '../extract/types.js';
import { encodeFile, perceptualHash } from '../image/encode.js';
import { packetIndex } from '../probe/keyframes.js';
import { probe } from '../probe/probe.js';
import type { MediaInfo } from '../probe/types.js';
import { plan as makePlan, planRemote } from '../plan/plan.js';
import { givenOptions, resolveOptions, withOptions, type Resolved } from '../options/resolve.js';
import { DEFAULT_SAMPLING, type Plan, type PlanOptions } from '../plan/types.js';
import { Deduper } from './dedup.js';
import { writeGrids } from './grids.js';
import { buildManifest, reasonOf, writeManifest, type Manifest, type ManifestGrid, type SampledFrame } from './manifest.js';
import { plannedFromUrl, plannedInfo, plannedRemote, plannedRemoteInfo, type PlannedOptions } from './planned.js';
import { buildTasks } from './tasks.js';
import { isRemoteInput, remoteOptions, RemoteInput } from '../source/remote.js';
import { readdirSync, rmdirSync, rmSync } from 'node:fs';

export type { FrameReason, Manifest, ManifestFrame, ManifestGrid, SampledFrame } from './manifest.js';

export interface SampleOptions extends PlanOptions, PlannedOptions {
  /** Output directory (created if needed). Default: a new temporary directory. */
  out?: string | undefined;
  /** Called after each frame is written. */
  onFrame?: ((frame: SampledFrame, done: number, total: number) => void) | undefined;
}

export interface SampleRun extends AsyncIterable<SampledFrame> {
  /** The plan (resolves before the first frame). */
  readonly plan: Promise<Plan>;
  /** The manifest; waits for (and if nobody iterates, drives) the whole run. */
  manifest(): Promise<Manifest>;
}

/** Makes the output directory if needed (true when it did); one line when it cannot be one. */
async function ensureDir(dir: string): Promise<boolean> {
  const refuse = (cause: string): OmniprepError => new OmniprepError('INVALID_OPTION', `option out: ${dir} ${cause}`, { details: { option: 'out' } });
  const st = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  if (!(st instanceof Error)) {
    if (!st.isDirectory()) throw refuse('exists and is not a directory');
    return false;
  }
  if (st.code !== 'ENOENT') throw refuse(st.code === 'ENOTDIR' ? 'cannot be made: a part of its path is a file' : `cannot be read (${st.code ?? st.message})`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw refuse(code === 'ENOTDIR' || code === 'EEXIST' ? 'cannot be made: a part of its path is a file' : `cannot be made (${code ?? (e as Error).message})`);
  }
  return true;
}

/** What one run has made so far, so that a failed or stopped run can remove it. */
class Leftovers {
  readonly written: string[] = [];
  readonly inflight: Array<Promise<unknown>> = [];
  dir: string | undefined;
  createdDir = false;

  async remove(): Promise<void> {
    await Promise.allSettled(this.inflight);
    await Promise.allSettled(this.written.map((f) => unlink(f)));
    const dir = this.dir;
    if (!dir) return;
    await rm(join(dir, 'manifest.json'), { force: true }).catch(() => {});
    // Files a cancelled task wrote after we stopped listening.
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.allSettled(names.filter((n) => /^(frame|grid)-\d{5}\./.test(n)).map((n) => unlink(join(dir, n))));
    if (this.createdDir) await rmdir(dir).catch(() => {});
  }
}

type Outcome = Awaited<ReturnType<TaskRunner['run']>>;

/** Runs tasks in order, at most the runner's window ahead of the consumer; yields each outcome in order. */
async function* runInOrder(pool: TaskRunner, tasks: FrameTask[], signal: AbortSignal, left: Leftovers): AsyncGenerator<Outcome> {
  const window = pool.window;
  const pending: Array<Promise<Outcome>> = [];
  let next = 0;
  const submit = (): void => {
    while (next < tasks.length && pending.length < window) {
      const t = pool.run(tasks[next++]!, signal);
      t.catch(() => {});
      left.inflight.push(t);
      pending.push(t);
    }
  };
  submit();
  while (pending.length) {
    const outcome = await pending.shift()!;
    submit();
    yield outcome;
  }
}

/** Our own names: the frames and grids a run writes (frame-00000.jpg, grid-00000.webp). */
const OUR_IMAGE = /^(frame|grid)-\d{5}\.(jpg|png|webp)$/;

/**
 * Removes what an earlier run wrote to `dir`: the files its manifest.json lists (plain names in
 * `dir`, nothing outside it), the frames and grids named as omniprep names them, and the
 * manifest. Any other file stays. Returns how many files went.
 */
async function removeEarlierRun(dir: string): Promise<number> {
  const names = new Set((await readdir(dir)).filter((n) => OUR_IMAGE.test(n)));
  try {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { frames?: Array<{ file?: unknown }>; grids?: Array<{ file?: unknown }> };
    for (const e of [...(m.frames ?? []), ...(m.grids ?? [])]) {
      if (typeof e?.file === 'string' && basename(e.file) === e.file && e.file !== '..' && e.file !== '.') names.add(e.file);
    }
    names.add('manifest.json');
  } catch {
    /* no manifest, or not ours: only the names above */
  }
  const gone = await Promise.allSettled([...names].map((n) => unlink(join(dir, n))));
  return gone.filter((r) => r.status === 'fulfilled').length;
}

/** Removes the frames, grids and manifest a run wrote to `dir` (and `dir` when the run made it); says how many. */
function removeWrittenSync(dir: string, createdDir: boolean): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^(frame|grid)-\d{5}\./.test(n) || n === 'manifest.json');
  } catch {
    return undefined;
  }
  for (const n of names) rmSync(join(dir, n), { force: true });
  if (createdDir) {
    try {
      rmdirSync(dir);
    } catch {
      /* not empty: someone else's files */
    }
  }
  return `removed the ${names.length} file(s) the unfinished run had written to ${dir}`;
}

interface Ctx {
  /** Drops the interrupt hook that removes a half-written run (set once the output dir exists). */
  unregister?: (() => void) | undefined;
  input: string;
  /** http(s) inputs: the range reader's sparse local copy (source/remote.ts). */
  remote?: RemoteInput | undefined;
  /** The options as the caller gave them; `r` once resolved (the first thing the run does). */
  given: SampleOptions | Resolved<SampleOptions>;
  r?: Resolved<SampleOptions> | undefined;
  options: Readonly<SampleOptions>;
  signal: AbortSignal;
  abort: () => void;
  left: Leftovers;
}

async function ffmpegRef(o: BinaryOptions): Promise<FfmpegRef> {
  const bin = resolveBinary('ffmpeg', o);
  return { path: bin.path, version: await binaryVersion(bin) };
}

/** The frames of a run as they are decoded (a still image is one frame). */
async function* decodeFrames(
  info: MediaInfo,
  p: Plan,
  dir: string,
  c: Ctx,
  stats: { decodeMs: number; decodePaths: Record<string, number> },
): AsyncGenerator<FrameResult> {
  const limits = resolveLimits(c.options.limits);
  const out = { dir, width: p.width, height: p.height, format: p.format, quality: p.quality };
  if (info.kind === 'image') {
    const data = await encodeFile(info.path, out, limits.maxPixels);
    const file = join(dir, frameFileName(0, p.format));
    await writeFile(file, data);
    yield {
      index: 0,
      timestampSec: 0,
      keyframe: true,
      file,
      bytes: data.length,
      width: p.width,
      height: p.height,
      ...(c.options.dedup ? { hash: await perceptualHash(data) } : {}),
    };
    return;
  }
  if (!p.frames.length) return;
  const decoder = await resolveDecoder(c.options);
  const ffmpeg = await ffmpegRef(c.options).catch((e: unknown) => {
    // node-av decodes without the binary; the tasks' ffmpeg fields are then unused.
    if (decoder.decoder === 'ffmpeg') throw e;
    return { path: '', version: parseVersion('') };
  });
  const idx = await packetIndex(info, { ...c.options, signal: c.signal });
  const tasks = buildTasks(p.frames, {
    info,
    video: info.video!,
    idx,
    ffmpeg,
    threads: poolThreads(),
    maxPixels: limits.maxPixels,
    timeoutMs: limits.processTimeoutMs,
    out,
    hash: Boolean(c.options.dedup),
  });
  // node-av decodes in its child processes; with ffmpeg, a short job runs on this thread (the
  // pool would only add its start, extract/pool.ts).
  const avPool = decoder.decoder === 'node-av' ? acquireAvPool() : undefined;
  const pool = avPool ?? (runsHere(tasks) ? runHere : acquirePool());
  let finished = false;
  try {
    // Remote: every packet the tasks decode is fetched before the first one runs.
    await c.remote?.prepareTasks(tasks);
    // Tasks of two kinds may interleave their frames (groupFrames in tasks.ts): frames go out in
    // the plan's order, each as soon as every frame before it is out.
    const waiting = new Map<number, FrameResult>();
    let next = 0;
    for await (const outcome of runInOrder(pool, tasks, c.signal, c.left)) {
      stats.decodeMs += outcome.decodeMs;
      if (outcome.path) stats.decodePaths[outcome.path] = (stats.decodePaths[outcome.path] ?? 0) + 1;
      for (const frame of outcome.frames ?? []) waiting.set(frame.index, frame);
      for (let frame = waiting.get(next); frame; frame = waiting.get(++next)) {
        waiting.delete(next);
        yield frame;
      }
    }
    // A planned frame no task wrote would hold back the ones after it: they go out in order.
    for (const index of [...waiting.keys()].sort((a, b) => a - b)) yield waiting.get(index)!;
    finished = true;
  } finally {
    if (!finished) {
      // Failed or stopped: cancel the tasks still running before the pool may close.
      c.abort();
      await Promise.allSettled(c.left.inflight);
    }
    if (avPool) releaseAvPool();
    else if (pool !== runHere) await releasePool();
  }
}

/**
 * The input's facts and plan: given ones (a plan made earlier, checked against the input: a URL's
 * by its reader's validators), a URL's from its range reader (planRemote), a path's from probe().
 */
async function factsAndPlan(c: Ctx): Promise<{ info: MediaInfo; plan: Plan }> {
  const r = withOptions(c.r!, { signal: c.signal });
  const o = r.options;
  if (c.remote) return o.plan && o.facts ? { info: plannedRemoteInfo(c.remote, o), plan: o.plan } : planRemote(c.remote, r);
  // ffmpeg's version (the decode's arguments depend on it) is read while ffprobe runs; a failure
  // (no ffmpeg: a still image needs none) surfaces only where a decode awaits it.
  void Promise.resolve()
    .then(() => binaryVersion(resolveBinary('ffmpeg', o)))
    .catch(() => {});
  if (o.plan && o.facts) return { info: await plannedInfo(c.input, o, c.signal), plan: o.plan };
  const info = await probe(c.input, { limits: o.limits, signal: c.signal, ffprobePath: o.ffprobePath });
  return { info, plan: await makePlan(info, r) };
}

/** The run itself: plan, frames (yielded as they are written), grids, manifest. */
async function* runSample(c: Ctx, settle: { plan: (p: Plan) => void; manifest: (m: Manifest) => void }): AsyncGenerator<SampledFrame> {
  const started = performance.now();
  c.r = resolveOptions<SampleOptions>(c.given);
  c.options = c.r.options;
  const { options, signal, left } = c;
  const refuse = (why: string): OmniprepError => new OmniprepError('INVALID_OPTION', `${c.input}: option plan: ${why}`, { input: c.input });
  if (Boolean(options.plan) !== Boolean(options.facts)) throw refuse('a plan is executed with the facts it was made from (options plan and facts)');
  if (options.plan && isRemoteInput(c.input) && !plannedFromUrl(c.input, options)) throw refuse('the plan was not made from this URL');
  // A URL is read by byte ranges into a sparse local copy (source/remote.ts); a planned one must be the file planned.
  if (isRemoteInput(c.input)) c.remote = await RemoteInput.open(c.input, remoteOptions({ ...options, remote: plannedRemote(options), signal }));
  const { info, plan: p } = await factsAndPlan(c);
  settle.plan(p);
  const temp = await import('../util/temp.js');
  const dir = resolve(options.out ?? temp.makeTempDir('omniprep-frames-').path);
  left.createdDir = await ensureDir(dir);
  left.dir = dir;
  // A folder used before: the frames of the earlier run go, so that no old frame sits beside the new ones.
  const replaced = left.createdDir ? 0 : await removeEarlierRun(dir);
  // Interrupted (Ctrl-C, SIGTERM) before the manifest: the frames written so far go.
  c.unregister = temp.onInterrupt(() => removeWrittenSync(dir, left.createdDir));
  const dedup = new Deduper(options.dedupThreshold ?? DEFAULT_SAMPLING.dedupThreshold);
  const kept: SampledFrame[] = [];
  const stats = { decodeMs: 0, decodePaths: {} as Record<string, number> };
  for await (const r of decodeFrames(info, p, dir, c, stats)) {
    left.written.push(r.file);
    if (options.dedup && dedup.repeats(r)) {
      void unlink(r.file).catch(() => {});
      continue;
    }
    const f: SampledFrame = {
      index: r.index,
      file: r.file,
      timestampSec: r.timestampSec,
      width: r.width,
      height: r.height,
      bytes: r.bytes,
      tokens: p.tokensPerFrame,
      keyframe: r.keyframe,
      reason: info.kind === 'image' ? 'first' : reasonOf(p.frames[r.index]!),
    };
    kept.push(f);
    options.onFrame?.(f, kept.length + dedup.dropped.length, p.frames.length);
    yield f;
  }
  let grids: ManifestGrid[] | undefined;
  if (p.grids?.length && kept.length) grids = await writeGrids(p, options.grid!, kept, dir, left.written);
  const manifest: Manifest = {
    ...buildManifest({ input: info.input, plan: p, dir, kept, dropped: dedup.dropped, grids, started, ...stats, replaced }),
    ...(c.remote ? { remote: c.remote.report() } : {}),
  };
  await writeManifest(dir, manifest);
  settle.manifest(manifest);
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export function sample(input: string, options: SampleOptions | Resolved<SampleOptions> = {}): SampleRun {
  const ac = new AbortController();
  const outer = givenOptions(options).signal;
  const onOuterAbort = (): void => ac.abort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const planD = deferred<Plan>();
  const manifestD = deferred<Manifest>();

  async function* generate(): AsyncGenerator<SampledFrame> {
    const left = new Leftovers();
    let settled = false;
    const fail = async (err: unknown): Promise<void> => {
      settled = true;
      ac.abort();
      await left.remove();
      planD.reject(err);
      manifestD.reject(err);
    };
    const ctx: Ctx = { input, given: options, options: {}, signal: ac.signal, abort: () => ac.abort(), left };
    try {
      yield* runSample(ctx, { plan: planD.resolve, manifest: manifestD.resolve });
      settled = true;
    } catch (e) {
      const err = ac.signal.aborted && !(e instanceof OmniprepError) ? new OmniprepError('ABORTED', `${input}: cancelled`, { input }) : e;
      await fail(err);
      throw err;
    } finally {
      // The consumer stopped iterating before the end: stop the work and leave nothing half-done.
      if (!settled) await fail(new OmniprepError('ABORTED', `${input}: sampling was stopped before the end`, { input }));
      ctx.unregister?.();
      await ctx.remote?.close();
      outer?.removeEventListener('abort', onOuterAbort);
    }
  }

  let iterator: AsyncGenerator<SampledFrame> | undefined;
  const take = (): AsyncGenerator<SampledFrame> => {
    if (iterator) throw new OmniprepError('INVALID_OPTION', 'a sample run can be iterated once');
    iterator = generate();
    return iterator;
  };
  return {
    plan: planD.promise,
    [Symbol.asyncIterator]: take,
    async manifest(): Promise<Manifest> {
      if (!iterator) {
        const it = take();
        // Drive the run ourselves: nobody is iterating.
        for (;;) {
          const r = await it.next();
          if (r.done) break;
        }
      }
      return manifestD.promise;
    },
  };
}
