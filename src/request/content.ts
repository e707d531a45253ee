/**
 * What a segment becomes inside a request, before it takes an API's shape: the prompt, then the
 * media in time order, each frame or audio chunk with its timestamp label. A split never separates
 * a label from its media, so they travel together as one `Unit`.
 */
import { readFileSync, statSync } from 'node:fs';
import { inputError, OmniprepError } from '../errors.js';
import { imageTokens } from '../models/tokens.js';
import { formatRange, formatTimestamp } from './timestamp.js';
import type { ResolvedRequestOptions } from './options.js';
import type { AudioPart, ImagePart, Part, TextPart, VideoPart } from '../providers/parts.js';
import type { AudioAsset, FrameAsset, Segment, VideoAsset } from './types.js';

export type { AudioPart, ImagePart, Part, TextPart, VideoPart };

export interface Unit {
  /** Where the unit sits on the source timeline (a frame's timestamp, a chunk's start). */
  timeSec: number;
  /** Where it ends (a frame: its timestamp; a chunk: its end). */
  endSec: number;
  parts: Part[];
  /** The asset the unit carries (an audio chunk sent as its transcript still names its chunk). */
  frame?: FrameAsset;
  chunk?: AudioAsset;
  clip?: VideoAsset;
}

function frameName(f: FrameAsset, input: string | undefined): string {
  return f.file ?? (input ? `${input} frame ${f.index}` : `frame ${f.index}`);
}

function chunkName(c: AudioAsset, input: string | undefined): string {
  return c.file ?? (input ? `${input} audio chunk ${c.index}` : `audio chunk ${c.index}`);
}

function imagePart(f: FrameAsset, o: ResolvedRequestOptions): ImagePart {
  const detail = o.detail ?? f.detail;
  const tokens = detail === f.detail ? f.tokens : imageTokens(o.model, f.width, f.height, detail).tokens;
  return { kind: 'image', frame: f, detail, tokens };
}

/** The units of a segment, in time order (frames before audio at the same time). */
export function segmentUnits(segment: Segment, o: ResolvedRequestOptions): Unit[] {
  const units: Unit[] = [];
  for (const f of segment.frames) {
    const parts: Part[] = [];
    if (o.timestamps) parts.push({ kind: 'text', text: `[${formatTimestamp(f.timestampSec)}]` });
    parts.push(imagePart(f, o));
    units.push({ timeSec: f.timestampSec, endSec: f.timestampSec, parts, frame: f });
  }
  for (const c of segment.audio) {
    const range = formatRange(c.startSec, c.endSec);
    const parts: Part[] = [];
    if (o.transcripts) {
      const text = o.transcripts.get(c.index);
      if (text === undefined) {
        throw new OmniprepError('INVALID_OPTION', `${chunkName(c, o.input)}: no transcript for audio chunk ${c.index} (transcripts must cover every chunk)`, {
          input: o.input,
        });
      }
      parts.push({ kind: 'text', text: o.timestamps ? `[transcript ${range}] ${text}` : text });
    } else {
      if (o.timestamps) parts.push({ kind: 'text', text: `[audio ${range}]` });
      parts.push({ kind: 'audio', chunk: c, tokens: c.tokens });
    }
    units.push({ timeSec: c.startSec, endSec: c.endSec, parts, chunk: c });
  }
  for (const v of segment.video ?? []) {
    const parts: Part[] = [];
    if (o.timestamps) parts.push({ kind: 'text', text: `[video ${formatRange(v.startSec, v.endSec)}]` });
    parts.push({ kind: 'video', clip: v, tokens: v.frameTokens + v.audioTokens });
    units.push({ timeSec: v.startSec, endSec: v.endSec, parts, clip: v });
  }
  // Array.prototype.sort is stable: frames (pushed first) stay before audio at the same time.
  return units.sort((a, b) => a.timeSec - b.timeSec);
}

/** The text parts that come before the media: the prompt. */
export function headParts(o: ResolvedRequestOptions): TextPart[] {
  return [{ kind: 'text', text: o.prompt }];
}

function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

function sizeOf(file: string | undefined, data: Buffer | undefined, name: string): number {
  if (data) return data.length;
  if (!file) throw inputError('INVALID_OPTION', name, 'has neither data nor a file');
  try {
    return statSync(file).size;
  } catch {
    throw inputError('NOT_FOUND', file, 'no such file (a frame or audio chunk the request needs)');
  }
}

function bytesOf(file: string | undefined, data: Buffer | undefined, name: string): Buffer {
  if (data) return data;
  if (!file) throw inputError('INVALID_OPTION', name, 'has neither data nor a file');
  try {
    return readFileSync(file);
  } catch {
    throw inputError('NOT_FOUND', file, 'no such file (a frame or audio chunk the request needs)');
  }
}

function frameUrl(f: FrameAsset, o: ResolvedRequestOptions): string | undefined {
  if (!o.imageUrls) return undefined;
  if (!f.url) throw inputError('INVALID_OPTION', frameName(f, o.input), 'imageUrls is set but the frame has no url');
  return f.url;
}

/**
 * The payload of a media part: an image's URL (a data URL unless `imageUrls`), or an audio
 * chunk's base64. Reads the file when the asset carries no bytes.
 */
export function payload(part: ImagePart | AudioPart, o: ResolvedRequestOptions): string {
  if (part.kind === 'image') {
    const f = part.frame;
    return frameUrl(f, o) ?? `data:${f.mime};base64,${bytesOf(f.file, f.data, frameName(f, o.input)).toString('base64')}`;
  }
  return bytesOf(part.chunk.file, part.chunk.data, chunkName(part.chunk, o.input)).toString('base64');
}

/**
 * The payload's length in bytes as it appears inside the JSON body, without reading the file (its
 * size is enough: base64 and data URLs need no escaping).
 */
export function payloadLength(part: ImagePart | AudioPart, o: ResolvedRequestOptions, bare = false): number {
  if (part.kind === 'image') {
    const f = part.frame;
    const url = frameUrl(f, o);
    if (url !== undefined) return Buffer.byteLength(JSON.stringify(url)) - 2;
    // `bare`: the base64 alone (Anthropic and Gemini bodies carry the MIME type beside it).
    return (bare ? 0 : `data:${f.mime};base64,`.length) + base64Length(sizeOf(f.file, f.data, frameName(f, o.input)));
  }
  return base64Length(sizeOf(part.chunk.file, part.chunk.data, chunkName(part.chunk, o.input)));
}

/** A readable name of a unit's media for error messages. */
export function unitName(u: Unit, input: string | undefined): string {
  if (u.frame) return `${frameName(u.frame, input)} (at ${formatTimestamp(u.frame.timestampSec)})`;
  if (u.chunk) return `${chunkName(u.chunk, input)} (${formatRange(u.chunk.startSec, u.chunk.endSec)})`;
  return input ?? 'request';
}
