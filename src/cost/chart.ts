/**
 * The cost-curve chart: a vega-lite spec (pure data -> spec), compiled by vega-lite and rendered
 * to SVG by vega's headless View (`renderer: 'none'`, no browser, no canvas), and to PNG by sharp
 * (librsvg). Two panels share the sampling-interval axis: dollars per run above, one line per
 * model and detail; the share of shots that still get a frame below.
 *
 * Scales: the interval axis is logarithmic when the largest interval is at least 4 times the
 * smallest (1 to 30 s spreads evenly); the dollar axis is logarithmic when the dearest point
 * costs at least 4 times the cheapest (models an order of magnitude apart in price stay
 * readable); each axis title says when it is. Text uses the generic `sans-serif` family, which
 * librsvg resolves through fontconfig (DejaVu Sans on most Linux machines): a machine with no
 * fonts at all renders the PNG without text, and `fc-list` tells.
 */
import { loadOptional } from '../util/optional.js';
import { basename } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { CostCurve, CostCurveSeries } from './curve.js';

export interface ChartOptions {
  /** Width of each panel's plot area in px (default 560). */
  width?: number | undefined;
  /** Height of the cost panel in px (default 300); the coverage panel is 40% of it. */
  height?: number | undefined;
  /** Font family (default `sans-serif`). */
  font?: string | undefined;
}

/**
 * A vega-lite spec as JSON (vega-lite's `TopLevelSpec`), typed without vega-lite so that omniprep's
 * declarations need no optional package; cast it to `TopLevelSpec` to use vega-lite's own type.
 */
export type ChartSpec = { $schema?: string } & Record<string, unknown>;

export const CHART_DEFAULTS = { width: 560, height: 300, font: 'sans-serif', logRatio: 4 };

/** A chart line: series of one model whose dollars are identical at every interval share one line. */
interface Line {
  label: string;
  series: CostCurveSeries[];
}

function linesOf(curve: CostCurve): Line[] {
  const lines: Line[] = [];
  for (const s of curve.series) {
    const key = JSON.stringify(s.points.map((p) => p.costByTier.standard ?? p.costUsd));
    const same = lines.find(
      (l) =>
        l.series[0]!.model === s.model &&
        l.series[0]!.send === s.send &&
        JSON.stringify(l.series[0]!.points.map((p) => p.costByTier.standard ?? p.costUsd)) === key,
    );
    if (same) same.series.push(s);
    else lines.push({ label: '', series: [s] });
  }
  for (const l of lines) {
    const details = l.series.map((s) => (s.detail === s.detailApplied ? s.detail : `${s.detail} (${s.detailApplied})`));
    const s0 = l.series[0]!;
    l.label = `${s0.model}${s0.send === 'video' ? ' as video' : ''} ${details.join(' = ')} (${s0.tokensPerFrame} tokens/frame)`;
  }
  return lines;
}

function secondsLabel(x: number): string {
  return `${Number(x.toPrecision(6))} s`;
}

/** A vega expression mapping an axis value to a label, from a small table. */
function lookupExpr(entries: Array<[number, string | string[]]>, fallback: string): string {
  let expr = fallback;
  for (const [v, label] of [...entries].reverse()) {
    const text = Array.isArray(label) ? `[${label.map((t) => JSON.stringify(t)).join(', ')}]` : JSON.stringify(label);
    expr = `abs(datum.value - ${v}) < 1e-9 ? ${text} : ${expr}`;
  }
  return expr;
}

/** Log or linear axes (log when the values span CHART_DEFAULTS.logRatio or more), and the x domain. */
function scales(intervals: readonly number[], cost: ReadonlyArray<{ usd: number }>): { logX: boolean; logY: boolean; xDomain: number[] } {
  const lo = intervals[0]!;
  const hi = intervals[intervals.length - 1]!;
  const logX = hi / lo >= CHART_DEFAULTS.logRatio;
  const usdValues = cost.map((c) => c.usd).filter((v) => v > 0);
  const logY = usdValues.length > 0 && Math.max(...usdValues) / Math.min(...usdValues) >= CHART_DEFAULTS.logRatio;
  const xDomain = logX ? [lo / 1.25, hi * 1.25] : [Math.max(0, lo - (hi - lo) * 0.05), hi + (hi - lo) * 0.05 || hi + 1];
  return { logX, logY, xDomain };
}

/** The panel under the costs: the share of shots each interval still catches. */
function coveragePanel(
  curve: CostCurve,
  frames: ReadonlyArray<{ every: number; frames: number }>,
  o: { width: number; height: number; xScale: unknown; xAxis: Record<string, unknown> },
): unknown {
  const total = curve.shots!.shots.length;
  // One line per way of sending (frames, video): the models that send alike see the same times.
  const sends = [...new Set(curve.series.map((x) => x.send))];
  const cov = sends.flatMap((send) =>
    curve.series
      .find((x) => x.send === send)!
      .points.map((p) => ({
        line: send === 'video' ? 'sent as video' : 'sent as frames',
        every: p.every,
        pct: total ? (100 * (p.shotsCovered ?? 0)) / total : 0,
        label: `${p.shotsCovered ?? 0}/${total}`,
      })),
  );
  const color =
    sends.length > 1
      ? { field: 'line', type: 'nominal', scale: { range: ['#555', '#c44'] }, legend: { title: null, orient: 'top', labelFontSize: 12 } }
      : { value: '#555' };
  return {
    width: o.width,
    height: Math.round(o.height * 0.4),
    data: { values: cov },
    encoding: {
      x: {
        field: 'every',
        type: 'quantitative',
        scale: o.xScale,
        axis: {
          ...o.xAxis,
          labelExpr: lookupExpr(
            frames.map((f) => [f.every, [secondsLabel(f.every), `${f.frames} frame${f.frames === 1 ? '' : 's'}`]]),
            "datum.label + ' s'",
          ),
          labelLineHeight: 14,
        },
      },
      y: {
        field: 'pct',
        type: 'quantitative',
        // room above 100% for the point labels
        scale: { domain: [0, 115], nice: false },
        axis: { title: ['shots with a frame', '(%)'], values: [0, 25, 50, 75, 100], labelFontSize: 11, titleFontSize: 12 },
      },
      color,
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 2.5, point: { filled: true, size: 60 } } },
      { mark: { type: 'text', dy: -10, fontSize: 11 }, encoding: { text: { field: 'label' } } },
    ],
  };
}

/** The charts' common look: a title with its subtitle lines at the left, white, the font, light grids. */
export function chartStyle(text: string[], subtitle: string[], font: string) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text, subtitle, anchor: 'start' as const, fontSize: 15, subtitleFontSize: 12, subtitleColor: '#444', offset: 12 },
    background: 'white',
    padding: 16,
    config: { font, view: { stroke: '#ccc' }, axis: { gridColor: '#e6e6e6' } },
  };
}

/** The vega-lite spec of the chart (pure). */
export function costCurveSpec(curve: CostCurve, o: ChartOptions = {}): ChartSpec {
  const width = o.width ?? CHART_DEFAULTS.width;
  const height = o.height ?? CHART_DEFAULTS.height;
  const font = o.font ?? CHART_DEFAULTS.font;
  const lines = linesOf(curve);
  const tier = 'standard';
  const cost = lines.flatMap((l) =>
    l.series[0]!.points.map((p) => ({ line: l.label, every: p.every, usd: p.costByTier[tier] ?? p.costUsd, frames: p.frames, inputTokens: p.inputTokens })),
  );
  const intervals = curve.intervals;
  const { logX, logY, xDomain } = scales(intervals, cost);
  const frames = curve.shots?.byInterval ?? curve.series[0]!.points.map((p) => ({ every: p.every, frames: p.frames }));
  const xAxisBase = {
    values: intervals,
    grid: true,
    labelFontSize: 11,
    titleFontSize: 12,
    titlePadding: 8,
  };
  const xTitle = `sampling interval: seconds between frames${logX ? ' (log scale)' : ''}`;
  const xScale = logX ? { type: 'log' as const, domain: xDomain, nice: false } : { type: 'linear' as const, domain: xDomain, nice: false, zero: false };
  const name = basename(curve.input);
  const windowNote = curve.startSec > 0 || curve.endSec < curve.durationSec - 1e-6 ? `, window ${curve.startSec}-${Number(curve.endSec.toFixed(2))} s` : '';
  // Short lines: vega sizes text by an estimate that runs wide for long lines, and the chart's
  // width follows the estimate.
  const subtitle = [
    `${curve.mode} mode${windowNote}; a run = the images${curve.prompt ? ', the prompt' : ''} and ${curve.outputTokens} expected output tokens`,
    `${tier} tier, prices of registry ${curve.registryVersion}`,
    ...(curve.shots
      ? [`${curve.shots.shots.length} shot${curve.shots.shots.length === 1 ? '' : 's'}: ${curve.shots.rule}, cuts at least ${curve.shots.minShotSec} s apart`]
      : []),
  ];
  const legendOrder = lines.map((l) => l.label);
  const costPanel = {
    width,
    height,
    data: { values: cost },
    mark: { type: 'line' as const, point: { filled: true, size: 60 }, strokeWidth: 2.5, clip: true },
    encoding: {
      x: {
        field: 'every',
        type: 'quantitative' as const,
        scale: xScale,
        axis: {
          ...xAxisBase,
          title: curve.shots ? null : xTitle,
          labelExpr: lookupExpr(
            intervals.map((e) => [e, secondsLabel(e)]),
            "datum.label + ' s'",
          ),
        },
      },
      y: {
        field: 'usd',
        type: 'quantitative' as const,
        scale: logY ? { type: 'log' as const, nice: true } : { type: 'linear' as const, zero: true, nice: true },
        axis: {
          // Two short lines: vega sizes text by an estimate (no canvas in Node), and a long rotated
          // title is estimated taller than the plot, which pushes the chart title away.
          title: [`dollars per run${logY ? ' (log scale)' : ''}`, `${tier} tier`],
          format: '$.2~r',
          labelFontSize: 11,
          titleFontSize: 12,
          tickCount: logY ? 6 : 8,
          labelOverlap: 'greedy' as const,
        },
      },
      color: {
        field: 'line',
        type: 'nominal' as const,
        sort: legendOrder,
        scale: { scheme: 'tableau10' },
        legend: {
          title: null,
          orient: 'top' as const,
          direction: 'vertical' as const,
          columns: lines.length > 3 ? 2 : 1,
          labelFontSize: 12,
          symbolSize: 90,
          labelLimit: 520,
          offset: 10,
        },
      },
      shape: { field: 'line', type: 'nominal' as const, sort: legendOrder },
    },
  };
  const panels: unknown[] = [costPanel];
  if (curve.shots) panels.push(coveragePanel(curve, frames, { width, height, xScale, xAxis: { ...xAxisBase, title: xTitle } }));
  const dur = Number(curve.durationSec.toFixed(1));
  return {
    ...chartStyle(
      [`${name} (${dur} s, ${curve.width}x${curve.height})`, `cost${curve.shots ? ' and shot coverage' : ''} by sampling interval`],
      subtitle,
      font,
    ),
    vconcat: panels,
    spacing: 18,
    resolve: { scale: { x: 'shared' } },
  };
}

/** Renders the chart to SVG with vega (headless). */
export async function costCurveSvg(curve: CostCurve, o: ChartOptions = {}): Promise<string> {
  return specToSvg(costCurveSpec(curve, o));
}

/** Renders a vega-lite spec to SVG with vega (headless): the cost curve's and the eval's charts. */
export async function specToSvg(spec: ChartSpec): Promise<string> {
  const [vega, vl] = await Promise.all([
    loadOptional('the cost-curve and eval charts', () => import('vega')),
    loadOptional('the cost-curve and eval charts', () => import('vega-lite')),
  ]);
  // vega-lite logs its warnings to the console by default; keep them off the CLI's stderr.
  const quiet = { level: () => quiet, error: () => quiet, warn: () => quiet, info: () => quiet, debug: () => quiet };
  const compiled = vl.compile(spec as unknown as TopLevelSpec, { logger: quiet as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders an SVG to PNG with sharp (librsvg), at `scale` times its size (default 2: sharp on high-density screens). */
export async function svgToPng(svg: string, o: { scale?: number | undefined } = {}): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  const scale = o.scale ?? 2;
  // Trim the white margin vega leaves where it over-estimated text widths, then pad evenly.
  const trimmed = await sharp(Buffer.from(svg), { density: 72 * scale })
    .flatten({ background: '#ffffff' })
    .trim({ background: '#ffffff', threshold: 10 })
    .toBuffer();
  const pad = Math.round(16 * scale);
  return sharp(trimmed).extend({ top: pad, bottom: pad, left: pad, right: pad, background: '#ffffff' }).png().toBuffer();
}
