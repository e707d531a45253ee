/**
 * A video codec record's facts as ffprobe shows them (src/probe/mp4-probe.ts): H.264 from the first
 * SPS of its avcC (profile, picture size after cropping, pixel format, VUI aspect ratio), HEVC from
 * its hvcC (profile, pixel format; the size is the sample entry's). What is not modelled throws
 * Mp4Unsupported: H.264 other than 8-bit 4:2:0 or 4:0:0, scaling matrices, picture order type 1;
 * HEVC profiles other than Main and Main 10.
 */
import { Mp4Unsupported } from './mp4.js';
import type { RawStream } from './raw.js';

export type PictureFacts = Pick<RawStream, 'codec_name' | 'profile' | 'pix_fmt' | 'width' | 'height' | 'sample_aspect_ratio'>;

/** A bit reader over an RBSP (emulation prevention bytes removed); reading past its end is Mp4Unsupported. */
class Bits {
  private at = 0;
  private readonly b: Buffer;
  constructor(nal: Buffer) {
    const out: number[] = [];
    for (let i = 0; i < nal.length; i++) {
      if (i >= 2 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
      out.push(nal[i]!);
    }
    this.b = Buffer.from(out);
  }
  u(n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++, this.at++) {
      const byte = this.b[this.at >> 3];
      if (byte === undefined) throw new Mp4Unsupported('an SPS cut short');
      v = v * 2 + ((byte >> (7 - (this.at & 7))) & 1);
    }
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new Mp4Unsupported('an SPS with a bad Exp-Golomb code');
    return 2 ** zeros - 1 + this.u(zeros);
  }
}

const H264_PROFILES: Readonly<Record<number, string>> = { 66: 'Baseline', 77: 'Main', 88: 'Extended', 100: 'High' };
const HIGH = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);
const SAR = ['0:1', '1:1', '12:11', '10:11', '16:11', '40:33', '24:11', '20:11', '32:11', '80:33', '18:11', '15:11', '64:33', '160:99', '4:3', '3:2', '2:1'];

/** The SPS's VUI aspect ratio and full-range flag (only what ffprobe shows). */
function vui(r: Bits): { sar?: string; full: boolean } {
  if (!r.u(1)) return { full: false };
  let sar: string | undefined;
  if (r.u(1)) {
    const idc = r.u(8);
    if (idc === 255) {
      const [w, h] = [r.u(16), r.u(16)];
      if (w && h) sar = reduce(w, h);
    } else if (idc >= 1 && idc < SAR.length) sar = SAR[idc];
  }
  if (r.u(1)) r.u(1);
  if (!r.u(1)) return { ...(sar ? { sar } : {}), full: false };
  r.u(3); // video_format
  return { ...(sar ? { sar } : {}), full: r.u(1) === 1 };
}

function reduce(a: number, b: number): string {
  const g = (x: number, y: number): number => (y ? g(y, x % y) : x);
  const d = g(a, b);
  return `${a / d}:${b / d}`;
}

/** An avcC record's first SPS as ffprobe's stream facts. */
export function avcFacts(avcC: Buffer): PictureFacts {
  if (avcC.length < 8 || (avcC[5]! & 0x1f) < 1) throw new Mp4Unsupported('an avcC without an SPS');
  const len = avcC.readUInt16BE(6);
  if (8 + len > avcC.length || len < 4) throw new Mp4Unsupported('an avcC SPS past its box');
  const r = new Bits(avcC.subarray(9, 8 + len));
  const profileIdc = r.u(8);
  const constraints = r.u(8);
  r.u(8);
  r.ue();
  let chroma = 1;
  if (HIGH.has(profileIdc)) {
    chroma = r.ue();
    if (chroma === 3) r.u(1);
    if (r.ue() !== 0 || r.ue() !== 0) throw new Mp4Unsupported('an H.264 stream of more than 8 bits');
    r.u(1);
    if (r.u(1)) throw new Mp4Unsupported('an H.264 SPS with scaling matrices');
  }
  const profile = profileIdc === 66 && constraints & 0x40 ? 'Constrained Baseline' : H264_PROFILES[profileIdc];
  if (!profile || chroma > 1) throw new Mp4Unsupported(`an H.264 stream of profile ${profileIdc}, chroma format ${chroma}`);
  r.ue();
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) throw new Mp4Unsupported('an H.264 SPS of picture order type 1');
  r.ue();
  r.u(1);
  const mbW = r.ue() + 1;
  const mapH = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (!frameMbsOnly) r.u(1);
  r.u(1);
  const crop = r.u(1) ? [r.ue(), r.ue(), r.ue(), r.ue()] : [0, 0, 0, 0];
  const unitX = chroma ? 2 : 1;
  const unitY = (chroma ? 2 : 1) * (2 - frameMbsOnly);
  const { sar, full } = vui(r);
  return {
    codec_name: 'h264',
    profile,
    pix_fmt: chroma === 0 ? 'gray' : full ? 'yuvj420p' : 'yuv420p',
    width: mbW * 16 - unitX * (crop[0]! + crop[1]!),
    height: mapH * 16 * (2 - frameMbsOnly) - unitY * (crop[2]! + crop[3]!),
    ...(sar ? { sample_aspect_ratio: sar } : {}),
  };
}

/** An hvcC record's profile and pixel format, with the sample entry's size. */
export function hevcFacts(hvcC: Buffer, width: number, height: number): PictureFacts {
  if (hvcC.length < 23) throw new Mp4Unsupported('an hvcC cut short');
  const profile = ['', 'Main', 'Main 10'][hvcC[1]! & 0x1f];
  const chroma = hvcC[16]! & 3;
  const depth = (hvcC[17]! & 7) + 8;
  const pix = chroma === 1 ? (depth === 8 ? 'yuv420p' : depth === 10 ? 'yuv420p10le' : undefined) : undefined;
  if (!profile || !pix) throw new Mp4Unsupported('an HEVC stream not modelled');
  return { codec_name: 'hevc', profile, pix_fmt: pix, width, height };
}
