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
