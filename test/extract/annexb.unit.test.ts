// src/extract/annexb.ts: H.264 Annex B streams built by hand, cut into access units at the
// access-unit delimiters (NAL type 9). payloadBytes = each NAL other than AUD/SPS/PPS, header
// byte included, plus a 4-byte length (what an MP4 stores).
import { describe, expect, it } from 'vitest';
import { AccessUnits, accessUnit, type AccessUnit } from '../../src/extract/annexb.js';

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
