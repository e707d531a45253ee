/** The decode tasks sample() would run for a fixture's plan (src/sample/tasks.ts buildTasks), with the packet index they come from. */
import type { FrameTask } from '../../src/extract/types.js';
import { binaryVersion, resolveBinary } from '../../src/ffmpeg/binaries.js';
import { resolveLimits } from '../../src/limits.js';
import { plan } from '../../src/plan/plan.js';
import { packetIndex } from '../../src/probe/keyframes.js';
import { probeVideo } from '../../src/probe/probe.js';
import type { PacketIndex } from '../../src/probe/types.js';
import { buildTasks } from '../../src/sample/tasks.js';
import { type FixtureName, fixture, tempDir } from './fixtures.js';

export async function fixtureTasks(
  name: FixtureName,
  every: number,
  o: { mode?: 'keyframe' | 'exact'; indexSource?: 'auto' | 'ffprobe'; outDir?: string } = {},
): Promise<{ tasks: FrameTask[]; idx: PacketIndex }> {
  const info = await probeVideo(await fixture(name));
  const p = await plan(info, { every, mode: o.mode ?? 'keyframe' });
  const bin = resolveBinary('ffmpeg');
  const limits = resolveLimits({});
  const idx = await packetIndex(info, { indexSource: o.indexSource });
  const tasks = buildTasks(p.frames, {
    info,
    video: info.video,
    idx,
    ffmpeg: { path: bin.path, version: await binaryVersion(bin) },
    threads: 2,
    maxPixels: limits.maxPixels,
    timeoutMs: limits.processTimeoutMs,
    out: { dir: o.outDir ?? tempDir('tasks-'), width: p.width, height: p.height, format: 'jpeg', quality: 80 },
    hash: false,
  });
  return { tasks, idx };
}
