import { describe, expect, it } from 'vitest';
import { probe, probeVideo } from '../../src/probe/probe.js';
import { keyframes, frameIndex } from '../../src/probe/keyframes.js';
import { OmniprepError } from '../../src/errors.js';
import { brokenInputs, fixture, sharedMedia, stillImages, VFR_FRAMES, vfrTime } from '../helpers/fixtures.js';

describe('probe: fixtures made with ffmpeg', () => {
  it('reads the timecode video: container, size, rate, streams', async () => {
    const info = await probe(await fixture('timecode'));
    expect(info.kind).toBe('video');
    expect(info.container).toBe('mp4');
    expect(info.durationSec).toBeCloseTo(20, 1);
    expect(info.video).toMatchObject({
      codec: 'h264',
      width: 640,
      height: 360,
      codedWidth: 640,
      codedHeight: 360,
      fps: 30,
      rotation: 0,
      vfr: false,
      frameCount: 600,
    });
    expect(info.audio).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 1 });
  });

  it('applies rotation to the display size', async () => {
    const info = await probeVideo(await fixture('rotated'));
    expect(info.video.rotation).toBe(270);
    expect([info.video.codedWidth, info.video.codedHeight]).toEqual([320, 180]);
    expect([info.video.width, info.video.height]).toEqual([180, 320]);
  });

  it('flags the variable-frame-rate video and not the constant ones', async () => {
    const info = await probeVideo(await fixture('vfr'));
    expect(info.video.vfr).toBe(true);
    expect(info.durationSec).toBeCloseTo(vfrTime(VFR_FRAMES - 1) + 1 / 30, 2);
    for (const name of ['longgop', 'scene', 'slides', 'tonesVideo'] as const) {
      expect((await probeVideo(await fixture(name))).video.vfr, name).toBe(false);
    }
  });

  it('picks the video stream when audio comes first', async () => {
    const info = await probe(await fixture('audioFirst'));
    expect(info.audio?.index).toBe(0);
    expect(info.video?.index).toBe(1);
    expect(info.video).toMatchObject({ width: 320, height: 240, fps: 25 });
  });

  it('treats cover art as a picture, not a video stream', async () => {
    const info = await probe(await fixture('coverArt'));
    expect(info.kind).toBe('audio');
    expect(info.video).toBeUndefined();
    expect(info.attachedPictures).toBe(1);
    expect(info.audio).toMatchObject({ codec: 'mp3', sampleRate: 44100 });
    await expect(probeVideo(await fixture('coverArt'))).rejects.toMatchObject({ code: 'NO_VIDEO_STREAM' });
  });

  it('reads audio-only files and still images', async () => {
    const a = await probe(await fixture('tones'));
    expect(a).toMatchObject({ kind: 'audio', container: 'wav', durationSec: 30 });
    expect(a.audio).toMatchObject({ codec: 'pcm_s16le', sampleRate: 16000, channels: 1 });
    const { png, jpegRotated } = await stillImages();
    expect(await probe(png)).toMatchObject({ kind: 'image', container: 'png', durationSec: 0, video: { width: 320, height: 240, rotation: 0 } });
    expect(await probe(jpegRotated)).toMatchObject({ kind: 'image', container: 'jpeg', video: { width: 240, height: 320, rotation: 90 } });
  });
});

describe('keyframe map and frame index (demux only)', () => {
  it('finds every keyframe of a 2 s GOP video', async () => {
    const info = await probe(await fixture('timecode'));
    const map = await keyframes(info);
    expect(map.times).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });

  it('finds keyframes every 10 s on the long-GOP video, and all 1800 frames in the index', async () => {
    const info = await probe(await fixture('longgop'));
    expect((await keyframes(info)).times).toEqual([0, 10, 20, 30, 40, 50]);
    const idx = await frameIndex(info);
    expect(idx.times).toHaveLength(1800);
    expect(idx.times[1]).toBeCloseTo(1 / 30, 5);
    expect(idx.keyframe.filter(Boolean)).toHaveLength(6);
  });

  it('indexes the variable-frame-rate video with its real times', async () => {
    const info = await probe(await fixture('vfr'));
    const idx = await frameIndex(info);
    expect(idx.times).toHaveLength(VFR_FRAMES);
    idx.times.forEach((t, n) => expect(t).toBeCloseTo(vfrTime(n), 4));
  });
});

describe('probe: real media in ../shared/media', () => {
  const expected: Record<string, { duration: number; video?: [number, number, string]; audio: string }> = {
    'friday.mp4': { duration: 6.166, video: [640, 480, 'h264'], audio: 'aac' },
    'flower.mp4': { duration: 5.055, video: [960, 540, 'h264'], audio: 'aac' },
    'stream-of-water.mp4': { duration: 3.158, video: [480, 360, 'h264'], audio: 'aac' },
    'echo-hereweare.webm': { duration: 44.652, video: [480, 270, 'vp8'], audio: 'vorbis' },
    'jfk.flac': { duration: 11.0, audio: 'flac' },
    't-rex-roar.mp3': { duration: 2.116, audio: 'mp3' },
  };
  for (const [name, e] of Object.entries(expected)) {
    it.skipIf(!sharedMedia(name))(name, async () => {
      const info = await probe(sharedMedia(name)!);
      expect(info.durationSec).toBeCloseTo(e.duration, 2);
      expect(info.audio?.codec).toBe(e.audio);
      if (e.video) expect([info.video?.width, info.video?.height, info.video?.codec]).toEqual(e.video);
      else expect(info.video).toBeUndefined();
    });
  }
  it.skipIf(!sharedMedia('friday.mp4'))('friday.mp4 has its audio first and its video second', async () => {
    const info = await probe(sharedMedia('friday.mp4')!);
    expect(info.audio?.index).toBe(0);
    expect(info.video?.index).toBe(1);
  });
});

describe('probe: bad input gets one clear error', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty', 'EMPTY', /is empty/],
    ['random', 'UNSUPPORTED_FORMAT', /not a media file/],
    ['truncated', 'CORRUPT', /truncated/],
    ['text', 'UNSUPPORTED_FORMAT', /text file/],
    ['textAsMp4', 'UNSUPPORTED_FORMAT', /text file/],
    ['hls', 'UNSUPPORTED_FORMAT', /HLS playlist/],
    ['concat', 'UNSUPPORTED_FORMAT', /concat script/],
  ];
  for (const [name, code, message] of cases) {
    it(name, async () => {
      const files = await brokenInputs();
      const err = (await probe(files[name]!).catch((e: unknown) => e)) as OmniprepError;
      expect(err).toBeInstanceOf(OmniprepError);
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.message.startsWith(files[name]!)).toBe(true);
      expect(err.message).not.toContain('\n');
    });
  }
  it('a missing path and a directory', async () => {
    await expect(probe('/no/such/file.mp4')).rejects.toMatchObject({ code: 'NOT_FOUND', message: '/no/such/file.mp4: no such file' });
    await expect(probe('test')).rejects.toMatchObject({ code: 'NOT_A_FILE' });
  });
  it('limits: size, duration and pixels', async () => {
    const tc = await fixture('timecode');
    await expect(probe(tc, { limits: { maxFileBytes: 1000 } })).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(probe(tc, { limits: { maxDurationSec: 10 } })).rejects.toMatchObject({ code: 'TOO_LARGE', message: /20\.0 s long/ });
    await expect(probe(tc, { limits: { maxPixels: 640 * 360 - 1 } })).rejects.toMatchObject({ code: 'TOO_LARGE', message: /640x360/ });
  });
});
