/**
 * H.264 Annex B byte streams cut into access units. The stream comes from
 * `-bsf:v h264_mp4toannexb,h264_metadata=aud=insert`, so every access unit starts with an
 * access-unit delimiter (NAL type 9). For each unit: its bytes, its payload size as the container
 * stored it (its NAL units other than delimiters and parameter sets, each with a 4-byte length),
 * whether it holds an IDR slice, and whether it carries parameter sets (SPS 7, PPS 8).
 */
const START = Buffer.from([0, 0, 1]);
const AUD = 9;
const SPS = 7;
const PPS = 8;
const IDR = 5;

export interface AccessUnit {
  bytes: Buffer;
  payloadBytes: number;
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

function nals(buf: Buffer): Nal[] {
  const out: Nal[] = [];
  let i = buf.indexOf(START);
  while (i >= 0) {
    const body = i + 3;
    const next = buf.indexOf(START, body);
    let end = next < 0 ? buf.length : next;
    while (end > body && buf[end - 1] === 0) end--; // a 4-byte start code's leading zero, or trailing zero bytes
    out.push({ type: buf[body]! & 0x1f, at: i > 0 && buf[i - 1] === 0 ? i - 1 : i, body, length: end - body });
    i = next;
  }
  return out;
}

export function accessUnit(bytes: Buffer): AccessUnit {
  let payloadBytes = 0;
  let idr = false;
  let params = false;
  for (const n of nals(bytes)) {
    if (n.type === SPS || n.type === PPS) params = true;
    else if (n.type !== AUD && n.length > 0) payloadBytes += n.length + 4;
    if (n.type === IDR) idr = true;
  }
  return { bytes, payloadBytes, idr, hasParameterSets: params };
}

/** Splits a stream, chunk by chunk, at access-unit delimiters; remembers the last parameter sets. */
export class AccessUnits {
  private pending: Buffer = Buffer.alloc(0);
  private params: Buffer | undefined;

  /** The access units completed by this chunk. */
  push(chunk: Buffer): AccessUnit[] {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const starts: number[] = [];
    for (let i = buf.indexOf(START); i >= 0; i = buf.indexOf(START, i + 3)) {
      if (i + 3 < buf.length && (buf[i + 3]! & 0x1f) === AUD) starts.push(i > 0 && buf[i - 1] === 0 ? i - 1 : i);
    }
    const units: AccessUnit[] = [];
    for (let k = 0; k + 1 < starts.length; k++) units.push(this.remember(accessUnit(Buffer.from(buf.subarray(starts[k]!, starts[k + 1]!)))));
    this.pending = starts.length ? Buffer.from(buf.subarray(starts[starts.length - 1]!)) : buf;
    return units;
  }

  /** The last access unit, at the end of the stream. */
  flush(): AccessUnit[] {
    if (!this.pending.length) return [];
    const unit = this.remember(accessUnit(this.pending));
    this.pending = Buffer.alloc(0);
    return [unit];
  }

  private remember(unit: AccessUnit): AccessUnit {
    if (unit.hasParameterSets) {
      const sets = nals(unit.bytes).filter((n) => n.type === SPS || n.type === PPS);
      this.params = Buffer.concat(sets.map((n) => Buffer.concat([Buffer.from([0, 0, 0, 1]), unit.bytes.subarray(n.body, n.body + n.length)])));
    }
    return unit;
  }

  /** The unit's bytes, with the last parameter sets seen put in front when it has none of its own. */
  withParameterSets(unit: AccessUnit): Buffer {
    return unit.hasParameterSets || !this.params ? unit.bytes : Buffer.concat([this.params, unit.bytes]);
  }
}
