// src/extract/annexb.ts: H.264 (and, at the end, HEVC) Annex B streams built by hand, cut into access units at the
// access-unit delimiters (NAL type 9). payloadBytes = each NAL other than AUD/SPS/PPS, header
// byte included, plus a 4-byte length (what an MP4 stores).
import { describe, expect, it } from 'vitest';
import { AccessUnits, accessUnit, annexBCodec, H264, HEVC, sampleUnit, type AccessUnit } from '../../src/extract/annexb.js';

const SC4 = [0, 0, 0, 1];
const SC3 = [0, 0, 1];
/** A NAL unit with its start code: header byte, then `len` payload bytes of `fill` (never 0). */
function nal(header: number, len: number, sc: number[] = SC4, fill = 0xaa): number[] {
  return [...sc, header, ...new Array<number>(len).fill(fill)];
}
const aud = (sc: number[] = SC4) => [...sc, 0x09, 0xf0];
const sps = () => nal(0x67, 10, SC4, 0x42);
const pps = () => nal(0x68, 3, SC4, 0xce);
const idr = (len: number, sc: number[] = SC4) => nal(0x65, len, sc, 0x88); // nal_ref_idc 3, type 5
const slice = (len: number, sc: number[] = SC4) => nal(0x41, len, sc, 0x9a); // type 1, non-IDR
const sei = (len: number, sc: number[] = SC4) => nal(0x06, len, sc, 0x05);

// AU1: AUD, SPS, PPS, IDR(1 + 100)      -> payload 101 + 4 = 105
// AU2: AUD, slice(1 + 50)                -> 51 + 4 = 55
// AU3: AUD (3-byte start codes), SEI(1 + 5), slice(1 + 20) -> (6 + 4) + (21 + 4) = 35
const AU1 = Buffer.from([...aud(), ...sps(), ...pps(), ...idr(100)]);
const AU2 = Buffer.from([...aud(), ...slice(50)]);
const AU3 = Buffer.from([...aud(SC3), ...sei(5, SC3), ...slice(20, SC3)]);
const STREAM = Buffer.concat([AU1, AU2, AU3]);

const view = (u: AccessUnit) => ({ bytes: u.bytes.toString('hex'), payloadBytes: u.payloadBytes, idr: u.idr, hasParameterSets: u.hasParameterSets });
const expected = [
  { bytes: AU1.toString('hex'), payloadBytes: 105, idr: true, hasParameterSets: true },
  { bytes: AU2.toString('hex'), payloadBytes: 55, idr: false, hasParameterSets: false },
  { bytes: AU3.toString('hex'), payloadBytes: 35, idr: false, hasParameterSets: false },
];

function splitAll(chunks: Buffer[]): AccessUnit[] {
  const s = new AccessUnits();
  return [...chunks.flatMap((c) => s.push(c)), ...s.flush()];
}

describe('accessUnit: one unit', () => {
  it('sizes, IDR and parameter sets', () => {
    expect(view(accessUnit(AU1))).toEqual(expected[0]);
    expect(view(accessUnit(AU2))).toEqual(expected[1]);
    expect(view(accessUnit(AU3))).toEqual(expected[2]);
  });
  it('the NAL type is the low 5 bits of the header (nal_ref_idc ignored): 0x25 and 0x45 are IDR too', () => {
    expect(accessUnit(Buffer.from([...aud(), ...nal(0x25, 4)])).idr).toBe(true);
    expect(accessUnit(Buffer.from([...aud(), ...nal(0x45, 4)])).idr).toBe(true);
    expect(accessUnit(Buffer.from([...aud(), ...nal(0x01, 4)])).idr).toBe(false);
  });
  it('a PPS alone counts as parameter sets and adds nothing to the payload', () => {
    expect(accessUnit(Buffer.from([...aud(), ...pps(), ...slice(8)]))).toMatchObject({ payloadBytes: 13, hasParameterSets: true, idr: false });
  });
  it('trailing zero bytes before the next start code are not payload', () => {
    const u = accessUnit(Buffer.from([...aud(), ...idr(10), 0, 0, 0, ...slice(5)]));
    expect(u.payloadBytes).toBe(11 + 4 + 6 + 4);
  });
  it('several slices of one picture all count', () => {
    expect(accessUnit(Buffer.from([...aud(), ...idr(30), ...idr(20, SC3)])).payloadBytes).toBe(31 + 4 + 21 + 4);
  });
  it('bytes without any start code: no NAL, no payload', () => {
    expect(accessUnit(Buffer.from([0xff, 0xfe, 0x12, 0x34]))).toMatchObject({ payloadBytes: 0, idr: false, hasParameterSets: false });
    expect(accessUnit(Buffer.alloc(0)).payloadBytes).toBe(0);
  });
  // A start code at the very end of the bytes (a stream cut right after 00 00 01) is no NAL: it
  // once added 4 bytes, so the unit no longer matched the packet size the container stored.
  it('a dangling start code at the end adds nothing to the payload', () => {
    expect(accessUnit(Buffer.from([...aud(), ...slice(9), 0, 0, 0, 1])).payloadBytes).toBe(14);
  });
});

describe('AccessUnits: splitting a stream at the delimiters', () => {
  it('the whole stream in one chunk: two units on push, the last on flush', () => {
    const s = new AccessUnits();
    expect(s.push(STREAM).map(view)).toEqual(expected.slice(0, 2));
    expect(s.flush().map(view)).toEqual(expected.slice(2));
    expect(s.flush()).toEqual([]);
  });
  it('the same units whatever the chunking (every chunk size 1..17, and every single cut point)', () => {
    for (let size = 1; size <= 17; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.subarray(i, i + size));
      expect(splitAll(chunks).map(view), `chunks of ${size}`).toEqual(expected);
    }
    for (let cut = 0; cut <= STREAM.length; cut++) {
      expect(splitAll([STREAM.subarray(0, cut), STREAM.subarray(cut)]).map(view), `cut at ${cut}`).toEqual(expected);
    }
  });
  it('a unit is returned only once the next delimiter is seen', () => {
    const s = new AccessUnits();
    expect(s.push(AU1)).toEqual([]);
    expect(s.push(AU2.subarray(0, 4))).toEqual([]); // 00 00 00 01 of the next AUD, its type byte not yet
    expect(s.push(AU2.subarray(4)).map(view)).toEqual(expected.slice(0, 1));
  });
  it('bytes before the first delimiter are dropped', () => {
    const junk = Buffer.from([0x12, 0x34, ...slice(4)]);
    expect(splitAll([Buffer.concat([junk, AU2, AU3])]).map(view)).toEqual(expected.slice(1));
  });
  it('a stream truncated inside a slice: the last unit is what arrived', () => {
    const cut = Buffer.concat([AU1, AU2.subarray(0, 6 + 20)]); // AUD (6 bytes) + start code + header + 15 bytes
    const units = splitAll([cut]);
    expect(units.map((u) => [u.payloadBytes, u.idr])).toEqual([
      [105, true],
      [16 + 4, false],
    ]);
  });
  it('garbage (no start code at all): nothing on push, one unit without payload on flush', () => {
    const s = new AccessUnits();
    const garbage = Buffer.from(Array.from({ length: 64 }, (_, i) => 0x80 | ((i * 37) % 127)));
    expect(s.push(garbage)).toEqual([]);
    const [u, ...rest] = s.flush();
    expect(rest).toEqual([]);
    expect(u).toMatchObject({ payloadBytes: 0, idr: false, hasParameterSets: false });
    expect(u!.bytes.equals(garbage)).toBe(true);
  });
  it('start codes without a delimiter never split', () => {
    const noAud = Buffer.from([...sps(), ...idr(10), ...slice(10)]);
    const s = new AccessUnits();
    expect(s.push(noAud)).toEqual([]);
    expect(s.flush().map((u) => [u.payloadBytes, u.idr, u.hasParameterSets])).toEqual([[11 + 4 + 11 + 4, true, true]]);
  });
  it('an empty stream gives nothing', () => {
    const s = new AccessUnits();
    expect(s.push(Buffer.alloc(0))).toEqual([]);
    expect(s.flush()).toEqual([]);
  });
});

describe('withParameterSets', () => {
  it('puts the last SPS and PPS (4-byte start codes) before a unit that has none', () => {
    const s = new AccessUnits();
    const [u1, u2] = s.push(STREAM);
    const [u3] = s.flush();
    expect(s.withParameterSets(u1!)).toBe(u1!.bytes);
    const params = Buffer.from([...sps(), ...pps()]);
    expect(s.withParameterSets(u2!).toString('hex')).toBe(Buffer.concat([params, AU2]).toString('hex'));
    expect(s.withParameterSets(u3!).toString('hex')).toBe(Buffer.concat([params, AU3]).toString('hex'));
  });
  it('uses the newest parameter sets, rewriting 3-byte start codes as 4-byte ones', () => {
    const sps2 = nal(0x67, 6, SC3, 0x43);
    const au4 = Buffer.from([...aud(), ...sps2, ...idr(5)]);
    const s = new AccessUnits();
    s.push(Buffer.concat([AU1, au4, AU2]));
    const [last] = s.flush();
    expect(s.withParameterSets(last!).toString('hex')).toBe(Buffer.concat([Buffer.from([...SC4, 0x67, ...new Array(6).fill(0x43)]), AU2]).toString('hex'));
  });
  it('no parameter sets seen yet: the unit as it is', () => {
    const s = new AccessUnits();
    const [u] = [...s.push(Buffer.concat([AU2, AU3])), ...s.flush()];
    expect(s.withParameterSets(u!)).toBe(u!.bytes);
  });
});

// HEVC: a 2-byte NAL header, type = (first byte >> 1) & 0x3f; AUD 35, VPS 32, SPS 33, PPS 34,
// IDR_W_RADL 19 / IDR_N_LP 20 are IDR, CRA 21 is not; prefix SEI 39 after the parameter sets may
// be the hvcC record's (hevc_mp4toannexb puts it before every IRAP picture), so the unit may
// match the packet with or without it.
describe('HEVC access units', () => {
  /** A NAL unit: start code, 2-byte header (type, layer 0, temporal id 1), `len` bytes of `fill`. */
  const hnal = (type: number, len: number, sc: number[] = SC4, fill = 0xaa) => [...sc, type << 1, 0x01, ...new Array<number>(len).fill(fill)];
  const haud = (sc: number[] = SC4) => [...sc, 0x46, 0x01, 0x50];
  const vps = () => hnal(32, 20, SC4, 0x0c);
  const hsps = () => hnal(33, 40, SC4, 0x42);
  const hpps = () => hnal(34, 5, SC4, 0xc1);
  const params = () => [...vps(), ...hsps(), ...hpps()];

  // AU1: AUD, VPS, SPS, PPS, SEI(2 + 30), IDR_W_RADL(2 + 200) -> (32 + 4) + (202 + 4) = 242, or 206 without the SEI
  // AU2: AUD, TRAIL_R(2 + 60)                                    -> 66
  // AU3: AUD (3-byte codes), TRAIL_N(2 + 9), suffix SEI(2 + 4)   -> 15 + 10 = 25
  const H1 = Buffer.from([...haud(), ...params(), ...hnal(39, 30, SC4, 0x05), ...hnal(19, 200, SC4, 0x88)]);
  const H2 = Buffer.from([...haud(), ...hnal(1, 60, SC4, 0x9a)]);
  const H3 = Buffer.from([...haud(SC3), ...hnal(0, 9, SC3, 0x9b), ...hnal(40, 4, SC3, 0x06)]);
  const HSTREAM = Buffer.concat([H1, H2, H3]);
  const hview = (u: AccessUnit) => ({ payloadBytes: u.payloadBytes, payloadChoices: u.payloadChoices, idr: u.idr, hasParameterSets: u.hasParameterSets });
  const hexpected = [
    { payloadBytes: 242, payloadChoices: [242, 206], idr: true, hasParameterSets: true },
    { payloadBytes: 66, payloadChoices: [66], idr: false, hasParameterSets: false },
    { payloadBytes: 25, payloadChoices: [25], idr: false, hasParameterSets: false },
  ];

  it('the codec descriptor: ffprobe names h264 and hevc, nothing else', () => {
    expect(annexBCodec('hevc')).toBe(HEVC);
    expect(annexBCodec('h264')).toBe(H264);
    for (const other of ['vp9', 'av1', 'mpeg4', 'toString', '']) expect(annexBCodec(other), other).toBeUndefined();
    expect(HEVC).toMatchObject({ format: 'hevc', bsf: 'hevc_mp4toannexb,hevc_metadata=aud=insert' });
  });

  it('the type is bits 1-6 of the first header byte (the layer id bit and the second byte ignored)', () => {
    expect([0x40, 0x42, 0x44, 0x46, 0x26, 0x28, 0x2a, 0x4e].map((b) => HEVC.type(b))).toEqual([32, 33, 34, 35, 19, 20, 21, 39]);
    expect(HEVC.type(0x27)).toBe(19); // nuh_layer_id's top bit set
    expect(H264.type(0x65)).toBe(5);
  });

  it('sizes, IDR and parameter sets of each unit', () => {
    expect([H1, H2, H3].map((b) => hview(accessUnit(b, HEVC)))).toEqual(hexpected);
  });

  it('IDR_W_RADL and IDR_N_LP are IDR; CRA, BLA and trailing pictures are not', () => {
    const idrOf = (type: number) => accessUnit(Buffer.from([...haud(), ...hnal(type, 8)]), HEVC).idr;
    expect([19, 20].map(idrOf)).toEqual([true, true]);
    expect([21, 16, 17, 18, 0, 1, 8, 9].map(idrOf)).toEqual(new Array(8).fill(false));
  });

  it('a CRA with parameter sets: not IDR, the SEI after the sets may be the record', () => {
    const u = accessUnit(Buffer.from([...haud(), ...params(), ...hnal(39, 10), ...hnal(39, 6), ...hnal(21, 50)]), HEVC);
    expect(hview(u)).toEqual({ payloadBytes: 16 + 12 + 56, payloadChoices: [84, 68, 56], idr: false, hasParameterSets: true });
  });

  it('an SEI after the picture, or in a unit without parameter sets, is always payload', () => {
    expect(accessUnit(Buffer.from([...haud(), ...hnal(39, 10), ...hnal(1, 20)]), HEVC).payloadChoices).toEqual([16 + 26]);
    expect(accessUnit(Buffer.from([...haud(), ...params(), ...hnal(19, 20), ...hnal(39, 10)]), HEVC).payloadChoices).toEqual([26 + 16]);
  });

  it('H.264 never drops an SEI after its parameter sets', () => {
    expect(accessUnit(Buffer.from([...aud(), ...sps(), ...pps(), ...sei(5), ...idr(20)])).payloadChoices).toEqual([10 + 25]);
  });

  it('read as H.264, an HEVC stream has no delimiters (0x46 & 0x1f is 6, an SEI): one unit', () => {
    const s = new AccessUnits();
    expect(s.push(HSTREAM)).toEqual([]);
    expect(s.flush()).toHaveLength(1);
  });

  it('splits at HEVC delimiters whatever the chunking', () => {
    for (let size = 1; size <= 13; size++) {
      const s = new AccessUnits(HEVC);
      const units: AccessUnit[] = [];
      for (let i = 0; i < HSTREAM.length; i += size) units.push(...s.push(HSTREAM.subarray(i, i + size)));
      units.push(...s.flush());
      expect(units.map(hview), `chunks of ${size}`).toEqual(hexpected);
      expect(Buffer.concat(units.map((u) => u.bytes)).equals(HSTREAM)).toBe(true);
    }
  });

  it('remembers VPS, SPS and PPS (not the SEI) and puts them before units without them', () => {
    const s = new AccessUnits(HEVC);
    const [u1, u2] = s.push(HSTREAM);
    const [u3] = s.flush();
    expect(s.withParameterSets(u1!)).toBe(u1!.bytes);
    expect(s.withParameterSets(u2!).equals(Buffer.concat([Buffer.from(params()), H2]))).toBe(true);
    expect(s.withParameterSets(u3!).equals(Buffer.concat([Buffer.from(params()), H3]))).toBe(true);
  });
});

describe('MP4 codec records and samples (keyframes read from the file)', () => {
  const body = (bytes: number[]): number[] => bytes.slice(4); // a NAL unit without its start code
  const withLen = (n: number[], size = 4): number[] => [...Array.from({ length: size }, (_, k) => (n.length >> (8 * (size - 1 - k))) & 0xff), ...n];
  const SPS = body(sps());
  const PPS = body(pps());
  // avcC: version 1, profile/compat/level, 0xFC | (4 - 1), 0xE0 | 1 SPS, [len SPS], 1 PPS, [len PPS]
  const avcC = Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, ...withLen(SPS, 2), 1, ...withLen(PPS, 2)]);

  it('avcC: the SPS and PPS with start codes, and the NAL length size', () => {
    expect(H264.record(avcC)).toEqual({ nalLengthSize: 4, parameterSets: Buffer.from([...sps(), ...pps()]) });
    const two = Buffer.from(avcC);
    two[4] = 0xfd;
    expect(H264.record(two)?.nalLengthSize).toBe(2);
  });

  it('avcC that is cut short, of another version, or without parameter sets: none', () => {
    expect(H264.record(avcC.subarray(0, avcC.length - 2))).toBeUndefined();
    expect(H264.record(Buffer.from([0, ...avcC.subarray(1)]))).toBeUndefined();
    expect(H264.record(Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe0, 0]))).toBeUndefined();
  });

  it('a sample becomes the unit the bitstream filters make: delimiter, parameter sets, NAL units with start codes', () => {
    const record = H264.record(avcC)!;
    const IDR = body(idr(100));
    const SEI = body(sei(5));
    const u = sampleUnit(Buffer.from([...withLen(SEI), ...withLen(IDR)]), record, H264)!;
    expect(u.bytes.equals(Buffer.from([...aud(), ...sps(), ...pps(), ...SC4, ...SEI, ...SC4, ...IDR]))).toBe(true);
    // payload as the MP4 stored it: each NAL with a 4-byte length
    expect(u).toMatchObject({ payloadBytes: SEI.length + 4 + IDR.length + 4, idr: true, hasParameterSets: true });
    // 2-byte lengths
    const two = sampleUnit(Buffer.from(withLen(IDR, 2)), { ...record, nalLengthSize: 2 }, H264)!;
    expect(two.bytes.equals(Buffer.from([...aud(), ...sps(), ...pps(), ...SC4, ...IDR]))).toBe(true);
    // not a keyframe: no parameter sets in front (the bitstream filter puts them before keyframes only)
    const p = sampleUnit(Buffer.from(withLen(body(slice(9)))), record, H264, false)!;
    expect(p.bytes.equals(Buffer.from([...aud(), ...slice(9)]))).toBe(true);
    expect(p).toMatchObject({ idr: false, hasParameterSets: false, payloadBytes: 10 + 4 });
    // a non-IDR keyframe (an I slice) says so
    expect(sampleUnit(Buffer.from(withLen(body(slice(9)))), record, H264)!.idr).toBe(false);
  });

  it('a length that overruns the sample, or a zero length: not a unit', () => {
    const record = H264.record(avcC)!;
    const IDR = body(idr(10));
    expect(sampleUnit(Buffer.from([0, 0, 0, IDR.length + 1, ...IDR]), record, H264)).toBeUndefined();
    expect(sampleUnit(Buffer.from([0, 0, 0, 0, ...IDR]), record, H264)).toBeUndefined();
    expect(sampleUnit(Buffer.from([0, 0, 0]), record, H264)).toBeUndefined();
  });

  it('hvcC: VPS, SPS and PPS arrays kept, the SEI array left out; its delimiter is type 35', () => {
    const hnal = (type: number, len: number, fill: number): number[] => [type << 1, 1, ...new Array<number>(len).fill(fill)];
    const vps = hnal(32, 6, 0x0c);
    const hsps = hnal(33, 9, 0x42);
    const hpps = hnal(34, 3, 0xc1);
    const hsei = hnal(39, 4, 0x05);
    const arr = (type: number, n: number[]): number[] => [0x80 | type, 0, 1, ...withLen(n, 2)];
    const hvcC = Buffer.from([1, ...new Array<number>(20).fill(0), 0x0f, 4, ...arr(32, vps), ...arr(33, hsps), ...arr(34, hpps), ...arr(39, hsei)]);
    const record = HEVC.record(hvcC)!;
    expect(record).toEqual({ nalLengthSize: 4, parameterSets: Buffer.from([...SC4, ...vps, ...SC4, ...hsps, ...SC4, ...hpps]) });
    const IDR = hnal(19, 40, 0x77);
    const u = sampleUnit(Buffer.from(withLen(IDR)), record, HEVC)!;
    expect(u.bytes.equals(Buffer.from([...SC4, 0x46, 0x01, 0x50, ...record.parameterSets, ...SC4, ...IDR]))).toBe(true);
    expect(u).toMatchObject({ payloadBytes: IDR.length + 4, idr: true, hasParameterSets: true });
    expect(HEVC.record(hvcC.subarray(0, 30))).toBeUndefined();
  });
});
