// The cost curve is plan() at each interval (the table must match it exactly), shot coverage is
// counted against the scene fixture's known cuts, and the chart renders, with its text, without
// a browser.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { costCurve, costCurveTable, coveredShots, shotsFromCuts, type CostCurve } from '../../src/cost/curve.js';
import { costCurveSpec, costCurveSvg, svgToPng } from '../../src/cost/chart.js';
import { plan } from '../../src/plan/plan.js';
import { cli } from '../helpers/cli.js';
import { fixture, sharedMedia, tempDir, SCENE_CUTS, SCENE_SECONDS } from '../helpers/fixtures.js';

function expectMatchesPlan(curve: CostCurve, planned: Awaited<ReturnType<typeof plan>>, series: number, point: number): void {
  const p = curve.series[series]!.points[point]!;
  expect(p).toMatchObject({
    every: planned.every,
    frames: planned.frames.length,
    imageTokens: planned.imageTokens,
    textTokens: planned.textTokens,
    inputTokens: planned.inputTokens,
    outputTokens: planned.outputTokens,
    costUsd: planned.costUsd,
    requests: planned.requests,
  });
  expect(p.costByTier).toEqual(planned.costByTier);
}

describe('shots and coverage (pure)', () => {
  it('a shot is [cut_i, cut_i+1); a frame exactly at a cut belongs to the shot it starts', () => {
    const shots = shotsFromCuts([4, 9], 0, 12);
    expect(shots).toEqual([
      [0, 4],
      [4, 9],
      [9, 12],
    ]);
    expect(coveredShots(shots, [0, 4])).toEqual([true, true, false]);
    expect(coveredShots(shots, [3.999, 8.9999, 11.99])).toEqual([true, true, true]);
    expect(coveredShots(shots, [])).toEqual([false, false, false]);
    // cuts outside the window are not shots
    expect(shotsFromCuts([2, 20], 5, 10)).toEqual([[5, 10]]);
  });
});

describe('costCurve on the scene fixture (cuts at 4, 9, 13, 18 s; 24 s)', () => {
  const every = [1, 2, 5, 6, 10, 30];

  it('finds the cuts once and counts the shots each interval still reaches (exact mode)', async () => {
    const input = await fixture('scene');
    const curve = await costCurve(input, { every, mode: 'exact', models: ['gpt-5.5', 'gpt-4o'], details: ['low', 'high'] });
    expect(curve.shots!.cuts).toEqual(SCENE_CUTS);
    expect(curve.shots).toMatchObject({ detector: 'adaptive', threshold: 3, rule: "HSV difference >= 3 x its neighbours' and >= 8" });
    expect(curve.shots!.shots).toEqual([
      [0, 4],
      [4, 9],
      [9, 13],
      [13, 18],
      [18, SCENE_SECONDS],
    ]);
    // exact frames at 0, e, 2e, ...: e=6 misses [13,18) (frames 12 and 18); e=10 hits 0, 10, 20; e=30 only 0
    expect(curve.shots!.byInterval.map((b) => [b.every, b.frames, b.covered])).toEqual([
      [1, 24, 5],
      [2, 12, 5],
      [5, 5, 5],
      [6, 4, 4],
      [10, 3, 3],
      [30, 1, 1],
    ]);
    expect(curve.shots!.byInterval.find((b) => b.every === 6)!.missed).toEqual([[13, 18]]);
    for (const s of curve.series) expect(s.points.map((p) => p.coverage)).toEqual([1, 1, 1, 0.8, 0.6, 0.2]);
    expect(curve.series.map((s) => `${s.model} ${s.detail}`)).toEqual(['gpt-5.5 low', 'gpt-5.5 high', 'gpt-4o low', 'gpt-4o high']);
    // gpt-4o has no flex or priority price: the tiers present are the union
    expect(curve.tiers).toEqual(['standard', 'batch', 'flex', 'priority']);
    expect(curve.series[2]!.points[0]!.costByTier.priority).toBeUndefined();
  });

  it('every row is plan() at that interval, to the token and the dollar', async () => {
    const input = await fixture('scene');
    const opts = { prompt: 'What changes between the shots?', outputTokens: 300 };
    const curve = await costCurve(input, { every, models: ['gpt-5.5', 'gpt-5-mini'], details: ['high', 'low'], ...opts });
    let checked = 0;
    for (const [si, s] of curve.series.entries()) {
      for (const [pi, e] of every.entries()) {
        expectMatchesPlan(curve, await plan(input, { model: s.model, detail: s.detail, every: e, ...opts }), si, pi);
        checked++;
      }
    }
    expect(checked).toBe(24);
    // the text table carries the same numbers
    const rows = costCurveTable(curve);
    expect(rows[0]).toEqual([
      'model',
      'detail',
      'every s',
      'frames',
      'image tok',
      'input tok',
      'standard $',
      'batch $',
      'flex $',
      'priority $',
      'shots covered',
    ]);
    const p = curve.series[0]!.points[2]!;
    expect(rows[3]).toEqual([
      'gpt-5.5',
      'high',
      5,
      p.frames,
      p.imageTokens,
      p.inputTokens,
      `$${p.costByTier.standard!.toFixed(4)}`,
      expect.any(String),
      expect.any(String),
      expect.any(String),
      expect.stringMatching(/^\d\/5 \(\d+%\)$/),
    ]);
  });

  it('a model without the detail asked is planned at auto, with a warning; options are checked', async () => {
    const input = await fixture('scene');
    const curve = await costCurve(input, { every: [5], models: ['claude-sonnet-4.6'], details: ['low'], shots: false });
    expect(curve.series.map((s) => s.detail)).toEqual(['auto']);
    expect(curve.warnings).toEqual(['claude-sonnet-4.6 has no detail low (it has auto): planned at auto']);
    expect(curve.shots).toBeNull();
    await expect(costCurve(input, { every: [] })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(costCurve(input, { every: [0] })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(costCurve(input, { models: ['gpt-9'] })).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
  });
});

describe('the chart', () => {
  it('uses log scales where they help and says so; lines of equal cost are merged', async () => {
    const input = await fixture('scene');
    const curve = await costCurve(input, { every: [1, 2, 5, 10, 30], models: ['gpt-5.5', 'gpt-5-mini'], details: ['low', 'high'] });
    const spec = JSON.stringify(costCurveSpec(curve));
    // Series of one model with equal dollars at every interval share one line, labelled "low = high".
    const sameCost = (model: string): boolean =>
      JSON.stringify(curve.series.find((s) => s.model === model && s.detail === 'low')!.points.map((p) => p.costUsd)) ===
      JSON.stringify(curve.series.find((s) => s.model === model && s.detail === 'high')!.points.map((p) => p.costUsd));
    for (const m of ['gpt-5.5', 'gpt-5-mini']) expect(spec.includes(`${m} low = high`)).toBe(sameCost(m));
    expect(spec).toContain('"type":"log"');
    expect(spec).toContain('dollars per run (log scale)');
    expect(spec).toContain('sampling interval: seconds between frames (log scale)');
    // one model, close intervals: linear axes
    const flat = await costCurve(input, { every: [4, 5, 6], models: ['gpt-5.5'], shots: false });
    const flatSpec = JSON.stringify(costCurveSpec(flat));
    expect(flatSpec).not.toContain('"type":"log"');
    expect(flatSpec).not.toContain('log scale');
  });

  it('draws a coverage line per way of sending, as the table has', async () => {
    const curve = await costCurve(await fixture('scene'), { every: [2, 10], models: ['gemini-2.5-flash'], sends: ['frames', 'video'] });
    const spec = costCurveSpec(curve) as unknown as { vconcat: Array<{ data?: { values: Array<{ line: string; every: number; pct: number }> } }> };
    const coverage = spec.vconcat[1]!.data!.values;
    const total = curve.shots!.shots.length;
    for (const send of ['frames', 'video'] as const) {
      const series = curve.series.find((x) => x.send === send)!;
      const line = coverage.filter((v) => v.line === `sent as ${send}`);
      expect(line.map((v) => [v.every, v.pct])).toEqual(series.points.map((p) => [p.every, (100 * p.shotsCovered!) / total]));
    }
    expect(coverage).toHaveLength(4);
  });

  it('renders SVG without a browser and a PNG whose text really renders (fonts found)', async () => {
    const input = await fixture('scene');
    const curve = await costCurve(input, { every: [1, 5, 30], models: ['gpt-5.5'] });
    const svg = await costCurveSvg(curve);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const text of ['cost and shot coverage by sampling interval', 'gpt-5.5 auto (original)', 'shots with a frame', '30 s', '1 frame'])
      expect(svg).toContain(text);
    const png = await svgToPng(svg);
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(1000);
    // Without fonts librsvg draws no glyphs: the same chart with its text removed would look the same.
    const noText = await svgToPng(svg.replace(/<text[\s\S]*?<\/text>/g, ''));
    const dark = async (b: Buffer): Promise<number> => {
      const { data } = await sharp(b).greyscale().raw().toBuffer({ resolveWithObject: true });
      let n = 0;
      for (const v of data) if (v < 96) n++;
      return n;
    };
    expect(await dark(png)).toBeGreaterThan((await dark(noText)) + 5000);
  });
});

describe('omniprep cost-curve (CLI)', () => {
  const echo = sharedMedia('echo-hereweare.webm');
  it.runIf(echo)('on echo-hereweare.webm: table, SVG, PNG, and the table is plan() at each interval', async () => {
    const dir = tempDir('cost-curve-');
    const args = [
      'cost-curve',
      echo!,
      '--every',
      '1,2,5,10,30',
      '--models',
      'gpt-5.5,gpt-5-mini',
      '--detail',
      'low,high',
      '--out',
      join(dir, 'curve.svg'),
      '--png',
      join(dir, 'curve.png'),
    ];
    const r = await cli([...args, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const curve = JSON.parse(r.stdout) as CostCurve & { files: Record<string, string> };
    expect(curve.files).toEqual({ out: join(dir, 'curve.svg'), png: join(dir, 'curve.png') });
    expect(existsSync(curve.files.out!) && existsSync(curve.files.png!)).toBe(true);
    expect(readFileSync(curve.files.out!, 'utf8')).toContain('echo-hereweare.webm (44.7 s, 480x270)');
    expect(curve.series).toHaveLength(4);
    for (const [si, s] of curve.series.entries()) {
      for (const [pi, e] of [1, 2, 5, 10, 30].entries()) expectMatchesPlan(curve, await plan(echo!, { model: s.model, detail: s.detail, every: e }), si, pi);
    }
    // coverage never grows as sampling gets sparser
    const cov = curve.series[0]!.points.map((p) => p.coverage!);
    // the adaptive detector cuts this clip into 16 shots, one of them (0.6 s) between two 1-s frames
    expect(cov[0]).toBeGreaterThan(0.9);
    for (let i = 1; i < cov.length; i++) expect(cov[i]!).toBeLessThanOrEqual(cov[i - 1]!);
    // the text form prints the table
    const t = await cli(args.slice(0, 8));
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/gpt-5-mini +high +30 +2 /);
    expect(t.stdout).toMatch(/shots: \d+ \(adaptive detector: HSV difference >= 3 x its neighbours' and >= 8, cuts at least/);
  });

  it('usage errors exit 2 with one line', async () => {
    const input = await fixture('scene');
    const file = await cli(['cost-curve', input, '--models', 'overrides.json']);
    expect([file.code, file.stderr.trim().split('\n')]).toEqual([2, [expect.stringContaining('a registry file is --models-file FILE')]]);
    const unknown = await cli(['cost-curve', input, '--models', 'gpt-9', '--no-shots']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^omniprep: unknown model gpt-9; known: .*--models-file FILE/);
    const bad = await cli(['cost-curve', input, '--every', '1,0']);
    expect(bad.code).toBe(2);
  });
});
