/**
 * TEST CODE. How long audio bytes play, read from the bytes themselves: what the model test
 * servers (test/helpers/model-server.ts) bill audio parts by.
 */

const MP3_BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MP3_BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MP3_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/**
 * Duration of MPEG audio layer III bytes: frames counted, a leading Xing/Info frame skipped, and
 * the encoder delay and padding of its LAME tag taken off (what a gapless decoder plays).
 */
export function mp3Seconds(buf: Buffer): number | undefined {
  let i = 0;
  if (buf.length > 10 && buf.toString('latin1', 0, 3) === 'ID3') {
    const size = ((buf[6]! & 0x7f) << 21) | ((buf[7]! & 0x7f) << 14) | ((buf[8]! & 0x7f) << 7) | (buf[9]! & 0x7f);
    i = 10 + size + (buf[5]! & 0x10 ? 10 : 0);
  }
  let samples = 0;
  let rate = 0;
  let first = true;
  let trim = 0;
  while (i + 4 <= buf.length) {
    const b1 = buf[i + 1]!;
    const b2 = buf[i + 2]!;
    if (buf[i] !== 0xff || (b1 & 0xe0) !== 0xe0) {
      i++;
      continue;
    }
    const ver = (b1 >> 3) & 3;
    const layer = (b1 >> 1) & 3;
    const brIdx = b2 >> 4;
    const srIdx = (b2 >> 2) & 3;
    if (ver === 1 || layer !== 1 || brIdx === 0 || brIdx === 15 || srIdx === 3) {
      i++;
      continue;
    }
    const bitrate = (ver === 3 ? MP3_BITRATES_V1 : MP3_BITRATES_V2)[brIdx]! * 1000;
    const sr = MP3_RATES[ver]![srIdx]!;
    const perFrame = ver === 3 ? 1152 : 576;
    const len = Math.floor(((perFrame / 8) * bitrate) / sr) + ((b2 >> 1) & 1);
    if (first) {
      first = false;
      const mono = buf[i + 3]! >> 6 === 3;
      const side = ver === 3 ? (mono ? 17 : 32) : mono ? 9 : 17;
      const at = i + 4 + side;
      const tag = buf.toString('latin1', at, at + 4);
      if (tag === 'Xing' || tag === 'Info') {
        const flags = buf.readUInt32BE(at + 4);
        let lame = at + 8;
        for (const [bit, size] of [
          [1, 4],
          [2, 4],
          [4, 100],
          [8, 4],
        ] as const)
          if (flags & bit) lame += size;
        if (lame + 24 <= buf.length && /^(LAME|Lavc|Lavf)/.test(buf.toString('latin1', lame, lame + 4))) {
          const b = lame + 21;
          trim = ((buf[b]! << 4) | (buf[b + 1]! >> 4)) + (((buf[b + 1]! & 0x0f) << 8) | buf[b + 2]!);
        }
        i += len;
        continue;
      }
    }
    samples += perFrame;
    rate = sr;
    i += len;
  }
  return rate ? Math.max(0, samples - trim) / rate : undefined;
}

/** Duration of a RIFF WAVE: data bytes / byte rate. */
export function wavSeconds(buf: Buffer): number | undefined {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let i = 12;
  let byteRate = 0;
  while (i + 8 <= buf.length) {
    const id = buf.toString('latin1', i, i + 4);
    const size = buf.readUInt32LE(i + 4);
    if (id === 'fmt ') byteRate = buf.readUInt32LE(i + 16);
    if (id === 'data') return byteRate ? Math.min(size, buf.length - i - 8) / byteRate : undefined;
    i += 8 + size + (size % 2);
  }
  return undefined;
}
