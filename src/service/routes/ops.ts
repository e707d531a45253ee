/** Operations: /healthz (no token needed), /metrics (Prometheus text), /docs/json (OpenAPI). */
import type { FastifyInstance } from 'fastify';
import { liveProcessCount } from '../../ffmpeg/runner.js';
import '../context.js';
import { JOB_STATES } from '../store/types.js';

export async function opsRoutes(app: FastifyInstance): Promise<void> {
  const svc = app.omniprep;
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness and readiness',
        tags: ['ops'],
        response: {
          200: { type: 'object', additionalProperties: true, properties: { ok: { type: 'boolean' } } },
          503: { type: 'object', additionalProperties: true, properties: { ok: { type: 'boolean' } } },
        },
      },
    },
    async (_request, reply) => {
      const h = await svc.health();
      return reply.code(h.ok ? 200 : 503).send(h);
    },
  );

  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['ops'], produces: ['text/plain'], response: { 200: { type: 'string' } } } },
    async (_request, reply) => {
      const [byState, c, depth] = await Promise.all([svc.store.countByState(), svc.store.counters(), svc.queue.depth()]);
      const lines: string[] = [];
      const metric = (name: string, type: 'gauge' | 'counter', help: string, values: Array<[labels: string, value: number]>): void => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const [labels, value] of values) lines.push(`${name}${labels} ${Number.isFinite(value) ? value : 0}`);
      };
      metric(
        'omniprep_jobs',
        'gauge',
        'Jobs by state (kept until retention removes them).',
        JOB_STATES.map((s) => [`{state="${s}"}`, byState[s]]),
      );
      metric('omniprep_queue_depth', 'gauge', 'Jobs waiting to run.', [['', depth]]);
      metric('omniprep_queue_limit', 'gauge', 'Jobs that may wait before submissions get 429.', [['', svc.config.queueLimit]]);
      metric('omniprep_jobs_submitted_total', 'counter', 'Jobs accepted.', [['', c.jobsSubmittedTotal]]);
      metric('omniprep_jobs_finished_total', 'counter', 'Jobs that ended, by outcome.', [
        ['{state="succeeded"}', c.jobsSucceededTotal],
        ['{state="failed"}', c.jobsFailedTotal],
        ['{state="cancelled"}', c.jobsCancelledTotal],
      ]);
      metric('omniprep_frames_total', 'counter', 'Frames written by finished jobs.', [['', c.framesTotal]]);
      metric('omniprep_audio_seconds_total', 'counter', 'Seconds of audio cut into chunks by finished jobs.', [['', c.audioSecondsTotal]]);
      metric('omniprep_tokens_estimated_total', 'counter', 'Input tokens the plans of accepted jobs estimated.', [['', c.tokensEstimatedTotal]]);
      metric('omniprep_dollars_estimated_total', 'counter', 'Dollars the plans of accepted jobs estimated.', [['', c.dollarsEstimatedTotal]]);
      metric('omniprep_tokens_spent_total', 'counter', 'Input and output tokens the model server reported for jobs that called it.', [
        ['', c.tokensSpentTotal],
      ]);
      metric('omniprep_dollars_spent_total', 'counter', 'Dollars of the reported usage of jobs that called the model.', [['', c.dollarsSpentTotal]]);
      metric('omniprep_jobs_running_here', 'gauge', 'Jobs running on this node.', [['', svc.runningHere()]]);
      metric('omniprep_child_processes', 'gauge', "ffmpeg/ffprobe children of this process's main thread.", [['', liveProcessCount()]]);
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(`${lines.join('\n')}\n`);
    },
  );

  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
}
