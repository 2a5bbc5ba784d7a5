/**
 * Narrow key-value storage interface used by the node for block commits and state.
 *
 * Design decisions (both engines must honour them):
 * - Keys are strings, compared bytewise on their UTF-8 encoding. Keep them printable ASCII and never put a
 *   character below U+0020 (in particular U+0000) in a key: lmdb's key encoding treats those specially.
 *   Numbers that must sort (heights) are written as fixed-width big-endian hex, see `u64Key`.
 * - `get` is synchronous: lmdb reads from its memory map and classic-level (>= 2/abstract-level 3) offers
 *   `getSync`, so a synchronous read is honest for both. It blocks the event loop for the duration of one
 *   lookup (microseconds), which is what the state layer wants.
 * - `batch` is atomic (all ops or none are visible, also after a crash or SIGKILL) and its promise only
 *   resolves once the batch is durable on disk (fsync/fdatasync).
 * - `range` is an AsyncIterable for both engines: classic-level can only iterate asynchronously, so lmdb's
 *   synchronous iterator is exposed through the same async shape. Entries come ordered by key.
 */

export type KvBatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

export interface KvRangeOptions {
  /** Maximum number of entries yielded. */
  limit?: number;
  /** Iterate from the highest key down. */
  reverse?: boolean;
  /** Inclusive lower bound (full key); intersected with the prefix range. */
  gte?: string;
  /** Exclusive upper bound (full key); intersected with the prefix range. */
  lt?: string;
}

export interface KvBatchOptions {
  /** Wait for the flush to disk (default true). */
  durable?: boolean;
}

export interface KvStore {
  /** Synchronous point read; `undefined` when the key is absent. */
  get(key: string): Uint8Array | undefined;
  /**
   * Atomic write: resolves once every op is committed and, unless `durable: false`, flushed to disk.
   * A non-durable batch is still atomic and ordered after the ones before it; a crash may lose it
   * (and later non-durable ones) — only for data rebuilt from the blocks (indexes).
   */
  batch(ops: readonly KvBatchOp[], opts?: KvBatchOptions): Promise<void>;
  /** Entries whose key starts with `prefix` ('' = whole store), ordered bytewise by key. */
  range(prefix: string, opts?: KvRangeOptions): AsyncIterable<[string, Uint8Array]>;
  /** Flushes pending writes and releases the store; the instance is unusable afterwards. */
  close(): Promise<void>;
}

export type StoreKind = 'lmdb' | 'level';

/** Smallest string greater than every string starting with `prefix`, or undefined when unbounded. */
export function prefixUpperBound(prefix: string): string | undefined {
  let p = prefix;
  while (p.length > 0) {
    const last = p.charCodeAt(p.length - 1);
    // 0xd800-0xdfff are surrogate halves; 0xffff cannot be incremented within one code unit.
    if (last < 0xd7ff || (last >= 0xe000 && last < 0xffff)) {
      return p.slice(0, -1) + String.fromCharCode(last + 1);
    }
    p = p.slice(0, -1);
  }
  return undefined;
}

export interface KeyBounds {
  gte: string;
  lt: string | undefined;
}

/** Combines a prefix with optional explicit bounds into a single half-open interval [gte, lt). */
export function resolveBounds(prefix: string, opts: KvRangeOptions | undefined): KeyBounds {
  let gte = prefix;
  let lt = prefixUpperBound(prefix);
  if (opts?.gte !== undefined && opts.gte > gte) gte = opts.gte;
  if (opts?.lt !== undefined && (lt === undefined || opts.lt < lt)) lt = opts.lt;
  return { gte, lt };
}

/** `prefix` + 16 hex digits of a big-endian u64, so keys sort numerically (e.g. block heights). */
export function u64Key(prefix: string, n: number | bigint): string {
  const v = BigInt(n);
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new RangeError(`u64Key: ${n} is out of u64 range`);
  return prefix + v.toString(16).padStart(16, '0');
}
