/** GET /v1/jobs: the jobs, newest first, a page at a time (both stores keep the same order). */
import type { FastifyInstance } from 'fastify';
import { ServiceError } from '../errors.js';
import { errorResponses } from '../schemas.js';
import type { RouteContext } from '../context.js';
import { jobView } from '../view.js';
import type { JobKind, JobRecord } from '../store/types.js';

export const LIST_DEFAULTS = { limit: 20, maxLimit: 100 };

const CURSOR = /^(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/;

export interface ListQuery {
  limit?: number;
  cursor?: string;
}

/** The querystring of a list: a page size and the cursor of the page before. */
export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: LIST_DEFAULTS.maxLimit, default: LIST_DEFAULTS.limit, description: 'records per page' },
    cursor: { type: 'string', pattern: CURSOR.source, description: 'the `next` of the page before' },
  },
} as const;

/** One page of jobs or evals, newest first, and the cursor of the next (null on the last page). */
export async function listPage(svc: RouteContext, q: ListQuery, kind: JobKind): Promise<{ records: JobRecord[]; next: string | null }> {
  const limit = q.limit ?? LIST_DEFAULTS.limit;
  let after: { createdAt: number; id: string } | undefined;
  if (q.cursor !== undefined) {
    const m = CURSOR.exec(q.cursor);
    if (!m) throw new ServiceError('BAD_REQUEST', `querystring.cursor: ${q.cursor} is not a cursor from this list`);
    after = { createdAt: Number(m[1]), id: m[2]! };
  }
  // One more than the page: whether there is a next page, without a second query.
  const records = await svc.store.list({ limit: limit + 1, after, kind });
  const page = records.slice(0, limit);
  const last = page.at(-1);
  return { records: page, next: records.length > limit && last ? `${last.createdAt}.${last.id}` : null };
}

export async function listRoutes(app: FastifyInstance): Promise<void> {
  const svc: RouteContext = app.omniprep;
  app.get(
    '/v1/jobs',
    {
      schema: {
        summary: 'The jobs, newest first, a page at a time',
        description:
          'Each page answers `next`, the cursor of the page after it (null on the last page). Finished jobs are listed until retention removes them.',
        tags: ['jobs'],
        querystring: listQuery,
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['jobs', 'next'],
            properties: { jobs: { type: 'array', items: { $ref: 'Job#' } }, next: { type: ['string', 'null'] } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { records, next } = await listPage(svc, request.query as ListQuery, 'job');
      return { jobs: records.map(jobView), next };
    },
  );
}
