/**
 * The facts a plan was made from (PlanFacts), as JSON and back: the service keeps them with a job
 * so that its worker executes the plan made at submit without probing or planning again. Pure.
 * A packet index keeps only PacketIndex's fields (an Mp4Index's decode order and track are the
 * range reader's), its codec record as base64.
 */
import { OmniprepError } from '../errors.js';
import type { MediaInfo, PacketIndex } from '../probe/types.js';
import type { PlanFacts, SceneFacts } from './planner.js';

export interface PacketIndexJson extends Omit<PacketIndex, 'codecRecord'> {
  codecRecord?: string | undefined;
}

export interface PlanFactsJson {
  info: MediaInfo;
  index?: PacketIndexJson | undefined;
  scene?: SceneFacts | undefined;
}

/** An index's PacketIndex fields (not an Mp4Index's others), with its codec record as `codecRecord` gives it. */
function indexFields<C>(idx: Omit<PacketIndex, 'codecRecord'>, codecRecord: C | undefined): Omit<PacketIndex, 'codecRecord'> & { codecRecord?: C } {
  return {
    streamIndex: idx.streamIndex,
    times: idx.times,
    pos: idx.pos,
    size: idx.size,
    keyframe: idx.keyframe,
    ...(idx.keyframesOnly ? { keyframesOnly: true } : {}),
    ...(idx.rawFrames ? { rawFrames: true } : {}),
    ...(codecRecord === undefined ? {} : { codecRecord }),
  };
}

const indexToJson = (idx: PacketIndex): PacketIndexJson => indexFields(idx, idx.codecRecord && Buffer.from(idx.codecRecord).toString('base64'));

export function factsToJson(facts: PlanFacts): PlanFactsJson {
  return {
    info: facts.info,
    ...(facts.index ? { index: indexToJson(facts.index) } : {}),
    ...(facts.scene ? { scene: facts.scene } : {}),
  };
}

const isNumbers = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number');

/** Facts read back; `name` names the source in the refusal when they are not facts (CORRUPT). */
export function factsFromJson(json: unknown, name: string): PlanFacts {
  const j = json as Partial<PlanFactsJson> | null;
  const idx = j?.index;
  const okInfo = typeof j?.info?.path === 'string' && typeof j.info.sizeBytes === 'number' && typeof j.info.kind === 'string';
  const okIndex =
    idx === undefined ||
    (typeof idx.streamIndex === 'number' &&
      isNumbers(idx.times) &&
      isNumbers(idx.pos) &&
      isNumbers(idx.size) &&
      Array.isArray(idx.keyframe) &&
      idx.pos.length === idx.times.length &&
      idx.size.length === idx.times.length &&
      idx.keyframe.length === idx.times.length);
  if (!j || !okInfo || !okIndex) throw new OmniprepError('CORRUPT', `${name}: the facts a plan was made from cannot be read`, { input: name });
  const index: PacketIndex | undefined =
    idx && indexFields(idx, idx.codecRecord === undefined ? undefined : new Uint8Array(Buffer.from(idx.codecRecord, 'base64')));
  return { info: j.info!, ...(index ? { index } : {}), ...(j.scene ? { scene: j.scene } : {}) };
}
