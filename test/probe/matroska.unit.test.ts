/** EBML primitives of the Matroska reader, and the Void elements the remote reader fills gaps with. */
import { describe, expect, it } from 'vitest';
import { blockHeader, children, MatroskaUnsupported, parseBlock, readHeader, readVint } from '../../src/probe/matroska.js';
import { voidHeader } from '../../src/source/remote-matroska.js';

describe('EBML', () => {
  it('reads variable-size integers, their length, and the all-ones unknown size', () => {
    expect(readVint(Buffer.from([0x81]), 0)).toEqual({ value: 1, length: 1, allOnes: false });
    expect(readVint(Buffer.from([0x40, 0x02]), 0)).toEqual({ value: 2, length: 2, allOnes: false });
    expect(readVint(Buffer.from([0x10, 0x00, 0x01, 0x00]), 0)).toEqual({ value: 256, length: 4, allOnes: false });
    expect(readVint(Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0)).toEqual({ value: 2 ** 56 - 1, length: 8, allOnes: true });
    expect(readVint(Buffer.from([0xff]), 0)).toEqual({ value: 127, length: 1, allOnes: true });
    expect(readVint(Buffer.from([0x40]), 0)).toBeUndefined(); // cut short
    expect(readVint(Buffer.from([0x00]), 0)).toBeUndefined(); // no length marker in the first byte
  });

  it('reads element headers (IDs keep their marker; an unknown size is -1) and children', () => {
    const cluster = Buffer.from([0x1f, 0x43, 0xb6, 0x75, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(readHeader(cluster, 0, 1000)).toEqual({ id: 0x1f43b675, offset: 1000, data: 1012, size: -1 });
    const two = Buffer.from([0xe7, 0x81, 0x05, 0xec, 0x82, 0x00, 0x00]);
    expect([...children(two, 50)].map((e) => [e.id, e.offset, e.data, e.size, [...e.body]])).toEqual([
      [0xe7, 50, 52, 1, [5]],
      [0xec, 53, 55, 2, [0, 0]],
    ]);
    expect(readHeader(Buffer.from([0x1f, 0x43]), 0)).toBeUndefined();
  });

  it('blocks: track, time, keyframe flag, packet position and size; a BlockGroup without ReferenceBlock is a keyframe', () => {
    // SimpleBlock: size 7 = track 1 (0x81), time +33 (0x0021), flags keyframe (0x80), 3 bytes of frame.
    const simple = Buffer.from([0xa3, 0x87, 0x81, 0x00, 0x21, 0x80, 1, 2, 3]);
    expect(blockHeader(simple, 100)).toEqual({ track: 1, timecode: 33 });
    expect(parseBlock(simple, 100)).toEqual({ offset: 100, end: 109, pos: 102, size: 3, track: 1, keyframe: true });
    expect(parseBlock(Buffer.from([0xa3, 0x87, 0x81, 0x00, 0x21, 0x00, 1, 2, 3]), 0)?.keyframe).toBe(false);
    const block = [0xa1, 0x86, 0x82, 0xff, 0xfe, 0x00, 9, 9];
    const group = Buffer.from([0xa0, 0x88, ...block]);
    expect(blockHeader(group, 0)).toEqual({ track: 2, timecode: -2 });
    expect(parseBlock(group, 0)).toEqual({ offset: 2, end: 10, pos: 4, size: 2, track: 2, keyframe: true, group: { offset: 0, end: 10 } });
    const referenced = Buffer.from([0xa0, 0x8b, ...block, 0xfb, 0x81, 0x01]);
    expect(parseBlock(referenced, 0)?.keyframe).toBe(false);
    expect(() => parseBlock(Buffer.from([0xa3, 0x87, 0x81, 0x00, 0x00, 0x82, 1, 2, 3]), 0)).toThrow(MatroskaUnsupported);
  });

  it('a Void element covers exactly the gap it starts, from 2 bytes up', () => {
    for (const n of [2, 3, 100, 128, 129, 130, 4096, 2 ** 33 + 5]) {
      const h = readHeader(voidHeader(n), 0, 0)!;
      expect(h.id).toBe(0xec);
      expect(h.data + h.size, String(n)).toBe(n);
    }
    expect(voidHeader(128)).toEqual(Buffer.from([0xec, 0xfe]));
    expect(() => voidHeader(1)).toThrow(/would need a Void element in a 1-byte gap/);
  });
});
