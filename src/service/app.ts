/**
 * The HTTP app: Fastify with the JSON error shape everywhere, strict body validation, the
 * multipart plugin's limits, a bearer token, and the routes (jobs, plan, ops) as plugins that
 * reach the node through `app.omniprep` (a RouteContext).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import AjvModule from 'ajv';
import formatsModule from 'ajv-formats';
import type { RouteContext } from './context.js';
import { installErrorHandling } from './error-handler.js';
import { ServiceError } from './errors.js';
import { installJsonParser } from './json.js';
import { OPTIONS_FIELD_LIMIT, optionError } from './options.js';
import { jobRoutes } from './routes/jobs.js';
import { opsRoutes } from './routes/ops.js';
import { planRoutes } from './routes/plan.js';
import { sharedSchemas } from './schemas.js';
import { curveRoutes } from './routes/curve.js';
import { evalRoutes } from './routes/evals.js';
import { listRoutes } from './routes/list.js';
import { modelRoutes } from './routes/models.js';
import { requestRoutes } from './routes/requests.js';
import { uploadRoutes } from './routes/uploads.js';
import { isPageRequest, webPage } from '../web/page.js';

const Ajv = AjvModule.default;
const addFormats = formatsModule.default;

/** Largest JSON body. */
export const BODY_LIMIT = 1024 * 1024;

function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Bodies are validated strictly (an array is not a string); path parameters and query strings,
 * which are text on the wire, are coerced to the declared types.
 */
function installValidators(app: FastifyInstance): void {
  const make = (coerce: boolean): InstanceType<typeof Ajv> => {
    // verbose: an error carries the value it refuses (an option's refusal names it, as the library's does).
    const ajv = new Ajv({ removeAdditional: false, useDefaults: true, coerceTypes: coerce ? 'array' : false, allErrors: false, strict: false, verbose: true });
    addFormats(ajv);
    for (const s of sharedSchemas) ajv.addSchema(s);
    return ajv;
  };
  const strict = make(false);
  const coercing = make(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}

function installToken(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (request) => {
    if (request.url === '/healthz' || isPageRequest(request)) return;
    const h = request.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m || !sameToken(m[1]!.trim(), token)) {
      throw new ServiceError('UNAUTHORIZED', m ? 'the bearer token is wrong' : 'a bearer token is required (Authorization: Bearer TOKEN)', {
        'www-authenticate': 'Bearer',
      });
    }
  });
}

export async function buildApp(ctx: RouteContext, logger: boolean): Promise<FastifyInstance> {
  const { config } = ctx;
  const app = Fastify({
    logger,
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    // The router's own refusals (a malformed URL, an over-long path parameter) in the error shape too.
    frameworkErrors: (err, _request, reply) => {
      const e = err as Error & { code?: string; statusCode?: number };
      const message =
        e.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'a path parameter is over 100 characters'
          : e.code === 'FST_ERR_BAD_URL'
            ? 'the URL is malformed'
            : 'bad request';
      const r = reply as unknown as { code(status: number): { send(body: unknown): unknown } };
      void r.code(e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 400).send({ error: { code: 'BAD_REQUEST', message } });
    },
    // One line naming the field and the rule (and the unknown property, which Ajv leaves out).
    schemaErrorFormatter: (errors, dataVar) => {
      const e = errors[0];
      const refused = e && dataVar === 'body' ? optionError(e.instancePath, e.keyword, (e as { data?: unknown }).data) : undefined;
      if (refused) return refused;
      const where = `${dataVar}${(e?.instancePath ?? '').replace(/\//g, '.')}`;
      const extra = e?.keyword === 'additionalProperties' ? `: ${String((e.params as { additionalProperty?: string }).additionalProperty)}` : '';
      return new Error(`${where} ${e?.message ?? 'is invalid'}${extra}`);
    },
  });
  installErrorHandling(app);
  installJsonParser(app);
  installValidators(app);
  app.decorate('omniprep', ctx);
  await app.register(swagger, {
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: { title: 'omniprep service', version: '1', description: 'Video, audio and images into the cheapest correct requests for multimodal models.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      ...(config.token ? { security: [{ bearer: [] }] } : {}),
    },
  });
  for (const s of sharedSchemas) app.addSchema(s);
  // One file and one options field; the file's limit is checked as it streams (see intake.ts).
  await app.register(multipart, {
    limits: { fileSize: config.maxUploadBytes, files: 1, fields: 2, fieldSize: OPTIONS_FIELD_LIMIT, parts: 4, headerPairs: 50 },
  });
  if (config.token) installToken(app, config.token);
  await app.register(jobRoutes);
  await app.register(planRoutes);
  await app.register(opsRoutes);
  await app.register(listRoutes);
  await app.register(curveRoutes);
  await app.register(modelRoutes);
  await app.register(requestRoutes);
  await app.register(uploadRoutes);
  await app.register(evalRoutes);
  await app.register(webPage);
  await app.ready();
  return app;
}
