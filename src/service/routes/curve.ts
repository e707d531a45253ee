/**
 * POST /v1/cost-curve: what the input costs at each sampling interval, per model and detail, and
 * the share of shots each interval still catches: the library's costCurve() (as `omniprep
 * cost-curve --json`), with the chart as SVG (`omniprep cost-curve --chart`). The same inputs and
 * options as POST /v1/plan; the intervals, models and details come in the query string.
 */
import type { FastifyInstance } from 'fastify';
import pLimit from 'p-limit';
import { costCurveSvg } from '../../cost/chart.js';
import { COST_CURVE_DEFAULTS, costCurve } from '../../cost/curve.js';
import { isOmniprepError, OmniprepError } from '../../errors.js';
import { ServiceError } from '../errors.js';
import { inputFile } from '../intake.js';
import { toPlanOptions } from '../options.js';
import { errorResponses, inputBody } from '../schemas.js';
import type { RouteContext } from '../context.js';

const LIST = '^[^,]+(,[^,]+){0,19}$';
/** Curves computed at once on a node: the shot scan decodes the whole clip. */
const CURVES_AT_ONCE = 2;

function numbers(name: string, s: string | undefined): number[] | undefined {
  if (s === undefined) return undefined;
  const out = s.split(',').map(Number);
  for (const n of out)
    if (!(Number.isFinite(n) && n > 0)) throw new ServiceError('BAD_REQUEST', `querystring.${name}: ${s} is not a list of seconds > 0 (e.g. 1,2,5,10,30)`);
  return out;
}

export async function curveRoutes(app: FastifyInstance): Promise<void> {
  const svc: RouteContext = app.omniprep;
  const limit = pLimit(CURVES_AT_ONCE);
  app.post(
    '/v1/cost-curve',
    {
      schema: {
        summary: 'Cost curve: dollars and shot coverage at each sampling interval, per model and detail',
        description:
          "The input as for POST /v1/plan (its options: mode, prompt, tier, audio, ...). Intervals default to 1, 2, 5, 10, 30 s and the options' `every`; models to the options' model; details to the options' detail (or each model's auto). `svg` is the chart `omniprep cost-curve --chart` draws.",
        tags: ['plan'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            every: { type: 'string', pattern: LIST, description: 'intervals in seconds, comma-separated' },
            models: { type: 'string', pattern: LIST, description: 'models, comma-separated' },
            details: { type: 'string', pattern: LIST, description: 'detail levels, comma-separated' },
            shots: { type: 'boolean', default: true, description: 'scan the shots (decodes the clip once) and report their coverage' },
            chart: { type: 'boolean', default: true, description: 'include the chart as SVG' },
          },
        },
        body: inputBody,
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query as { every?: string; models?: string; details?: string; shots?: boolean; chart?: boolean };
      const every = numbers('every', q.every);
      // The curve is computed from a local file (its shot scan decodes every frame): a URL is read whole.
      const { input, options } = await svc.inputs.read(request, { whole: 'the cost curve reads a URL input whole' });
      const file = inputFile(input, svc.data);
      try {
        // The plan first: it checks the input and the options, and answers errors in the client's names.
        await svc.inputs.plan(input, options);
        const { every: one, model, detail, budget: _b, maxTokens: _m, ...rest } = toPlanOptions(options, svc.config.limits);
        const curve = await limit(() =>
          costCurve(file, {
            ...rest,
            every: every ?? [...new Set([...COST_CURVE_DEFAULTS.every, ...(one ? [one] : [])])],
            models: q.models?.split(',') ?? [model ?? COST_CURVE_DEFAULTS.models[0]!],
            details: q.details?.split(',') ?? (detail ? [detail] : undefined),
            shots: q.shots ?? true,
          }),
        );
        const named = { ...curve, input: input.name };
        return { ...named, ...(q.chart === false ? {} : { svg: await costCurveSvg(named) }) };
      } catch (e) {
        if (isOmniprepError(e) && e.message.includes(file)) throw new OmniprepError(e.code, e.message.split(file).join(input.name), { input: input.name });
        throw e;
      } finally {
        await svc.inputs.discard(input);
      }
    },
  );
}
