/**
 * The Matroska reader (src/probe/matroska.ts) against ffprobe: the Cues of the video track give
 * exactly the keyframes ffprobe lists (time, and the block each cue points to: byte position and
 * size), on WebM (VP9 with Opus, VP9 alone), Matroska (AV1; H.264 with B-frames stream-copied
 * from MP4) and ../shared/media/*.webm when present. What it does not model is refused.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { packetIndex } from '../../src/probe/keyframes.js';
import { cueBlock, MatroskaUnsupported, matroskaLayout, parseBlock } from '../../src/probe/matroska.js';
import { fileSource } from '../../src/probe/mp4.js';
import { probe } from '../../src/probe/probe.js';
import { fixture, SHARED_MEDIA, tempDir } from '../helpers/fixtures.js';

const files: Record<string, string> = {};

beforeAll(async () => {
  files.webmLong = await fixture('webmLong');
  files.vp9 = await fixture('vp9');
  files.av1 = await fixture('av1');
  files['h264.mkv'] = join(tempDir('mkv-'), 'h264.mkv');
  await runProcess({
    command: resolveBinary('ffmpeg').path,
    args: ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', await fixture('timecode'), '-c', 'copy', files['h264.mkv']],
    input: 'mkv test',
    timeoutMs: 120_000,
  });
  const shared = existsSync(SHARED_MEDIA) ? readdirSync(SHARED_MEDIA, { withFileTypes: true }) : [];
  for (const f of shared.filter((d) => d.isFile() && /\.(webm|mkv)$/i.test(d.name))) files[`shared/${f.name}`] = join(SHARED_MEDIA, f.name);
}, 300_000);

/** Each cue's block, as the file holds it. */
async function cueBlocks(file: string): Promise<{
  layout: Awaited<ReturnType<typeof matroskaLayout>>;
  cues: Array<{ t: number; pos: number; size: number; keyframe: boolean }>;
  info: Awaited<ReturnType<typeof probe>>;
}> {
  const info = await probe(file);
  const src = await fileSource(file);
  try {
    const layout = await matroskaLayout(src);
    const track = layout.tracks[info.video!.index]!;
    expect(track.type).toBe(1);
    const cues = [];
    for (const c of layout.cues.get(track.number) ?? []) {
      const { at } = await cueBlock(src, c, track.number, layout.timecodeScale);
      const block = parseBlock(await src.read(at, 1 << 20), at)!;
      cues.push({ t: Math.round((c.timeSec - info.startTimeSec) * 1e6) / 1e6, pos: block.pos, size: block.size, keyframe: block.keyframe });
    }
    return { layout, cues, info };
  } finally {
    await src.close();
  }
}

describe('matroskaLayout', () => {
  for (const name of ['webmLong', 'vp9', 'av1', 'h264.mkv', 'shared']) {
    it(`${name}: the video track's cues are ffprobe's keyframes, block for block`, async () => {
      const names = name === 'shared' ? Object.keys(files).filter((k) => k.startsWith('shared/')) : [name];
      for (const n of names) {
        // A shared file written live (no Cues) is refused, as the live fixture is below.
        if (n.startsWith('shared/')) {
          const refused = await cueBlocks(files[n]!).then(
            () => undefined,
            (e: unknown) => e,
          );
          if (refused) {
            expect(refused, n).toBeInstanceOf(MatroskaUnsupported);
            expect((refused as Error).message, n).toMatch(/has no Cues/);
            continue;
          }
        }
        const { layout, cues, info } = await cueBlocks(files[n]!);
        const ff = await packetIndex(info, { indexSource: 'ffprobe' });
        const keys = ff.times.flatMap((t, i) => (ff.keyframe[i] ? [{ t, pos: ff.pos[i], size: ff.size[i], keyframe: true }] : []));
        expect(cues, n).toEqual(keys);
        expect(Math.round(layout.durationSec! * 1e6) / 1e6, n).toBe(info.durationSec);
        expect(layout.segment.end, n).toBe(info.sizeBytes);
      }
    }, 120_000);
  }

  it('the layout of the long WebM: its tracks, scale, first cluster and Cues', async () => {
    const { layout, cues } = await cueBlocks(files.webmLong!);
    expect(layout.docType).toBe('webm');
    expect(layout.timecodeScale).toBe(1_000_000);
    expect(layout.tracks.map((t) => [t.streamIndex, t.number, t.type, t.codec])).toEqual([
      [0, 1, 1, 'V_VP9'],
      [1, 2, 2, 'A_OPUS'],
    ]);
    expect(layout.tracks[0]!.defaultDurationNs).toBe(33_333_333);
    expect(cues).toHaveLength(30);
    // Audio blocks come first in each cluster: its keyframe is not the cluster's first block.
    expect([...layout.cues.get(1)!].every((c) => c.relative! > 0)).toBe(true);
    expect(layout.cuesAt.offset).toBeGreaterThan(layout.firstCluster);
    expect(layout.cuesAt.offset + layout.cuesAt.size).toBeLessThanOrEqual(layout.segment.end);
    expect(layout.seeks.map((s) => s.offset)).toContain(layout.cuesAt.offset);
  });

  it('refuses what it does not model: no Cues (a live recording), not Matroska', async () => {
    for (const [file, why] of [
      [await fixture('liveWebm'), /^has no Cues \(a live recording\?\)$/],
      [await fixture('timecode'), /^does not start with an EBML header$/],
    ] as const) {
      const src = await fileSource(file);
      const e = await matroskaLayout(src).then(
        () => undefined,
        (x: unknown) => x,
      );
      await src.close();
      expect(e).toBeInstanceOf(MatroskaUnsupported);
      expect((e as Error).message).toMatch(why);
    }
  });
});
