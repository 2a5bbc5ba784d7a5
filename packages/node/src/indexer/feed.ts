/**
 * The feed index: every event of the chain under each account it names and under its contract, so
 * that a filtered replay ("alice's events after cursor 0:0") reads what it returns and nothing else.
 *
 *   xf/a/<account>/<height u64 hex>/<index u32 hex>   -> the event's wire message (UTF-8 JSON)
 *   xf/c/<contract>/<height u64 hex>/<index u32 hex>  -> the same
 *   xf/m                                              -> indexed up to height (JSON number)
 *
 * It follows applied, durable blocks (never a candidate) and writes in its own batches, after the
 * block's and beside the chain's keys in the node's store; several blocks share a batch when it is
 * behind. After a restart it catches up from the stored blocks from its marker on. It never delays
 * or enters consensus: being told of a block costs a map insert; the work runs later, one batch at
 * a time, and a failed write is retried with a backoff without touching the node. What is indexed
 * up to `height` is complete (a block's keys and the marker are written in one atomic batch).
 */
import { eventInvolves } from '@roamchain/protocol';
import type { AppliedBlock, NodeApi } from '../interfaces.js';
import { type KvBatchOp, type KvStore, u64Key } from '../store/index.js';
import { contractOf, feedOfBlock, type PreparedEvent, partiesOf, prepareFeed } from './events.js';

export interface FeedIndexerOptions {
  /** Key prefix in the store (default `xf/`). */
  prefix?: string;
  /** Subscribe to `node.onBlock` itself (default true); false when a FeedHub passes blocks on with `noteBlock`. */
  follow?: boolean;
  /** Blocks kept in memory until indexed (default 64); beyond that they are read back from the store. */
  maxQueued?: number;
  /** Blocks per write when catching up (default 64). */
  maxBlocksPerBatch?: number;
  /** Keys per write (default 20,000; a block is never split). */
  maxOpsPerBatch?: number;
  log?: (level: 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

/** What the indexer reads of the node: committed blocks and their notifications. */
export type IndexSource = Pick<NodeApi, 'onBlock' | 'blockByHeight' | 'status'>;

export interface IndexedEvent {
  cursor: string;
  height: number;
  /** The event's wire message, as the live feed sends it. */
  wire: Uint8Array;
}

export interface IndexFilter {
  account?: string;
  contract?: string;
}

const enc = (v: unknown) => Buffer.from(JSON.stringify(v));
const hex8 = (i: number) => i.toString(16).padStart(8, '0');
const MAX_INDEX = 0xffff_ffff;

/** The first index key (below a filter's prefix) of an event after `cursor` ("height:index"). */
function keyAfter(cursor: string): string {
  const [h = 0, i = 0] = cursor.split(':').map(Number);
  return i + 1 > MAX_INDEX ? u64Key('', h + 1) : `${u64Key('', h)}/${hex8(i + 1)}`;
}

export class FeedIndexer {
  private indexed: number;
  private target: number;
  private readonly queue = new Map<number, PreparedEvent[]>();
  private running: Promise<void> | null = null;
  private closed = false;
  private retryMs = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly unsubscribe: (() => void) | undefined;
  private readonly prefix: string;
  private readonly markerKey: string;
  private readonly maxQueued: number;
  private readonly maxBlocks: number;
  private readonly maxOps: number;
  /** Failed writes so far (each retried). */
  failures = 0;

  constructor(
    private readonly node: IndexSource,
    private readonly store: KvStore,
    private readonly opts: FeedIndexerOptions = {},
  ) {
    this.prefix = opts.prefix ?? 'xf/';
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

  /** Indexed up to this height: every event of these blocks is in the index. */
  get height(): number {
    return this.indexed;
  }

  /** Highest block height the indexer has been told of. */
  get knownHeight(): number {
    return this.target;
  }

  /** A block was applied and is durable. O(1): the writing happens later. */
  noteBlock(b: AppliedBlock, events?: PreparedEvent[]): void {
    if (this.closed) return;
    if (b.height > this.target) this.target = b.height;
    if (b.height > this.indexed && this.queue.size < this.maxQueued)
      this.queue.set(b.height, events ?? prepareFeed(feedOfBlock(b)));
    this.kick();
  }

  /** Resolves at the indexer's next progress (or close, or after `timeoutMs`). */
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

  /**
   * Up to `limit` indexed events matching `filter` (an account, a contract, or both) after
   * `cursor`, in feed order, and the height through which the answer is complete: fewer than
   * `limit` events means there are no more up to `through`.
   */
  async read(
    filter: IndexFilter,
    cursor: string,
    limit: number,
  ): Promise<{ events: IndexedEvent[]; through: number }> {
    const through = this.indexed;
    const base =
      filter.contract !== undefined
        ? `${this.prefix}c/${filter.contract}/`
        : filter.account !== undefined
          ? `${this.prefix}a/${filter.account}/`
          : undefined;
    if (base === undefined) throw new Error('FeedIndexer.read needs an account or a contract');
    const events: IndexedEvent[] = [];
    const both = filter.contract !== undefined && filter.account !== undefined;
    let last: string | undefined;
    for (;;) {
      const gte = base + keyAfter(last ?? cursor);
      const lt = base + u64Key('', through + 1);
      let n = 0;
      for await (const [k, v] of this.store.range(base, { gte, lt, limit })) {
        n++;
        const rest = k.slice(base.length);
        const h = Number.parseInt(rest.slice(0, 16), 16);
        const i = Number.parseInt(rest.slice(17), 16);
        last = `${h}:${i}`;
        if (both) {
          const m = JSON.parse(Buffer.from(v).toString('utf8')) as { event: Record<string, unknown> };
          if (!eventInvolves(m.event, filter.account as string)) continue;
        }
        events.push({ cursor: last, height: h, wire: v });
      }
      // One contract's events naming another account are few: keep reading until a page is full.
      if (!both || n < limit || events.length >= limit) break;
    }
    return { events, through };
  }

  /** Stops following; resolves once a write in progress is done (close it before the store). */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.queue.clear();
    for (const w of [...this.waiters]) w();
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
          let events = this.queue.get(next);
          if (!events) {
            const b = await this.node.blockByHeight(next);
            if (!b || this.closed) break;
            events = prepareFeed(feedOfBlock(b));
          }
          this.opsOf(next, events, ops);
          h = next;
        }
        if (h === this.indexed || this.closed) return;
        ops.push({ type: 'put', key: this.markerKey, value: enc(h) });
        await this.store.batch(ops);
      } catch (e) {
        if (this.closed) return;
        this.failures++;
        this.retryMs = Math.min(Math.max(this.retryMs * 2, 100), 10_000);
        this.opts.log?.('warn', 'feed index write failed; retrying', {
          err: String(e),
          height: h,
          retryMs: this.retryMs,
        });
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, this.retryMs);
        return;
      }
      this.retryMs = 0;
      for (let x = this.indexed + 1; x <= h; x++) this.queue.delete(x);
      this.indexed = h;
      for (const w of [...this.waiters]) w();
    }
  }

  private opsOf(height: number, events: PreparedEvent[], ops: KvBatchOp[]): void {
    const hk = u64Key('', height);
    for (const e of events) {
      const tail = `${hk}/${hex8(e.index)}`;
      for (const p of partiesOf(e.json))
        ops.push({ type: 'put', key: `${this.prefix}a/${p}/${tail}`, value: e.wire });
      const c = contractOf(e.json);
      if (c) ops.push({ type: 'put', key: `${this.prefix}c/${c}/${tail}`, value: e.wire });
    }
  }
}
