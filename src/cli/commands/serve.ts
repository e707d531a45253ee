/** `omniprep serve` (the HTTP service) and `omniprep worker` (takes jobs from the shared Redis queue). */
import { loadOptional } from '../../util/optional.js';
import type { Command } from 'commander';
import { OmniprepError } from '../../errors.js';
import { killAllProcesses } from '../../ffmpeg/runner.js';
import { action, numberArg } from '../util.js';
import { PROVIDER_NAMES, PROVIDERS } from '../../providers/registry.js';
import type { ServiceConfig } from '../../service/config.js';

interface NodeCliOptions {
  /** `--openai-base-url`, `--anthropic-base-url`, ...: each provider's server for jobs with call: true. */
  [baseUrl: `${string}BaseUrl`]: string | undefined;
  data?: string;
  redis?: string;
  workers?: number;
  jobTimeout?: number;
  allowPrivateUrls?: boolean;
  maxUploadBytes?: number;
  store?: string;
  s3Endpoint?: string;
}

interface ServeCliOptions extends NodeCliOptions {
  port: number;
  host: string;
  allowRoot?: string[];
  queueLimit?: number;
  retentionHours?: number;
  uploadTtl?: number;
  log?: boolean;
  proxyStore?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** SIGINT/SIGTERM: stop taking work, hand running jobs back to the queue, then exit. */
function gracefulExit(close: () => Promise<void>): void {
  // The CLI's default handlers exit at once; a node first puts its running jobs back.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`omniprep: ${sig}: stopping (running jobs go back to the queue)\n`);
    const force = setTimeout(() => {
      killAllProcesses();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }, 10_000);
    force.unref();
    void close()
      .catch(() => {})
      .finally(() => {
        killAllProcesses();
        process.exit(sig === 'SIGINT' ? 130 : 143);
      });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/**
 * One warning line per binary older than the patched release that reads untrusted input: a
 * service decodes uploads, and the npm-shipped 2018 build (the last resort) has dozens of demuxer
 * and decoder fixes missing. When node-av's FFmpeg 8.1 decodes the frames (the decoder option), the
 * ffmpeg binary's line says it is left with audio and scene scans.
 */
async function warnOutdatedDecoders(): Promise<void> {
  const [{ toolchain, isOutdated }, { outdatedBuild, currentBuildHint }, { resolveDecoder }] = await Promise.all([
    import('../../ffmpeg/binaries.js'),
    import('../../doctor.js'),
    import('../../extract/decoder.js'),
  ]);
  try {
    const [tc, decoder] = await Promise.all([toolchain(), resolveDecoder()]);
    for (const t of [tc.ffmpeg, tc.ffprobe]) {
      // Frames may decode elsewhere (node-av), but audio and scene scans still run the ffmpeg binary.
      const what = t.name === 'ffmpeg' && decoder.decoder !== 'ffmpeg' ? 'audio and scene scans of untrusted input' : 'untrusted input';
      if (isOutdated(t.version)) {
        process.stderr.write(`omniprep: warning: this service decodes ${what} with ${outdatedBuild(t)}; ${currentBuildHint(t)}\n`);
      }
    }
  } catch (e) {
    process.stderr.write(`omniprep: warning: ${(e as Error).message}\n`);
  }
}

/** Whether a --host value only reaches this machine. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\./.test(host) || host === '::1' || host === '[::1]';
}

/**
 * Listens, and returns the URL of the address really bound (`--host 0.0.0.0` is every interface,
 * not the 127.0.0.1 Fastify names). A port in use, or a host this machine does not have, is one
 * line and the node closes (its store, queue and workers), so the process exits 1 at once
 * instead of running on without a server.
 */
async function listenOrClose(
  svc: { listen(): Promise<string>; close(): Promise<void>; app: { server: { address(): unknown } } },
  o: ServeCliOptions,
): Promise<string> {
  try {
    await svc.listen();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const cause = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EADDRNOTAVAIL' ? 'this machine has no such address' : (e as Error).message;
    const exit = setTimeout(() => process.exit(1), 5000);
    exit.unref();
    await svc.close().catch(() => {});
    throw new OmniprepError('PROCESS_FAILED', `cannot listen on ${o.host}:${o.port}: ${cause}${code ? ` (${code})` : ''}`, { cause: e });
  }
  const a = svc.app.server.address() as { address: string; port: number; family: string } | null;
  if (!a) return `http://${o.host}:${o.port}`;
  return `http://${a.family === 'IPv6' || a.family === '6' ? `[${a.address}]` : a.address}:${a.port}`;
}

/**
 * `--<provider>-base-url`: each provider's server for jobs with `call: true` (default: the
 * variable its client reads); keys come from the environment only (a flag would show in `ps`).
 */
function withProviderServers(cmd: Command): Command {
  for (const p of PROVIDER_NAMES) {
    const env = PROVIDERS[p].env;
    cmd.option(
      `--${p}-base-url <url>`,
      `${p}'s server for jobs with call: true (default ${env.baseURL}${env.hosted ? `, else ${p}` : ''}; key: ${env.apiKey.join(' or ')})`,
    );
  }
  return cmd;
}

/** The providers' servers given by flags. */
function providerServers(opts: NodeCliOptions): ServiceConfig['providers'] {
  return Object.fromEntries(PROVIDER_NAMES.flatMap((p) => (opts[`${p}BaseUrl`] ? [[p, { baseURL: opts[`${p}BaseUrl`] }]] : [])));
}

function withNodeOptions(cmd: Command): Command {
  return withProviderServers(cmd)
    .option('--data <dir>', 'data directory: jobs (SQLite), uploads and outputs (default ./omniprep-data; shared by every node with --redis)')
    .option(
      '--workers <n>',
      'jobs run at once on this node (default 2; serve --redis --workers 0: an API-only node)',
      numberArg('--workers', { min: 0, integer: true }),
    )
    .option('--job-timeout <sec>', 'wall-clock limit of one job (default 3600)', numberArg('--job-timeout', { min: 1 }))
    .option('--allow-private-urls', 'let URL inputs reach loopback, private and link-local addresses (trusted networks only)')
    .option('--max-upload-bytes <n>', 'largest upload or download (default 2 GiB)', numberArg('--max-upload-bytes', { min: 1, integer: true }))
    .option(
      '--store <s3url>',
      'uploads, frames and manifests in S3-compatible storage (s3://BUCKET/PREFIX; AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION): nodes share no disk (default: OMNIPREP_STORE)',
    )
    .option('--s3-endpoint <url>', 'an S3-compatible server for --store, path-style (default: AWS_ENDPOINT_URL_S3)');
}

export function register(program: Command): void {
  withNodeOptions(
    program
      .command('serve')
      .description('the HTTP service: POST /v1/jobs, /v1/plan, job state, events, frames; OpenAPI at /docs/json')
      .option('--port <port>', 'port (0: any free one)', numberArg('--port', { min: 0, max: 65535, integer: true }), 8080)
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--redis <url>', 'scale out: queue and job state in Redis (BullMQ); add workers with `omniprep worker --redis URL`')
      .option('--allow-root <dir>', 'a directory jobs may name files in by path (repeatable)', collect)
      .option('--queue-limit <n>', 'jobs that may wait; more get 429 with Retry-After (default 1000)', numberArg('--queue-limit', { min: 1, integer: true }))
      .option('--retention-hours <h>', 'finished jobs and their files are deleted after this (default 168)', numberArg('--retention-hours', { min: 0.001 }))
      .option(
        '--upload-ttl <sec>',
        'uploads (POST /v1/uploads) no job holds are deleted this long after their last use (default 86400: 24 h)',
        numberArg('--upload-ttl', { min: 1 }),
      )
      .option('--log', 'log every request (JSON lines on stdout)')
      .option('--proxy-store', 'send frames and manifests in the --store through this node instead of redirecting to presigned URLs'),
  ).action(
    action(async (opts: ServeCliOptions) => {
      const { createService } = await loadOptional('omniprep serve', () => import('../../service/service.js'));
      const svc = await createService(
        {
          dataDir: opts.data,
          port: opts.port,
          host: opts.host,
          workers: opts.workers,
          redisUrl: opts.redis,
          allowRoots: opts.allowRoot,
          allowPrivateUrls: opts.allowPrivateUrls,
          maxUploadBytes: opts.maxUploadBytes,
          jobTimeoutSec: opts.jobTimeout,
          queueLimit: opts.queueLimit,
          retentionHours: opts.retentionHours,
          uploadTtlSec: opts.uploadTtl,
          store: opts.store,
          s3Endpoint: opts.s3Endpoint,
          proxyStore: opts.proxyStore,
          providers: providerServers(opts),
        },
        { logger: Boolean(opts.log) },
      );
      gracefulExit(() => svc.close());
      const url = await listenOrClose(svc, opts);
      await warnOutdatedDecoders();
      const c = svc.config;
      const mode = `${c.redisUrl ? `redis ${c.redisUrl.replace(/\/\/[^@/]*@/, '//***@')}` : `embedded store ${c.dataDir}`}${c.store ? `, objects in ${svc.objects.where}` : ''}`;
      if (!c.token && !isLoopback(opts.host)) {
        process.stderr.write(
          `omniprep: warning: listening on ${opts.host}, reachable from other machines, and OMNIPREP_TOKEN is not set: anyone who reaches the port can submit jobs and read their frames\n`,
        );
      }
      return {
        json: {
          url,
          node: c.nodeName,
          data: c.dataDir,
          store: svc.store.kind,
          queue: svc.queue.kind,
          workers: svc.runner ? c.workers : 0,
          token: Boolean(c.token),
        },
        text: `omniprep: listening on ${url} (${mode}, ${svc.runner ? c.workers : 0} worker(s)${c.token ? ', bearer token required' : ''})`,
      };
    }),
  );

  withNodeOptions(
    program
      .command('worker')
      .description('take jobs from the shared queue (BullMQ on Redis) and run them on this machine')
      .requiredOption('--redis <url>', 'the Redis the API nodes use'),
  ).action(
    action(async (opts: NodeCliOptions) => {
      if ((opts.workers ?? 1) < 1) throw new OmniprepError('INVALID_OPTION', 'option --workers: a worker needs at least 1');
      const { createService } = await loadOptional('omniprep serve', () => import('../../service/service.js'));
      const svc = await createService(
        {
          dataDir: opts.data,
          workers: opts.workers,
          redisUrl: opts.redis,
          allowPrivateUrls: opts.allowPrivateUrls,
          maxUploadBytes: opts.maxUploadBytes,
          jobTimeoutSec: opts.jobTimeout,
          store: opts.store,
          s3Endpoint: opts.s3Endpoint,
          providers: providerServers(opts),
        },
        { http: false, work: true },
      );
      gracefulExit(() => svc.close());
      await warnOutdatedDecoders();
      const c = svc.config;
      return {
        json: { node: c.nodeName, data: c.dataDir, workers: c.workers },
        text: `omniprep: worker ${c.nodeName} taking jobs from ${c.redisUrl!.replace(/\/\/[^@/]*@/, '//***@')} (${c.workers} at a time, data ${c.dataDir}${c.store ? `, objects in ${svc.objects.where}` : ''})`,
      };
    }),
  );
}
