/**
 * The ordered write queue of decided blocks (pipelined heights): height h + 1 starts as soon as h is
 * decided and adopted in memory, while the storage batch of h is written behind it.
 *
 * - Order: batches are written one after the other, in the order they were queued (a crash leaves
 *   the store at a prefix of the chain). Batches that wait while one is written are written together
 *   in ONE atomic batch (one fsync for several heights; the later put of a key wins).
 * - Bounded: `push` resolves only when at most `maxPending` batches wait, so the next height waits
 *   for the disk (backpressure) instead of memory growing without bound.
 * - Reads see what is not yet written: this class is a `KvStore` whose `get` and `range` look at an
 *   overlay of the pending writes first (a Map; an entry is dropped when its batch lands, unless a
 *   later pending batch wrote the key again). A `range` copies the overlay entries in its bounds and
 *   opens the store's iterator in the same tick: it reads one consistent point in time (a backup
 *   snapshot holds whole blocks only). The overlay is not kept sorted: every block puts thousands
 *   of keys in it and takes them out again, and a B+ tree's ordered inserts and deletes cost ~2 % of
 *   the main thread under load; a `range` (a reader, rarely while batches are pending) filters the
 *   at most `maxPending` batches' keys by its bounds and sorts the few it keeps.
 * - Failure is final: the first storage error stops the queue; every later `push` and the pending
 *   ones reject with it and `onFatal` is called once (memory is ahead of disk: the node must stop and
 *   restart from disk and its consensus WAL).
 *
 * `batch` (the feed indexer's own writes, restores) goes straight to the store: those keys are never
 * in a block's batch.
 */
import { failpointDelayMs } from './failpoint.js';
import {
  type KvBatchOp,
  type KvBatchOptions,
  type KvRangeOptions,
  type KvStore,
  resolveBounds,
} from './store/index.js';

/** Default most batches queued and not yet durable before the next height waits. */
export const MAX_PENDING_BATCHES = 4;

interface Pending {
  height: number;
  ops: readonly KvBatchOp[];
  done: { resolve: () => void; reject: (e: unknown) => void };
  written: Promise<void>;
}

/** An overlay entry: the value (undefined = deleted) and the height of the batch that wrote it. */
type Entry = { v: Uint8Array | undefined; h: number };

export class WriteQueue implements KvStore {
  private readonly overlay = new Map<string, Entry>();
  private pending: Pending[] = [];
  private writing = false;
  private failed: unknown = null;
  private roomWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly base: KvStore,
    private readonly opts: {
      maxPending?: number;
      /** Each batch (height) once durable, in order. */
      onWritten?: (height: number) => void;
      onFatal?: (e: unknown) => void;
    } = {},
  ) {}

  get maxPending(): number {
    return this.opts.maxPending ?? MAX_PENDING_BATCHES;
  }

  /** Batches queued and not yet durable. */
  get size(): number {
    return this.pending.length;
  }

  /** The storage error that stopped the queue, if any. */
  get error(): unknown {
    return this.failed;
  }

  /**
   * Queues the batch of `height` (after every batch queued before): readers see it at once. Resolves
   * when at most `maxPending` batches wait (backpressure); `written` resolves once it is durable.
   */
  async push(height: number, ops: readonly KvBatchOp[]): Promise<{ written: Promise<void> }> {
    if (this.failed) throw this.failed;
    let done!: Pending['done'];
    const written = new Promise<void>((resolve, reject) => {
      done = { resolve, reject };
    });
    written.catch(() => {}); // the error is reported through push / onFatal / close
    for (const op of ops)
      this.overlay.set(op.key, { v: op.type === 'put' ? op.value : undefined, h: height });
    this.pending.push({ height, ops, done, written });
    this.kick();
    while (this.pending.length > this.maxPending) {
      await new Promise<void>((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
    }
    return { written };
  }

  /** Resolves when every queued batch is durable (rejects with the storage error if one failed). */
  drain(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.idleWaiters.push(() => (this.failed ? reject(this.failed) : resolve())),
    );
  }

  private kick(): void {
    if (this.writing || this.failed || this.pending.length === 0) return;
    this.writing = true;
    void this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.failed) {
        const delay = failpointDelayMs('batch-write');
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        const group = this.pending.slice();
        const ops = group.length === 1 ? group[0]!.ops : group.flatMap((p) => p.ops);
        try {
          await this.base.batch(ops);
        } catch (e) {
          this.fail(e);
          return;
        }
        this.pending.splice(0, group.length);
        const top = group[group.length - 1]!.height;
        for (const p of group) {
          for (const op of p.ops) {
            const e = this.overlay.get(op.key);
            if (e && e.h <= top) this.overlay.delete(op.key);
          }
        }
        for (const p of group) {
          this.opts.onWritten?.(p.height);
          p.done.resolve();
        }
        this.wakeRoom();
      }
    } finally {
      this.writing = false;
      if (this.pending.length === 0 || this.failed) {
        const ws = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of ws) w();
      }
    }
  }

  private wakeRoom(): void {
    const ws = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of ws) w.resolve(); // each re-checks the bound
  }

  private fail(e: unknown): void {
    this.failed = e;
    for (const p of this.pending) p.done.reject(e);
    const ws = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of ws) w.reject(e);
    this.opts.onFatal?.(e);
  }

  // ------------------------------------------------------------------ KvStore (reads see pending writes)

  get(key: string): Uint8Array | undefined {
    const e = this.overlay.get(key);
    return e ? e.v : this.base.get(key);
  }

  batch(ops: readonly KvBatchOp[], opts?: KvBatchOptions): Promise<void> {
    return this.base.batch(ops, opts);
  }

  async *range(prefix: string, opts?: KvRangeOptions): AsyncIterable<[string, Uint8Array]> {
    const { gte, lt } = resolveBounds(prefix, opts);
    if (lt !== undefined && lt <= gte) return;
    // The overlay's entries in range, taken in the same tick as the store's iterator opens.
    const extra: [string, Entry][] = [];
    for (const kv of this.overlay) if (kv[0] >= gte && (lt === undefined || kv[0] < lt)) extra.push(kv);
    const reverse = opts?.reverse === true;
    extra.sort(reverse ? (a, b) => (a[0] > b[0] ? -1 : 1) : (a, b) => (a[0] < b[0] ? -1 : 1));
    const { limit, ...rest } = opts ?? {};
    const inner = this.base.range(prefix, rest)[Symbol.asyncIterator]();
    let pendingNext = inner.next(); // opens the store's iterator now
    const before = (a: string, b: string) => (reverse ? a > b : a < b);
    let n = 0;
    let i = 0;
    const max = limit ?? Number.POSITIVE_INFINITY;
    try {
      for (;;) {
        const r = await pendingNext;
        const baseKey = r.done ? undefined : r.value[0];
        // Overlay entries that come before the store's next key (or all, at its end).
        while (i < extra.length && (baseKey === undefined || !before(baseKey, extra[i]![0]))) {
          const [k, e] = extra[i++]!;
          if (k === baseKey) break; // same key: the overlay's value wins, below
          if (e.v !== undefined) {
            if (n++ >= max) return;
            yield [k, e.v];
          }
        }
        if (r.done) return;
        const [k, v] = r.value;
        const prev = i > 0 ? extra[i - 1] : undefined;
        if (prev && prev[0] === k) {
          if (prev[1].v !== undefined) {
            if (n++ >= max) return;
            yield [k, prev[1].v];
          }
        } else {
          if (n++ >= max) return;
          yield [k, v];
        }
        pendingNext = inner.next();
      }
    } finally {
      await inner.return?.();
    }
  }

  /** Writes what is queued, then closes the store. */
  async close(): Promise<void> {
    await this.drain().catch(() => {});
    await this.base.close();
  }
}
