/**
 * Byte-pair merging in O(n log n) for long pieces. gpt-tokenizer merges a pre-tokenized piece
 * the way tiktoken does: rescan every pair for the lowest rank, merge it, repeat. That is
 * quadratic in the piece's length, and one piece can be a whole prompt (a run of one letter, of
 * emoji, of CJK characters): 40,000 emoji took 18 s. This merge makes exactly the same choices
 * (the lowest rank first, the leftmost of equal ranks) from a heap over a linked list of parts,
 * so counts are identical; test/models/bpe.test.ts checks that against the library's own merge.
 *
 * It is installed on the library's encoder object (its merge method is internal, so the shape is
 * checked first and a self-test compares both merges; when either fails, the library's own merge
 * stays). Long pieces are also kept out of the library's merge cache, which would otherwise hold
 * every distinct long prompt (100,000 entries of any size).
 */

/** Pieces longer than this (bytes) take the heap merge; shorter ones the library's. */
export const LONG_PIECE = 64;
/** Pieces longer than this (characters) are not cached by the library. */
const CACHE_MAX_KEY = 256;

type RankOf = (bytes: Uint8Array) => number | undefined;

/**
 * The ranks of the tokens a piece merges into, lowest rank first and leftmost on ties (the same
 * tokens as tiktoken's `byte_pair_merge`).
 */
export function heapMerge(piece: Uint8Array, rankOf: RankOf): number[] {
  const n = piece.length;
  if (n === 0) return [];
  // Part i starts at byte i; next[i] / prev[i] link the parts that remain (-1 ends the list).
  // pair[i] is the rank of (part i, the part after it); a pair's bytes only grow, so a heap
  // entry whose rank is no longer pair[i] is stale.
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const pair = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const end = (i: number): number => (next[i]! < 0 ? n : next[i]!);
  const pairRank = (i: number): number => {
    const j = next[i]!;
    if (j < 0) return Infinity;
    return rankOf(piece.subarray(i, end(j))) ?? Infinity;
  };
  const heap = new KeyHeap(n);
  const update = (i: number): void => {
    const r = pairRank(i);
    pair[i] = r;
    if (r !== Infinity) heap.push(r * POS + i);
  };
  for (let i = 0; i + 1 < n; i++) update(i);
  while (heap.size) {
    const key = heap.pop();
    const i = key % POS;
    const rank = (key - i) / POS;
    if (pair[i] !== rank || next[i]! < 0) continue; // stale, or part i was merged away
    const j = next[i]!;
    const k = next[j]!; // part i absorbs part j
    next[i] = k;
    if (k >= 0) prev[k] = i;
    next[j] = -1;
    pair[j] = Infinity;
    update(i);
    if (prev[i]! >= 0) update(prev[i]!);
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i]!) {
    const r = rankOf(piece.subarray(i, end(i)));
    if (r === undefined) throw new Error(`The byte-pair encoding does not contain a value for: ${piece.subarray(i, end(i)).toString()}`);
    out.push(r);
  }
  return out;
}

/** Heap keys: rank * POS + position (ranks < 2^21, positions < 2^32: exact in a double). */
const POS = 2 ** 32;

/** A binary min-heap of numbers. */
class KeyHeap {
  private a: Float64Array;
  size = 0;
  constructor(capacity: number) {
    this.a = new Float64Array(Math.max(16, capacity));
  }
  push(key: number): void {
    if (this.size === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    const a = this.a;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= key) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = key;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a[--this.size]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const m = r < this.size && a[r]! < a[l]! ? r : l;
      if (a[m]! >= last) break;
      a[i] = a[m]!;
      i = m;
    }
    a[i] = last;
    return top;
  }
}

interface Core {
  bytePairMerge(piece: Uint8Array): number[];
  getBpeRankFromBytes(key: Uint8Array): number | undefined;
  addToMergeCache(key: string, value: number[]): void;
}

const installed = new WeakSet<object>();

/**
 * Puts the heap merge into one of gpt-tokenizer's encodings (its default export). Returns false,
 * leaving the library as it was, when the internals are not what this was written against.
 */
export function installLinearMerge(api: unknown): boolean {
  const core = (api as { bytePairEncodingCoreProcessor?: Partial<Core> } | undefined)?.bytePairEncodingCoreProcessor;
  if (!core || typeof core !== 'object') return false;
  if (installed.has(core)) return true;
  if (typeof core.bytePairMerge !== 'function' || typeof core.getBpeRankFromBytes !== 'function' || typeof core.addToMergeCache !== 'function') return false;
  const c = core as Core;
  const original = c.bytePairMerge.bind(c);
  // No token is longer than the longest entry of the vocabulary: longer pairs need no lookup.
  let longest = 0;
  for (const v of ((core as { bytePairRankDecoder?: unknown }).bytePairRankDecoder as Array<string | number[] | undefined> | undefined) ?? []) {
    const len = typeof v === 'string' ? Buffer.byteLength(v) : Array.isArray(v) ? v.length : 0;
    if (len > longest) longest = len;
  }
  if (!longest) return false;
  const rankOf: RankOf = (b) => (b.length > longest ? undefined : c.getBpeRankFromBytes(b));
  // Self-test: both merges agree on pieces that exercise ties, multi-byte characters and runs.
  const probe = new TextEncoder();
  for (const s of [
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    ' internationalization',
    '😀😀😀🎉🎉漢字漢字かなカナ',
    'abcabcabcabcabc',
  ]) {
    const bytes = probe.encode(s);
    const a = original(bytes);
    const b = heapMerge(bytes, rankOf);
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) return false;
  }
  c.bytePairMerge = (piece: Uint8Array): number[] => (piece.length > LONG_PIECE ? heapMerge(piece, rankOf) : original(piece));
  const addToCache = c.addToMergeCache.bind(c);
  c.addToMergeCache = (key: string, value: number[]): void => {
    if (key.length <= CACHE_MAX_KEY) addToCache(key, value);
  };
  installed.add(core);
  return true;
}
