/**
 * Frames for every plan of an eval from one sampling pass per video, mode and image size: the
 * plans that share a size (and so the same pixels) are merged into one plan holding the union of
 * their frames (in exact mode a coarser plan's times are a subset of a finer one's, so the union
 * is the finest plan), `sample()` executes it once from the facts already gathered, and each
 * plan picks its own frames from the result. Frames are kept in memory by content (SHA-256):
 * models and detail levels that send the same image share one copy.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIME } from '../media/formats.js';
import type { Limits } from '../limits.js';
import type { PlanFacts } from '../plan/planner.js';
import type { Plan, PlannedFrame } from '../plan/types.js';
import type { FrameAsset } from '../request/types.js';
import { sample, type SampleOptions } from '../sample/sample.js';
import { makeTempDir } from '../util/temp.js';

/** The pixels a plan's frames have: plans with the same key share their frames. */
export const sizeKey = (p: Plan): string => `${p.mode}|${p.width}x${p.height}|${p.format}|${p.quality}`;

const timeKey = (t: number): string => t.toFixed(6);

interface Stored {
  data: Buffer;
  width: number;
  height: number;
}

/** The union of the plans' frames, in time order, indexed afresh. */
export function unionFrames(plans: readonly Plan[]): PlannedFrame[] {
  const byTime = new Map<string, PlannedFrame>();
  for (const p of plans) for (const f of p.frames) if (!byTime.has(timeKey(f.timestampSec))) byTime.set(timeKey(f.timestampSec), f);
  return [...byTime.values()].sort((a, b) => a.timestampSec - b.timestampSec).map((f, index) => ({ ...f, index }));
}

export class FrameStore {
  private readonly content = new Map<string, Stored>();
  /** sizeKey|time -> content hash. */
  private readonly at = new Map<string, string>();
  /** Sampling passes run (one per video and size key). */
  passes = 0;

  /**
   * Samples the frames of `plans` (all of one video, made from `facts` of their mode) in one pass
   * per size key; frames already held are not decoded again.
   */
  async load(video: string, plans: readonly Plan[], facts: (p: Plan) => PlanFacts, o: Omit<SampleOptions, 'plan' | 'facts' | 'out'>): Promise<void> {
    const groups = new Map<string, Plan[]>();
    for (const p of plans) {
      if (p.send === 'video' || !p.frames.length) continue;
      const key = sizeKey(p);
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    for (const [key, group] of groups) {
      const frames = unionFrames(group).filter((f) => !this.at.has(`${key}|${timeKey(f.timestampSec)}`));
      if (!frames.length) continue;
      const base = group[0]!;
      const union: Plan = {
        ...base,
        frames: frames.map((f, index) => ({ ...f, index })),
        framesBeforeCap: frames.length,
        grids: null,
        startSec: Math.min(...group.map((p) => p.startSec)),
        endSec: Math.max(...group.map((p) => p.endSec)),
      };
      await this.pass(video, key, union, facts(base), o);
    }
  }

  private async pass(video: string, key: string, union: Plan, facts: PlanFacts, o: Omit<SampleOptions, 'plan' | 'facts' | 'out'>): Promise<void> {
    const temp = makeTempDir('omniprep-eval-');
    try {
      this.passes++;
      const manifest = await sample(video, { ...o, dedup: false, grid: undefined, plan: union, facts, out: temp.path }).manifest();
      for (const f of manifest.frames) {
        const data = await readFile(join(temp.path, f.file));
        const hash = createHash('sha256').update(data).digest('hex');
        if (!this.content.has(hash)) this.content.set(hash, { data, width: f.width, height: f.height });
        this.at.set(`${key}|${timeKey(union.frames[f.index]!.timestampSec)}`, hash);
      }
    } finally {
      temp.remove();
    }
  }

  /** A plan's frames as request assets (the bytes from the store), or undefined for a frame not sampled. */
  assets(p: Plan): FrameAsset[] {
    const key = sizeKey(p);
    return p.frames.flatMap((f, index) => {
      const hash = this.at.get(`${key}|${timeKey(f.timestampSec)}`);
      const s = hash ? this.content.get(hash) : undefined;
      if (!s) return [];
      return [
        {
          index,
          timestampSec: f.timestampSec,
          data: s.data,
          mime: MIME[p.format],
          width: s.width,
          height: s.height,
          detail: p.detailApplied,
          tokens: p.tokensPerFrame,
        },
      ];
    });
  }

  /** Distinct images held. */
  get images(): number {
    return this.content.size;
  }

  clear(): void {
    this.content.clear();
    this.at.clear();
  }
}

/** Videos whose frames are held at once: the one being sampled and the (at most two) whose questions are still being asked. */
export const VIDEOS_HELD = 3;

/** What Frames needs of the eval: the plans the estimate made per video, and the facts they were made from. */
export interface FramesContext {
  o: { signal?: AbortSignal | undefined; limits?: Partial<Limits> | undefined; ffmpegPath?: string | undefined };
  plans: Map<string, Plan[][]>;
  facts: Map<string, PlanFacts>;
}

/**
 * The frames of the videos being asked about: one FrameStore per video, sampled from the plans
 * the estimate made; the first may be sampled ahead (`prefetch`) while the estimate goes on, under
 * its own abort. Counts the distinct images held at once (`peak`): at most VIDEOS_HELD videos'.
 */
export class Frames {
  private readonly live = new Set<FrameStore>();
  private ahead: { video: string; store: FrameStore; loaded: Promise<void>; stop: AbortController } | undefined;
  passes = 0;
  peak = 0;

  constructor(private readonly ctx: FramesContext) {}

  prefetch(video: string): void {
    if (this.ahead) return;
    const stop = new AbortController();
    const signal = this.ctx.o.signal ? AbortSignal.any([this.ctx.o.signal, stop.signal]) : stop.signal;
    const store = new FrameStore();
    const loaded = this.start(video, store, signal);
    loaded.catch(() => {}); // awaited by load() or cancel()
    this.ahead = { video, store, loaded, stop };
  }

  /** Stops and drops a prefetch (the eval was refused before sending). */
  async cancel(): Promise<void> {
    this.ahead?.stop.abort();
    await this.ahead?.loaded.catch(() => {});
    if (this.ahead) this.clear(this.ahead.store);
    this.ahead = undefined;
  }

  /** The video's frames, sampled (by the prefetch when it was the one). */
  async load(video: string): Promise<FrameStore> {
    const ahead = this.ahead?.video === video ? this.ahead : undefined;
    this.ahead = undefined;
    const store = ahead?.store ?? new FrameStore();
    await (ahead?.loaded ?? this.start(video, store, this.ctx.o.signal));
    this.passes += store.passes;
    this.peak = Math.max(
      this.peak,
      [...this.live].reduce((a, s) => a + s.images, 0),
    );
    return store;
  }

  private start(video: string, store: FrameStore, signal: AbortSignal | undefined): Promise<void> {
    this.live.add(store);
    const o = this.ctx.o;
    const plans = this.ctx.plans.get(video)!.flat();
    return store.load(video, plans, (p) => this.ctx.facts.get(`${video}|${p.mode}`)!, { limits: o.limits, signal, ffmpegPath: o.ffmpegPath });
  }

  clear(store: FrameStore): void {
    store.clear();
    this.live.delete(store);
  }
}
