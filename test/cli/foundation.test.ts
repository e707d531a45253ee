import { describe, expect, it } from 'vitest';
import { brokenInputs, sharedMedia } from '../helpers/fixtures.js';
import { cli, leftovers } from '../helpers/cli.js';

describe('omniprep doctor', () => {
  it('reports real binaries, where they came from, sharp and node', async () => {
    const r = await cli(['doctor', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    for (const b of ['ffmpeg', 'ffprobe']) {
      expect(doc[b].path).toMatch(new RegExp(`${b}$`));
      expect(doc[b].version).toMatch(/\S/);
      expect(['option', 'env', 'ffmpeg-static', 'npm-installer', 'path']).toContain(doc[b].source);
    }
    expect(doc.sharp).toMatch(/^\d+\.\d+/);
    expect(doc.node).toBe(process.versions.node);
    const text = await cli(['doctor']);
    expect(text.stdout).toMatch(/^ffmpeg\s+\S+ (\(\d{4}\) )? \(.+\) {2}\//m);
    expect(text.stdout).toContain(`(${doc.ffmpeg.origin})  ${doc.ffmpeg.path}\n`);
    expect(text.stdout).toContain(`\ndecodes  ${doc.decodes}\n`);
    const binary = `ffmpeg ${doc.ffmpeg.version}${doc.ffmpeg.year ? ` (${doc.ffmpeg.year} build)` : ''} from ${doc.ffmpeg.origin}: ${doc.ffmpeg.path}`;
    const d = doc.decoder;
    expect(doc.decodes).toBe(
      d.decoder === 'node-av' ? `frames: node-av FFmpeg ${d.version} from ${d.origin} (${d.why}); audio and scene scans: ${binary}` : binary,
    );
    // A fresh install (the npm-shipped 2018 ffmpeg) decodes frames with node-av's FFmpeg 8.1.
    if (doc.ffmpeg.source === 'npm-installer') {
      expect(d).toEqual({
        decoder: 'node-av',
        version: expect.stringMatching(/^8\.1/),
        origin: `node-av's platform package (@seydx/node-av-${process.platform}-${process.arch})`,
        why: `auto: the ffmpeg binary is a ${doc.ffmpeg.year} build`,
      });
      const pinned = JSON.parse((await cli(['doctor', '--json'], { env: { OMNIPREP_DECODER: 'ffmpeg' } })).stdout);
      expect(pinned.decoder).toEqual({ decoder: 'ffmpeg', version: doc.ffmpeg.version, origin: doc.ffmpeg.origin, why: 'OMNIPREP_DECODER=ffmpeg' });
      expect(pinned.decodes).toBe(binary);
    }
  });

  it('says which source won when OMNIPREP_FFPROBE is set, and fails clearly when it is wrong', async () => {
    const good = JSON.parse((await cli(['doctor', '--json'])).stdout);
    const r = await cli(['doctor', '--json'], { env: { OMNIPREP_FFPROBE: good.ffprobe.path } });
    expect(JSON.parse(r.stdout).ffprobe.source).toBe('env');
    const bad = await cli(['doctor'], { env: { OMNIPREP_FFPROBE: '/nope' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('OMNIPREP_FFPROBE names /nope');
  });
});

describe('omniprep probe', () => {
  it.skipIf(!sharedMedia('friday.mp4'))('prints MediaInfo for friday.mp4 as the README says', async () => {
    const r = await cli(['probe', sharedMedia('friday.mp4')!, '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.durationSec).toBeCloseTo(6.17, 2);
    expect(info.container).toBe('mp4');
    expect(info.sizeBytes).toBe(515198);
    expect(info.video).toMatchObject({ codec: 'h264', width: 640, height: 480, fps: 30, rotation: 0, vfr: false });
    expect(info.audio).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 2 });
  });

  it('bad usage exits 2', async () => {
    const r = await cli(['probe']);
    expect(r.code).toBe(2);
    const r2 = await cli(['frobnicate']);
    expect(r2.code).toBe(2);
  });

  const names = ['empty', 'random', 'truncated', 'text', 'textAsMp4', 'hls', 'concat', 'missing', 'directory'];
  for (const name of names) {
    it(`${name}: exit 1 within 10 s, one line naming the input, nothing left behind`, async () => {
      const files = { ...(await brokenInputs()), missing: '/no/such/video.mp4', directory: 'test' };
      const input = files[name as keyof typeof files]!;
      const r = await cli(['probe', input], { timeoutMs: 10_000 });
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(10_000);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(input);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
      expect(leftovers(r)).toEqual({ files: [], processes: [] });
    });
  }
});
