/**
 * A plan made earlier, executed from the facts it was made from: sample() and prepare() neither
 * probe nor plan again (ffprobe is made unreachable), and an input that is not the planned file
 * is refused in one line.
 */
import { copyFileSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { factsFromJson, factsToJson } from '../../src/plan/facts.js';
import { planRemote, planWithFacts, type PlanFacts } from '../../src/plan/plan.js';
import { forgetIndex } from '../../src/probe/keyframes.js';
import { prepare } from '../../src/prepare.js';
import { sample } from '../../src/sample/sample.js';
import { RemoteInput } from '../../src/source/remote.js';
import { startRangeServer } from '../helpers/range-server.js';
import { ownedTempDirs } from '../helpers/temp.js';
import { fixture, readFrameNumber } from '../helpers/fixtures.js';

const dir = ownedTempDirs();

/** No ffprobe: a probe would fail with BINARY_NOT_FOUND. */
const NO_FFPROBE = '/nonexistent/ffprobe';
const OPTIONS = { every: 5, mode: 'exact' as const };

/** A copy of the timecode clip (20 s, 30 fps, a tone), planned, its facts through JSON as the service keeps them. */
async function planned(): Promise<{ file: string; plan: Awaited<ReturnType<typeof planWithFacts>>['plan']; facts: PlanFacts }> {
  const file = join(dir('planned-'), 'clip.mp4');
  copyFileSync(await fixture('timecode'), file);
  const { plan, facts } = await planWithFacts(file, { ...OPTIONS, audio: true });
  forgetIndex(file); // the worker's process has not seen the file
  return { file, plan, facts: factsFromJson(JSON.parse(JSON.stringify(factsToJson(facts))), file) };
}

describe('executing a given plan', () => {
  it('sample() and prepare() run the plan from its facts without ffprobe', async () => {
    const p = await planned();
    expect(p.facts.index?.codecRecord?.length).toBeGreaterThan(0); // the MP4 codec record survives JSON
    const out = dir('planned-frames-');
    const manifest = await sample(p.file, { ...OPTIONS, plan: p.plan, facts: p.facts, ffprobePath: NO_FFPROBE, out }).manifest();
    expect(manifest.frames.map((f) => f.timestampSec)).toEqual([0, 5, 10, 15]);
    const numbers = await Promise.all(manifest.frames.map((f) => readFrameNumber(join(out, f.file))));
    expect(numbers).toEqual([0, 150, 300, 450]);
    const media = await prepare(p.file, { ...OPTIONS, audio: true, plan: p.plan, facts: p.facts, ffprobePath: NO_FFPROBE, dir: dir('planned-prep-') });
    expect(media.frames.frames).toHaveLength(4);
    expect(media.audioManifest?.chunks.length).toBe(p.plan.audio?.chunks.length);
    expect(media.audioManifest?.chunks.length).toBeGreaterThan(0);
  }, 120_000);

  it('an input that is not the planned file is refused as CORRUPT, naming it', async () => {
    const p = await planned();
    const run = (o: { sha256?: string } = {}) =>
      sample(p.file, { ...OPTIONS, plan: p.plan, facts: p.facts, ffprobePath: NO_FFPROBE, out: dir('planned-bad-'), ...o }).manifest();
    // Touched: the same bytes, another time. Refused, unless the caller gives the bytes' SHA-256.
    const later = new Date(Date.now() + 60_000);
    utimesSync(p.file, later, later);
    await expect(run()).rejects.toMatchObject({
      code: 'CORRUPT',
      input: p.file,
      message: `${p.file}: changed since it was planned (its modification time is not the one planned); plan it again`,
    });
    const sha256 = createHash('sha256').update(readFileSync(p.file)).digest('hex');
    expect((await run({ sha256 })).frames).toHaveLength(4);
    // Other bytes of the same size.
    const bytes = readFileSync(p.file);
    bytes[bytes.length - 10]! ^= 0xff;
    writeFileSync(p.file, bytes);
    await expect(run({ sha256 })).rejects.toMatchObject({
      code: 'CORRUPT',
      input: p.file,
      message: `${p.file}: changed since it was planned (its SHA-256 is not the one planned); plan it again`,
    });
    // Another size.
    writeFileSync(p.file, bytes.subarray(0, 1000));
    await expect(run({ sha256 })).rejects.toThrow(
      `${p.file}: changed since it was planned (1000 bytes, planned with ${p.facts.info.sizeBytes}); plan it again`,
    );
    rmSync(p.file);
    await expect(run()).rejects.toThrow(`${p.file}: is not there any more (it was planned, then removed)`);
  }, 120_000);

  it('a plan without its facts, or facts that are not facts, are refused', async () => {
    const p = await planned();
    await expect(sample(p.file, { plan: p.plan, out: dir('planned-none-') }).manifest()).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: `${p.file}: option plan: a plan is executed with the facts it was made from (options plan and facts)`,
    });
    await expect(sample('https://example.com/a.mp4', { plan: p.plan, facts: p.facts }).manifest()).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    const bad = { ...factsToJson(p.facts), index: { ...factsToJson(p.facts).index!, pos: [1] } };
    expect(() => factsFromJson(bad, 'job 7')).toThrow(
      expect.objectContaining({ code: 'CORRUPT', message: 'job 7: the facts a plan was made from cannot be read' }),
    );
    expect(() => factsFromJson(null, 'job 7')).toThrow('job 7: the facts a plan was made from cannot be read');
  }, 120_000);
});

describe("executing a URL's plan", () => {
  it('sample(url, { plan, facts }) reads the URL by ranges and probes nothing; a changed file or another URL is refused', async () => {
    const server = await startRangeServer({ 'clip.mp4': await fixture('timecode'), 'other.mp4': await fixture('timecode') });
    try {
      const url = server.url('clip.mp4');
      const remote = { allowPrivate: true };
      const reader = await RemoteInput.open(url, remote);
      const made = await planRemote(reader, OPTIONS).finally(() => reader.close());
      const facts = factsFromJson(JSON.parse(JSON.stringify(factsToJson(made.facts))), url);
      const run = (input: string, out = dir('planned-url-')) => sample(input, { ...OPTIONS, plan: made.plan, facts, remote, ffprobePath: NO_FFPROBE, out });
      const out = dir('planned-url-');
      const manifest = await run(url, out).manifest();
      expect(manifest.frames.map((f) => f.timestampSec)).toEqual([0, 5, 10, 15]);
      expect(await Promise.all(manifest.frames.map((f) => readFrameNumber(join(out, f.file))))).toEqual([0, 150, 300, 450]);
      expect(manifest.remote).toMatchObject({ url, mode: 'ranges' });
      await expect(run(server.url('other.mp4')).manifest()).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: `${server.url('other.mp4')}: option plan: the plan was not made from this URL`,
      });
      const requests = server.requests;
      server.changeEtag();
      await expect(run(url).manifest()).rejects.toMatchObject({
        code: 'CORRUPT',
        message: expect.stringMatching(/: the file changed on the server since it was first read \(its ETag is .+, was .+\)$/),
      });
      expect(server.requests).toBe(requests + 1); // the first block, then refused
    } finally {
      await server.close();
    }
  }, 120_000);
});
