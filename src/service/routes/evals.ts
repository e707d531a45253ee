/**
 * Evals: submit (a dry run answers the estimate; otherwise 202 with it, the eval queued), list,
 * read, stream progress (SSE), cancel, results as JSON and CSV, the chart's spec, delete.
 */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { readEvaluation, readStoredEval } from '../eval-files.js';
import { checkEvalBody, type EvalBody } from '../eval-spec.js';
import { estimateOnly, evalResults, evalView, submitEval } from '../evals.js';
import { clientGone } from '../inputs.js';
import { errorResponses, evalBody, evalResultsSchema, idParams } from '../schemas.js';
import type { JobRecord } from '../store/types.js';
import { cancelRecord, streamEvents } from './events.js';
import { listPage, listQuery, type ListQuery } from './list.js';

const notFound = (id: string): ServiceError => new ServiceError('JOB_NOT_FOUND', `eval ${id}: no such eval (it may have expired or been deleted)`);

async function load(svc: RouteContext, id: string): Promise<JobRecord> {
  const job = await svc.store.get(id);
  if (job?.kind !== 'eval') throw notFound(id);
  return job;
}

/** A succeeded eval (its results exist), or NOT_READY naming its state. */
async function finished(svc: RouteContext, id: string): Promise<JobRecord> {
  const job = await load(svc, id);
  if (job.state !== 'succeeded') throw new ServiceError('NOT_READY', `eval ${id}: is ${job.state}; its results exist once it has succeeded`);
  return job;
}

const evalRef = { 200: { $ref: 'Eval#' }, ...errorResponses } as const;

export async function evalRoutes(app: FastifyInstance): Promise<void> {
  submitRoute(app);
  readRoutes(app);
  resultRoutes(app);
  controlRoutes(app);
}

function submitRoute(app: FastifyInstance): void {
  const svc = app.omniprep;
  app.post(
    '/v1/evals',
    {
      schema: {
        summary: 'Start an eval (or, with dryRun, price it)',
        description:
          "Every question is asked with every plan of the grid, by the workers with the library's evaluate(), calling the model with the server's base URL and key. The body is checked first (the grid and options in the library's words); then the videos are read and every plan priced: `dryRun` answers 200 with that estimate (as `omniprep eval --dry-run --json` prints it), an estimate over `budgetUsd` is refused (422 BUDGET_EXCEEDED, nothing sent), and otherwise 202 with the eval (its `estimate`) queued; while it runs, sending stops before the request that would take the spend over the budget.",
        tags: ['evals'],
        body: evalBody,
        response: { 200: { $ref: 'EvalEstimate#' }, 202: { $ref: 'Eval#' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body as EvalBody;
      const spec = checkEvalBody(body);
      // A client that goes away stops the reading and the estimate.
      const signal = clientGone(reply);
      if (body.dryRun) return reply.code(200).send(await estimateOnly(svc, spec, signal));
      const release = await svc.admit();
      try {
        const job = await submitEval(svc, spec, signal);
        return reply.code(202).header('location', `/v1/evals/${job.id}`).send(evalView(job));
      } finally {
        release();
      }
    },
  );
}

function readRoutes(app: FastifyInstance): void {
  const svc = app.omniprep;
  app.get(
    '/v1/evals',
    {
      schema: {
        summary: 'The evals, newest first, a page at a time',
        description: 'Each page answers `next`, the cursor of the page after it (null on the last page).',
        tags: ['evals'],
        querystring: listQuery,
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['evals', 'next'],
            properties: { evals: { type: 'array', items: { $ref: 'Eval#' } }, next: { type: ['string', 'null'] } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { records, next } = await listPage(svc, request.query as ListQuery, 'eval');
      return { evals: records.map(evalView), next };
    },
  );
  app.get(
    '/v1/evals/:id',
    {
      schema: { summary: 'An eval: state, progress, estimate, dollars spent, and its report once done', tags: ['evals'], params: idParams, response: evalRef },
    },
    async (request) => evalView(await load(svc, (request.params as { id: string }).id)),
  );
  app.get(
    '/v1/evals/:id/events',
    {
      schema: {
        summary: 'Server-sent events until the eval ends',
        description:
          'Events: `state` ({ state, attempts, error }); `progress` for each answered question and plan ({ stage, questionsDone, questionsTotal, spentUsd, answer: { plan, question, answered, correct, billedUsd } }); then one of `done`, `failed` or `cancelled` with the eval.',
        tags: ['evals'],
        params: idParams,
        produces: ['text/event-stream'],
        response: { 200: { type: 'string', description: 'text/event-stream' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      return streamEvents(svc, reply, id, {
        load: (i) => load(svc, i),
        end: (last) => (last ? [last.state === 'succeeded' ? 'done' : last.state, evalView(last)] : ['cancelled', { id }]),
      });
    },
  );
}

function resultRoutes(app: FastifyInstance): void {
  const svc = app.omniprep;
  app.get(
    '/v1/evals/:id/results',
    {
      schema: {
        summary:
          "An eval's results: each plan's accuracy, tokens and dollars with its frontier and recommended flags; per question, what each plan saw and answered",
        tags: ['evals'],
        params: idParams,
        response: { 200: evalResultsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const job = await finished(svc, (request.params as { id: string }).id);
      return evalResults(job.id, await readEvaluation(job, svc.data), await readStoredEval(job, svc.data));
    },
  );
  app.get(
    '/v1/evals/:id/results.csv',
    {
      schema: {
        summary: 'The results as `omniprep eval` writes report.csv: one row per plan',
        tags: ['evals'],
        params: idParams,
        produces: ['text/csv'],
        response: { 200: { type: 'string' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const job = await finished(svc, (request.params as { id: string }).id);
      const { reportCsv } = await import('../../eval/report.js');
      return reply.type('text/csv; charset=utf-8').send(reportCsv(await readEvaluation(job, svc.data)));
    },
  );
  app.get(
    '/v1/evals/:id/chart',
    {
      schema: {
        summary: "The chart's vega-lite spec, as `omniprep eval` draws chart.svg: accuracy against dollars, the frontier, the recommended plan ringed",
        tags: ['evals'],
        params: idParams,
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (request) => {
      const job = await finished(svc, (request.params as { id: string }).id);
      const { evalSpec } = await import('../../eval/chart.js');
      return evalSpec(await readEvaluation(job, svc.data));
    },
  );
}

function controlRoutes(app: FastifyInstance): void {
  const svc = app.omniprep;
  app.post(
    '/v1/evals/:id/cancel',
    {
      schema: {
        summary: 'Cancel an eval',
        description: 'A queued eval leaves the queue; a running one stops sending (its worker stops at once). A finished eval keeps its state.',
        tags: ['evals'],
        params: idParams,
        response: evalRef,
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return evalView(await cancelRecord(svc, id, () => load(svc, id)));
    },
  );
  app.delete(
    '/v1/evals/:id',
    {
      schema: {
        summary: 'Delete an eval: it is cancelled if it runs, then its files (videos, needles, answers, results) and its record are removed',
        tags: ['evals'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'deleted'],
            properties: { id: { type: 'string' }, deleted: { type: 'boolean' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const job = await cancelRecord(svc, id, () => load(svc, id));
      await svc.remove(job);
      return { id, deleted: true };
    },
  );
}
