/**
 * The eval's chart, in the cost curve's style and through its machinery (src/cost/chart.ts: a
 * vega-lite spec rendered headless to SVG, and to PNG by sharp): accuracy against dollars, one
 * point per plan with its 95% interval, the Pareto frontier as a line, the recommended plan ringed.
 * The dollar axis is logarithmic when the dearest plan costs at least 4 times the cheapest.
 */
import { CHART_DEFAULTS, type ChartOptions, type ChartSpec, chartStyle, specToSvg } from '../cost/chart.js';
import type { EvalReport, PlanReport } from './report.js';

/** A plan's label: what differs between plans is what a reader needs. */
export function planLabel(p: PlanReport, all: readonly PlanReport[]): string {
  const varies = (k: keyof PlanReport): boolean => new Set(all.map((x) => JSON.stringify(x[k]))).size > 1;
  const parts = [`every ${p.every} s`];
  if (varies('mode')) parts.push(p.mode);
  if (varies('maxSide')) parts.push(p.maxSide === null ? 'model size' : `${p.maxSide} px`);
  if (varies('detail')) parts.push(`detail ${p.detail}`);
  if (varies('model')) parts.push(p.model);
  if (varies('send')) parts.push(p.send === 'video' ? 'as video' : 'as frames');
  return parts.join(', ');
}

/** The vega-lite spec of the eval chart (pure). */
export function evalSpec(r: EvalReport, o: ChartOptions & { title?: string | undefined } = {}): ChartSpec {
  const width = o.width ?? CHART_DEFAULTS.width;
  const height = o.height ?? CHART_DEFAULTS.height;
  const points = r.plans.map((p, i) => ({
    i,
    label: planLabel(p, r.plans),
    usd: p.estimatedUsd,
    pct: p.accuracy * 100,
    lo: p.ci95[0] * 100,
    hi: p.ci95[1] * 100,
    frontier: r.frontier.includes(i),
    recommended: r.recommended === i,
    tip: `${p.correct}/${p.answered} right`,
  }));
  const usd = points.map((p) => p.usd).filter((v) => v > 0);
  const logX = usd.length > 0 && Math.max(...usd) / Math.min(...usd) >= CHART_DEFAULTS.logRatio;
  const x = {
    field: 'usd',
    type: 'quantitative',
    scale: logX ? { type: 'log', nice: true } : { type: 'linear', zero: false, nice: true, padding: 24 },
    axis: { title: `estimated dollars of the eval${logX ? ' (log scale)' : ''}`, format: '$.2~r', labelFontSize: 11, titleFontSize: 12, grid: true },
  };
  const y = {
    field: 'pct',
    type: 'quantitative',
    scale: { domain: [0, 105], nice: false },
    axis: { title: ['accuracy', '(%, 95% interval)'], values: [0, 25, 50, 75, 100], labelFontSize: 11, titleFontSize: 12 },
  };
  const frontier = r.frontier.map((i) => points[i]!);
  const rec = r.recommended === null ? null : r.plans[r.recommended]!;
  return {
    ...chartStyle(
      [o.title ?? 'accuracy against dollars', `${r.plans.length} plan${r.plans.length === 1 ? '' : 's'}, ${r.plans[0]?.questions ?? 0} questions each`],
      [
        'line: the frontier (no plan is as accurate for less)',
        rec ? `ringed: recommended (${planLabel(rec, r.plans)}, ${(rec.accuracy * 100).toFixed(1)}%)` : 'no plan recommended',
      ],
      o.font ?? CHART_DEFAULTS.font,
    ),
    width,
    height,
    layer: [
      { data: { values: points }, mark: { type: 'rule', color: '#999' }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' } } },
      { data: { values: frontier }, mark: { type: 'line', color: '#4e79a7', strokeWidth: 2.5 }, encoding: { x, y, order: { field: 'usd' } } },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: { x, y, color: { condition: { test: 'datum.frontier', value: '#4e79a7' }, value: '#999' } },
      },
      { data: { values: points.filter((p) => p.recommended) }, mark: { type: 'point', size: 400, strokeWidth: 2.5, color: '#e15759' }, encoding: { x, y } },
      { data: { values: points }, mark: { type: 'text', align: 'left', dx: 8, dy: -8, fontSize: 11 }, encoding: { x, y, text: { field: 'label' } } },
    ],
  };
}

/** The chart as SVG. */
export function evalSvg(r: EvalReport, o: ChartOptions & { title?: string | undefined } = {}): Promise<string> {
  return specToSvg(evalSpec(r, o));
}
