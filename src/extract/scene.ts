/**
 * Scene scan: every frame's scene score on a 160x90 copy of the frame, by one measure: ffmpeg's
 * `select` scene score, or the HSV difference from the frame before (the content and adaptive
 * detectors' measure, see hsv.ts). It must decode every frame: its cost is a full decode of the
 * clip window, split in time ranges over the pool so both cores work. Each range after the first
 * starts one keyframe early so its first frame is compared with the frame before it. Cached per
 * file, window and measure.
 */
import { OmniprepError } from '../errors.js';
import { binaryVersion, resolveBinary, type BinaryOptions } from '../ffmpeg/binaries.js';
import { keyframes } from '../probe/keyframes.js';
import type { SceneMeasure } from '../media/formats.js';
import type { MediaInfo } from '../probe/types.js';
import { acquirePool, releasePool } from './pool.js';
import type { SceneResult } from './task.js';

export interface SceneScanOptions extends BinaryOptions {
  measure: SceneMeasure;
  start: number;
  end: number;
  maxPixels: number;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Called as time ranges finish: seconds of the window scanned, of all (not called on a cached scan). */
  onProgress?: ((doneSec: number, totalSec: number) => void) | undefined;
}

const cache = new Map<string, Promise<SceneResult>>();

export function sceneScan(info: MediaInfo, o: SceneScanOptions): Promise<SceneResult> {
  if (!info.video) throw new OmniprepError('NO_VIDEO_STREAM', `${info.input}: has no video stream`, { input: info.input });
  const key = `${info.path}\0${info.sizeBytes}\0${info.mtimeMs}\0${o.start}\0${o.end}\0${o.measure}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const p = scan(info, o);
  cache.set(key, p);
  p.catch(() => cache.delete(key));
  return p;
}

async function scan(info: MediaInfo, o: SceneScanOptions): Promise<SceneResult> {
  const video = info.video!;
  const bin = resolveBinary('ffmpeg', o);
  const ffmpeg = { path: bin.path, version: await binaryVersion(bin) };
  const kf = (await keyframes(info, o)).times;
  const pool = acquirePool();
  try {
    // Split [start, end) at keyframes into about 2 ranges per thread (at least 10 s each).
    const parts = Math.max(1, Math.min(pool.threads * 2, Math.floor((o.end - o.start) / 10)));
    const bounds = [o.start];
    for (let i = 1; i < parts; i++) {
      const target = o.start + ((o.end - o.start) * i) / parts;
      const k = kf.filter((t) => t <= target && t > bounds[bounds.length - 1]!).pop();
      if (k !== undefined) bounds.push(k);
    }
    bounds.push(o.end);
    const ranges = bounds.slice(0, -1).map((from, i) => {
      const prevKf = kf.filter((t) => t < from).pop();
      return { from, to: bounds[i + 1]!, seek: i === 0 ? from : (prevKf ?? 0) };
    });
    let scanned = 0;
    o.onProgress?.(0, o.end - o.start);
    const results = await Promise.all(
      ranges.map((r) =>
        pool
          .run(
            {
              kind: 'scene',
              measure: o.measure,
              path: info.path,
              input: info.input,
              ffmpeg,
              streamIndex: video.index,
              startTimeSec: info.startTimeSec,
              maxPixels: o.maxPixels,
              timeoutMs: o.timeoutMs,
              seekSec: r.seek,
              fromSec: r.from,
              toSec: r.to,
            },
            o.signal,
          )
          .then((res) => {
            scanned += r.to - r.from;
            o.onProgress?.(scanned, o.end - o.start);
            return res;
          }),
      ),
    );
    const merged: SceneResult = { measure: o.measure, times: [], scores: [], keyframes: [], pos: [] };
    for (const r of results) {
      merged.times.push(...r.scene!.times);
      merged.scores.push(...r.scene!.scores);
      merged.keyframes.push(...r.scene!.keyframes);
      merged.pos.push(...r.scene!.pos);
    }
    return merged;
  } finally {
    await releasePool();
  }
}
