/** omniprep/cost: the cost curve (plans at each sampling interval, shot coverage) and its chart. */
export {
  costCurve,
  costCurveTable,
  COST_CURVE_DEFAULTS,
  type CostCurve,
  type CostCurveOptions,
  type CostCurvePoint,
  type CostCurveSeries,
  type CostCurveShots,
} from './curve.js';
export { costCurveSpec, costCurveSvg, svgToPng, CHART_DEFAULTS, type ChartOptions, type ChartSpec } from './chart.js';
