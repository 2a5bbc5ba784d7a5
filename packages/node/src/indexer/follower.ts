/**
 * The run loop shared by the indexers that follow applied, durable blocks (the feed index, feed.ts,
 * and the list index, lists.ts). Each keeps its own key layout (`opsOf`); this keeps the rest:
 *
 * - being told of a block costs a map insert (a bounded queue: beyond `maxQueued` blocks they are
 *   read back from the store), so an indexer never delays or enters consensus;
 * - the work runs later, one batch at a time, in its own batches after the block's; several blocks
 *   share a batch when it is behind (`maxBlocksPerBatch`, `maxOpsPerBatch`; a block is never split);
 * - a block's keys and the marker (`<prefix>m`, indexed up to height) are one atomic batch, so what
 *   is indexed up to `height` is complete;
 * - a failed write is retried with a backoff (100 ms doubling to 10 s) without touching the node;
 * - after a restart it catches up from the stored blocks from its marker on.
 */
import type { KvBatchOp, KvStore } from '../store/index.js';
import type { IndexBlock } from './events.js';

/**
 * What an indexer reads of the node: committed blocks, their notifications and the durable height
 * (the node itself, or in the index worker a source fed by messages: worker.ts).
 */
export interface IndexSource {
  onBlock(listener: (b: IndexBlock) => void): () => void;
  blockByHeight(height: number): Promise<IndexBlock | undefined>;
  status(): { height: number };
}

export interface FollowerOptions {
  /** Key prefix in the store (each indexer has its default). */
  prefix?: string;
  /** Subscribe to `node.onBlock` itself (default true); false when another part passes blocks on with `noteBlock`. */
  follow?: boolean;
  /** Blocks kept in memory until indexed (default 64); beyond that they are read back from the store. */
  maxQueued?: number;
  /** Blocks per write when catching up (default 64). */
  maxBlocksPerBatch?: number;
  /** Keys per write (default 20,000; a block is never split). */
  maxOpsPerBatch?: number;
  log?: (level: 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /** Called after each write that advanced `height`, and after each failed write. */
  onProgress?: () => void;
}

const enc = (v: unknown) => Buffer.from(JSON.stringify(v));

/**
 * Waits on an index's progress, shared by the indexer (here) and its view on the main thread
 * (views.ts): `progressed` resolves at the next `wake` (or after a timeout), `reach` loops on it.
 */
export class ProgressWaits {
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly height: () => number,
    private readonly closed: () => boolean,
  ) {}

  wake(): void {
    for (const w of [...this.waiters]) w();
  }

  progressed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  async reach(height: number, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.height() < height && !this.closed()) {
      const left = until - Date.now();
      if (left <= 0) return false;
      await this.progressed(left);
    }
    return this.height() >= height;
  }
}

/** Follows durable blocks into a store; `Q` is what the queue keeps of a block until indexed. */
export abstract class BlockFollower<Q> {
  private indexed: number;
  private target: number;
  private readonly queue = new Map<number, Q>();
  private running: Promise<void> | null = null;
  private closed = false;
  private retryMs = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly waits = new ProgressWaits(
    () => this.indexed,
    () => this.closed,
  );
  private readonly unsubscribe: (() => void) | undefined;
  private readonly markerKey: string;
  private readonly maxQueued: number;
  private readonly maxBlocks: number;
  private readonly maxOps: number;
  protected readonly prefix: string;
  /** Failed writes so far (each retried). */
  failures = 0;

  /**
   * `name` is the indexer's name in its log lines. The first run starts in this constructor, before
   * a subclass's own fields are set: `prepare` and `opsOf` use only `prefix` and `store`.
   */
  constructor(
    private readonly node: IndexSource,
    protected readonly store: KvStore,
    private readonly name: string,
    defaultPrefix: string,
    private readonly opts: FollowerOptions = {},
  ) {
    this.prefix = opts.prefix ?? defaultPrefix;
    this.markerKey = `${this.prefix}m`;
    this.maxQueued = opts.maxQueued ?? 64;
    this.maxBlocks = opts.maxBlocksPerBatch ?? 64;
    this.maxOps = opts.maxOpsPerBatch ?? 20_000;
    const m = store.get(this.markerKey);
    const h = m ? Number(JSON.parse(Buffer.from(m).toString('utf8'))) : 0;
    this.indexed = Number.isSafeInteger(h) && h > 0 ? h : 0;
    this.target = Math.max(this.indexed, node.status().height);
    if (opts.follow ?? true) this.unsubscribe = node.onBlock((b) => this.noteBlock(b));
    this.kick();
  }

  /** What the queue keeps of a block (computed only when the queue takes it, or read back). */
  protected abstract prepare(b: IndexBlock): Q;

  /** The index entries of the block at `height`. */
  protected abstract opsOf(height: number, q: Q, ops: KvBatchOp[]): void;

  /** Indexed up to this height: every entry of these blocks is in the index. */
  get height(): number {
    return this.indexed;
  }

  /** Highest block height the indexer has been told of. */
  get knownHeight(): number {
    return this.target;
  }

  /** A block was applied and is durable. O(1): the writing happens later. */
  noteBlock(b: IndexBlock, prepared?: Q): void {
    if (this.closed) return;
    if (b.height > this.target) this.target = b.height;
    if (b.height > this.indexed && this.queue.size < this.maxQueued)
      this.queue.set(b.height, prepared ?? this.prepare(b));
    this.kick();
  }

  /** The node has blocks up to `height` (not passed on: they are read back from the source). O(1). */
  noteHeight(height: number): void {
    if (this.closed) return;
    if (height > this.target) this.target = height;
    this.kick();
  }

  /** Resolves at the indexer's next progress (or close, or after `timeoutMs`). */
  progressed(timeoutMs: number): Promise<void> {
    return this.waits.progressed(timeoutMs);
  }

  /** Resolves true once indexed up to `height`, false after `timeoutMs` (or on close). */
  reach(height: number, timeoutMs: number): Promise<boolean> {
    return this.waits.reach(height, timeoutMs);
  }

  /** Stops following; resolves once a write in progress is done (close it before the store). */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.queue.clear();
    this.waits.wake();
    await this.running;
  }

  private kick(): void {
    if (this.running || this.closed || this.retryTimer || this.indexed >= this.target) return;
    this.running = this.run().finally(() => {
      this.running = null;
      this.kick();
    });
  }

  private async run(): Promise<void> {
    while (!this.closed && this.indexed < this.target) {
      const ops: KvBatchOp[] = [];
      let h = this.indexed;
      try {
        while (h < this.target && h - this.indexed < this.maxBlocks && ops.length < this.maxOps) {
          const next = h + 1;
          let q = this.queue.get(next);
          if (q === undefined) {
            const b = await this.node.blockByHeight(next);
            if (!b || this.closed) break;
            q = this.prepare(b);
          }
          this.opsOf(next, q, ops);
          h = next;
        }
        if (h === this.indexed || this.closed) return;
        ops.push({ type: 'put', key: this.markerKey, value: enc(h) });
        // Not fsynced: an index is rebuilt from the stored blocks, and a batch lost in a crash leaves the
        // marker behind its keys' blocks, which the catch-up at start indexes again. The block's own
        // batch keeps its fsync; the index's does not queue a second one behind it (readers off the
        // hot path).
        await this.store.batch(ops, { durable: false });
      } catch (e) {
        if (this.closed) return;
        this.failures++;
        this.retryMs = Math.min(Math.max(this.retryMs * 2, 100), 10_000);
        this.opts.log?.('warn', `${this.name} write failed; retrying`, {
          err: String(e),
          height: h,
          retryMs: this.retryMs,
        });
        this.opts.onProgress?.();
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, this.retryMs);
        return;
      }
      this.retryMs = 0;
      for (let x = this.indexed + 1; x <= h; x++) this.queue.delete(x);
      this.indexed = h;
      this.waits.wake();
      this.opts.onProgress?.();
    }
  }
}
