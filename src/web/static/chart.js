// The eval's chart as inline SVG, drawn here (no chart library): accuracy against estimated dollars,
// one point per plan with its 95% interval, the Pareto frontier as a line through its plans
// (cheapest first), the recommended plan ringed and named. The dollar axis is logarithmic when the
// dearest plan costs at least 4 times the cheapest (as the library's chart, src/eval/chart.ts).
import { svgEl, pct, usd } from './dom.js';

const W = 640;
const H = 360;
const PAD = { left: 64, right: 24, top: 20, bottom: 56 };
const LOG_RATIO = 4;

/** The x scale: dollars to px (linear, or log10 over a wide range). */
function dollarScale(values) {
  const pos = values.filter((v) => v > 0);
  const lo = pos.length ? Math.min(...pos) : 0;
  const hi = Math.max(0, ...values);
  const span = W - PAD.left - PAD.right;
  if (pos.length && hi / lo >= LOG_RATIO) {
    const a = Math.log10(lo) - 0.1;
    const b = Math.log10(hi) + 0.1;
    const x = (v) => PAD.left + ((Math.log10(Math.max(v, lo)) - a) / (b - a)) * span;
    const ticks = [];
    for (let e = Math.floor(a); e <= Math.ceil(b); e++) if (e >= a && e <= b) ticks.push(10 ** e);
    if (ticks.length < 2) ticks.splice(0, ticks.length, lo, hi);
    return { x, ticks, log: true };
  }
  const top = hi > 0 ? hi * 1.1 : 1;
  return { x: (v) => PAD.left + (v / top) * span, ticks: [0, 0.25, 0.5, 0.75, 1].map((f) => f * top), log: false };
}

const y = (acc) => H - PAD.bottom - acc * (H - PAD.top - PAD.bottom);

function axes(scale) {
  const g = svgEl('g', { class: 'axes', 'aria-hidden': 'true' });
  g.append(svgEl('line', { x1: PAD.left, y1: y(0), x2: W - PAD.right, y2: y(0), class: 'axis' }));
  g.append(svgEl('line', { x1: PAD.left, y1: y(0), x2: PAD.left, y2: y(1), class: 'axis' }));
  for (const a of [0, 0.25, 0.5, 0.75, 1]) {
    g.append(svgEl('line', { x1: PAD.left, y1: y(a), x2: W - PAD.right, y2: y(a), class: 'gridline' }));
    g.append(svgEl('text', { x: PAD.left - 8, y: y(a) + 4, 'text-anchor': 'end', text: `${a * 100}%` }));
  }
  for (const t of scale.ticks) {
    const x = scale.x(t);
    g.append(svgEl('line', { x1: x, y1: y(0), x2: x, y2: y(0) + 5, class: 'axis' }));
    g.append(svgEl('text', { x, y: y(0) + 20, 'text-anchor': 'middle', text: `$${Number(t.toPrecision(3))}` }));
  }
  g.append(
    svgEl('text', { x: (PAD.left + W - PAD.right) / 2, y: H - 10, 'text-anchor': 'middle', text: `Estimated dollars${scale.log ? ' (log scale)' : ''}` }),
  );
  g.append(svgEl('text', { x: 14, y: (PAD.top + y(0)) / 2, 'text-anchor': 'middle', transform: `rotate(-90 14 ${(PAD.top + y(0)) / 2})`, text: 'Accuracy' }));
  return g;
}

/**
 * The chart of an eval's results ({ plans, frontier, recommended }): an <svg role="img"> whose title
 * and description say what it shows (the plan table next to it has every number).
 */
export function evalChart(r, idPrefix = 'eval-chart') {
  const scale = dollarScale(r.plans.map((p) => p.estimatedUsd));
  const rec = r.recommended === null || r.recommended === undefined ? null : r.plans[r.recommended];
  const desc = `${r.plans.length} plans; the frontier runs through ${r.frontier.length} of them (${r.frontier.map((i) => `plan ${i + 1}`).join(', ')})${rec ? `; recommended: plan ${r.recommended + 1}, ${rec.label}, ${pct(rec.accuracy)} at ${usd(rec.estimatedUsd)}` : '; no plan is recommended'}.`;
  const svg = svgEl(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${idPrefix}-title ${idPrefix}-desc`, class: 'eval-chart', width: W, height: H },
    svgEl('title', { id: `${idPrefix}-title`, text: 'Accuracy against estimated dollars, one point per plan' }),
    svgEl('desc', { id: `${idPrefix}-desc`, text: desc }),
    axes(scale),
  );
  const at = (i) => [scale.x(r.plans[i].estimatedUsd), y(r.plans[i].accuracy)];
  if (r.frontier.length)
    svg.append(
      svgEl('polyline', {
        class: 'frontier',
        'data-plans': r.frontier.join(','),
        points: r.frontier
          .map((i) =>
            at(i)
              .map((v) => v.toFixed(1))
              .join(','),
          )
          .join(' '),
      }),
    );
  r.plans.forEach((p, i) => {
    const [cx, cy] = at(i);
    const g = svgEl('g', { class: `plan${r.frontier.includes(i) ? ' on-frontier' : ''}`, 'data-plan': i });
    g.append(svgEl('line', { class: 'ci', x1: cx, x2: cx, y1: y(p.ci95[0]), y2: y(p.ci95[1]) }));
    g.append(
      svgEl(
        'circle',
        { class: 'point', cx, cy, r: 5 },
        svgEl('title', { text: `plan ${i + 1}: ${p.label}; ${pct(p.accuracy)} (${p.correct}/${p.answered}) at ${usd(p.estimatedUsd)}` }),
      ),
    );
    g.append(svgEl('text', { class: 'point-label', x: cx + 8, y: cy - 8, text: String(i + 1) }));
    svg.append(g);
  });
  if (rec) {
    const [cx, cy] = at(r.recommended);
    svg.append(svgEl('circle', { class: 'recommended', 'data-plan': r.recommended, cx, cy, r: 11 }));
    svg.append(svgEl('text', { class: 'recommended-label', x: Math.min(cx + 14, W - PAD.right - 90), y: cy + 22, text: 'recommended' }));
  }
  return svg;
}
