// sampleMany / planMany (src/sample/many.ts) on real clips: the bound on inputs in flight, read
// from the processes' own log; one outcome per input; a broken input fails alone; unique
// folders; cancelling leaves no process and no half-written folder.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBinary } from '../../src/ffmpeg/binaries.js';
import { planMany, sampleMany, type ManyResult } from '../../src/index.js';
import { plan } from '../../src/plan/plan.js';
import type { Manifest } from '../../src/sample/sample.js';
import { clipTree, sourceClips, type ClipTree } from '../helpers/clips.js';
import { ownedTempDirs } from '../helpers/temp.js';

const temp = ownedTempDirs();
const OPTIONS = { mode: 'exact', every: 0.5 } as const;

/**
 * ffmpeg and ffprobe that append `start INPUT` and `end INPUT` (the `file:` argument) to one log
 * around the real binary: the log's order is the order the processes ran in.
 */
function loggingTools(dir: string): { ffmpegPath: string; ffprobePath: string; events: () => Array<[string, string]> } {
  const log = join(dir, 'events.log');
  const wrap = (name: 'ffmpeg' | 'ffprobe'): string => {
    const path = join(dir, name);
    const real = resolveBinary(name).path;
    writeFileSync(
      path,
      `#!/bin/sh\nin=$(for a in "$@"; do case "$a" in file:*) echo "$a"; break;; esac; done)\n[ -n "$in" ] && echo "start $in" >> '${log}'\n'${real}' "$@"\nrc=$?\n[ -n "$in" ] && echo "end $in" >> '${log}'\nexit $rc\n`,
      { mode: 0o755 },
    );
    return path;
  };
  const events = (): Array<[string, string]> =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split(' ', 2) as [string, string])
      : [];
  return { ffmpegPath: wrap('ffmpeg'), ffprobePath: wrap('ffprobe'), events };
}

/** The most inputs that had begun their first process and not ended their last one, at any point of the log. */
function maxInputsAtOnce(events: Array<[string, string]>): number {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  events.forEach(([, input], i) => {
    if (!first.has(input)) first.set(input, i);
    last.set(input, i);
  });
  let max = 0;
  for (let i = 0; i < events.length; i++) {
    const open = [...first.keys()].filter((k) => first.get(k)! <= i && last.get(k)! >= i).length;
    max = Math.max(max, open);
  }
  return max;
}

/** Processes (of any parent) whose command line names a file of the clip tree: ffmpeg, ffprobe or a wrapper left behind. */
function processesReading(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir)) found.push(cmd);
    } catch {
      /* gone */
    }
  }
  return found;
}

async function collect<T>(it: AsyncIterable<ManyResult<T>>): Promise<Array<ManyResult<T>>> {
  const all: Array<ManyResult<T>> = [];
  for await (const r of it) all.push(r);
  return all;
}

let tree: ClipTree;
let inputs: string[];
beforeAll(async () => {
  tree = await clipTree(temp('many-lib-'), 7);
  // Seven clips and the broken file, the broken one in the middle.
  inputs = tree.clips.map((c) => join(tree.dir, c.below));
  inputs.splice(3, 0, join(tree.dir, tree.broken));
});

describe('sampleMany', () => {
  it('samples every input, two at a time, each into its own folder; the broken one fails alone', async () => {
    const tools = loggingTools(temp('many-tools-'));
    const out = temp('many-out-');
    const results = await collect(sampleMany(inputs, { ...OPTIONS, ffmpegPath: tools.ffmpegPath, ffprobePath: tools.ffprobePath, out, concurrency: 2 }));
    expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(results.map((r) => r.input).sort()).toEqual([...inputs].sort());
    const failed = results.filter((r) => !r.ok);
    expect(failed).toEqual([
      {
        input: inputs[3],
        index: 3,
        ok: false,
        error: { code: 'UNSUPPORTED_FORMAT', message: `${inputs[3]}: is not a media file (no known container signature, and ffmpeg cannot read it)` },
      },
    ]);
    for (const r of results.filter((x): x is Extract<ManyResult<Manifest>, { ok: true }> => x.ok)) {
      expect(r.result.totals.frames).toBe(2);
      expect(r.result.frames.map((f) => f.timestampSec)).toEqual([0, 0.5]);
    }
    // Folders by file name in input order, made unique: clip-00.mp4 then sub/clip-00.mp4.
    expect(readdirSync(out).sort()).toEqual(['clip-00.mp4', 'clip-00.mp4-2', 'clip-01.mp4', 'clip-01.webm', 'clip-02.mp4', 'clip-02.webm', 'clip-03.mp4']);
    for (const d of readdirSync(out)) expect(readdirSync(join(out, d)).sort()).toEqual(['frame-00000.jpg', 'frame-00001.jpg', 'manifest.json']);
    const events = tools.events();
    expect(new Set(events.map(([, i]) => i)).size).toBe(8);
    expect(maxInputsAtOnce(events)).toBeLessThanOrEqual(2);
    expect(processesReading(tree.dir)).toEqual([]);
  }, 180_000);

  it('cancelled, stops the inputs running, starts no other, and leaves no process and no half-written folder', async () => {
    const out = temp('many-cancel-');
    const ac = new AbortController();
    const many = [...inputs, ...inputs, ...inputs];
    const seen: Array<ManyResult<Manifest>> = [];
    const run = (async () => {
      for await (const r of sampleMany(many, { ...OPTIONS, out, concurrency: 2, signal: ac.signal })) {
        seen.push(r);
        ac.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(seen).toHaveLength(1);
    expect(processesReading(tree.dir)).toEqual([]);
    // What remains is whole: inputs that ended before the abort (at most the two in flight), each with its manifest.
    const left = readdirSync(out);
    expect(left.length).toBeLessThanOrEqual(2);
    for (const d of left) {
      const m = JSON.parse(readFileSync(join(out, d, 'manifest.json'), 'utf8')) as Manifest;
      expect(readdirSync(join(out, d)).sort()).toEqual([...m.frames.map((f) => f.file.split('/').pop()), 'manifest.json'].sort());
    }
  }, 180_000);
});

describe('planMany', () => {
  it('plans every input as plan() does alone, and names the broken one', async () => {
    const results = await collect(planMany(inputs, { ...OPTIONS, concurrency: 3 }));
    expect(results).toHaveLength(8);
    const src = await sourceClips();
    for (const r of results) {
      if (!r.ok) {
        expect(r.input).toBe(inputs[3]);
        expect(r.error.code).toBe('UNSUPPORTED_FORMAT');
        continue;
      }
      const alone = await plan(src[tree.clips.find((c) => join(tree.dir, c.below) === r.input)!.source], OPTIONS);
      expect([r.result.frames.length, r.result.inputTokens, r.result.costUsd]).toEqual([alone.frames.length, alone.inputTokens, alone.costUsd]);
      expect(r.result.input).toBe(r.input);
    }
  }, 180_000);
});
