/** `omniprep audio <input> --out DIR`: chunks of the input's audio in DIR, and DIR/manifest.json. */
import { InvalidArgumentError, type Command } from 'commander';
import { AUDIO_DEFAULTS, AUDIO_FORMATS, type AudioFormat } from '../../audio/defaults.js';
import { action, choiceArg, numberArg, table } from '../util.js';
import { modelOptions, withModelOptions, type ModelCliOptions } from '../model-options.js';

interface AudioCliOptions extends ModelCliOptions {
  allowPrivateUrls?: boolean;
  out: string;
  chunkSeconds?: number;
  maxBytes?: number;
  format?: AudioFormat;
  overlap?: number;
  bitrate?: number;
  sampleRate?: number;
  channels?: 1 | 2;
  mp3Quality?: number;
  silenceDb?: number;
  minSilence?: number;
  search?: number;
  copy: boolean;
  concurrency?: number;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** `25000000`, `25MB` (decimal), `25MiB` (binary), `500k`. */
export function bytesArg(name: string) {
  return (value: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
    const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
    const n = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : NaN;
    if (!Number.isFinite(n) || n < 1) throw new InvalidArgumentError(`${name} must be a size in bytes (e.g. 25000000, 25MB, 24MiB), got "${value}"`);
    return n;
  };
}

/** `64k` or `64000` (bits per second). */
export function bitrateArg(name: string) {
  return (value: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(k?)\s*$/i.exec(value);
    if (!m) throw new InvalidArgumentError(`${name} must be a bit rate such as 64k or 64000, got "${value}"`);
    return Math.round(Number(m[1]) * (m[2] ? 1000 : 1));
  };
}

const f3 = (n: number): string => n.toFixed(3);

export function register(program: Command): void {
  const d = AUDIO_DEFAULTS;
  withModelOptions(
    program
      .command('audio <input>')
      .description('the audio of a file in chunks for speech models, cut at silences within a length and a size limit: chunks and DIR/manifest.json { input, chunks: [{ index, file, startSec, endSec, bytes, tokens }] }')
      .requiredOption('--out <dir>', 'directory for the chunks and manifest.json (created when missing; an earlier run\'s chunks are replaced)')
      .option('--chunk-seconds <s>', `longest chunk in seconds (default ${d.chunkSeconds})`, numberArg('--chunk-seconds', { min: 1 }))
      .option('--max-bytes <size>', `largest chunk file, e.g. 25MB (default ${d.maxBytes})`, bytesArg('--max-bytes'))
      .option('--format <f>', `mp3 or wav (16-bit PCM) (default ${d.format})`, choiceArg('--format', AUDIO_FORMATS))
      .option('--overlap <s>', 'seconds of each chunk repeated at the start of the next (default 0)', numberArg('--overlap', { min: 0 }))
      .option('--bitrate <rate>', `mp3 bit rate, constant (default ${d.bitrate / 1000}k)`, bitrateArg('--bitrate'))
      .option('--sample-rate <hz>', `output sample rate (default ${d.sampleRate})`, numberArg('--sample-rate', { min: 8000, integer: true }))
      .option('--channels <n>', `1 or 2 (default ${d.channels})`, (v: string) => numberArg('--channels', { min: 1, max: 2, integer: true })(v) as 1 | 2)
      .option('--mp3-quality <q>', `LAME quality 0 (best) to 9 (fastest) (default ${d.mp3Quality})`, numberArg('--mp3-quality', { min: 0, max: 9, integer: true }))
      .option('--silence-db <db>', `level under which audio is silence, dBFS (default ${d.silenceDb})`, numberArg('--silence-db'))
      .option('--min-silence <s>', `shortest pause that counts as silence (default ${d.minSilenceSec})`, numberArg('--min-silence', { min: 0 }))
      .option('--search <s>', `how far before a limit a cut may move to reach a silence (default ${d.searchSec})`, numberArg('--search', { min: 0 }))
      .option('--no-copy', 'always encode, even a source that is already the asked encoding')
      .option('--concurrency <n>', 'encoders at once (default: the number of cores)', numberArg('--concurrency', { min: 1, integer: true }))
      .option('--allow-private-urls', 'let an http(s) input reach loopback, private and link-local addresses (trusted networks only)'),
  ).action(
    action(async (input: string, o: AudioCliOptions) => {
      const { chunkAudio } = await import('../../audio/chunk.js');
      const r = await chunkAudio(input, {
        outDir: o.out,
        chunkSeconds: o.chunkSeconds,
        maxBytes: o.maxBytes,
        format: o.format,
        overlapSec: o.overlap,
        bitrate: o.bitrate,
        sampleRate: o.sampleRate,
        channels: o.channels,
        mp3Quality: o.mp3Quality,
        silenceDb: o.silenceDb,
        minSilenceSec: o.minSilence,
        searchSec: o.search,
        copy: o.copy,
        concurrency: o.concurrency,
        model: o.model,
        ...modelOptions(o),
        ...(o.allowPrivateUrls ? { remote: { allowPrivate: true } } : {}),
      });
      const { assets: _a, timings: _t, manifestPath: _m, ...manifest } = r;
      const e = r.encoding;
      const head = `${r.input}: ${r.totals.chunks} ${r.format} chunk${r.totals.chunks === 1 ? '' : 's'} (${e.sampleRate} Hz, ${e.channels === 1 ? 'mono' : 'stereo'}${r.format === 'mp3' ? `, ${e.bitrate / 1000} kbit/s` : ''}) in ${r.outDir}: ${f3(r.totals.seconds)} s, ${r.totals.bytes} bytes, ${r.totals.tokens} tokens for ${r.model}`;
      const rows = [
        ['#', 'file', 'start', 'end', 'seconds', 'bytes', 'tokens', 'cut'],
        ...r.chunks.map((c) => [c.index, c.file, f3(c.startSec), f3(c.endSec), f3(c.durationSec), c.bytes, c.tokens, c.method === 'copy' ? 'copy' : c.cut]),
      ];
      return { json: manifest, text: `${head}\n${table(rows)}` };
    }),
  );
}
