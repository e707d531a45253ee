/** `omniprep audio <input> --out DIR`: chunks of the input's audio in DIR, and DIR/manifest.json. */
import type { Command } from 'commander';
import { AUDIO_CUTS, AUDIO_ENCODING, type AudioCutGroupOptions, type AudioEncodingGroupOptions } from '../../options/audio.js';
import { addFlags, readFlags } from '../flags.js';
import { action, table } from '../util.js';
import { createProgress } from '../progress.js';
import { modelOptions, withModelOptions, type ModelCliOptions } from '../model-options.js';
import { manyOrOne, withManyOptions, type ManyCliOptions } from '../many.js';

interface AudioCliOptions extends ModelCliOptions, ManyCliOptions {
  allowPrivateUrls?: boolean;
  out: string;
  copy: boolean;
}

const f3 = (n: number): string => n.toFixed(3);

export function register(program: Command): void {
  const cmd = withModelOptions(
    program
      .command('audio [inputs...]')
      .description(
        'the audio of a file in chunks for speech models, cut at silences within a length and a size limit: chunks and DIR/manifest.json { input, chunks: [{ index, file, startSec, endSec, bytes, tokens }] }',
      )
      .requiredOption('--out <dir>', "directory for the chunks and manifest.json (created when missing; an earlier run's chunks are replaced)")
      .option('--no-copy', 'always encode, even a source that is already the asked encoding')
      .option('--allow-private-urls', 'let an http(s) input reach loopback, private and link-local addresses (trusted networks only)'),
  );
  withManyOptions(cmd);
  addFlags(cmd, AUDIO_CUTS);
  addFlags(cmd, AUDIO_ENCODING);
  cmd.action(
    action(async (inputs: string[], o: AudioCliOptions) => {
      const { chunkAudio } = await import('../../audio/chunk.js');
      const options = {
        ...readFlags<AudioCutGroupOptions & AudioEncodingGroupOptions>(AUDIO_CUTS, o),
        ...readFlags<AudioEncodingGroupOptions>(AUDIO_ENCODING, o),
        outDir: o.out,
        copy: o.copy,
        model: o.model,
        ...modelOptions(o),
        ...(o.allowPrivateUrls ? { remote: { allowPrivate: true } } : {}),
      };
      const input = await manyOrOne(program, inputs, o, {
        work: (one, outDir, signal) => chunkAudio(one, { ...options, outDir: outDir ?? o.out, signal }),
        counts: (a) => ({ counts: { chunks: a.totals.chunks, seconds: a.totals.seconds, tokens: a.totals.tokens } }),
      });
      if (input === undefined) return undefined;
      const bar = createProgress({ total: 0, label: 's of audio decoded', enabled: !program.opts().json });
      const r = await chunkAudio(input, { ...options, onProgress: (done, total) => bar.update(Math.round(done), Math.round(total)) }).finally(() => bar.done());
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
