import { describe, expect, it } from 'vitest';
import { probe } from '../../src/probe/probe.js';
import { packetIndex, uniquePositions } from '../../src/probe/keyframes.js';
import { mp4Encryption } from '../../src/probe/encryption.js';
import { fixture } from '../helpers/fixtures.js';

describe('probe and index on every container', () => {
  it.each([
    ['vp9', 'webm', 'vp9', 180],
    ['av1', 'matroska', 'av1', 60],
    ['hevc', 'mp4', 'hevc', 180],
    ['mjpeg', 'avi', 'mjpeg', 120],
    ['mpegts', 'mpegts', 'h264', 180],
    ['theora', 'ogg', 'theora', 180],
  ] as const)('%s: container %s, codec %s at 30 fps (Ogg states no average rate), %i packets in the index', async (name, container, codec, frames) => {
    const info = await probe(await fixture(name));
    expect(info).toMatchObject({ container, video: { codec, width: 320, height: 180, fps: 30, realFps: 30, vfr: false } });
    const idx = await packetIndex(info);
    expect(idx.times).toHaveLength(frames);
    expect(idx.times.map((t) => Math.round(t * 30))).toEqual(Array.from({ length: frames }, (_, i) => i));
    // Ogg pages hold several packets at one position: the index drops such positions
    expect(idx.pos.every((p) => p === -1)).toBe(name === 'theora');
  });

  it('positions name packets only when no two packets share one', () => {
    expect(uniquePositions([10, 20, -1, -1, 30])).toBe(true);
    expect(uniquePositions([10, 20, 20, 30])).toBe(false);
  });

  it('finds the protection scheme in the sample entries of an encrypted MP4 and none in a clear one', async () => {
    expect(await mp4Encryption(await fixture('cenc'))).toBe('cenc');
    expect(await mp4Encryption(await fixture('hevc'))).toBeUndefined();
  });
});
