/** The range reader's bookkeeping (src/source/range.ts): which bytes were fetched, and what a Content-Range says. */

/** Sorted, disjoint [start, end) intervals. */
export class Intervals {
  private list: Array<[number, number]> = [];
  add(a: number, b: number): void {
    if (b <= a) return;
    const out: Array<[number, number]> = [];
    let placed = false;
    for (const [x, y] of this.list) {
      if (y < a) out.push([x, y]);
      else if (x > b) {
        if (!placed) out.push([a, b]);
        placed = true;
        out.push([x, y]);
      } else {
        a = Math.min(a, x);
        b = Math.max(b, y);
      }
    }
    if (!placed) out.push([a, b]);
    this.list = out.sort((p, q) => p[0] - q[0]);
  }
  /** The parts of [a, b) not covered. */
  missing(a: number, b: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let at = a;
    for (const [x, y] of this.list) {
      if (y <= at) continue;
      if (x >= b) break;
      if (x > at) out.push([at, x]);
      at = Math.max(at, y);
      if (at >= b) break;
    }
    if (at < b) out.push([at, b]);
    return out;
  }
  get covered(): number {
    return this.list.reduce((n, [x, y]) => n + y - x, 0);
  }
}

/** A Content-Range header's `bytes start-end/total` (total NaN when `*`), or undefined when it is not one. */
export function contentRange(v: string | undefined): { start: number; end: number; total: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? NaN : Number(m[3]) };
}
