/**
 * http(s) inputs without downloading them. The URL is opened with the range reader
 * (src/source/range.ts); for MP4/MOV only the first block and `moov` are read to probe and plan
 * (the packet index comes from moov: src/probe/mp4.ts), and sampling fetches, before each decode
 * task runs, only the packets that task decodes:
 *
 * - keyframe tasks: the keyframe packets they keep;
 * - exact tasks: for each frame, the packets from the keyframe before it (decode order) to a few
 *   packets after it (a decoder with B-frames shows a frame only once later packets arrived).
 *
 * The decoders read the sparse local copy, never the URL. Packets a task's demuxer passes over
 * without decoding (the other keyframes of a keyframe run, the packets between exact spans) are
 * not fetched; for H.264 they are written as filler NAL units of the packet's exact size, so
 * the packet stream stays well formed and every packet still matches the index by size (the
 * stream paths in src/extract/task.ts match access units to index packets that way).
 *
 * Matroska/WebM is read from its Cues (src/source/remote-matroska.ts): keyframe mode fetches the
 * blocks of the keyframes it keeps; exact frames and audio need every packet, and read it whole.
 * Other containers (and files these readers refuse) are fetched whole: `mode: 'download'`, with
 * the reason.
 */
import { CorruptContainer, corruptInput, OmniprepError } from '../errors.js';
import { resolveLimits, type Limits } from '../limits.js';
import { modeTraits } from '../media/formats.js';
import { withIndex } from '../probe/keyframes.js';
import { MatroskaUnsupported } from '../probe/matroska.js';
import { layoutBounds, mp4Layout, parseMoov, Mp4Unsupported, trackSamples, type Mp4Bounds, type Mp4Index } from '../probe/mp4.js';
import { probe, type ProbeOptions } from '../probe/probe.js';
import type { MediaInfo } from '../probe/types.js';
import { makeTempDir, type TempDir } from '../util/temp.js';
import type { DownloadOptions } from './download.js';
import { sniffContainer } from '../probe/local.js';
import { RemoteFile, type ByteRange, type RangeReaderOptions } from './range.js';
import { MatroskaRanges, type MatroskaTask } from './remote-matroska.js';

export interface RemoteOptions extends Pick<DownloadOptions, 'allowPrivate' | 'allowAddress' | 'resolve' | 'maxRedirects' | 'timeoutMs' | 'signal'> {
  /** Largest remote file (default: the downloader's limit). */
  maxBytes?: number | undefined;
  retries?: number | undefined;
  backoffMs?: number | undefined;
  blockBytes?: number | undefined;
  /** Ranged GETs in flight at once (default 8, at most 64): RangeReaderOptions.concurrency. */
  concurrency?: number | undefined;
  /** Most HTTP requests for this input (default 20,000): RangeReaderOptions.maxRequests. */
  maxRequests?: number | undefined;
  /** Most time spent fetching for this input (default 15 min): RangeReaderOptions.totalTimeoutMs. */
  totalTimeoutMs?: number | undefined;
  /**
   * Largest whole download when the server ignores Range (default 1 GiB, far below `maxBytes`: a
   * plan needs only the index): RangeReaderOptions.maxDownloadBytes.
   */
  maxDownloadBytes?: number | undefined;
  /** The validators an earlier reading saw (a job planned on one node, sampled on another): a file that changed since is refused. */
  expect?: RangeReaderOptions['expect'];
}

/** What reading a remote input cost, for the manifest and the plan. */
export interface RemoteReport {
  url: string;
  /** `ranges`: only what was needed was fetched; `download`: the whole file (the reason says why). */
  mode: 'ranges' | 'download';
  reason?: string | undefined;
  sizeBytes: number;
  bytesFetched: number;
  requests: number;
  retries: number;
  /** bytesFetched / sizeBytes. */
  fraction: number;
  etag?: string | undefined;
  lastModified?: string | undefined;
}

/** The slice of a decode task this module needs (src/extract/task.ts's FrameTask fits it). */
export interface TaskPackets extends MatroskaTask {
  frames: ReadonlyArray<{ pos: number; timestampSec: number }>;
}

/** How RemoteInput.open reads: `whole` reads everything (the reason), `mode` is the sampling mode (exact frames of a Matroska file need every packet). */
export type RemoteOpenOptions = RemoteOptions & { whole?: string | undefined; mode?: string | undefined };

/**
 * The range reader's options for a plan or sample call: its `remote` options, its size limit and
 * signal; scene mode decodes every frame, so it reads the whole file.
 */
export function remoteOptions(o: {
  remote?: RemoteOptions | undefined;
  limits?: Partial<Limits> | undefined;
  signal?: AbortSignal | undefined;
  mode?: string | undefined;
}): RemoteOpenOptions {
  return {
    maxBytes: resolveLimits(o.limits).maxFileBytes,
    ...o.remote,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.mode ? { mode: o.mode } : {}),
    ...(modeTraits(o.mode)?.remoteWhole ? { whole: modeTraits(o.mode)!.remoteWhole } : {}),
  };
}

export function isRemoteInput(input: unknown): input is string {
  return typeof input === 'string' && /^https?:\/\//i.test(input);
}

/** The directory prefix of a remote input's sparse local copy (under the temporary root). */
const COPY_PREFIX = 'omniprep-remote-';
/** The path of any sparse local copy (COPY_PREFIX, then range.ts's file name), as a decoder's message may show it. */
export const SPARSE_COPY = /[^\s'"]*omniprep-remote-[^/\\\s'"]+[/\\]remote\.bin/g;

/** Extra keyframes a keyframe run's demuxer may read past its last one (its frame cap allows 16). */
const KEYFRAME_READAHEAD = 16;
/** Packets fetched after an exact frame (decoder delay) and filled after a span (demuxer read-ahead). */
const EXACT_AFTER = 8;
const FILL_AFTER = 48;

export class RemoteInput {
  /** The sparse local copy: give this path to probe(). */
  readonly path: string;
  reason: string | undefined;
  private index: Mp4Index | undefined;
  private moov: Buffer | undefined;
  private bounds: Mp4Bounds | undefined;
  private byPos: Map<number, number> | undefined;
  private filled = new Set<number>();
  private lengthSize = 0;
  /** Matroska/WebM read by ranges (src/source/remote-matroska.ts). */
  private mkv: MatroskaRanges | undefined;

  private constructor(
    readonly url: string,
    readonly file: RemoteFile,
    private readonly dir: TempDir,
  ) {
    this.path = file.path;
  }

  /**
   * Opens the URL, reads what probing and planning need (MP4: the first block and moov; Matroska:
   * its header elements, Cues, and the clusters probing reads; else the whole file). `whole` reads
   * the whole file anyway (scene mode decodes every frame); exact `mode` does for Matroska.
   */
  static async open(url: string, o: RemoteOpenOptions = {}): Promise<RemoteInput> {
    const dir = makeTempDir(COPY_PREFIX);
    let file: RemoteFile | undefined;
    try {
      file = await RemoteFile.open(url, { ...o, dir: dir.path });
      const r = new RemoteInput(url, file, dir);
      await r.prepare(o.mode);
      if (o.whole && r.ranged) await r.readWhole(o.whole);
      return r;
    } catch (e) {
      await file?.close();
      dir.remove();
      throw e;
    }
  }

  /**
   * Runs a step that parses the remote file (moov, EBML). What the parsers do not model
   * (Mp4Unsupported, MatroskaUnsupported) goes to `unmodelled` (the callers read the file whole);
   * a lie in the file (CorruptContainer) or anything else a parser throws (a RangeError, a
   * TypeError) is CORRUPT naming the URL, never a whole download; OmniprepErrors pass as they are.
   */
  private async parsing<T>(step: () => Promise<T>, unmodelled: (e: Mp4Unsupported | MatroskaUnsupported) => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (e) {
      if (e instanceof OmniprepError || e instanceof CorruptContainer || !(e instanceof Mp4Unsupported || e instanceof MatroskaUnsupported))
        throw corruptInput(this.url, e);
      return unmodelled(e);
    }
  }

  private async prepare(mode: string | undefined): Promise<void> {
    const f = this.file;
    if (f.mode === 'download') {
      this.reason = 'the server does not answer byte ranges';
      return;
    }
    if (f.size === 0) throw new OmniprepError('EMPTY', `${this.url}: is empty (0 bytes)`, { input: this.url });
    const head = await f.read(0, 4096);
    const container = sniffContainer(head);
    if (container === 'ebml') return this.prepareMatroska(mode);
    if (container !== 'isobmff') return this.whole('only MP4/MOV and Matroska/WebM are read by ranges');
    // Not one the moov parser models (fragmented, several edits, ...): the decoders need it all.
    await this.parsing(
      async () => {
        const layout = await mp4Layout(f, head.length >= 16 ? await f.read(0, Math.min(f.size, 64 * 1024)) : head);
        const moov = await f.read(layout.moov.offset, layout.moov.size);
        // Every count in the moov is held to what the remote file (its length, its mdat boxes) can hold.
        this.bounds = layoutBounds(f.size, layout);
        this.index = parseMoov(moov, { bounds: this.bounds });
        this.moov = moov;
        const avcC = this.index.track.avcC;
        this.lengthSize = avcC && avcC.length > 4 ? (avcC[4]! & 3) + 1 : 0;
        this.byPos = new Map(this.index.decodeOrder.pos.map((p, i) => [p, i]));
      },
      (e) => this.whole(`the MP4 is ${e.message}`),
    );
  }

  private async prepareMatroska(mode: string | undefined): Promise<void> {
    const whole = modeTraits(mode)?.matroskaWhole;
    if (whole) return this.whole(whole);
    await this.parsing(
      async () => {
        this.mkv = await MatroskaRanges.open(this.file);
      },
      (e) => this.whole(`the Matroska file ${e.message}`),
    );
  }

  private async whole(reason: string): Promise<void> {
    this.reason = reason;
    await this.file.fetch([{ offset: 0, length: this.file.size }]);
  }

  /** Reads the rest of the file (what was filled in is fetched for real): the decoders need it all. */
  async readWhole(reason: string): Promise<void> {
    this.index = undefined;
    this.mkv = undefined;
    await this.whole(reason);
  }

  /** Whether sampling must fetch per task (false when the whole file is already local). */
  get ranged(): boolean {
    return this.index !== undefined || this.mkv !== undefined;
  }

  /**
   * probe() of the sparse copy, named by the URL. A Matroska file's packet index is its keyframes
   * from the Cues (probe saw only the packets fetched): the MediaInfo carries it (withIndex).
   */
  async probe(o: Omit<ProbeOptions, 'inputName'> = {}): Promise<MediaInfo> {
    const info = await this.parsing(
      () => probe(this.path, { ...o, inputName: this.url }),
      (e) => Promise.reject(corruptInput(this.url, e)),
    );
    const mkv = this.mkv;
    if (!mkv || !info.video) return info;
    return this.parsing(
      async () => {
        return withIndex(info, mkv.keyframeIndex(info));
      },
      async (e) => {
        await this.readWhole(`the Matroska file ${e.message}`);
        return this.probe(o);
      },
    );
  }

  /**
   * Makes local everything the decode tasks read, all before the first one runs (so no decoder
   * ever reads a packet while it is being written): the packets they decode, fetched (close ones
   * in one request); the ones their demuxers only pass over, filled (H.264) unless fetched.
   */
  async prepareTasks(tasks: readonly TaskPackets[]): Promise<void> {
    const mkv = this.mkv;
    if (mkv) {
      const reason = await this.parsing(
        () => mkv.prepareTasks(tasks),
        async (e) => `the Matroska file ${e.message}`,
      );
      if (reason) await this.readWhole(reason);
      return;
    }
    const idx = this.index;
    if (!idx) return;
    const d = idx.decodeOrder;
    const n = d.pos.length;
    const real = new Set<number>();
    const pass = new Set<number>();
    const keyBefore = (i: number): number => {
      let k = i;
      while (k > 0 && !d.keyframe[k]) k--;
      return k;
    };
    for (const task of tasks) {
      const at = task.frames.map((f) => this.byPos!.get(f.pos));
      if (at.some((i) => i === undefined)) {
        // A frame the index does not place: the whole file, never a guess.
        await this.readWhole('a planned frame is not in the moov index');
        return;
      }
      const ks = at as number[];
      if (task.decode === 'keyframes') {
        for (const i of ks) real.add(i);
        let last = Math.max(...ks);
        for (let extra = 0, i = last + 1; i < n && extra < KEYFRAME_READAHEAD; i++) {
          if (d.keyframe[i]) {
            extra++;
            last = i;
          }
        }
        for (let i = keyBefore(Math.min(...ks)); i <= last; i++) if (d.keyframe[i]) pass.add(i);
      } else {
        for (const i of ks) for (let j = keyBefore(i); j <= Math.min(n - 1, i + EXACT_AFTER); j++) real.add(j);
        for (let i = keyBefore(Math.min(...ks)); i <= Math.min(n - 1, Math.max(...ks) + FILL_AFTER); i++) pass.add(i);
      }
    }
    const range = (i: number): ByteRange => ({ offset: d.pos[i]!, length: d.size[i]! });
    await this.file.fetch([...real].sort((a, b) => a - b).map(range));
    const fillable = this.lengthSize === 4 && idx.track.codec.startsWith('avc');
    const partial: ByteRange[] = [];
    // Packets to fill, in runs of adjacent ones (one write per run).
    let run: number[] = [];
    const flush = async (): Promise<void> => {
      if (run.length) await this.fill(run);
      run = [];
    };
    for (const i of [...pass].sort((a, b) => d.pos[a]! - d.pos[b]!)) {
      if (real.has(i) || this.filled.has(i)) continue;
      const r = range(i);
      const state = this.file.coverage(r.offset, r.length);
      if (state === 'all') continue;
      // Filler only over bytes never fetched: a packet partly fetched is completed instead.
      if (state === 'none' && fillable && r.length >= 6) {
        const last = run[run.length - 1];
        if (last !== undefined && d.pos[last]! + d.size[last]! !== r.offset) await flush();
        run.push(i);
      } else partial.push(r);
    }
    await flush();
    if (partial.length) await this.file.fetch(partial);
  }

  /** Fetches every packet of one stream (an audio track: its decoder reads nothing else). */
  async fetchStream(streamIndex: number): Promise<void> {
    if (this.mkv) return this.readWhole('the audio of a Matroska file is read whole');
    const moov = this.moov;
    if (!this.index || !moov) return;
    const t = await this.parsing(
      async () => trackSamples(moov, streamIndex, this.bounds),
      async (e) => {
        await this.readWhole(`the MP4 is ${e.message}`);
        return undefined;
      },
    );
    if (t) await this.file.fetch(t.pos.map((offset, i) => ({ offset, length: t.size[i]! })));
  }

  /**
   * Writes adjacent packets as filler NAL units (type 12), each exactly its packet's size and
   * length-prefixed like the track's NAL units.
   */
  private async fill(packets: number[]): Promise<void> {
    const d = this.index!.decodeOrder;
    const total = packets.reduce((n, i) => n + d.size[i]!, 0);
    const b = Buffer.alloc(total, 0xff);
    let at = 0;
    for (const i of packets) {
      const size = d.size[i]!;
      b.writeUInt32BE(size - 4, at);
      b[at + 4] = 0x0c;
      b[at + size - 1] = 0x80;
      at += size;
    }
    await this.file.writeUnfetched(d.pos[packets[0]!]!, b);
    for (const i of packets) this.filled.add(i);
  }

  report(): RemoteReport {
    const f = this.file;
    return {
      url: this.url,
      mode: this.ranged ? 'ranges' : 'download',
      ...(this.reason ? { reason: this.reason } : {}),
      sizeBytes: f.size,
      bytesFetched: f.stats.bytesFetched,
      requests: f.stats.requests,
      retries: f.stats.retries,
      fraction: f.size ? Math.round((f.stats.bytesFetched / f.size) * 1e6) / 1e6 : 0,
      ...(f.etag ? { etag: f.etag } : {}),
      ...(f.lastModified ? { lastModified: f.lastModified } : {}),
    };
  }

  async close(): Promise<void> {
    await this.file.close();
    this.dir.remove();
  }
}
