/**
 * Whether an MP4/MOV file is encrypted (Common Encryption: CENC, cbcs, ...). ffprobe reports the
 * protected track under its original codec (the `frma` box), and ffmpeg then decodes garbage or
 * fails, so the sample entries are read here: `encv`/`enca` entries with a `sinf` box mean the
 * samples are encrypted. Only box headers and the `moov` box are read (at most MOOV_MAX bytes).
 */
import { open, type FileHandle } from 'node:fs/promises';

const MOOV_MAX = 64 * 1024 * 1024;
/** Boxes whose children are boxes right after their header. */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'sinf', 'schi', 'edts', 'udta']);
/** Bytes between a sample entry's header and its child boxes. */
const ENTRY_FIELDS: Record<string, number> = { encv: 78, enca: 28 };

interface Box {
  type: string;
  /** Where the payload starts and ends (absolute offsets in the buffer or file). */
  start: number;
  end: number;
}

function boxesIn(buf: Buffer, from: number, to: number): Box[] {
  const out: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > to) break;
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = to - at;
    if (size < header || at + size > to) break;
    out.push({ type, start: at + header, end: at + size });
    at += size;
  }
  return out;
}

/** Container boxes nest a few deep (moov/trak/mdia/minf/stbl): deeper is a nesting bomb, not searched. */
const MAX_DEPTH = 16;

/** The protection scheme of the first encrypted sample entry under `box` (e.g. 'cenc', 'cbcs'), or undefined. */
function schemeIn(buf: Buffer, box: Box, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  for (const child of boxesIn(buf, box.start, box.end)) {
    if (child.type === 'stsd') {
      // version/flags and entry count, then the sample entries
      for (const entry of boxesIn(buf, child.start + 8, child.end)) {
        const skip = ENTRY_FIELDS[entry.type];
        if (skip === undefined) continue;
        const sinf = boxesIn(buf, entry.start + skip, entry.end).find((b) => b.type === 'sinf');
        const schm = sinf && boxesIn(buf, sinf.start, sinf.end).find((b) => b.type === 'schm');
        // schm: version/flags (4), then the scheme type
        if (schm && schm.end - schm.start >= 8) return buf.toString('latin1', schm.start + 4, schm.start + 8).trim() || 'cenc';
        return 'cenc';
      }
    } else if (CONTAINERS.has(child.type)) {
      const s = schemeIn(buf, child, depth + 1);
      if (s) return s;
    }
  }
  return undefined;
}

async function readAt(fh: FileHandle, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, pos);
  return buf.subarray(0, bytesRead);
}

/** The encryption scheme of a `moov` box's bytes (the whole box, header included), or undefined when its tracks are clear. */
export function moovEncryption(moov: Buffer): string | undefined {
  const outer = boxesIn(moov, 0, moov.length)[0];
  return outer ? schemeIn(moov, outer) : undefined;
}

/**
 * The encryption scheme of an ISO-BMFF file ('cenc', 'cbcs', ...), or undefined when its tracks
 * are clear (or it is not ISO-BMFF, or its `moov` cannot be found).
 */
export async function mp4Encryption(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    let at = 0;
    while (at + 8 <= size) {
      const head = await readAt(fh, at, 16);
      if (head.length < 8) return undefined;
      let boxSize = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (boxSize === 1 && head.length >= 16) boxSize = Number(head.readBigUInt64BE(8));
      else if (boxSize === 0) boxSize = size - at;
      if (boxSize < 8) return undefined;
      if (type === 'moov') {
        if (boxSize > MOOV_MAX) return undefined;
        return moovEncryption(await readAt(fh, at, boxSize));
      }
      at += boxSize;
    }
    return undefined;
  } finally {
    await fh.close();
  }
}
