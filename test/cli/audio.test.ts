/** `omniprep audio` as a user runs it (the built CLI: run `npm run build` first). */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, tempDir } from '../helpers/fixtures.js';
import { cli, leftovers } from '../helpers/cli.js';

describe('omniprep audio', () => {
  it('writes the chunks and DIR/manifest.json as the README says, and prints the same with --json', async () => {
    const src = await fixture('tones');
    const out = join(tempDir('audio-cli-'), 'chunks');
    const r = await cli(['audio', src, '--out', out, '--chunk-seconds', '8', '--max-bytes', '1MB', '--overlap', '0.5', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect({ ...printed, outDir: undefined }).toEqual(JSON.parse(JSON.stringify({ ...manifest, outDir: undefined })));
    expect(manifest.input).toBe(src);
    expect(manifest.limits).toMatchObject({ chunkSeconds: 8, maxBytes: 1_000_000, overlapSec: 0.5 });
    expect(manifest.chunks).toHaveLength(6);
    manifest.chunks.forEach((c: Record<string, number | string>, i: number) => {
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['index', 'file', 'startSec', 'endSec', 'bytes', 'tokens']));
      expect(c.index).toBe(i);
      expect(c.file).toBe(`chunk-00${i}.mp3`);
      expect(statSync(join(out, c.file as string)).size).toBe(c.bytes);
      if (i > 0) expect((manifest.chunks[i - 1].endSec as number) - (c.startSec as number)).toBeCloseTo(0.5, 9);
    });
    expect(readdirSync(out).sort()).toEqual([...manifest.chunks.map((c: { file: string }) => c.file), 'manifest.json'].sort());
    expect(leftovers(r)).toEqual({ files: [], processes: [] });

    // Run again into the same directory with fewer chunks: the earlier run's extra chunks go.
    const again = await cli(['audio', src, '--out', out, '--format', 'wav']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/: 1 wav chunk \(16000 Hz, mono\) in .*: 30\.000 s, 960044 bytes, 300 tokens for gpt-5\.5\n/);
    expect(again.stdout).toMatch(/^0 +chunk-000\.wav +0\.000 +30\.000 +30\.000 +960044 +300 +copy$/m);
    expect(readdirSync(out).sort()).toEqual(['chunk-000.wav', 'manifest.json']);
  });

  it('tokens follow --model (Gemini: 32 per second)', async () => {
    const out = tempDir('audio-cli-');
    const r = await cli(['audio', await fixture('coverArt'), '--out', out, '--model', 'gemini-2.5-flash', '--json']);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m).toMatchObject({ model: 'gemini-2.5-flash', tokensPerSecond: 32 });
    expect(m.chunks[0].tokens).toBe(Math.ceil(m.chunks[0].durationSec * 32 - 1e-9));
  });

  it('a video without audio: exit 1, one line naming the input, nothing in --out or temp, no process left', async () => {
    const src = await fixture('longgop');
    const out = join(tempDir('audio-cli-'), 'out');
    const r = await cli(['audio', src, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`omniprep: ${src}: has no audio stream\n`);
    expect(existsSync(out)).toBe(false);
    expect(leftovers(r)).toEqual({ files: [], processes: [] });
  });

  it('usage errors exit 2 with one line: a model without audio, a bad format, a bad size', async () => {
    const src = await fixture('tones');
    const out = join(tempDir('audio-cli-'), 'out');
    const noAudio = await cli(['audio', src, '--out', out, '--model', 'claude-opus-4.7']);
    expect(noAudio.code).toBe(2);
    expect(noAudio.stderr.trim().split('\n')).toHaveLength(1);
    expect(noAudio.stderr).toMatch(/model claude-opus-4\.7 takes no audio input; models that do: .*gpt-audio/);
    const badFormat = await cli(['audio', src, '--out', out, '--format', 'ogg']);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/option format: expected one of mp3, wav, got "ogg"/);
    const badSize = await cli(['audio', src, '--out', out, '--max-bytes', 'lots']);
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toMatch(/option maxBytes: expected a size in bytes \(e\.g\. 25000000, 25MB, 24MiB\), got "lots"/);
    const tooSmall = await cli(['audio', src, '--out', out, '--max-bytes', '2k']);
    expect(tooSmall.code).toBe(2);
    expect(tooSmall.stderr).toMatch(/option maxBytes: expected at least \d+ bytes \(one second of mp3/);
    expect(existsSync(out)).toBe(false);
  });
});
