import { describe, expect, it } from 'vitest';
import { parseShowinfo } from '../../src/extract/showinfo.js';

// Lines as the two generations of ffmpeg print them for the same frame of a 20-s test clip.
const BEFORE_7 =
  '[Parsed_showinfo_1 @ 0x3099aa40] n:   1 pts:    512 pts_time:0.0333333 pos:     4811 fmt:yuv420p sar:1/1 s:640x360 i:P iskey:0 type:P checksum:17F26CAA plane_checksum:[885A5F7B 02828690 02828690] mean:[102 128 128 ] stdev:[49.4 0.0 0.0 ]';
const SINCE_7 =
  '[Parsed_showinfo_1 @ 0x7facb8002280] n:   1 pts:    512 pts_time:0.0333333 duration:    512 duration_time:0.0333333 fmt:yuv420p cl:left sar:1/1 s:640x360 i:P iskey:0 type:P checksum:17F26CAA plane_checksum:[885A5F7B 02828690 02828690] mean:[102 128 128] stdev:[49.4 0.0 0.0]';

describe('showinfo lines', () => {
  it('reads time, position and keyframe flag from a line before 7.0', () => {
    expect(parseShowinfo(BEFORE_7, 0)).toEqual({ time: 0.0333333, pos: 4811, key: false });
    expect(parseShowinfo(BEFORE_7.replace('iskey:0', 'iskey:1'), 0.0333333)).toEqual({ time: 0, pos: 4811, key: true });
  });

  it('reads a 7.0-and-later line, which has no position (pos -1, as for a frame without one)', () => {
    expect(parseShowinfo(SINCE_7, 0)).toEqual({ time: 0.0333333, pos: -1, key: false });
    expect(parseShowinfo(SINCE_7.replace('pts_time:0.0333333', 'pts_time:-0.5'), 1)).toEqual({ time: -1.5, pos: -1, key: false });
  });

  it('ignores every other line', () => {
    for (const line of ['frame=  600 fps=0.0 q=-0.0 Lsize=N/A time=00:00:20.00', '[Parsed_showinfo_1 @ 0x1] config in time_base: 1/15360', '']) {
      expect(parseShowinfo(line, 0)).toBeUndefined();
    }
  });
});
