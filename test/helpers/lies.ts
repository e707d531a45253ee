/**
 * Hand-made lies for the container parsers' tests (issue 26): an MP4 whose tables declare more
 * samples than its bytes can hold, 64-bit box sizes, children past their parent, nesting bombs,
 * and EBML elements that do the same. Each is built from real bytes (a fixture ffmpeg made) with
 * one field rewritten, so everything else about the file stays valid.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { runProcess } from '../../src/ffmpeg/runner.js';
import { MATROSKA_ID as ID } from '../../src/probe/matroska.js';

/** A box of an MP4 buffer: where its header starts, where its payload starts and ends. */
export interface FoundBox {
  at: number;
  start: number;
  end: number;
}

/** The first box along `path` (`['moov', 'trak', 'mdia']`), walking 32-bit box sizes. */
export function findBox(buf: Buffer, path: readonly string[], from = 0, to = buf.length): FoundBox | undefined {
  let start = from;
  let end = to;
  let found: FoundBox | undefined;
  for (const type of path) {
    found = undefined;
    for (let at = start; at + 8 <= end; ) {
      const size = buf.readUInt32BE(at);
      if (size < 8) return undefined;
      if (buf.toString('latin1', at + 4, at + 8) === type) {
        found = { at, start: at + 8, end: at + size };
        break;
      }
      at += size;
    }
    if (!found) return undefined;
    start = found.start;
    end = found.end;
  }
  return found;
}

const STBL = ['moov', 'trak', 'mdia', 'minf', 'stbl'];

function table(buf: Buffer, type: string): FoundBox {
  const b = findBox(buf, [...STBL, type]);
  if (!b) throw new Error(`the test MP4 has no ${type}`);
  return b;
}

/**
 * The reproducer: a video MP4 (one track) whose stsz gives every sample `sampleSize` bytes
 * and declares `samples` of them, with stts, stsc and stco rewritten to agree (one entry each, one
 * chunk), ctts emptied. Box sizes do not change: the file keeps its length.
 */
export function lyingStsz(mp4: Buffer, samples: number, sampleSize = 1): Buffer {
  const b = Buffer.from(mp4);
  const stsz = table(b, 'stsz');
  b.writeUInt32BE(sampleSize, stsz.start + 4);
  b.writeUInt32BE(samples, stsz.start + 8);
  const stts = table(b, 'stts');
  b.writeUInt32BE(1, stts.start + 4);
  b.writeUInt32BE(samples, stts.start + 8);
  const ctts = findBox(b, [...STBL, 'ctts']);
  if (ctts) b.writeUInt32BE(0, ctts.start + 4);
  const stsc = table(b, 'stsc');
  b.writeUInt32BE(1, stsc.start + 4);
  b.writeUInt32BE(1, stsc.start + 8);
  b.writeUInt32BE(samples, stsc.start + 12);
  b.writeUInt32BE(1, stsc.start + 16);
  b.writeUInt32BE(1, table(b, 'stco').start + 4);
  return b;
}

/** A small H.264 MP4 (64x64, 30 frames, B-frames, no audio: about 4 KB) made with ffmpeg at `dir`. */
export async function tinyMp4(dir: string): Promise<string> {
  const out = join(dir, 'tiny.mp4');
  const args = '-nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc=s=64x64:r=10:d=3 -c:v libx264 -preset veryfast -bf 2 -pix_fmt yuv420p';
  await runProcess({ command: resolveBinary('ffmpeg').path, args: [...args.split(' '), out], input: 'tiny mp4', timeoutMs: 120_000 });
  return out;
}

/** Writes the three reproducers next to `tiny`: 2^31, 33.5M (2^25) and 2^32-1 samples of 1 byte. */
export function writeReproducers(tiny: Buffer, dir: string): Record<'2^31' | '33.5M' | '2^32-1', string> {
  const counts = { '2^31': 2 ** 31, '33.5M': 2 ** 25, '2^32-1': 2 ** 32 - 1 } as const;
  const out = {} as Record<keyof typeof counts, string>;
  for (const [name, n] of Object.entries(counts) as Array<[keyof typeof counts, number]>) {
    out[name] = join(dir, `stsz-${name.replace('^', '')}.mp4`);
    writeFileSync(out[name], lyingStsz(tiny, n));
  }
  return out;
}

/** An 8-byte EBML variable-size integer (the length marker in the first byte, the value below it). */
export function vint8(value: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE((1n << 56n) | BigInt(value));
  return b;
}

/** An EBML element: its ID (marker included, as the specification writes it), an 8-byte size (or `size` as given) and its body. */
export function ebml(id: number, body: Buffer | readonly Buffer[], size?: Buffer): Buffer {
  const data = Buffer.isBuffer(body) ? body : Buffer.concat(body);
  const idLength = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const idBytes = Buffer.alloc(idLength);
  idBytes.writeUIntBE(id, 0, idLength);
  return Buffer.concat([idBytes, size ?? vint8(data.length), data]);
}

/** An unsigned integer element of `bytes` bytes (8 unless said: an integer longer than 8 is a lie). */
export function ebmlUint(id: number, value: number, bytes = 8): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntBE(value, bytes - 6, 6);
  return ebml(id, b);
}

/** What tinyMatroska builds its file from; each part can be replaced by a lie. */
export interface MatroskaParts {
  info: Buffer;
  tracks: Buffer;
  /** Top-level elements between Tracks and Cues. */
  extra: Buffer[];
  /** The Cues, given the cluster's position (relative to the Segment's data) and its data size. */
  cues: (cluster: number, clusterData: number) => Buffer;
  /** The cluster's children (its Timecode and one keyframe block of track 1). */
  cluster: Buffer[];
  /** The Segment's size field (default: its real size, 8 bytes). */
  segmentSize?: Buffer;
}

/** Cues of one cue point (time 0, track 1) at `cluster` (relative to the Segment's data), its block at `relative` in the cluster's data when given. */
export function cuesAt(cluster: number, relative?: number): Buffer {
  const position = [ebmlUint(ID.CueTrack, 1), ebmlUint(ID.CueClusterPosition, cluster)];
  if (relative !== undefined) position.push(ebmlUint(ID.CueRelativePosition, relative));
  return ebml(ID.Cues, [ebml(ID.CuePoint, [ebmlUint(ID.CueTime, 0), ebml(ID.CueTrackPositions, position)])]);
}

/** The parts of a valid one-frame WebM: Info, one VP9 track, Cues before the one Cluster. */
export function matroskaParts(): MatroskaParts {
  const timecode = ebmlUint(ID.Timecode, 0);
  return {
    info: ebml(ID.Info, [ebmlUint(ID.TimecodeScale, 1_000_000)]),
    tracks: ebml(ID.Tracks, [ebml(ID.TrackEntry, [ebmlUint(ID.TrackNumber, 1), ebmlUint(ID.TrackType, 1), ebml(ID.CodecID, Buffer.from('V_VP9'))])]),
    extra: [],
    cues: (cluster) => cuesAt(cluster, timecode.length),
    cluster: [timecode, ebml(ID.SimpleBlock, Buffer.from([0x81, 0x00, 0x00, 0x80, 1, 2, 3, 4, 5, 6, 7, 8]))],
  };
}

/** A WebM from its parts (matroskaParts, with what a test replaces). */
export function tinyMatroska(p: MatroskaParts = matroskaParts()): Buffer {
  const header = ebml(ID.EBML, [ebml(ID.DocType, Buffer.from('webm'))]);
  const cluster = ebml(ID.Cluster, p.cluster);
  const before = Buffer.concat([p.info, p.tracks, ...p.extra]);
  const clusterData = cluster.length - 12;
  // The Cues' length does not depend on the position they hold (8-byte integers).
  const at = before.length + p.cues(0, clusterData).length;
  const body = Buffer.concat([before, p.cues(at, clusterData), cluster]);
  return Buffer.concat([header, ebml(ID.Segment, body, p.segmentSize)]);
}

/** A ByteSource over bytes in memory that counts its reads and the bytes they ask for. */
export function memorySource(bytes: Buffer): { size: number; reads: number; asked: number; read(offset: number, length: number): Promise<Buffer> } {
  const src = {
    size: bytes.length,
    reads: 0,
    asked: 0,
    read(offset: number, length: number): Promise<Buffer> {
      src.reads++;
      src.asked += length;
      return Promise.resolve(Buffer.from(bytes.subarray(offset, Math.min(bytes.length, offset + length))));
    },
  };
  return src;
}
