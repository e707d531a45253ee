/**
 * Clients see the names they gave, never the server's paths: plans, manifests, results and error
 * messages pass through here before they are stored or sent.
 */
import { isOmniprepError, OmniprepError } from '../errors.js';

/** Each `from` (a path, or a pattern of paths such as a remote input's sparse copy) becomes `to`. */
export type Renames = ReadonlyArray<readonly [from: string | RegExp, to: string]>;

function found(s: string, from: string | RegExp): boolean {
  if (typeof from === 'string') return from !== '' && s.includes(from);
  from.lastIndex = 0;
  return from.test(s);
}

function replaceAll(s: string, renames: Renames): string {
  let out = s;
  for (const [from, to] of renames) {
    if (!found(out, from)) continue;
    out = typeof from === 'string' ? out.split(from).join(to) : out.replace(from, () => to);
  }
  return out;
}

/** A copy of a JSON value with every occurrence of each `from` in its strings replaced by `to`. */
export function scrubPaths<T>(value: T, renames: Renames): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return replaceAll(v, renames);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}

/** An error whose message names the client's input instead of the server's file. */
export function scrubError(e: unknown, renames: Renames, input: string): unknown {
  if (isOmniprepError(e)) {
    const message = replaceAll(e.message, renames);
    if (message === e.message) return e;
    return new OmniprepError(e.code, message, { input, ...(e.details ? { details: e.details } : {}) });
  }
  if (e instanceof Error && renames.some(([from]) => found(e.message, from))) {
    const copy = new Error(replaceAll(e.message, renames));
    copy.name = e.name;
    return copy;
  }
  return e;
}
