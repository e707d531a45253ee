/**
 * plan(input, options): gathers the facts about an input (probe, packet index, and in scene mode
 * the scene scores: the one decode a plan can need, cached per file) and hands them to the pure
 * planner (planner.ts). Nothing is decoded otherwise. `sample()` runs the same plan, so the two
 * agree frame for frame.
 */
import { isRemoteInput, remoteOptions, RemoteInput } from '../source/remote.js';
import { resolveLimits } from '../limits.js';
import { loadEncoding } from '../models/tokens.js';
import { resolveOptions, type Resolved } from '../options/resolve.js';
import { checkLifecycle } from '../models/lifecycle.js';
import { packetIndex } from '../probe/keyframes.js';
import { probe } from '../probe/probe.js';
import type { MediaInfo } from '../probe/types.js';
import { sceneScan } from '../extract/scene.js';
import { sceneMeasure } from '../media/formats.js';
import { IncompleteIndex } from './frames.js';
import { factsNeeded, planFromFacts, sceneOnIndex, type PlanFacts } from './planner.js';
import type { Plan, PlanOptions } from './types.js';

export { BUDGET_ORDER, planFromFacts, videoAssets, videoMime, type PlanFacts } from './planner.js';

/** plan()'s options as given, or resolved once by resolveOptions() (then taken as they are). */
export type PlanInput = PlanOptions | Resolved<PlanOptions>;

/** The facts a plan of this input needs (MediaInfo, packet index, scene scores), read once. */
export async function gatherFacts(input: string | MediaInfo, given: PlanInput = {}): Promise<PlanFacts> {
  const r = resolveOptions<PlanOptions>(given);
  const options = r.options;
  const info = typeof input === 'string' ? await probe(input, { limits: options.limits, signal: options.signal, ffprobePath: options.ffprobePath }) : input;
  const need = factsNeeded(info, options);
  if (!need.index) return { info };
  const index = packetIndex(info, options);
  if (!need.scene || (options.start ?? 0) >= info.durationSec) return { info, index: await index };
  const limits = resolveLimits(options.limits);
  const s = r.sampling;
  const end = Math.min(s.end ?? info.durationSec, info.durationSec);
  const [idx, scan] = await Promise.all([
    index,
    sceneScan(info, {
      measure: sceneMeasure(s.sceneDetector),
      start: s.start,
      end,
      maxPixels: limits.maxPixels,
      timeoutMs: limits.processTimeoutMs,
      signal: options.signal,
      ffmpegPath: options.ffmpegPath,
      onProgress: options.onScanProgress,
    }),
  ]);
  return { info, index: idx, scene: sceneOnIndex(idx, scan) };
}

/**
 * The media facts and the plan of an opened remote input (src/source/remote.ts), with what reading
 * it fetched. A plan the reading cannot serve (a Matroska file's Cues list keyframes only) is made
 * again once the file is read whole. `check` sees the facts before anything is planned. The
 * facts come back too: `sample(url, { plan, facts })` executes the plan later without probing.
 */
export async function planRemote(
  remote: RemoteInput,
  given: PlanInput = {},
  check?: (info: MediaInfo) => void,
): Promise<{ info: MediaInfo; plan: Plan; facts: PlanFacts }> {
  const r = resolveOptions<PlanOptions>(given);
  const options = r.options;
  const probeOptions = { limits: options.limits, signal: options.signal, ffprobePath: options.ffprobePath };
  let info = await remote.probe(probeOptions);
  check?.(info);
  let p: { plan: Plan; facts: PlanFacts };
  try {
    p = await planWithFacts(info, r);
  } catch (e) {
    if (!(e instanceof IncompleteIndex)) throw e;
    await remote.readWhole('the plan needs a frame other than the keyframes the Cues list');
    info = await remote.probe(probeOptions);
    p = await planWithFacts(info, r);
  }
  return { info, plan: { ...p.plan, remote: remote.report() }, facts: p.facts };
}

/** Plans sampling and the request for an input (a path, or MediaInfo from probe()). */
export async function plan(input: string | MediaInfo, options: PlanInput = {}): Promise<Plan> {
  // Options are resolved here, once: below, nothing parses them or looks the model up again.
  const r = resolveOptions<PlanOptions>(options);
  if (isRemoteInput(input)) {
    // A URL: its first block and index are fetched, never the file (src/source/remote.ts).
    const remote = await RemoteInput.open(input, remoteOptions(r.options));
    try {
      return (await planRemote(remote, r)).plan;
    } finally {
      await remote.close();
    }
  }
  return (await planWithFacts(input, r)).plan;
}

/**
 * The plan of a local input (a path, or MediaInfo from probe()) with the facts it was made from:
 * `sample(input, { plan, facts })` executes it later without probing or planning again.
 */
export async function planWithFacts(input: string | MediaInfo, options: PlanInput = {}): Promise<{ plan: Plan; facts: PlanFacts }> {
  const started = performance.now();
  // Refuse bad options before any process starts; the registry (a --models file read once) and
  // the model's entry resolved here are the ones the planner uses.
  const r = resolveOptions<PlanOptions>(options);
  // A retired model is refused here, before any process starts; a deprecated one is a warning.
  const lifecycle = checkLifecycle(r.model, r.registry, r.options);
  // A prompt is free text: load the tokenizer (~0.4 s) while ffprobe reads the file, not after.
  // Without one, the plan's only texts are omniprep's labels, counted without it (models/tokens.ts).
  if (r.options.prompt) setTimeout(() => loadEncoding(r.model), 1).unref();
  const facts = await gatherFacts(input, r);
  const p = planFromFacts(facts, r, started);
  return { plan: lifecycle ? { ...p, warnings: [lifecycle, ...p.warnings] } : p, facts };
}
