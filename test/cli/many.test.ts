/**
 * The command line over many inputs (src/cli/many.ts, src/cli/inputs.ts): a directory of 50
 * clips and a broken file, --from with comments, a URL and a missing path, --jobs, one folder per
 * input under --out with unique names, summary.json, a JSON line per input, the dataset's totals
 * per tier, exit code 1 when some failed. Runs the built CLI (npm run build).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../../src/plan/plan.js';
import type { Plan } from '../../src/plan/types.js';
import { CLI, cli, leftovers } from '../helpers/cli.js';
import { clipTree, sourceClips, type ClipName, type ClipTree } from '../helpers/clips.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';
import { ownedTempDirs } from '../helpers/temp.js';

const temp = ownedTempDirs();
const SAMPLING = ['--mode', 'exact', '--every', '0.5'];
const BROKEN_CAUSE = 'is not a media file (no known container signature, and ffmpeg cannot read it)';

let tree: ClipTree;
/** plan() of each source clip alone, with the sampling above: what each copy must count. */
let alone: Record<ClipName, Plan>;
let server: RangeServer;

beforeAll(async () => {
  tree = await clipTree(temp('many-cli-'), 49);
  const src = await sourceClips();
  alone = {} as Record<ClipName, Plan>;
  for (const [name, path] of Object.entries(src) as Array<[ClipName, string]>) alone[name] = await plan(path, { mode: 'exact', every: 0.5 });
  server = await startRangeServer({ 'remote.mp4': src['tone.mp4'] });
});
afterAll(() => server?.close());

/** The inputs a sorted walk of the tree finds: the top's clips, then sub/ (broken.mp4 first). */
function walkOrder(): Array<{ below: string; source: ClipName | undefined }> {
  const byName = (a: { below: string }, b: { below: string }): number => (a.below < b.below ? -1 : 1);
  const top = tree.clips.filter((c) => !c.below.startsWith('sub/')).sort(byName);
  const sub = [...tree.clips.filter((c) => c.below.startsWith('sub/')), { below: tree.broken, source: undefined }].sort(byName);
  return [...top, ...sub];
}

describe('omniprep sample DIR', () => {
  it('samples 49 clips two at a time, names the broken one, writes summary.json and exits 1', async () => {
    const out = join(temp('many-cli-out-'), 'frames');
    const r = await cli(['sample', tree.dir, '--out', out, '--jobs', '2', ...SAMPLING], { timeoutMs: 170_000 });
    expect(r.code).toBe(1);
    const broken = join(tree.dir, tree.broken);
    expect(r.stderr).toBe(`omniprep: ${broken}: ${BROKEN_CAUSE}\n`);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(49 + 2);
    const order = walkOrder();
    const items = order.map(({ below, source }, index) =>
      source
        ? {
            index,
            input: join(tree.dir, below),
            out: below.replace('/', '_'),
            ok: true,
            frames: 2,
            tokens: alone[source].inputTokens,
            usd: alone[source].costUsd,
          }
        : { index, input: broken, ok: false, error: { code: 'UNSUPPORTED_FORMAT', message: `${broken}: ${BROKEN_CAUSE}` } },
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.items).toEqual(items);
    expect([summary.inputs, summary.ok, summary.failed, summary.totals.frames]).toEqual([50, 49, 1, 98]);
    const ok = items.filter((i) => i.ok) as Array<{ tokens: number; usd: number; out: string }>;
    expect(summary.totals.tokens).toBe(ok.reduce((a, i) => a + i.tokens, 0));
    expect(summary.totals.usd).toBe(Math.round(ok.reduce((a, i) => a + i.usd, 0) * 1e9) / 1e9);
    // One folder per clip, clip-00.mp4 and sub/clip-00.mp4 apart; the broken one left none.
    expect(readdirSync(out).sort()).toEqual([...ok.map((i) => i.out), 'summary.json'].sort());
    for (const i of ok) expect(readdirSync(join(out, i.out)).sort()).toEqual(['frame-00000.jpg', 'frame-00001.jpg', 'manifest.json']);
    expect(lines).toContain(
      `${join(tree.dir, 'sub', 'clip-00.mp4')}: 2 frames, ${alone['mute.mp4'].inputTokens} tokens, $${alone['mute.mp4'].costUsd.toFixed(4)} -> ${join(out, 'sub_clip-00.mp4')}`,
    );
    expect(lines.at(-2)).toMatch(/^50 inputs: 49 ok, 1 failed; total 98 frames, \d+ tokens, \$\d+\.\d{4}$/);
    expect(lines.at(-1)).toBe(`summary: ${join(out, 'summary.json')}`);
    expect(leftovers(r)).toEqual({ files: [], processes: [] });
  }, 180_000);
});

describe('bad many-input usage', () => {
  it('is one line each: no input, a missing list, a folder without media, a bad --jobs', async () => {
    const empty = temp('many-empty-');
    writeFileSync(join(empty, 'notes.txt'), 'not media\n');
    writeFileSync(join(empty, 'comments.txt'), '# only comments\n\n   \n# and blank lines\n');
    const cases: Array<[string[], number, string]> = [
      [['sample', '--out', join(empty, 'o')], 2, 'omniprep: an input is required (a path, a URL or a directory)\n'],
      [['plan', '--from', join(empty, 'nope.txt')], 2, `omniprep: option --from: ${join(empty, 'nope.txt')}: no such file\n`],
      [['plan', '--from', join(empty, 'comments.txt')], 2, `omniprep: option --from: ${join(empty, 'comments.txt')} names no input\n`],
      [
        ['plan', '--jobs', '0', empty],
        2,
        `error: option '--jobs <n>' argument '0' is invalid. --jobs must be an integer from 1 to 1024, got "0"\n(run with --help for usage)\n`,
      ],
    ];
    for (const [args, code, stderr] of cases) {
      const r = await cli(args);
      expect([r.code, r.stderr, r.stdout], args.join(' ')).toEqual([code, stderr, '']);
    }
    const none = await cli(['plan', empty]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(new RegExp(`^omniprep: ${empty}: no media files in this directory or below \\(by extension: \\.mp4 \\.m4v .*\\.webm .*\\)\n$`));
  }, 120_000);
});

describe('omniprep plan --from LIST', () => {
  it('plans paths and a URL, skips blank lines and comments, keeps folder names unique, one JSON line per input', async () => {
    const work = temp('many-from-');
    const src = await sourceClips();
    for (const d of ['a', 'b']) {
      mkdirSync(join(work, d));
      copyFileSync(src['tone.mp4'], join(work, d, 'clip.mp4'));
    }
    const missing = join(work, 'missing.mp4');
    const url = server.url('remote.mp4');
    const list = join(work, 'list.txt');
    writeFileSync(list, `# a dataset\n${join(work, 'a', 'clip.mp4')}\n\n  ${join(work, 'b', 'clip.mp4')}  \n${url}\n# the end\n${missing}\n`);
    const out = join(work, 'plans');
    const r = await cli(['--json', 'plan', '--from', list, '--out', out, '--jobs', '2', '--allow-private-urls', ...SAMPLING], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`omniprep: ${missing}: no such file\n`);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    const p = alone['tone.mp4'];
    const row = { ok: true, frames: 2, tokens: p.inputTokens, usd: p.costUsd, usdByTier: p.costByTier };
    expect(lines.slice(0, 4).sort((x, y) => x.index - y.index)).toEqual([
      { index: 0, input: join(work, 'a', 'clip.mp4'), out: 'clip.mp4', ...row },
      { index: 1, input: join(work, 'b', 'clip.mp4'), out: 'clip.mp4-2', ...row },
      { index: 2, input: url, out: 'remote.mp4', ...row },
      { index: 3, input: missing, ok: false, error: { code: 'NOT_FOUND', message: `${missing}: no such file` } },
    ]);
    const tiers = Object.fromEntries(Object.entries(p.costByTier).map(([t, v]) => [t, v * 3]));
    expect(Object.keys(lines[4])).toEqual(['summary']);
    expect(lines[4].summary).toMatchObject({ inputs: 4, ok: 3, failed: 1, totals: { frames: 6, tokens: p.inputTokens * 3 } });
    for (const [t, v] of Object.entries(tiers)) expect(lines[4].summary.usdByTier[t]).toBeCloseTo(v, 9);
    for (const d of ['clip.mp4', 'clip.mp4-2', 'remote.mp4'])
      expect(JSON.parse(readFileSync(join(out, d, 'plan.json'), 'utf8')).inputTokens).toBe(p.inputTokens);
    expect(existsSync(join(out, 'missing.mp4'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).items.map((i: { out?: string }) => i.out)).toEqual([
      'clip.mp4',
      'clip.mp4-2',
      'remote.mp4',
      undefined,
    ]);
  }, 150_000);

  it('prints the dataset total per tier in text', async () => {
    const dir = join(tree.dir, 'sub');
    const r = await cli(['plan', dir, ...SAMPLING], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(24 + 2);
    // The dataset's dollars per tier: the clips' plans summed in the inputs' order (sub/broken.mp4 first, then sub/clip-*).
    const sources = walkOrder()
      .filter((c) => c.below.startsWith('sub/') && c.source)
      .map((c) => alone[c.source!]);
    const tiers = Object.keys(alone['tone.mp4'].costByTier) as Array<keyof Plan['costByTier']>;
    const usd = (x: number): string => `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`;
    // Summed in the inputs' order, then rounded to 1e-9 as summary totals are (no float tail).
    const round9 = (x: number): number => Math.round(x * 1e9) / 1e9;
    const sum = (t: keyof Plan['costByTier']): number => round9(sources.reduce((a, p) => a + p.costByTier[t]!, 0));
    expect(lines.at(-1)).toBe(`dataset cost by tier: ${tiers.map((t) => `${t} ${usd(sum(t))}`).join(', ')}`);
    const tokens = sources.reduce((a, p) => a + p.inputTokens, 0);
    expect(lines.at(-2)).toBe(`25 inputs: 24 ok, 1 failed; total 48 frames, ${tokens} tokens, ${usd(round9(sources.reduce((a, p) => a + p.costUsd, 0)))}`);
  }, 150_000);
});

describe('omniprep request|audio|batch over many inputs', () => {
  let small: string;
  beforeAll(async () => {
    small = temp('many-small-');
    const src = await sourceClips();
    copyFileSync(src['tone.mp4'], join(small, 'tone.mp4'));
    copyFileSync(src['vp8.webm'], join(small, 'vp8.webm'));
  });

  it('request: each input body in its folder, the same body a single request prints', async () => {
    const out = join(small, 'requests');
    const r = await cli(['request', small, '--prompt', 'What happens?', '--out', out, ...SAMPLING]);
    expect(r.code).toBe(0);
    const one = await cli(['request', join(small, 'tone.mp4'), '--prompt', 'What happens?', ...SAMPLING]);
    expect(JSON.parse(readFileSync(join(out, 'tone.mp4', 'request-000.json'), 'utf8'))).toEqual(JSON.parse(one.stdout));
    expect(readdirSync(join(out, 'vp8.webm'))).toEqual(['request-000.json']);
  }, 120_000);

  it('a progress bar on stderr when it is a terminal (util-linux script gives it one), none with --json', async () => {
    if (spawnSync('script', ['--version']).status !== 0) return console.warn('skipped: no util-linux script to run the CLI on a terminal');
    const two = temp('many-tty-in-');
    const src = await sourceClips();
    copyFileSync(src['tone.mp4'], join(two, 'tone.mp4'));
    copyFileSync(src['vp8.webm'], join(two, 'vp8.webm'));
    const run = (json: string): string => {
      const out = temp('many-tty-');
      const cmd = [process.execPath, CLI, ...(json ? [json] : []), 'sample', two, '--out', out, '--jobs', '1', ...SAMPLING].map((a) => `'${a}'`).join(' ');
      return spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000 }).stdout;
    };
    const tty = run('');
    expect(tty).toMatch(/\r\[#{12}\.{12}\] 1\/2 inputs, 2 frames, ETA (\d+m)?\d+s/);
    expect(tty).toContain('\r[########################] 2/2 inputs, 4 frames');
    expect(tty).toContain('\r\x1b[K');
    const json = run('--json');
    expect(json).not.toContain('inputs, ');
    expect(json.trim().split(/\r?\n/)).toHaveLength(3);
  }, 120_000);

  it('audio: chunks per input; an input without audio fails alone', async () => {
    const out = join(small, 'audio');
    const r = await cli(['audio', join(small, 'tone.mp4'), join(small, 'vp8.webm'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`omniprep: ${join(small, 'vp8.webm')}: has no audio stream\n`);
    expect(readdirSync(join(out, 'tone.mp4')).sort()).toEqual(['chunk-000.mp3', 'manifest.json']);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ inputs: 2, ok: 1, failed: 1, totals: { chunks: 1 } });
  }, 120_000);

  it('batch: a line per input prepared, the failed one named, exit 1', async () => {
    const list = join(small, 'list.txt');
    writeFileSync(list, `${join(small, 'tone.mp4')}\n${join(tree.dir, tree.broken)}\n${join(small, 'vp8.webm')}\n`);
    const jsonl = join(small, 'batch.jsonl');
    const r = await cli(['batch', '--from', list, '--prompt', 'What happens?', '--out', jsonl, '--jobs', '2', ...SAMPLING]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`omniprep: ${join(tree.dir, tree.broken)}: ${BROKEN_CAUSE}\n`);
    const ids = readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).custom_id as string);
    expect(ids).toHaveLength(2);
    expect(r.stdout).toMatch(/^2 requests in 1 file\(s\)/);
  }, 120_000);
});
