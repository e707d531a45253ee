/**
 * What POST /v1/jobs and /v1/plan do with a request before a job exists: read the input (an
 * upload, a pinned path, a URL: by byte ranges, or whole) and the options, plan it, and keep or
 * discard the stored file. Inputs being submitted on this node are pinned in memory, so the sweeper
 * and a failed sibling submission leave them alone.
 */
import { copyFile, link, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import pLimit from 'p-limit';
import { isOmniprepError, OmniprepError } from '../errors.js';
import { planRemote, planWithFacts as planKnown } from '../plan/plan.js';
import { factsNeeded, type PlanFacts } from '../plan/planner.js';
import { IncompleteIndex } from '../plan/frames.js';
import { withIndex } from '../probe/keyframes.js';
import type { Plan } from '../plan/types.js';
import { RemoteInput, remoteOptions } from '../source/remote.js';
import { checkPlanBounds } from './bounds.js';
import type { ResolvedConfig } from './config.js';
import type { DataDir } from './data.js';
import { ServiceError } from './errors.js';
import { type FileIdentity, inputFile, intakePath, intakeUpload, intakeUrl, jobUrlOptions } from './intake.js';
import { objectUrl, objectUrlOptions, s3UrlInput, uploadToStore } from './object-inputs.js';
import type { OpenedObjects } from './objects/open.js';
import { jobProvider, OPTIONS_FIELD_LIMIT, parseJobOptions, resolveJobOptions, toPlanOptions, type JobOptions } from './options.js';
import { PROVIDERS } from '../providers/registry.js';
import { scrubPaths, type Renames } from './paths.js';
import type { EvalTask, EvalTaskOutcome } from './eval-task.js';
import { Planner } from './planner.js';
import { holdKey, readByRanges, type JobInput, type JobStore } from './store/types.js';
import type { TokenCounter } from './tokens.js';
import type { Uploads } from './uploads.js';

/** Path inputs whose stored copies are kept for planning again. */
const STORED_PATHS = 64;
/** Room for multipart boundaries and part headers. */
export const MULTIPART_SLACK = 64 * 1024;

export interface InputsDeps {
  config: ResolvedConfig;
  data: DataDir;
  store: JobStore;
  roots: string[];
  tokens: TokenCounter;
  /** The S3 store (--store) or the data directory: where uploads go. */
  objectStore: OpenedObjects;
  /** Uploads sent once (POST /v1/uploads), used by id. */
  uploads: Uploads;
}

type Planned = { plan: Plan; facts?: PlanFacts | undefined };

/** How long a planner's presigned GET of an input in the store works. */
const PLAN_URL_TTL_SEC = 900;

/**
 * A signal that fires when the client of a request goes away before its answer is sent: a
 * submission it abandoned stops reading and planning, and leaves its place in the queue.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  const res = reply.raw;
  // 'close' comes when the answer was sent, or when the connection closed before it was.
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  return ac.signal;
}

/** Library errors name the file the service stored; clients see the name they gave. */
export function renamed(e: unknown, file: string, name: string): unknown {
  if (!isOmniprepError(e) || file === name || !e.message.includes(file)) return e;
  return new OmniprepError(e.code, e.message.split(file).join(name), { input: name, ...(e.details ? { details: e.details } : {}) });
}

/** Any multipart failure as the client's error: a 400 naming the rule, or 413 for the size limit. */
export function multipartError(e: unknown, maxBytes: number): unknown {
  if (e instanceof ServiceError || isOmniprepError(e)) return e;
  const err = e as NodeJS.ErrnoException & { statusCode?: number };
  if (err?.syscall) return e; // the server's own disk: a 500
  switch (err?.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new OmniprepError('TOO_LARGE', `the upload is over the ${maxBytes}-byte limit`);
    case 'FST_FILES_LIMIT':
      return new ServiceError('BAD_REQUEST', 'multipart: one file only, in the field "file"');
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new ServiceError('BAD_REQUEST', 'multipart: too many parts (send the fields file and options once each)');
    default:
      return new ServiceError(
        'BAD_REQUEST',
        `multipart: ${String(err?.message ?? e)
          .replace(/\s+/g, ' ')
          .slice(0, 200)}`,
      );
  }
}

export class Inputs {
  private readonly pinned = new Map<string, number>();
  /** Path inputs stored by file identity, least recently used first (see remember). */
  private readonly stored = new Map<FileIdentity, JobInput>();
  private readonly planLimit = pLimit(4);
  /** URL submissions read by ranges: their open reader, until they are planned or discarded. */
  private readonly opened = new Map<JobInput, RemoteInput>();

  /** Stored files are planned on threads of their own (planner.ts): their parsers never run on the event loop. */
  private readonly planner: Planner;

  constructor(private readonly d: InputsDeps) {
    this.planner = new Planner({ timeoutMs: d.config.planTimeoutMs });
  }

  /**
   * The input and options of a submission (multipart upload, or JSON with a path or URL). `whole`
   * reads a URL whole and stores it, saying why (a route that decodes every frame).
   */
  read(request: FastifyRequest, o: { whole?: string; signal?: AbortSignal } = {}): Promise<{ input: JobInput; options: JobOptions }> {
    return request.isMultipart() ? this.readMultipart(request) : this.readJson(request, o.whole, o.signal);
  }

  private async readMultipart(request: FastifyRequest): Promise<{ input: JobInput; options: JobOptions }> {
    const { data, config } = this.d;
    let input: JobInput | undefined;
    let rawOptions: string | undefined;
    // A declared length over what one file and the options field can take is refused before reading.
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > config.maxUploadBytes + OPTIONS_FIELD_LIMIT + MULTIPART_SLACK) {
      throw new OmniprepError('TOO_LARGE', `the upload is over the ${config.maxUploadBytes}-byte limit (Content-Length ${declared})`);
    }
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file' || input) {
            part.file.resume();
            throw new ServiceError('BAD_REQUEST', `multipart: one file only, in the field "file" (got "${part.fieldname}"${input ? ' again' : ''})`);
          }
          input =
            this.d.objectStore.objects.kind === 's3'
              ? await uploadToStore(part.file, part.filename, this.d.objectStore.objects, config.maxUploadBytes)
              : await intakeUpload(part.file, part.filename, data, config.maxUploadBytes);
          this.pin(input);
        } else if (part.fieldname === 'options') {
          if (part.valueTruncated) throw new ServiceError('BAD_REQUEST', `multipart: the options field is over the ${OPTIONS_FIELD_LIMIT}-byte limit`);
          if (rawOptions !== undefined) throw new ServiceError('BAD_REQUEST', 'multipart: one options field only');
          rawOptions = String(part.value);
        } else {
          throw new ServiceError('BAD_REQUEST', `multipart: unknown field "${part.fieldname}" (fields: file, options)`);
        }
      }
      if (!input) throw new ServiceError('BAD_REQUEST', 'multipart: no file (send it in the field "file")');
      return { input, options: parseJobOptions(rawOptions) };
    } catch (e) {
      if (input) await this.discard(input);
      throw multipartError(e, config.maxUploadBytes);
    }
  }

  private async readJson(
    request: FastifyRequest,
    whole: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ input: JobInput; options: JobOptions }> {
    const body = request.body as { path?: string; url?: string; upload?: string; options?: JobOptions } | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new ServiceError('BAD_REQUEST', 'send JSON { path | url | upload, options } or a multipart upload (file, options)');
    if ([body.path, body.url, body.upload].filter((x) => x !== undefined).length !== 1)
      throw new ServiceError('BAD_REQUEST', 'give exactly one of path, url or upload (or upload the file as multipart/form-data)');
    const options = parseJobOptions(body.options);
    // Scene mode decodes every frame: a URL is then read whole (the library's rule).
    const input = await this.intake(body, whole ?? remoteOptions({ mode: options.mode }).whole, options.mode, signal);
    return { input, options };
  }

  /** One input named by path, url or upload, stored (pinned) as a job's is; a URL by ranges unless `whole` says why not. */
  private async intake(
    ref: { path?: string; url?: string; upload?: string },
    whole: string | undefined,
    mode: string | undefined,
    signal?: AbortSignal,
  ): Promise<JobInput> {
    const { data, config, roots } = this.d;
    const { objects } = this.d.objectStore;
    if (ref.upload !== undefined) {
      const input = await this.d.uploads.input(ref.upload);
      this.pin(input);
      return input;
    }
    if (ref.url?.startsWith('s3://')) return s3UrlInput(objects, ref.url, config.maxUploadBytes);
    if (ref.path !== undefined) {
      const { input, identity } = await intakePath(ref.path, roots, data, (id) => this.stored.get(id));
      this.remember(identity, input);
      this.pin(input);
      return input;
    }
    const { input, remote } = await intakeUrl(ref.url!, data, config, { whole, mode, signal });
    if (remote) this.opened.set(input, remote);
    this.pin(input);
    return input;
  }

  /**
   * An eval's video as a local file at `dest`: stored as a job's input is (a URL read whole), then
   * linked there (an input in the S3 store downloaded through a presigned GET). The stored input is
   * let go. Returns its bytes.
   */
  async localVideo(ref: { path?: string; url?: string; upload?: string }, dest: string, signal?: AbortSignal): Promise<number> {
    const input = await this.intake(ref, 'an eval reads its videos whole', undefined, signal);
    try {
      if (input.file) await link(inputFile(input, this.d.data), dest).catch(() => copyFile(inputFile(input, this.d.data), dest));
      else {
        const { objects, endpointAddresses } = this.d.objectStore;
        const url = await objectUrl(objects, input, PLAN_URL_TTL_SEC);
        const remote = await RemoteInput.open(url, {
          ...objectUrlOptions(input, this.d.config, endpointAddresses, signal),
          whole: 'an eval reads its videos whole',
        });
        try {
          await copyFile(remote.path, dest);
        } finally {
          await remote.close();
        }
      }
      return input.bytes;
    } finally {
      await this.discard(input);
    }
  }

  /**
   * The plan of an input, from a probe cached by the stored file (content-addressed); a URL read by
   * ranges is planned from its index (the reader its submission opened, closed here), and the plan
   * says what reading it fetched (`remote`).
   */
  async plan(input: JobInput, options: JobOptions, signal?: AbortSignal): Promise<Plan> {
    return (await this.planWithFacts(input, options, signal)).plan;
  }

  /**
   * The plan (its paths in the client's names) with the facts it was made from (the stored file's,
   * or a URL's read by ranges), for its job's worker: src/sample/planned.ts. A URL's worker opens
   * it again (pinned to what its submission saw) and executes the plan on what it fetches.
   */
  planWithFacts(input: JobInput, options: JobOptions, signal?: AbortSignal): Promise<Planned> {
    return this.planLimit(async () => {
      if (!input.upload) return (await this.planInput(input, options, signal)).planned;
      // An upload planned before: from what that plan learned (nothing is read or probed again).
      const known = await this.d.uploads.knownFacts(input);
      const again = known && (await this.planFromKnown(input, known, options));
      if (again) return again;
      const { planned, facts } = await this.planInput(input, options, signal);
      if (facts) await this.d.uploads.keepFacts(input, facts);
      return planned;
    });
  }

  /**
   * The plan of an upload from the facts an earlier plan of it learned (no file read, no thread:
   * the planner is pure); undefined when they cannot serve it (scene mode decodes the video; a
   * Matroska index of keyframes only, for a plan that needs other frames).
   */
  private async planFromKnown(input: JobInput, known: PlanFacts, options: JobOptions): Promise<Planned | undefined> {
    const { config, tokens } = this.d;
    if (factsNeeded(known.info, options).scene) return undefined;
    checkPlanBounds(known.info, options);
    await tokens.prime(options.model, { prompt: options.prompt, system: options.system });
    const info = known.index ? withIndex(known.info, known.index) : known.info;
    const renames: Renames = [
      [known.info.path, input.name],
      [known.info.input, input.name],
    ];
    try {
      const { plan, facts } = await planKnown(info, resolveJobOptions(toPlanOptions(options, config.limits)));
      // An object in the store is planned again by its worker (from byte ranges); a file's plan goes with its job.
      return { plan: scrubPaths(plan, renames), ...(input.object ? {} : { facts }) };
    } catch (e) {
      if (e instanceof IncompleteIndex) return undefined;
      throw renamed(renamed(e, known.info.path, input.name), known.info.input, input.name);
    }
  }

  /**
   * The plan of an input read now: `planned` for its job (facts only where its worker can execute
   * them), `facts` what the reading learned (kept for an upload's next plan).
   */
  private async planInput(input: JobInput, options: JobOptions, signal: AbortSignal | undefined): Promise<{ planned: Planned; facts?: PlanFacts }> {
    const { data, config, tokens } = this.d;
    const remote = readByRanges(input) ? await this.takeRemote(input, options, signal) : undefined;
    const file = remote ? remote.path : inputFile(input, data);
    // An input in the store is read through a presigned URL: the client sees its own name.
    const renames: Renames = [[file, input.name], ...(remote && input.object ? [[remote.report().url, input.name] as const] : [])];
    try {
      await tokens.prime(options.model, { prompt: options.prompt, system: options.system });
      // A URL read by ranges: from its index, the plan says what the reading fetched.
      if (remote) {
        const planOptions = resolveJobOptions({ ...toPlanOptions(options, config.limits), signal });
        const { plan, facts } = await planRemote(remote, planOptions, (info) => checkPlanBounds(info, options));
        // An object in the store is read through a presigned URL the worker signs again: it plans again
        // from the byte ranges (a stored plan names the URL it was made from).
        if (input.object) return { planned: { plan: scrubPaths(plan, renames) }, facts };
        return { planned: { plan: scrubPaths(plan, renames), facts: { ...facts, info: { ...facts.info, path: input.name } } } };
      }
      const { plan, facts } = await this.planner.plan(file, input.name, options, config.limits, signal);
      return { planned: { plan: scrubPaths({ ...plan, ...(input.remote ? { remote: input.remote } : {}) }, [[file, input.name]]), facts }, facts };
    } catch (e) {
      throw renamed(e, file, input.name);
    } finally {
      await remote?.close();
    }
  }

  /** The reader a URL's submission opened (or a new one, pinned to what it saw; an object's through a presigned GET). */
  private async takeRemote(input: JobInput, options: JobOptions, signal: AbortSignal | undefined): Promise<RemoteInput> {
    const open = this.opened.get(input);
    this.opened.delete(input);
    if (open) return open;
    if (!input.object) return RemoteInput.open(input.url!, jobUrlOptions(input, this.d.config, signal));
    const { objects, endpointAddresses } = this.d.objectStore;
    const url = await objectUrl(objects, input, PLAN_URL_TTL_SEC);
    return RemoteInput.open(url, { ...remoteOptions({ mode: options.mode }), ...objectUrlOptions(input, this.d.config, endpointAddresses, signal) });
  }

  /** Closes the reader of a submission that ends without a plan. */
  private async closeRemote(input: JobInput): Promise<void> {
    const open = this.opened.get(input);
    this.opened.delete(input);
    await open?.close();
  }

  /** A job that calls the model: it has a prompt, and this server has its provider's key (a local server: its URL). */
  checkCallable(options: JobOptions, name: string): void {
    if (!options.prompt?.trim())
      throw new OmniprepError('INVALID_OPTION', `${name}: option prompt: a job with call: true needs a prompt`, { details: { option: 'prompt' } });
    const r = resolveJobOptions({ model: options.model, provider: options.provider });
    const provider = jobProvider(r);
    const server = this.d.config.providers[provider];
    const env = PROVIDERS[provider].env;
    const missing = env.hosted
      ? !server.apiKey && `no API key for ${provider} (model ${r.model.name}; start it with ${env.apiKey[0]} set)`
      : !server.baseURL && `no URL for the ${provider} model server (start it with ${env.baseURL} set)`;
    if (missing) throw new OmniprepError('INVALID_OPTION', `${name}: option call: this server has ${missing}`, { details: { option: 'call' } });
  }

  /**
   * Keeps the stored copy of a path input by the file's identity (intake.ts), pinned, so that
   * planning the same unchanged file again (the page replans as options change) reads and
   * hashes nothing; the least recently used of STORED_PATHS are let go.
   */
  private remember(identity: FileIdentity, input: JobInput): void {
    const had = this.stored.get(identity);
    this.stored.delete(identity);
    this.stored.set(identity, had ?? { ...input });
    if (had) return;
    this.pin(input);
    while (this.stored.size > STORED_PATHS) {
      const [oldest, kept] = this.stored.entries().next().value as [FileIdentity, JobInput];
      this.stored.delete(oldest);
      void this.discard(kept).catch(() => {});
    }
  }

  private pin(input: JobInput): void {
    const key = holdKey(input);
    if (!key) return; // a URL read by ranges: nothing stored
    this.pinned.set(key, (this.pinned.get(key) ?? 0) + 1);
  }

  /** The submission is over (its job holds the file from now on, or it failed). */
  unpin(input: JobInput): void {
    void this.closeRemote(input).catch(() => {});
    const key = holdKey(input);
    if (!key) return;
    const n = (this.pinned.get(key) ?? 0) - 1;
    if (n > 0) this.pinned.set(key, n);
    else this.pinned.delete(key);
  }

  isPinned(file: string): boolean {
    return this.pinned.has(file);
  }

  /** Unpins a submission's input and removes the stored file when nothing else uses it. */
  async discard(input: JobInput): Promise<void> {
    await this.closeRemote(input).catch(() => {});
    this.unpin(input);
    if (input.owned && input.object) await this.d.objectStore.objects.deletePrefix(input.object);
    if (!input.file || input.upload) return; // an upload stays until it expires or is deleted
    if (this.pinned.has(input.file) || (await this.d.store.inputInUse(input.file))) return;
    const file = inputFile(input, this.d.data);
    if (this.d.data.isInput(file)) await rm(file, { force: true }); // never a file outside the store
  }

  /** An eval's estimate on a planning thread (with needles, their copy made first: the job's time limit then, else the plan's). */
  estimateEval(task: Omit<EvalTask, 'kind' | 'registry'>, signal?: AbortSignal): Promise<Extract<EvalTaskOutcome, { ok: true }>> {
    const { config } = this.d;
    return this.planner.estimateEval(task, task.needles ? config.jobTimeoutSec * 1000 : config.planTimeoutMs, signal);
  }

  /** Stops the planning threads. */
  close(): Promise<void> {
    return this.planner.close();
  }

  /**
   * Removes stored inputs no job uses and no submission on this node holds, last touched more
   * than `graceMs` ago (a submission on another node may be between storing and creating its job).
   */
  async sweepOrphans(graceMs: number): Promise<number> {
    const { data, store } = this.d;
    const cutoff = Date.now() - graceMs;
    let removed = 0;
    for (const name of await readdir(data.inputs).catch(() => [] as string[])) {
      const abs = join(data.inputs, name);
      const rel = data.rel(abs);
      if (this.pinned.has(rel)) continue;
      const st = await stat(abs).catch(() => undefined);
      if (!st || st.mtimeMs > cutoff) continue;
      if (await store.inputInUse(rel)) continue;
      await rm(abs, { force: true });
      removed++;
    }
    return removed;
  }
}
