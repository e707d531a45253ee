/**
 * sample(input, options): runs the plan. Frames are decoded in the worker pool by tasks that each
 * cover a run of consecutive planned frames (keyframe runs decode keyframes only; exact runs share
 * one seek per group of pictures), so both cores work on one long video and only a few raw frames
 * exist at a time. Frames come out in time order as an async iterable; the manifest comes at the end.
 *
 *     const run = sample('talk.mp4', { out: 'frames', every: 10 });
 *     for await (const frame of run) console.log(frame.timestampSec, frame.file);
 *     const manifest = await run.manifest();
 */
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir, rm, rmdir, unlink, writeFile, readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { OmniprepError } from '../errors.js';
import { binaryVersion, resolveBinary } from '../ffmpeg/binaries.js';
import { resolveLimits } from '../limits.js';
import { acquirePool, releasePool } from '../extract/pool.js';
import { frameFileName, posWindow, type FrameResult, type FrameTask } from '../extract/task.js';
import { encodeFile, perceptualHash, hashDistance, isDuplicate, EXTENSION } from '../image/encode.js';
import { composeGrid } from '../image/grid.js';
import { packetIndex } from '../probe/keyframes.js';
import { probe } from '../probe/probe.js';
import type { MediaInfo } from '../probe/types.js';
import { plan as makePlan } from '../plan/plan.js';
import { DEFAULT_SAMPLING, type Plan, type PlannedFrame, type PlanOptions } from '../plan/types.js';

export interface SampleOptions extends PlanOptions {
  /** Output directory (created if needed). Default: a new temporary directory. */
  out?: string | undefined;
  /** Called after each frame is written. */
  onFrame?: ((frame: SampledFrame, done: number, total: number) => void) | undefined;
}

export interface SampledFrame {
  index: number;
  /** Absolute path of the image. */
  file: string;
  timestampSec: number;
  width: number;
  height: number;
  bytes: number;
  tokens: number;
  keyframe: boolean;
}

export interface ManifestFrame extends Omit<SampledFrame, 'file'> {
  /** Relative to the manifest's directory. */
  file: string;
}

export interface ManifestGrid {
  index: number;
  file: string;
  timestamps: number[];
  frames: number[];
  width: number;
  height: number;
  bytes: number;
  tokens: number;
}

export interface Manifest {
  input: string;
  mode: Plan['mode'];
  model: string;
  detail: string;
  every: number;
  startSec: number;
  endSec: number;
  format: Plan['format'];
  frames: ManifestFrame[];
  /** Frames --dedup dropped, and the kept frame each repeated. */
  dropped: Array<{ index: number; timestampSec: number; duplicateOf: number; distance: number; meanDiff: number }>;
  grids?: ManifestGrid[];
  totals: { frames: number; bytes: number; imageTokens: number; frameTokens: number };
  plan: Pick<Plan, 'inputTokens' | 'textTokens' | 'audioTokens' | 'costUsd' | 'tier'> & { frames: number; imageTokens: number; budget: Plan['budget'] };
  warnings: string[];
  /** Times, and how many decode tasks took each path (keyframe-stream, span-stream: H.264 only; range: the rest). */
  timings: { planMs: number; sampleMs: number; decodeMs: number; decodePaths: Record<string, number> };
}

export interface SampleRun extends AsyncIterable<SampledFrame> {
  /** The plan (resolves before the first frame). */
  readonly plan: Promise<Plan>;
  /** The manifest; waits for (and if nobody iterates, drives) the whole run. */
  manifest(): Promise<Manifest>;
}

const SEEK_EPS = 0.001;

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
/**
 * Frames per task: enough to amortise a process start (opening an hour of MP4 costs ~60 ms), few
 * enough that every core gets several tasks.
 */
function taskSize(total: number, threads: number): number {
  return Math.max(1, Math.min(96, Math.ceil(total / (threads * 4))));
}

/**
 * Splits planned frames into runs that one ffmpeg process decodes. Exact frames share a run only
 * within a group of pictures, unless `spans` (the span decoder takes any exact frames). Exported for tests.
 */
export function groupFrames(frames: PlannedFrame[], keyframeTimes: number[], threads: number, spans = false): Array<{ decode: 'keyframes' | 'exact'; frames: PlannedFrame[] }> {
  const size = taskSize(frames.length, threads);
  const gopOf = (t: number): number => {
    let k = -1;
    for (let lo = 0, hi = keyframeTimes.length - 1; lo <= hi; ) {
      const mid = (lo + hi) >> 1;
      if (keyframeTimes[mid]! <= t + 1e-6) {
        k = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return k;
  };
  const groups: Array<{ decode: 'keyframes' | 'exact'; frames: PlannedFrame[]; gop: number }> = [];
  for (const f of frames) {
    const decode = f.source === 'keyframe' ? 'keyframes' : 'exact';
    const gop = decode === 'exact' && !spans ? gopOf(f.timestampSec) : -2;
    const g = groups[groups.length - 1];
    if (g && g.decode === decode && g.frames.length < size && (decode === 'keyframes' || g.gop === gop)) g.frames.push(f);
    else groups.push({ decode, frames: [f], gop });
  }
  return groups.map(({ decode, frames: fs }) => ({ decode, frames: fs }));
}

function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function ensureDir(dir: string): Promise<boolean> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new OmniprepError('INVALID_OPTION', `option out: ${dir} exists and is not a directory`);
    return false;
  } catch (e) {
    if (e instanceof OmniprepError) throw e;
    await mkdir(dir, { recursive: true });
    return true;
  }
}

export function sample(input: string, options: SampleOptions = {}): SampleRun {
  const ac = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => ac.abort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = ac.signal;

  let resolvePlan!: (p: Plan) => void;
  let rejectPlan!: (e: unknown) => void;
  const planPromise = new Promise<Plan>((res, rej) => {
    resolvePlan = res;
    rejectPlan = rej;
  });
  planPromise.catch(() => {});
  let resolveManifest!: (m: Manifest) => void;
  let rejectManifest!: (e: unknown) => void;
  const manifestPromise = new Promise<Manifest>((res, rej) => {
    resolveManifest = res;
    rejectManifest = rej;
  });
  manifestPromise.catch(() => {});

  async function* generate(): AsyncGenerator<SampledFrame> {
    const started = performance.now();
    const limits = resolveLimits(options.limits);
    const written: string[] = [];
    let outDir: string | undefined;
    let createdDir = false;
    let pool: ReturnType<typeof acquirePool> | undefined;
    const inflight: Array<Promise<unknown>> = [];
    let settled = false;
    let unregister = (): void => {};
    const cleanup = async (): Promise<void> => {
      ac.abort();
      await Promise.allSettled(inflight);
      // Leave nothing behind: the frames written so far, and the directory if we made it.
      await Promise.allSettled(written.map((f) => unlink(f)));
      if (outDir) {
        await rm(join(outDir, 'manifest.json'), { force: true });
        // Files a cancelled task wrote after we stopped listening.
        const names = await readdir(outDir).catch(() => [] as string[]);
        await Promise.allSettled(names.filter((n) => /^(frame|grid)-\d{5}\./.test(n)).map((n) => unlink(join(outDir!, n))));
        if (createdDir) await rmdir(outDir).catch(() => {});
      }
    };
    try {
      const info: MediaInfo = await probe(input, { limits: options.limits, signal, ffprobePath: options.ffprobePath });
      const p = await makePlan(info, { ...options, signal });
      resolvePlan(p);
      const temp = await import('../util/temp.js');
      outDir = resolve(options.out ?? temp.makeTempDir('omniprep-frames-').path);
      createdDir = await ensureDir(outDir);
      const dir = outDir;
      // Interrupted (Ctrl-C, SIGTERM) before the manifest: the frames written so far go.
      unregister = temp.onInterrupt(() => removeWrittenSync(dir, createdDir));
      const kept: SampledFrame[] = [];
      const dropped: Manifest['dropped'] = [];
      let lastHash: { hash: string; index: number } | undefined;
      let decodeMs = 0;
      const decodePaths: Record<string, number> = {};
      const total = p.frames.length;
      const emit = (r: FrameResult): SampledFrame | undefined => {
        written.push(r.file);
        if (options.dedup && r.hash) {
          if (lastHash) {
            const d = hashDistance(r.hash, lastHash.hash);
            if (isDuplicate(d, options.dedupThreshold ?? DEFAULT_SAMPLING.dedupThreshold)) {
              dropped.push({ index: r.index, timestampSec: r.timestampSec, duplicateOf: lastHash.index, distance: d.bits, meanDiff: Math.round(d.meanDiff * 100) / 100 });
              void unlink(r.file).catch(() => {});
              return undefined;
            }
          }
          lastHash = { hash: r.hash, index: r.index };
        }
        const f: SampledFrame = { index: r.index, file: r.file, timestampSec: r.timestampSec, width: r.width, height: r.height, bytes: r.bytes, tokens: p.tokensPerFrame, keyframe: r.keyframe };
        kept.push(f);
        options.onFrame?.(f, kept.length + dropped.length, total);
        return f;
      };

      if (info.kind === 'image') {
        const data = await encodeFile(info.path, { width: p.width, height: p.height, format: p.format, quality: p.quality }, limits.maxPixels);
        const file = join(dir, frameFileName(0, p.format));
        await writeFile(file, data);
        const f = emit({ index: 0, timestampSec: 0, keyframe: true, file, bytes: data.length, width: p.width, height: p.height, ...(options.dedup ? { hash: await perceptualHash(data) } : {}) });
        if (f) yield f;
      } else if (p.frames.length) {
        const video = info.video!;
        const bin = resolveBinary('ffmpeg', options);
        const ffmpeg = { path: bin.path, version: await binaryVersion(bin) };
        const idx = await packetIndex(info, { ...options, signal });
        const kfs = idx.times.filter((_, i) => idx.keyframe[i]);
        // Other packets whose positions the float position filter cannot tell from a planned one.
        // The index's packets in file order (decode order): typed arrays, no per-packet objects.
        const byFile = Uint32Array.from(idx.pos.keys()).filter((i) => idx.pos[i]! >= 0).sort((a, b) => idx.pos[a]! - idx.pos[b]!);
        const sortedPos = Float64Array.from(byFile, (i) => idx.pos[i]!);
        const neighbours = (pos: number, keyOnly: boolean): number => {
          if (pos < 0) return 1;
          const w = posWindow(pos);
          let n = 0;
          for (let i = lowerBound(sortedPos, pos - w); i < sortedPos.length && sortedPos[i]! <= pos + w; i++) n++;
          return keyOnly ? 1 : Math.max(1, n);
        };
        pool = acquirePool();
        const streamable = video.codec === 'h264' && ['mp4', 'mov', 'm4a', 'matroska'].includes(info.container) && p.frames.every((f) => f.pos >= 0);
        const groups = groupFrames(p.frames, kfs, pool.threads, streamable);
        // Packets in decode order (file order), for the span decoder of exact frames.
        const decodeAt = (pos: number): number | undefined => {
          const k = lowerBound(sortedPos, pos);
          return sortedPos[k] === pos ? k : undefined;
        };
        const packetRun = (g: { decode: string; frames: PlannedFrame[] }): FrameTask['packetRun'] => {
          if (!streamable || g.decode !== 'exact') return undefined;
          const at = g.frames.map((f) => decodeAt(f.pos));
          if (at.some((k) => k === undefined)) return undefined;
          let from = Math.min(...(at as number[]));
          while (from > 0 && !idx.keyframe[byFile[from]!]) from--;
          const to = Math.max(...(at as number[]));
          return Array.from(byFile.subarray(from, to + 1), (i) => ({ pos: idx.pos[i]!, size: idx.size[i]!, t: idx.times[i]!, key: idx.keyframe[i]! }));
        };
        // H.264 keyframe runs: the index's keyframe packets from the first to the last planned frame
        // (the path that decodes only the planned keyframes matches stream units to them).
        const keyIdx: number[] = [];
        idx.keyframe.forEach((k, i) => k && keyIdx.push(i));
        const keyframeRun = (g: { decode: string; frames: PlannedFrame[] }): FrameTask['keyframeRun'] => {
          if (g.decode !== 'keyframes' || video.codec !== 'h264' || !['mp4', 'mov', 'm4a', 'matroska'].includes(info.container)) return undefined;
          const first = g.frames[0]!.timestampSec - 1e-6;
          const last = g.frames[g.frames.length - 1]!.timestampSec + 1e-6;
          const run = keyIdx.filter((i) => idx.times[i]! >= first && idx.times[i]! <= last).map((i) => ({ pos: idx.pos[i]!, size: idx.size[i]! }));
          return run.every((r) => r.pos >= 0 && r.size > 0) ? run : undefined;
        };
        const tasks: FrameTask[] = groups.map((g) => {
          const spanRun = packetRun(g);
          return {
          kind: 'frames',
          decode: g.decode,
          path: info.path,
          input: info.input,
          ffmpeg,
          streamIndex: video.index,
          startTimeSec: info.startTimeSec,
          maxPixels: limits.maxPixels,
          timeoutMs: limits.processTimeoutMs,
          // Seek to the keyframe at or before the first frame: exactly onto it when it is one (or
          // onto the span decoder's first keyframe).
          seekSec: Math.max(0, spanRun ? spanRun[0]!.t : g.frames[0]!.keyframe ? g.frames[0]!.timestampSec : g.frames[0]!.timestampSec - SEEK_EPS),
          frames: g.frames.map((f) => ({ index: f.index, timestampSec: f.timestampSec, pos: f.pos, keyframe: f.keyframe })),
          expectedOutputs: g.frames.reduce((a, f) => a + neighbours(f.pos, g.decode === 'keyframes'), 0),
          keyframeRun: keyframeRun(g),
          packetRun: spanRun,
          rotation: video.rotation,
          decodeWidth: video.width,
          decodeHeight: video.height,
          out: { dir, width: p.width, height: p.height, format: p.format, quality: p.quality },
          hash: Boolean(options.dedup),
          };
        });
        // Back-pressure: at most two tasks per thread are submitted ahead of the consumer.
        const window = pool.threads * 2;
        const pending: Array<Promise<Awaited<ReturnType<NonNullable<typeof pool>['run']>>>> = [];
        let next = 0;
        const submit = (): void => {
          while (next < tasks.length && pending.length < window) {
            const t = pool!.run(tasks[next++]!, signal);
            t.catch(() => {});
            inflight.push(t);
            pending.push(t);
          }
        };
        submit();
        while (pending.length) {
          const outcome = await pending.shift()!;
          submit();
          decodeMs += outcome.decodeMs;
          if (outcome.path) decodePaths[outcome.path] = (decodePaths[outcome.path] ?? 0) + 1;
          for (const r of outcome.frames ?? []) {
            const f = emit(r);
            if (f) yield f;
          }
        }
      }

      // Grids of the kept frames, with the planned cell size.
      let grids: ManifestGrid[] | undefined;
      if (p.grids && p.grids.length && kept.length) {
        const g0 = p.grids[0]!;
        const per = options.grid!.cols * options.grid!.rows;
        grids = [];
        for (let i = 0; i < kept.length; i += per) {
          const cells = kept.slice(i, i + per);
          const data = await composeGrid(
            cells.map((c) => ({ image: c.file, timestampSec: c.timestampSec })),
            { cols: options.grid!.cols, rows: options.grid!.rows, cellWidth: g0.cellWidth, cellHeight: g0.cellHeight, format: p.format, quality: p.quality },
          );
          const file = join(dir, `grid-${String(grids.length).padStart(5, '0')}.${EXTENSION[p.format]}`);
          await writeFile(file, data);
          written.push(file);
          grids.push({ index: grids.length, file: relative(dir, file), timestamps: cells.map((c) => c.timestampSec), frames: cells.map((c) => c.index), width: g0.width, height: g0.height, bytes: data.length, tokens: g0.tokens });
        }
      }

      const frames: ManifestFrame[] = kept.map((f) => ({ ...f, file: relative(dir, f.file) }));
      const frameTokens = frames.reduce((a, f) => a + f.tokens, 0);
      const warnings = [...p.warnings];
      const drift = kept.filter((f) => Math.abs(f.timestampSec - p.frames[f.index]!.timestampSec) > 0.002);
      if (drift.length) warnings.push(`${drift.length} frame(s) decoded at other times than planned (first: planned ${p.frames[drift[0]!.index]!.timestampSec}, got ${drift[0]!.timestampSec})`);
      const manifest: Manifest = {
        input: info.input,
        mode: p.mode,
        model: p.model,
        detail: p.detailApplied,
        every: p.every,
        startSec: p.startSec,
        endSec: p.endSec,
        format: p.format,
        frames,
        dropped,
        ...(grids ? { grids } : {}),
        totals: {
          frames: frames.length,
          bytes: frames.reduce((a, f) => a + f.bytes, 0) + (grids?.reduce((a, g) => a + g.bytes, 0) ?? 0),
          imageTokens: grids ? grids.reduce((a, g) => a + g.tokens, 0) : frameTokens,
          frameTokens,
        },
        plan: { frames: p.frames.length, imageTokens: p.imageTokens, inputTokens: p.inputTokens, textTokens: p.textTokens, audioTokens: p.audioTokens, costUsd: p.costUsd, tier: p.tier, budget: p.budget },
        warnings,
        timings: { planMs: p.planMs, sampleMs: Math.round(performance.now() - started), decodeMs: Math.round(decodeMs), decodePaths },
      };
      await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      unregister();
      settled = true;
      resolveManifest(manifest);
    } catch (e) {
      settled = true;
      await cleanup();
      unregister();
      const err = signal.aborted && !(e instanceof OmniprepError) ? new OmniprepError('ABORTED', `${input}: cancelled`, { input }) : e;
      rejectPlan(err);
      rejectManifest(err);
      throw err;
    } finally {
      if (!settled) {
        // The consumer stopped iterating before the end: stop the work and leave nothing half-done.
        await cleanup();
        unregister();
        const err = new OmniprepError('ABORTED', `${input}: sampling was stopped before the end`, { input });
        rejectPlan(err);
        rejectManifest(err);
      }
      outer?.removeEventListener('abort', onOuterAbort);
      if (pool) await releasePool();
    }
  }

  let iterator: AsyncGenerator<SampledFrame> | undefined;
  const take = (): AsyncGenerator<SampledFrame> => {
    if (iterator) throw new OmniprepError('INVALID_OPTION', 'a sample run can be iterated once');
    iterator = generate();
    return iterator;
  };
  return {
    plan: planPromise,
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
      return manifestPromise;
    },
  };
}
