import { describe, expect, it } from 'vitest';
import { probe } from '../../src/probe/probe.js';
import { packetIndex } from '../../src/probe/keyframes.js';
import { fixture } from '../helpers/fixtures.js';

describe('a short clip is probed and indexed by one ffprobe call', () => {
  it('the index comes from the probe: no second ffprobe (a missing ffprobe would fail it)', async () => {
    const info = await probe(await fixture('vp9'));
    const idx = await packetIndex(info, { ffprobePath: '/nonexistent/ffprobe' });
    expect(idx.times).toHaveLength(180);
    expect(idx.keyframe.filter(Boolean)).toHaveLength(6);
    expect(idx.pos.every((p) => p > 0)).toBe(true);
  });

  it('a clip without a declared duration is indexed too', async () => {
    const info = await probe(await fixture('liveWebm'));
    const idx = await packetIndex(info, { ffprobePath: '/nonexistent/ffprobe' });
    expect(idx.times).toHaveLength(90);
  });
});
