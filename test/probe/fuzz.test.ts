/**
 * The container parsers under fuzzing (issue 26): the MP4 moov parser (src/probe/mp4.ts), the
 * Matroska/WebM reader (src/probe/matroska.ts) and the Annex B splitter and codec records
 * (src/extract/annexb.ts), over seeded mutations of real files ffmpeg made (an MP4 with B-frames
 * and audio, HEVC, a tiny MP4, WebM VP9 with and without audio, AV1 Matroska, their Annex B
 * streams), and hand-made lies. Every case ends in a result or in the parser's own refusal
 * (CorruptContainer, Mp4Unsupported, MatroskaUnsupported; undefined for Annex B), never a
 * RangeError or TypeError, and what it returns is no longer than the input has bytes (every array
 * the parsers make is bounded by that), nor does it read more than a small multiple of the input.
 *
 * The run is deterministic: FUZZ_SEED (default 26) seeds the generator, FUZZ_CASES (default
 * 20,000) counts the cases; `npm run fuzz` runs 200,000. A failure names its case: rerun with the
 * same seed and count to see it again.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AccessUnits, H264, HEVC, sampleUnit, type AnnexBCodec } from '../../src/extract/annexb.js';
import { CorruptContainer } from '../../src/errors.js';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { moovEncryption } from '../../src/probe/encryption.js';
import { scanClusters } from '../../src/probe/matroska-scan.js';
import { children, cueBlock, MATROSKA_ID as ID, MatroskaUnsupported, matroskaLayout, parseBlock, readHeader } from '../../src/probe/matroska.js';
import { fileSource, layoutBounds, type Mp4Bounds, mp4Index, mp4Layout, Mp4Unsupported, parseMoov, trackSamples } from '../../src/probe/mp4.js';
import { fixture, tempDir } from '../helpers/fixtures.js';
import {
  cuesAt,
  ebml,
  ebmlUint,
  findBox,
  type FoundBox,
  lyingStsz,
  type MatroskaParts,
  matroskaParts,
  memorySource,
  tinyMatroska,
  tinyMp4,
  vint8,
} from '../helpers/lies.js';

const CASES = Number(process.env.FUZZ_CASES ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? 26);

/** mulberry32: a small, fast, seeded generator (the same cases on every machine). */
function generator(seed: number): { u32(): number; below(n: number): number; pick<T>(a: readonly T[]): T } {
  let s = seed >>> 0;
  const u32 = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const below = (n: number): number => (n <= 0 ? 0 : u32() % n);
  return { u32, below, pick: (a) => a[below(a.length)]! };
}
type Rng = ReturnType<typeof generator>;

type Outcome = 'result' | 'corrupt' | 'unsupported';
/** The Annex B code refuses by returning undefined: any error it throws is a failure. */
class NeverThrown extends Error {}
interface Tally {
  cases: number;
  outcomes: Record<Outcome, number>;
  failures: string[];
}
const tally = (): Tally => ({ cases: 0, outcomes: { result: 0, corrupt: 0, unsupported: 0 }, failures: [] });

/** Runs one case: its outcome counted, and anything but a result or the parser's own refusal recorded as a failure. */
async function run(
  t: Tally,
  name: string,
  unsupported: new (...a: never[]) => Error,
  body: () => Promise<string | undefined> | string | undefined,
): Promise<void> {
  t.cases++;
  try {
    const wrong = await body();
    if (wrong) t.failures.push(`${name}: ${wrong}`);
    else t.outcomes.result++;
  } catch (e) {
    if (e instanceof CorruptContainer) t.outcomes.corrupt++;
    else if (e instanceof unsupported) t.outcomes.unsupported++;
    else t.failures.push(`${name}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

/** 32-bit values that are counts and sizes at their edges. */
function interesting(rng: Rng, length: number): number {
  return rng.pick([0, 1, 2, 7, 8, 16, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 2 ** 25, length, length + 1, rng.u32()]);
}

// ---------------------------------------------------------------- MP4

interface Mp4Input {
  name: string;
  moov: Buffer;
  bounds: Mp4Bounds;
  /** Every box of the moov: where its header is and its type. */
  boxes: Array<{ at: number; type: string }>;
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'dinf', 'udta', 'mvex']);
const TABLES = new Set(['stts', 'ctts', 'stss', 'stsc', 'stco', 'co64', 'stsz', 'elst', 'stsd', 'mdhd', 'mvhd', 'hdlr']);

function boxesOf(buf: Buffer, from: number, to: number, out: Mp4Input['boxes'] = []): Mp4Input['boxes'] {
  for (let at = from; at + 8 <= to; ) {
    const size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (size < 8 || at + size > to) break;
    out.push({ at, type });
    if (CONTAINERS.has(type)) boxesOf(buf, at + 8, at + size, out);
    at += size;
  }
  return out;
}

async function mp4Input(name: string, file: string): Promise<Mp4Input> {
  const src = await fileSource(file);
  try {
    const layout = await mp4Layout(src);
    const moov = await src.read(layout.moov.offset, layout.moov.size);
    return { name, moov, bounds: layoutBounds(src.size, layout), boxes: boxesOf(moov, 0, moov.length) };
  } finally {
    await src.close();
  }
}

/** One to four mutations aimed at sizes and counts: a box's size (32- or 64-bit), a table's count or entry, any word, any byte. */
function mutateMp4(rng: Rng, input: Mp4Input): { bytes: Buffer; what: string } {
  const b = Buffer.from(input.moov);
  const done: string[] = [];
  for (let k = 1 + rng.below(4); k > 0; k--) {
    const box = rng.pick(input.boxes);
    const op = rng.below(6);
    if (op === 0) {
      const v = interesting(rng, b.length - box.at);
      b.writeUInt32BE(v, box.at);
      done.push(`${box.type} size ${v}`);
    } else if (op === 1 && box.at + 16 <= b.length) {
      const v = rng.pick([2n ** 62n, 2n ** 32n, 2n ** 64n - 1n, BigInt(b.length - box.at + 1), 15n]);
      b.writeUInt32BE(1, box.at);
      b.writeBigUInt64BE(v, box.at + 8);
      done.push(`${box.type} 64-bit size ${v}`);
    } else if (op === 2 && TABLES.has(box.type) && box.at + 20 <= b.length) {
      const at = box.at + rng.pick([12, 16]);
      const v = interesting(rng, b.length);
      b.writeUInt32BE(v, at);
      done.push(`${box.type} +${at - box.at} = ${v}`);
    } else if (op === 3 && TABLES.has(box.type)) {
      const end = Math.min(b.length, box.at + b.readUInt32BE(box.at));
      const at = box.at + 16 + 4 * rng.below(Math.max(1, (end - box.at - 20) / 4));
      if (at + 4 <= b.length) b.writeUInt32BE(interesting(rng, b.length), at);
      done.push(`${box.type} entry at ${at}`);
    } else if (op === 4) {
      const at = rng.below(b.length - 4);
      b.writeUInt32BE(interesting(rng, b.length), at);
      done.push(`word at ${at}`);
    } else {
      const at = rng.below(b.length);
      b[at] = rng.below(256);
      done.push(`byte at ${at}`);
    }
  }
  return { bytes: b, what: done.join(', ') };
}

/** The moov parsed as probe parses it (the video index) and as the range reader does (each track's samples); lengths bounded by the file. */
function mp4Case(moov: Buffer, bounds: Mp4Bounds): string | undefined {
  if (moovEncryption(moov) !== undefined) return 'a clear file called encrypted';
  for (let stream = 0; stream < 3; stream++) {
    try {
      const t = trackSamples(moov, stream, bounds);
      if (t.pos.length > bounds.fileBytes || t.size.length !== t.pos.length)
        return `stream ${stream}: ${t.pos.length} samples in a ${bounds.fileBytes}-byte file`;
    } catch (e) {
      if (!(e instanceof Mp4Unsupported) && !(e instanceof CorruptContainer)) throw e;
    }
  }
  const idx = parseMoov(moov, { bounds });
  const n = idx.decodeOrder.pos.length;
  if (n > bounds.fileBytes || idx.times.length > n) return `${n} samples (${idx.times.length} shown) in a ${bounds.fileBytes}-byte file`;
  return undefined;
}

// ---------------------------------------------------------------- Matroska

interface MkvInput {
  name: string;
  bytes: Buffer;
  /** Where the reader looks (the head up to the first Cluster, the Cues, the first cued Cluster's start) and every element header there. */
  regions: Array<[number, number]>;
  headers: number[];
}

const MASTERS = new Set<number>([ID.SeekHead, ID.Seek, ID.Info, ID.Tracks, ID.TrackEntry, ID.Cues, ID.CuePoint, ID.CueTrackPositions, ID.EBML]);

function headersIn(b: Buffer, from: number, to: number, out: number[]): void {
  for (const e of children(b.subarray(from, to), from)) {
    out.push(e.offset);
    if (MASTERS.has(e.id)) headersIn(b, e.data, e.data + e.size, out);
  }
}

async function mkvInput(name: string, bytes: Buffer): Promise<MkvInput> {
  const layout = await matroskaLayout(memorySource(bytes));
  const cluster = [...layout.cues.values()][0]![0]!.cluster;
  const cuesEnd = layout.cuesAt.offset + layout.cuesAt.size;
  const headers: number[] = [];
  const ebmlHeader = readHeader(bytes, 0)!;
  headersIn(bytes, 0, ebmlHeader.data + ebmlHeader.size, headers);
  headers.push(ebmlHeader.data + ebmlHeader.size);
  headersIn(bytes, layout.segment.start, layout.firstCluster, headers);
  headersIn(bytes, layout.cuesAt.offset, cuesEnd, headers);
  headersIn(bytes, cluster, Math.min(bytes.length, cluster + 64), headers);
  const regions: Array<[number, number]> = [
    [0, layout.firstCluster + 16],
    [layout.cuesAt.offset, cuesEnd],
    [cluster, Math.min(bytes.length, cluster + 64)],
  ];
  return { name, bytes, regions, headers };
}

/** Variable-size integers at their edges: unknown size, no marker (invalid), the largest size, small ones. */
const VINTS = [
  [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x00],
  [0xff],
  [0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
  [0x80],
  [0x81],
  [0x08, 0xff, 0xff, 0xff],
];

/** Mutations on a copy of the bytes the reader looks at: a size (at an element header), an ID byte, any byte, a cut. */
function mutateMkv(rng: Rng, input: MkvInput): { bytes: Buffer; what: string } {
  const done: string[] = [];
  const b = Buffer.from(input.bytes);
  for (let k = 1 + rng.below(4); k > 0; k--) {
    const op = rng.below(5);
    if (op <= 1) {
      const at = rng.pick(input.headers);
      const sizeAt = at + (b[at]! >= 0x80 ? 1 : b[at]! >= 0x40 ? 2 : b[at]! >= 0x20 ? 3 : 4);
      const v = rng.pick(VINTS);
      Buffer.from(v).copy(b, Math.min(sizeAt, b.length - v.length));
      done.push(`size at ${sizeAt} = ${Buffer.from(v).toString('hex')}`);
    } else if (op === 2) {
      const at = rng.pick(input.headers);
      b[at] = rng.below(256);
      done.push(`id at ${at}`);
    } else if (op === 3) {
      const [from, to] = rng.pick(input.regions);
      const at = from + rng.below(to - from);
      b[at] = rng.below(256);
      done.push(`byte at ${at}`);
    } else {
      const cut = rng.below(b.length);
      done.push(`cut at ${cut}`);
      return { bytes: b.subarray(0, cut), what: done.join(', ') };
    }
  }
  return { bytes: b, what: done.join(', ') };
}

/** The layout and the first cued block of each track, as the range reader finds them; reads and results bounded by the file. */
async function mkvCase(bytes: Buffer): Promise<string | undefined> {
  const src = memorySource(bytes);
  const layout = await matroskaLayout(src);
  let cues = 0;
  for (const list of layout.cues.values()) cues += list.length;
  if (cues + layout.tracks.length > bytes.length) return `${cues} cues and ${layout.tracks.length} tracks in ${bytes.length} bytes`;
  for (const [track, list] of [...layout.cues].slice(0, 2)) {
    const { at } = await cueBlock(src, list[0]!, track, layout.timecodeScale);
    parseBlock(await src.read(at, 4096), at);
  }
  // The probe's walk over every cluster's blocks (src/probe/matroska-scan.ts): a block is at least 4 bytes.
  let blocks = 0;
  await scanClusters(src, { from: layout.firstCluster, end: layout.segment.end }, () => {
    blocks++;
    return undefined;
  });
  if (blocks * 4 > bytes.length) return `${blocks} blocks in ${bytes.length} bytes`;
  if (src.reads > 2_000 || src.asked > 4 * bytes.length + (1 << 20)) return `${src.reads} reads asking ${src.asked} bytes of a ${bytes.length}-byte file`;
  return undefined;
}

// ---------------------------------------------------------------- Annex B

interface AnnexBInput {
  codec: AnnexBCodec;
  /** The codec record (avcC/hvcC), some samples (length-prefixed NAL units) and an Annex B stream with delimiters. */
  record: Buffer;
  samples: Buffer[];
  stream: Buffer;
}

function flip(rng: Rng, bytes: Buffer): Buffer {
  const b = Buffer.from(bytes);
  for (let k = 1 + rng.below(4); k > 0 && b.length >= 4; k--) {
    if (rng.below(2)) b.writeUInt32BE(interesting(rng, b.length), rng.below(b.length - 3));
    else b[rng.below(b.length)] = rng.below(256);
  }
  return rng.below(8) ? b : b.subarray(0, rng.below(b.length));
}

/** A record, a sample and a stream, each mutated: no throw, no output longer than a small multiple of the input. */
function annexBCase(rng: Rng, input: AnnexBInput): string | undefined {
  const record = input.codec.record(flip(rng, input.record));
  if (record && record.parameterSets.length > 2 * input.record.length)
    return `parameter sets of ${record.parameterSets.length} bytes from a ${input.record.length}-byte record`;
  const sample = flip(rng, rng.pick(input.samples));
  const unit = sampleUnit(sample, record ?? input.codec.record(input.record)!, input.codec, rng.below(2) === 0);
  if (unit && unit.bytes.length > 3 * sample.length + input.record.length + 16)
    return `a unit of ${unit.bytes.length} bytes from a ${sample.length}-byte sample`;
  const stream = flip(rng, input.stream);
  const split = new AccessUnits(input.codec);
  let out = 0;
  for (let at = 0; at < stream.length; ) {
    const n = 1 + rng.below(8192);
    for (const u of split.push(stream.subarray(at, at + n))) out += u.bytes.length;
    at += n;
  }
  for (const u of split.flush()) out += u.bytes.length;
  if (out > stream.length) return `units of ${out} bytes from a ${stream.length}-byte stream`;
  return undefined;
}

// ---------------------------------------------------------------- the run

const mp4s: Mp4Input[] = [];
/** The whole tiny MP4, for the top-level walk (its boxes are the top level's and moov's). */
let tinyWhole: Mp4Input;
const mkvs: MkvInput[] = [];
const annexBs: AnnexBInput[] = [];

async function annexBStream(file: string, codec: AnnexBCodec, out: string): Promise<Buffer> {
  await runProcess({
    command: resolveBinary('ffmpeg').path,
    args: ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', file, '-an', '-t', '1', '-c:v', 'copy', '-bsf:v', codec.bsf, '-f', codec.format, out],
    input: 'fuzz',
    timeoutMs: 120_000,
  });
  return readFileSync(out);
}

async function annexBInput(file: string, codec: AnnexBCodec, dir: string): Promise<AnnexBInput> {
  const src = await fileSource(file);
  try {
    const idx = await mp4Index(src);
    const record = (idx.track.avcC ?? idx.track.hvcC)!;
    const d = idx.decodeOrder;
    const samples = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => src.read(d.pos[i]!, d.size[i]!)));
    return { codec, record, samples, stream: await annexBStream(file, codec, join(dir, `stream.${codec.format}`)) };
  } finally {
    await src.close();
  }
}

let dir: string;
beforeAll(async () => {
  dir = tempDir('fuzz-');
  const tiny = await tinyMp4(dir);
  const whole = readFileSync(tiny);
  tinyWhole = { name: 'tiny file', moov: whole, bounds: { fileBytes: whole.length }, boxes: boxesOf(whole, 0, whole.length) };
  for (const [name, file] of [
    ['timecode', await fixture('timecode')],
    ['hevc', await fixture('hevc')],
    ['tiny', tiny],
  ] as const)
    mp4s.push(await mp4Input(name, file));
  for (const name of ['vp9', 'webmLong', 'av1'] as const) mkvs.push(await mkvInput(name, readFileSync(await fixture(name))));
  mkvs.push(await mkvInput('tinyMatroska', tinyMatroska()));
  annexBs.push(await annexBInput(tiny, H264, dir), await annexBInput(await fixture('hevc'), HEVC, dir));
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`fuzzing the container parsers (${CASES} cases, seed ${SEED})`, () => {
  it(
    'every mutated MP4, Matroska/WebM and Annex B input ends in a result or a refusal, bounded by its bytes',
    async () => {
      const rng = generator(SEED);
      const t = { mp4: tally(), mkv: tally(), annexb: tally() };
      for (let c = 0; c < CASES; c++) {
        const kind = c % 20;
        if (kind < 9) {
          const input = mp4s[c % mp4s.length]!;
          const m = mutateMp4(rng, input);
          await run(t.mp4, `case ${c} ${input.name} moov: ${m.what}`, Mp4Unsupported, () => mp4Case(m.bytes, input.bounds));
        } else if (kind < 11) {
          // The whole tiny file: the top-level walk, then the moov where it says.
          const m = mutateMp4(rng, tinyWhole);
          const src = memorySource(m.bytes);
          await run(t.mp4, `case ${c} tiny file: ${m.what}`, Mp4Unsupported, async () => {
            const idx = await mp4Index(src);
            return idx.decodeOrder.pos.length > m.bytes.length || src.asked > 64 * m.bytes.length
              ? `${idx.decodeOrder.pos.length} samples, ${src.asked} bytes read`
              : undefined;
          });
        } else if (kind < 17) {
          const input = mkvs[c % mkvs.length]!;
          const m = mutateMkv(rng, input);
          await run(t.mkv, `case ${c} ${input.name}: ${m.what}`, MatroskaUnsupported, () => mkvCase(m.bytes));
        } else {
          const input = annexBs[c % annexBs.length]!;
          await run(t.annexb, `case ${c} ${input.codec.format}`, NeverThrown, () => annexBCase(rng, input));
        }
      }
      const failures = [...t.mp4.failures, ...t.mkv.failures, ...t.annexb.failures];
      expect(failures.slice(0, 10), `${failures.length} failures`).toEqual([]);
      expect(t.mp4.cases + t.mkv.cases + t.annexb.cases).toBe(CASES);
      // The mutations reach every outcome: results, lies refused, structures not modelled.
      for (const [name, k] of Object.entries(t).filter(([n]) => n !== 'annexb')) {
        for (const outcome of ['result', 'corrupt', 'unsupported'] as const)
          expect([name, outcome, k.outcomes[outcome] > CASES / 1000]).toEqual([name, outcome, true]);
      }
      expect(t.annexb.outcomes.result).toBe(t.annexb.cases);
    },
    Math.max(300_000, CASES * 15),
  );
});

/** What a call threw (or undefined): the lies below assert the exact refusal. */
async function thrown(f: () => unknown): Promise<unknown> {
  try {
    await f();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** A lie refused as CorruptContainer about `where`, its cause matching `cause`. */
async function expectLie(name: string, f: () => unknown, where: string, cause: RegExp): Promise<void> {
  const e = await thrown(f);
  expect([name, e instanceof CorruptContainer ? 'CorruptContainer' : e]).toEqual([name, 'CorruptContainer']);
  expect([name, (e as CorruptContainer).where]).toEqual([name, where]);
  expect((e as Error).message, name).toMatch(cause);
}

describe('hand-made lies: counts of 2^31 and 2^32-1, 64-bit sizes, children past their end, nesting bombs', () => {
  const STBL = ['moov', 'trak', 'mdia', 'minf', 'stbl'];
  /** The tiny MP4's moov with one edit. */
  const moovLie = (edit: (b: Buffer, box: (...path: string[]) => FoundBox) => void): Buffer => {
    const b = Buffer.from(mp4s[2]!.moov);
    edit(b, (...path) => findBox(b, path)!);
    return b;
  };

  it('MP4: each count or size that cannot fit is refused as CorruptContainer naming its box, before anything is allocated', async () => {
    const { bounds } = mp4s[2]!;
    const mdat = bounds.mdatBytes!.toLocaleString('en-US');
    for (const n of [2 ** 31, 2 ** 25, 2 ** 32 - 1]) {
      const moov = lyingStsz(mp4s[2]!.moov, n);
      await expectLie(
        `fixed stsz ${n}`,
        () => parseMoov(moov, { bounds }),
        'stsz box',
        new RegExp(`^the stsz box declares ${n} samples of 1 bytes, more than the ${mdat} bytes of its mdat boxes hold$`),
      );
      await expectLie(`fixed stsz ${n}, trackSamples`, () => trackSamples(moov, 0, bounds), 'stsz box', /more than the [\d,]+ bytes of its mdat boxes hold$/);
    }
    const count = (type: string, v: number, at = 4) => moovLie((b, box) => b.writeUInt32BE(v, box(...STBL, type).start + at));
    const lies: Array<[string, Buffer, string, RegExp]> = [
      ['stsz entries 2^31', count('stsz', 2 ** 31, 8), 'stsz box', /^the stsz box declares 2147483648 entries of 4 bytes, more than its \d+ bytes hold$/],
      ['stsz entries 2^32-1', count('stsz', 2 ** 32 - 1, 8), 'stsz box', /declares 4294967295 entries of 4 bytes/],
      ['stts entries 2^32-1', count('stts', 2 ** 32 - 1), 'stts box', /declares 4294967295 entries of 8 bytes/],
      ['stts samples 2^31', count('stts', 2 ** 31, 8), 'stts box', /^the stts box declares 2147483648 sample durations, more than the 30 samples of its stsz$/],
      ['ctts entries 2^31', count('ctts', 2 ** 31), 'ctts box', /declares 2147483648 entries of 8 bytes/],
      ['ctts samples 2^32-1', count('ctts', 2 ** 32 - 1, 8), 'ctts box', /declares 4294967295 composition offsets, more than the 30 samples of its stsz$/],
      ['stss entries 2^32-1', count('stss', 2 ** 32 - 1), 'stss box', /declares 4294967295 entries of 4 bytes/],
      ['stsc entries 2^31', count('stsc', 2 ** 31), 'stsc box', /declares 2147483648 entries of 12 bytes/],
      ['stsc samples 2^32-1', count('stsc', 2 ** 32 - 1, 12), 'stsc box', /samples in its chunks, more than the 30 samples of its stsz$/],
      ['stco entries 2^31', count('stco', 2 ** 31), 'stco box', /declares 2147483648 entries of 4 bytes/],
      [
        'stco offset 2^32-1',
        count('stco', 2 ** 32 - 1, 8),
        'stco box',
        /^the stco box places chunk 1 at byte 4294967295, its samples ending at byte \d+, past the end of the file \([\d,]+ bytes\)$/,
      ],
      [
        'elst entries 2^31',
        moovLie((b, box) => b.writeUInt32BE(2 ** 31, box('moov', 'trak', 'edts', 'elst').start + 4)),
        'elst box',
        /declares 2147483648 entries of 12 bytes/,
      ],
      [
        'trak past moov',
        moovLie((b, box) => b.writeUInt32BE(2 ** 32 - 1, box('moov', 'trak').at)),
        'trak box',
        /declares 4294967295 bytes, past the end of its parent/,
      ],
      [
        'stbl 64-bit size 2^62',
        moovLie((b, box) => {
          const at = box(...STBL).at;
          b.writeUInt32BE(1, at);
          b.writeBigUInt64BE(2n ** 62n, at + 8);
        }),
        'stbl box',
        /declares 4611686018427388000 bytes, past the end of its parent/,
      ],
      ['mdia of 4 bytes', moovLie((b, box) => b.writeUInt32BE(4, box('moov', 'trak', 'mdia').at)), 'mdia box', /declares 4 bytes, less than its 8-byte header/],
      [
        'mdhd of 8 bytes (a free box after it)',
        moovLie((b, box) => {
          const { at, end } = box('moov', 'trak', 'mdia', 'mdhd');
          b.writeUInt32BE(8, at);
          b.writeUInt32BE(end - at - 8, at + 8);
          b.write('free', at + 12, 'latin1');
        }),
        'mdhd box',
        /^the mdhd box is 0 bytes long, too short for its 4 bytes of fields$/,
      ],
    ];
    for (const [name, moov, where, cause] of lies) await expectLie(name, () => parseMoov(moov, { bounds }), where, cause);
  });

  it('MP4: a nesting bomb (100,000 trak boxes inside each other) is walked without recursion: no video track, no stack overflow', async () => {
    const mvhd = findBox(mp4s[2]!.moov, ['moov', 'mvhd'])!;
    const inner = Buffer.alloc(8 * 100_000);
    for (let at = 0; at < inner.length; at += 8) {
      inner.writeUInt32BE(inner.length - at, at);
      inner.write('trak', at + 4, 'latin1');
    }
    const body = Buffer.concat([mp4s[2]!.moov.subarray(mvhd.at, mvhd.end), inner]);
    const moov = Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from('moov'), body]);
    moov.writeUInt32BE(moov.length);
    expect(await thrown(() => parseMoov(moov, { bounds: { fileBytes: moov.length } }))).toEqual(new Mp4Unsupported('no video track'));
    expect(moovEncryption(moov)).toBeUndefined();
  });

  it('MP4 files: a box smaller than its header at the top level; a 64-bit mdat declaring 2^62 bytes does not lift the bound of the file', async () => {
    const tiny = tinyWhole.moov;
    const free = findBox(tiny, ['free'])!;
    const small = Buffer.from(tiny);
    small.writeUInt32BE(3, free.at);
    await expectLie(
      'free of 3 bytes',
      () => mp4Layout(memorySource(small)),
      'free box',
      new RegExp(`^the free box at byte ${free.at} declares 3 bytes, less than its 8-byte header$`),
    );
    const huge = Buffer.alloc(16);
    huge.writeUInt32BE(1);
    huge.write('mdat', 4, 'latin1');
    huge.writeBigUInt64BE(2n ** 62n, 8);
    const file = Buffer.concat([lyingStsz(tiny, 2 ** 31), huge]);
    await expectLie(
      'stsz 2^31 with a 2^62-byte mdat',
      () => mp4Index(memorySource(file)),
      'stsz box',
      new RegExp(`^the stsz box declares 2147483648 samples, more than the ${file.length.toLocaleString('en-US')} bytes of the file hold$`),
    );
  });

  it('Matroska: sizes past their parent, unknown sizes inside Cues, long integers, cues past the Segment: CorruptContainer naming the element', async () => {
    const build = (edit: (p: MatroskaParts) => void): Buffer => {
      const p = matroskaParts();
      edit(p);
      return tinyMatroska(p);
    };
    const cue = (children: Buffer[], size?: Buffer) => ebml(ID.Cues, [ebml(ID.CuePoint, children, size)]);
    const lies: Array<[string, Buffer, string, RegExp]> = [
      [
        'CuePoint past Cues',
        build((p) => (p.cues = () => cue([], vint8(2 ** 40)))),
        'Cues element',
        /^the Cues element has a child of 1099511627776 bytes at byte \d+, past its end/,
      ],
      ['CuePoint of unknown size', build((p) => (p.cues = () => cue([], vint8(2n ** 56n - 1n)))), 'Cues element', /has a child of unknown size/],
      [
        'CueClusterPosition of 9 bytes',
        build(
          (p) => (p.cues = () => cue([ebmlUint(ID.CueTime, 0), ebml(ID.CueTrackPositions, [ebmlUint(ID.CueTrack, 1), ebmlUint(ID.CueClusterPosition, 0, 9)])])),
        ),
        'CueClusterPosition element',
        /^the CueClusterPosition element is 9 bytes long \(an integer has at most 8\)$/,
      ],
      [
        'cue past the Segment',
        build((p) => (p.cues = () => cuesAt(2 ** 40))),
        'Cues element',
        /^the Cues element has a cue point at byte 1099511627\d+, past the end of its Segment \(byte \d+\)$/,
      ],
      [
        'TrackEntry of 2^56-2 bytes',
        build((p) => (p.tracks = ebml(ID.Tracks, [ebml(ID.TrackEntry, [], vint8(2n ** 56n - 2n))]))),
        'Tracks element',
        /has a child of 7205759403792794\d bytes/,
      ],
      [
        'an invalid size in Info',
        build((p) => (p.info = ebml(ID.Info, Buffer.from([0x2a, 0xd7, 0xb1, 0x00, 1, 2])))),
        'Info element',
        /has an unreadable element header at byte \d+/,
      ],
      [
        'Info past the Segment',
        build((p) => (p.info = ebml(ID.Info, p.info.subarray(12), vint8(2 ** 20)))),
        'Segment',
        /^the Segment has an element of 1048576 bytes at byte \d+, past its end \(byte \d+\)$/,
      ],
    ];
    for (const [name, bytes, where, cause] of lies) await expectLie(name, () => matroskaLayout(memorySource(bytes)), where, cause);
    // A Segment declaring 2^56-2 bytes (a file cut short, not a lie): read to the file's end.
    const long = build((p) => (p.segmentSize = vint8(2n ** 56n - 2n)));
    expect((await matroskaLayout(memorySource(long))).segment.end).toBe(long.length);
  });

  it('Matroska: 200,001 Void elements before the first Cluster stop at 200,000 reads (2,000 are walked); a nesting bomb is not followed; a cue past its cluster', async () => {
    const withVoids = (n: number): Buffer => {
      const p = matroskaParts();
      p.extra = Array.from({ length: n }, () => Buffer.from([ID.Void, 0x80]));
      return tinyMatroska(p);
    };
    await matroskaLayout(memorySource(withVoids(2000)));
    const src = memorySource(withVoids(200_001));
    expect(await thrown(() => matroskaLayout(src))).toEqual(new MatroskaUnsupported('has more than 200000 top-level elements before its first Cluster'));
    expect(src.reads).toBeLessThanOrEqual(200_000 + 3);
    // TrackEntry inside TrackEntry, 20,000 deep: only the outer one's children are read.
    const bomb = Buffer.alloc(9 * 20_000);
    for (let at = 0; at < bomb.length; at += 9) {
      bomb[at] = ID.TrackEntry;
      vint8(bomb.length - at - 9).copy(bomb, at + 1);
    }
    const p = matroskaParts();
    p.tracks = ebml(ID.Tracks, bomb);
    expect(await thrown(() => matroskaLayout(memorySource(tinyMatroska(p))))).toEqual(
      new MatroskaUnsupported('has a track of type 0 (only video and audio tracks are modelled)'),
    );
    // A cue whose block is past its cluster's end; a cluster Timecode of 9 bytes (found by walking the cluster).
    const past = matroskaParts();
    past.cues = (at) => cuesAt(at, 2 ** 30);
    const longTime = matroskaParts();
    longTime.cluster[0] = ebmlUint(ID.Timecode, 0, 9);
    longTime.cues = (at) => cuesAt(at);
    for (const [name, parts, where, cause] of [
      ['relative past the cluster', past, 'Cues element', /^the Cues element has a cue at byte 1073741824 of a \d+-byte cluster/],
      ['Timecode of 9 bytes', longTime, 'Timecode element', /^the Timecode element is 9 bytes long/],
    ] as const) {
      const bytes = tinyMatroska(parts);
      const layout = await matroskaLayout(memorySource(bytes));
      await expectLie(name, () => cueBlock(memorySource(bytes), layout.cues.get(1)![0]!, 1, layout.timecodeScale), where, cause);
    }
  });

  it('Annex B: length fields past the data allocate nothing and give undefined; a stream without delimiters is one unit', () => {
    const record = H264.record(annexBs[0]!.record)!;
    expect(sampleUnit(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x65, 1, 2, 3]), record, H264)).toBeUndefined();
    expect(sampleUnit(Buffer.from([0, 0, 0, 4, 0x65, 1, 2, 3, 0x7f, 0xff, 0xff]), record, H264)).toBeUndefined();
    // avcC: 31 SPS of 65,535 bytes each in 40 bytes; hvcC: 255 arrays of 65,535 units in 60.
    const avcC = Buffer.alloc(40, 0xff);
    avcC[0] = 1;
    expect(H264.record(avcC)).toBeUndefined();
    const hvcC = Buffer.alloc(60, 0xff);
    hvcC[0] = 1;
    expect(HEVC.record(hvcC)).toBeUndefined();
    // 4 MB with no start code, pushed 4 KB at a time: one unit at the end, the bytes as they came,
    // and the buffers made for it about twice its size (one concatenated per chunk made 2 GB).
    const noise = Buffer.alloc(4 << 20, 0x5a);
    const split = new AccessUnits(H264);
    const alloc = vi.spyOn(Buffer, 'alloc');
    const concat = vi.spyOn(Buffer, 'concat');
    let early = 0;
    for (let at = 0; at < noise.length; at += 4096) early += split.push(noise.subarray(at, at + 4096)).length;
    const made = alloc.mock.calls.reduce((n, [size]) => n + size, 0) + concat.mock.results.reduce((n, r) => n + (r.value as Buffer).length, 0);
    alloc.mockRestore();
    concat.mockRestore();
    expect(made).toBeLessThanOrEqual(2 * noise.length);
    const [last, ...more] = split.flush();
    expect([early, more.length, last!.bytes.equals(noise)]).toEqual([0, 0, true]);
    // 100,000 delimiters alone: 100,000 units.
    const auds = Buffer.concat(Array.from({ length: 100_000 }, () => H264.audNal));
    const units = new AccessUnits(H264);
    let count = 0;
    for (let at = 0; at < auds.length; at += 4096) count += units.push(auds.subarray(at, at + 4096)).length;
    expect(count + units.flush().length).toBe(100_000);
  });
});
