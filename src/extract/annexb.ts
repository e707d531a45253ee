/**
 * H.264 and HEVC Annex B byte streams cut into access units. The stream comes from
 * `-bsf:v h264_mp4toannexb,h264_metadata=aud=insert` (HEVC: `hevc_mp4toannexb,hevc_metadata=aud=insert`),
 * so every access unit starts with an access-unit delimiter. For each unit: its bytes, its payload
 * size as the container stored it (its NAL units other than delimiters and parameter sets, each
 * with a 4-byte length), whether it holds an IDR slice, and whether it carries parameter sets.
 * One implementation for both codecs; what differs (the NAL header, the type numbers) is an
 * AnnexBCodec.
 */
const START = Buffer.from([0, 0, 1]);

/** What the access-unit splitter needs to know about a codec's NAL units and its stream. */
export interface AnnexBCodec {
  /** ffmpeg's raw-stream format (`-f`) and the bitstream filters that make the stream from MP4/Matroska packets. */
  readonly format: 'h264' | 'hevc';
  readonly bsf: string;
  /** The NAL unit type, from the first header byte. */
  type(header: number): number;
  readonly aud: number;
  /** Parameter set types (remembered and put before units that lack them). */
  readonly params: readonly number[];
  /** Types that make a unit an IDR (a closed start: nothing before it is referenced or shown after it). */
  readonly idr: readonly number[];
  /**
   * Prefix SEI types the container's codec record may hold (HEVC's hvcC has SEI arrays, which
   * hevc_mp4toannexb puts before every IRAP picture with the parameter sets, though the packet
   * does not hold them).
   */
  readonly recordSei: readonly number[];
  /**
   * Whether a keyframe that is not an IDR decodes right in a stream of keyframes alone. Not in
   * HEVC: a CRA takes its picture order count from the picture before it, so with the pictures
   * between left out it can be shown before the keyframe it follows.
   */
  readonly nonIdrKeyframesAlone: boolean;
  /** An access-unit delimiter NAL (start code included), as `*_metadata=aud=insert` writes one. */
  readonly audNal: Buffer;
  /** The parameter sets of the container's codec record (avcC, hvcC) and its NAL length size. */
  record(bytes: Uint8Array): CodecRecord | undefined;
}

/** What an MP4's codec record gives a stream: its parameter sets (Annex B) and how long its NAL length fields are. */
export interface CodecRecord {
  nalLengthSize: number;
  parameterSets: Buffer;
}

const START4 = Buffer.from([0, 0, 0, 1]);

/** Reads `count` NAL units, each with a 2-byte length, from a record at `at`; undefined when they overrun it. */
function recordNals(b: Uint8Array, at: number, count: number, into: Buffer[]): number | undefined {
  for (let i = 0; i < count; i++) {
    if (at + 2 > b.length) return undefined;
    const len = (b[at]! << 8) | b[at + 1]!;
    if (at + 2 + len > b.length) return undefined;
    into.push(START4, Buffer.from(b.subarray(at + 2, at + 2 + len)));
    at += 2 + len;
  }
  return at;
}

/** avcC: lengthSizeMinusOne in byte 4, then the SPS (count in byte 5) and the PPS (count after them). */
function avcRecord(b: Uint8Array): CodecRecord | undefined {
  if (b.length < 7 || b[0] !== 1) return undefined;
  const sets: Buffer[] = [];
  let at = recordNals(b, 6, b[5]! & 0x1f, sets);
  if (at === undefined || at >= b.length) return undefined;
  at = recordNals(b, at + 1, b[at]!, sets);
  if (at === undefined || !sets.length) return undefined;
  return { nalLengthSize: (b[4]! & 3) + 1, parameterSets: Buffer.concat(sets) };
}

/** hvcC: lengthSizeMinusOne in byte 21, then arrays of NAL units (VPS, SPS, PPS, SEI); the parameter sets are kept. */
function hevcRecord(b: Uint8Array): CodecRecord | undefined {
  if (b.length < 23 || b[0] !== 1) return undefined;
  const sets: Buffer[] = [];
  let at = 23;
  for (let a = 0; a < b[22]!; a++) {
    if (at + 3 > b.length) return undefined;
    const type = b[at]! & 0x3f;
    const found: Buffer[] = [];
    const next = recordNals(b, at + 3, (b[at + 1]! << 8) | b[at + 2]!, found);
    if (next === undefined) return undefined;
    if (HEVC.params.includes(type)) sets.push(...found);
    at = next;
  }
  if (!sets.length) return undefined;
  return { nalLengthSize: (b[21]! & 3) + 1, parameterSets: Buffer.concat(sets) };
}

export const H264: AnnexBCodec = {
  format: 'h264',
  bsf: 'h264_mp4toannexb,h264_metadata=aud=insert',
  type: (b) => b & 0x1f,
  aud: 9,
  params: [7, 8], // SPS, PPS
  idr: [5],
  recordSei: [],
  nonIdrKeyframesAlone: true,
  audNal: Buffer.from([0, 0, 0, 1, 0x09, 0xf0]),
  record: (b) => avcRecord(b),
};

/**
 * HEVC: a 2-byte NAL header whose type is bits 1-6 of the first byte. IDR_W_RADL (19) and
 * IDR_N_LP (20) are IDR; CRA (21) and BLA are not: the pictures after a CRA may reference
 * pictures before it (RASL), so a span from one decodes to another frame count.
 */
export const HEVC: AnnexBCodec = {
  format: 'hevc',
  bsf: 'hevc_mp4toannexb,hevc_metadata=aud=insert',
  type: (b) => (b >> 1) & 0x3f,
  aud: 35,
  params: [32, 33, 34], // VPS, SPS, PPS
  idr: [19, 20],
  recordSei: [39],
  nonIdrKeyframesAlone: false,
  audNal: Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x50]),
  record: (b) => hevcRecord(b),
};

const CODECS: Record<string, AnnexBCodec> = { h264: H264, hevc: HEVC };

/** The Annex B description of a codec (ffprobe's codec name), when the stream paths know it. */
export function annexBCodec(codec: string): AnnexBCodec | undefined {
  return Object.hasOwn(CODECS, codec) ? CODECS[codec] : undefined;
}

export interface AccessUnit {
  bytes: Buffer;
  payloadBytes: number;
  /**
   * Every size the container's packet may have: payloadBytes, then (units with parameter sets,
   * codecs with recordSei) without each further SEI that follows the parameter sets, as the
   * codec record's SEI came in with them.
   */
  payloadChoices: number[];
  idr: boolean;
  hasParameterSets: boolean;
}

interface Nal {
  type: number;
  /** Offset of the start code and of the payload, and the payload length (trailing zeros excluded). */
  at: number;
  body: number;
  length: number;
}

function nals(buf: Buffer, codec: AnnexBCodec): Nal[] {
  const out: Nal[] = [];
  let i = buf.indexOf(START);
  while (i >= 0) {
    const body = i + 3;
    const next = buf.indexOf(START, body);
    let end = next < 0 ? buf.length : next;
    while (end > body && buf[end - 1] === 0) end--; // a 4-byte start code's leading zero, or trailing zero bytes
    out.push({ type: codec.type(buf[body] ?? 0), at: i > 0 && buf[i - 1] === 0 ? i - 1 : i, body, length: end - body });
    i = next;
  }
  return out;
}

export function accessUnit(bytes: Buffer, codec: AnnexBCodec = H264): AccessUnit {
  let payloadBytes = 0;
  let idr = false;
  let params = false;
  // SEI right after the parameter sets (and before any other payload): perhaps the codec record's
  const recordSei: number[] = [];
  let afterParams = false;
  for (const n of nals(bytes, codec)) {
    if (codec.params.includes(n.type)) {
      params = true;
      afterParams = true;
    } else if (n.type !== codec.aud && n.length > 0) {
      payloadBytes += n.length + 4;
      if (afterParams && codec.recordSei.includes(n.type)) recordSei.push(n.length + 4);
      else afterParams = false;
    }
    if (codec.idr.includes(n.type)) idr = true;
  }
  const payloadChoices = [payloadBytes];
  for (const size of recordSei) payloadChoices.push(payloadChoices[payloadChoices.length - 1]! - size);
  return { bytes, payloadBytes, payloadChoices, idr, hasParameterSets: params };
}

/**
 * Splits a stream, chunk by chunk, at access-unit delimiters; remembers the last parameter sets.
 * Linear in the stream: each byte is searched once and copied a bounded number of times, however
 * long a unit is (the bytes wait in a buffer that doubles, not in one concatenated per chunk).
 */
export class AccessUnits {
  /** The bytes not yet given out, [0, length): from the current unit's delimiter once one is seen, else all so far. */
  private buf: Buffer = Buffer.alloc(0);
  private length = 0;
  /** Where the search for start codes resumes (the bytes before it have been searched). */
  private from = 0;
  /** Whether buf starts with a unit's delimiter. */
  private inUnit = false;
  private params: Buffer | undefined;

  constructor(private readonly codec: AnnexBCodec = H264) {}

  /** The access units completed by this chunk. */
  push(chunk: Buffer): AccessUnit[] {
    this.append(chunk);
    const view = this.buf.subarray(0, this.length);
    const units: AccessUnit[] = [];
    let unitStart = 0;
    let i = view.indexOf(START, this.from);
    for (; i >= 0 && i + 3 < view.length; i = view.indexOf(START, i + 3)) {
      if (this.codec.type(view[i + 3]!) !== this.codec.aud) continue;
      const s = i > 0 && view[i - 1] === 0 ? i - 1 : i;
      if (this.inUnit) units.push(this.remember(accessUnit(Buffer.from(view.subarray(unitStart, s)), this.codec)));
      unitStart = s;
      this.inUnit = true;
    }
    // A start code whose type byte is still to come is searched again; else the last two bytes may begin one.
    this.from = i >= 0 ? i : Math.max(this.from, view.length - 2, 0);
    if (unitStart > 0) {
      this.buf.copy(this.buf, 0, unitStart, this.length);
      this.length -= unitStart;
      this.from -= unitStart;
    }
    return units;
  }

  /** The last access unit, at the end of the stream. */
  flush(): AccessUnit[] {
    if (!this.length) return [];
    const unit = this.remember(accessUnit(Buffer.from(this.buf.subarray(0, this.length)), this.codec));
    this.length = 0;
    this.from = 0;
    this.inUnit = false;
    return [unit];
  }

  private append(chunk: Buffer): void {
    if (this.length + chunk.length > this.buf.length) {
      const grown = Buffer.alloc(Math.max(2 * this.buf.length, this.length + chunk.length, 64 * 1024));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.length);
    this.length += chunk.length;
  }

  private remember(unit: AccessUnit): AccessUnit {
    if (unit.hasParameterSets) {
      const sets = nals(unit.bytes, this.codec).filter((n) => this.codec.params.includes(n.type));
      this.params = Buffer.concat(sets.map((n) => Buffer.concat([Buffer.from([0, 0, 0, 1]), unit.bytes.subarray(n.body, n.body + n.length)])));
    }
    return unit;
  }

  /** The unit's bytes, with the last parameter sets seen put in front when it has none of its own. */
  withParameterSets(unit: AccessUnit): Buffer {
    return unit.hasParameterSets || !this.params ? unit.bytes : Buffer.concat([this.params, unit.bytes]);
  }
}

/**
 * One MP4 sample (NAL units with length fields) as the Annex B unit the bitstream filters would
 * make of it: a delimiter, the record's parameter sets (keyframes), then its NAL units with start
 * codes. Undefined when a length field overruns the sample (the index and the file disagree).
 */
export function sampleUnit(sample: Buffer, record: CodecRecord, codec: AnnexBCodec, keyframe = true): AccessUnit | undefined {
  const parts: Buffer[] = keyframe ? [codec.audNal, record.parameterSets] : [codec.audNal];
  const n = record.nalLengthSize;
  let at = 0;
  while (at < sample.length) {
    if (at + n > sample.length) return undefined;
    let len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + sample[at + k]!;
    at += n;
    if (len === 0 || at + len > sample.length) return undefined;
    parts.push(START4, sample.subarray(at, at + len));
    at += len;
  }
  return accessUnit(Buffer.concat(parts), codec);
}
