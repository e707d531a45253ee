/**
 * Local inputs: the checks every path passes before any decoder sees it. A missing path, a
 * directory, an empty file, an oversized file and anything that is text (an HLS playlist or a
 * concat script named `.mp4`, a subtitle file, a note) are refused here with one clear line.
 */
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { inputError } from '../errors.js';
import type { Limits } from '../limits.js';

export type InputKind = 'image' | 'media';

export interface LocalInput {
  /** The path as the user gave it (used in messages). */
  input: string;
  /** Absolute path. */
  path: string;
  sizeBytes: number;
  mtimeMs: number;
  /** Still images go to sharp; everything else to ffmpeg. */
  kind: InputKind;
  /** Image format when `kind` is image. */
  imageFormat?: string;
  /** Container family recognised from the first bytes, when it is one with a signature. */
  signature?: string;
}

const SNIFF_BYTES = 4096;

/** Recognises still-image formats by their magic bytes. */
export function sniffImage(head: Buffer): string | undefined {
  const at = (offset: number, bytes: number[]): boolean => bytes.every((b, i) => head[offset + i] === b);
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (at(0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (head.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  if (at(0, [0x49, 0x49, 0x2a, 0x00]) || at(0, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (head.subarray(4, 8).toString('latin1') === 'ftyp') {
    const brand = head.subarray(8, 12).toString('latin1');
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'mif1', 'msf1'].includes(brand)) return 'heif';
  }
  return undefined;
}

/** Recognises media containers that have a signature (MP3 and ADTS AAC may not: ffmpeg decides those). */
export function sniffContainer(head: Buffer): string | undefined {
  const ascii = (a: number, b: number): string => head.subarray(a, b).toString('latin1');
  if (['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip', 'pnot'].includes(ascii(4, 8))) return 'isobmff';
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'ebml';
  if (ascii(0, 4) === 'RIFF' && ['AVI ', 'WAVE'].includes(ascii(8, 12))) return ascii(8, 12) === 'WAVE' ? 'wav' : 'avi';
  if (ascii(0, 4) === 'OggS') return 'ogg';
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (ascii(0, 3) === 'FLV') return 'flv';
  if (ascii(0, 3) === 'ID3') return 'id3';
  if (head[0] === 0x47 && (head.length < 189 || head[188] === 0x47)) return 'mpegts';
  if (head[4] === 0x47 && (head.length < 197 || head[196] === 0x47)) return 'mpegts';
  return undefined;
}

/** Describes text content, or undefined when the bytes are binary (media). */
export function sniffText(head: Buffer): string | undefined {
  if (head.length === 0) return undefined;
  if (head.includes(0)) return undefined;
  const text = head.toString('utf8');
  if (text.includes('\uFFFD')) return undefined; // not valid UTF-8: binary
  let printable = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 9 || c === 10 || c === 13 || c >= 32) printable++;
  }
  if (printable / [...text].length < 0.95) return undefined;
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (/^#EXTM3U/i.test(start)) return 'an HLS playlist, not a media file (playlists are refused)';
  if (/^ffconcat/i.test(start)) return 'an ffmpeg concat script, not a media file (scripts are refused)';
  if (/^<\?xml|^<MPD/i.test(start)) return 'an XML document (a DASH manifest?), not a media file';
  if (/^(v=0|WEBVTT|\d+\r?\n\d\d:\d\d)/.test(start)) return 'a text document (SDP or subtitles), not a media file';
  return 'a text file, not a media file';
}

/** Checks a local path and tells whether sharp or ffmpeg should read it. */
export async function checkLocalInput(input: string, limits: Pick<Limits, 'maxFileBytes'>): Promise<LocalInput> {
  const path = resolve(input);
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw inputError('NOT_FOUND', input, 'no such file');
    if (code === 'EACCES') throw inputError('NOT_FOUND', input, 'permission denied');
    throw inputError('NOT_FOUND', input, `cannot be read (${code ?? (e as Error).message})`);
  }
  if (st.isDirectory()) throw inputError('NOT_A_FILE', input, 'is a directory, not a media file');
  if (!st.isFile()) throw inputError('NOT_A_FILE', input, 'is not a regular file');
  if (st.size === 0) throw inputError('EMPTY', input, 'is empty (0 bytes)');
  if (st.size > limits.maxFileBytes) {
    throw inputError('TOO_LARGE', input, `is ${st.size} bytes, over the ${limits.maxFileBytes}-byte limit`);
  }
  const head = Buffer.alloc(Math.min(SNIFF_BYTES, st.size));
  let fh;
  try {
    fh = await open(path, 'r');
    await fh.read(head, 0, head.length, 0);
  } catch (e) {
    throw inputError('NOT_FOUND', input, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    await fh?.close();
  }
  const text = sniffText(head);
  if (text) throw inputError('UNSUPPORTED_FORMAT', input, `is ${text}`);
  const imageFormat = sniffImage(head);
  const signature = imageFormat ? undefined : sniffContainer(head);
  return {
    input,
    path,
    sizeBytes: st.size,
    mtimeMs: st.mtimeMs,
    kind: imageFormat ? 'image' : 'media',
    ...(imageFormat ? { imageFormat } : {}),
    ...(signature ? { signature } : {}),
  };
}
