/**
 * The typed ffmpeg/ffprobe argument builder. It owns the flags every call must carry:
 * `-nostdin -hide_banner`, `-protocol_whitelist file,pipe` and the demuxer whitelist on every
 * input, `-max_pixels` on every decoder, and the right timestamp flag for the binary's version.
 */
import { resolve as resolvePath } from 'node:path';
import type { BinaryVersion } from './binaries.js';

/**
 * The demuxers omniprep accepts. Still images never reach ffmpeg (sharp reads them), so image2
 * (which expands `%d` patterns) and the playlist/script demuxers (hls, concat) are not here.
 */
export const ACCEPTED_DEMUXERS = [
  'mov',
  'mp4',
  'm4a',
  '3gp',
  '3g2',
  'mj2',
  'matroska',
  'webm',
  'avi',
  'mpegts',
  'flv',
  'ogg',
  'wav',
  'mp3',
  'flac',
  'aac',
] as const;

const INPUT_SAFETY = ['-protocol_whitelist', 'file,pipe', '-format_whitelist', ACCEPTED_DEMUXERS.join(',')];

/** A local path as an unambiguous `file:` URL for ffmpeg (a name like `-x` or `http:x` is not an option or protocol). */
export function fileArg(path: string): string {
  return `file:${resolvePath(path)}`;
}

/** Seconds with microsecond precision, never in exponent notation. */
export function sec(value: number): string {
  return (Math.round(value * 1e6) / 1e6).toFixed(6).replace(/\.?0+$/, '') || '0';
}

export interface InputOptions {
  /** Seek before opening (`-ss`): fast, lands on the keyframe at or before this time. */
  seekSec?: number | undefined;
  /** Read at most this many seconds from the seek point (`-t`). */
  durationSec?: number | undefined;
  /** Keep decoding frames before the seek point out (`false` = `-noaccurate_seek`). */
  accurateSeek?: boolean | undefined;
  /** Decoder frame skipping (`-skip_frame nokey`): decode keyframes only. */
  skipFrame?: 'nokey' | 'nointra' | undefined;
  /** Demuxer packet discarding (`-discard nokey`): non-key packets never reach the decoder. */
  discard?: 'nokey' | undefined;
  /** Decoder threads (`-threads`); decoding many ranges in parallel wants 1. */
  threads?: number | undefined;
  /** Largest frame the decoder accepts (`-max_pixels`). */
  maxPixels?: number | undefined;
}

export interface OutputOptions {
  format?: string | undefined;
  codec?: string | undefined;
  pixFmt?: string | undefined;
  extra?: readonly string[] | undefined;
}

/**
 * Builds one ffmpeg command line. Use it fluently:
 *
 *     new FfmpegArgs(version).input(file, { seekSec: 10, threads: 1 })
 *       .map('0:v:0').videoFilters(['showinfo']).passthroughTimestamps()
 *       .output('pipe:1', { format: 'rawvideo', pixFmt: 'rgb24' }).toArgs()
 */
export class FfmpegArgs {
  private readonly head: string[];
  private readonly inputs: string[] = [];
  private readonly middle: string[] = [];
  private readonly outputs: string[] = [];

  constructor(
    private readonly version: BinaryVersion,
    options: { logLevel?: 'error' | 'info' | 'warning' } = {},
  ) {
    this.head = ['-nostdin', '-hide_banner', '-loglevel', options.logLevel ?? 'error', '-y'];
  }

  input(path: string, o: InputOptions = {}): this {
    const a: string[] = [...INPUT_SAFETY];
    if (o.threads !== undefined) a.push('-threads', String(o.threads));
    if (o.skipFrame) a.push('-skip_frame', o.skipFrame);
    if (o.discard) a.push('-discard', o.discard);
    if (o.maxPixels !== undefined) a.push('-max_pixels', String(Math.floor(o.maxPixels)));
    if (o.accurateSeek === false) a.push('-noaccurate_seek');
    if (o.seekSec !== undefined && o.seekSec > 0) a.push('-ss', sec(o.seekSec));
    if (o.durationSec !== undefined) a.push('-t', sec(o.durationSec));
    a.push('-i', fileArg(path));
    this.inputs.push(...a);
    return this;
  }

  /**
   * Our own bitstream on stdin (`-f FORMAT -i pipe:0`): only that demuxer and the pipe protocol
   * are allowed. For streams omniprep made itself from an input that passed the whitelist.
   */
  pipeInput(format: 'h264' | 'hevc' | 'ivf', o: Pick<InputOptions, 'threads' | 'maxPixels'> & { showAll?: boolean } = {}): this {
    const a: string[] = ['-protocol_whitelist', 'pipe', '-format_whitelist', format];
    if (o.threads !== undefined) a.push('-threads', String(o.threads));
    if (o.maxPixels !== undefined) a.push('-max_pixels', String(Math.floor(o.maxPixels)));
    // Output intra frames that are not IDR too (a stream cut to chosen keyframes starts anywhere).
    if (o.showAll) a.push('-flags2', '+showall');
    a.push('-f', format, '-i', 'pipe:0');
    this.inputs.push(...a);
    return this;
  }

  /** Keeps input timestamps (`-copyts`), so filters and showinfo see the media's own times. */
  copyTimestamps(): this {
    this.middle.push('-copyts');
    return this;
  }

  map(spec: string): this {
    this.middle.push('-map', spec);
    return this;
  }

  noAudio(): this {
    this.middle.push('-an');
    return this;
  }

  noVideo(): this {
    this.middle.push('-vn');
    return this;
  }

  noSubtitles(): this {
    this.middle.push('-sn', '-dn');
    return this;
  }

  /** Output threads (encoders and filters). */
  threads(n: number): this {
    this.middle.push('-threads', String(n));
    return this;
  }

  videoFilters(chain: readonly string[]): this {
    if (chain.length) this.middle.push('-vf', chain.join(','));
    return this;
  }

  /** A filter graph with labelled outputs (`-filter_complex`); map its outputs with `map('[label]')`. */
  filterComplex(graph: string): this {
    this.middle.push('-filter_complex', graph);
    return this;
  }

  audioFilters(chain: readonly string[]): this {
    if (chain.length) this.middle.push('-af', chain.join(','));
    return this;
  }

  /** One output frame per decoded frame: no duplicates, no drops (`-fps_mode passthrough`, or `-vsync 0` before 5.1). */
  passthroughTimestamps(): this {
    if (this.version.hasFpsMode) this.middle.push('-fps_mode', 'passthrough');
    else this.middle.push('-vsync', '0');
    return this;
  }

  frames(n: number): this {
    this.middle.push('-frames:v', String(n));
    return this;
  }

  output(target: string, o: OutputOptions = {}): this {
    const a: string[] = [];
    if (o.codec) a.push('-c', o.codec);
    if (o.pixFmt) a.push('-pix_fmt', o.pixFmt);
    if (o.extra) a.push(...o.extra);
    if (o.format) a.push('-f', o.format);
    a.push(target === 'pipe:1' || target === '-' ? 'pipe:1' : fileArg(target));
    this.outputs.push(...a);
    return this;
  }

  toArgs(): string[] {
    return [...this.head, ...this.inputs, ...this.middle, ...this.outputs];
  }
}

/** ffprobe arguments with the same input safety flags. */
export function ffprobeArgs(path: string, query: readonly string[]): string[] {
  return ['-hide_banner', '-v', 'error', ...INPUT_SAFETY, ...query, '-i', fileArg(path)];
}
