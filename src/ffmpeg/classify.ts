/**
 * Turns a failed ffmpeg/ffprobe run into an OmniprepError with a code and a one-line cause.
 * The patterns are the messages ffmpeg has printed for these failures since 4.x.
 */
import { OmniprepError, type ErrorCode } from '../errors.js';

interface Rule {
  test: RegExp;
  code: ErrorCode;
  cause: string | ((m: RegExpExecArray) => string);
}

const RULES: Rule[] = [
  {
    test: /Format not on whitelist|Protocol '?[\w-]+'? not on whitelist/i,
    code: 'UNSUPPORTED_FORMAT',
    cause: 'not a container omniprep accepts (playlist, script or unknown format)',
  },
  { test: /moov atom not found/i, code: 'CORRUPT', cause: 'the MP4 index (moov atom) is missing: the file is truncated or not finished' },
  { test: /exceeds specified max pixel count|max_pixels/i, code: 'TOO_LARGE', cause: 'a frame is larger than the pixel limit' },
  { test: /Picture size (\d+x\d+) is invalid/i, code: 'CORRUPT', cause: (m) => `invalid picture size ${m[1]}` },
  { test: /partial file|truncat/i, code: 'CORRUPT', cause: 'the file is truncated' },
  { test: /EBML header parsing failed/i, code: 'CORRUPT', cause: 'the Matroska/WebM header is damaged' },
  { test: /Invalid data found when processing input/i, code: 'UNSUPPORTED_FORMAT', cause: 'not a media file ffmpeg can read' },
  {
    test: /Output file #0 does not contain any stream|Stream map '0:v:0' matches no streams|matches no streams/i,
    code: 'NO_VIDEO_STREAM',
    cause: 'the stream asked for is not there',
  },
  { test: /No such file or directory/i, code: 'NOT_FOUND', cause: 'no such file' },
  { test: /Permission denied/i, code: 'NOT_FOUND', cause: 'permission denied' },
  { test: /Cannot allocate memory|Out of memory/i, code: 'TOO_LARGE', cause: 'ran out of memory' },
  {
    test: /(error while decoding|Invalid NAL unit|corrupt|decode_slice_header error|concealing \d+ DC)/i,
    code: 'CORRUPT',
    cause: 'the media data is damaged and cannot be decoded',
  },
];

/** The last meaningful stderr line, trimmed of ffmpeg's `[component @ 0x...]` prefix. */
export function lastErrorLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').trim())
    .filter((l) => l && !/^(Last message repeated|frame=|size=|video:|Press \[q\])/.test(l) && !/^\[Parsed_/.test(l));
  return lines[lines.length - 1] ?? '';
}

export function classifyFailure(input: string, stderrTail: string, exitCode: number, signal: NodeJS.Signals | null): OmniprepError {
  for (const rule of RULES) {
    const m = rule.test.exec(stderrTail);
    if (m) {
      const cause = typeof rule.cause === 'string' ? rule.cause : rule.cause(m);
      return new OmniprepError(rule.code, `${input}: ${cause}`, { input, details: { exitCode, stderrTail } });
    }
  }
  const last = lastErrorLine(stderrTail);
  const how = signal ? `was killed by ${signal}` : `failed (exit ${exitCode})`;
  return new OmniprepError('PROCESS_FAILED', `${input}: ffmpeg ${how}${last ? `: ${last.slice(0, 200)}` : ''}`, {
    input,
    details: { exitCode, stderrTail },
  });
}
