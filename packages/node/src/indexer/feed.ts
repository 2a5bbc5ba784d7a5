/**
 * The feed index: every event of the chain once, and a pointer to it under each account it names
 * and under its contract, so that a filtered replay ("alice's events after cursor 0:0") reads what
 * it returns and nothing else.
 *
 *   xf/e/<height u64 hex>/<index u32 hex>             -> the event's wire message (UTF-8 JSON)
 *   xf/a/<account>/<height u64 hex>/<index u32 hex>   -> empty (the event is xf/e/<height>/<index>)
 *   xf/c/<contract>/<height u64 hex>/<index u32 hex>  -> empty (the same)
 *   xf/m                                              -> indexed up to height (JSON number)
 *
 * An event's bytes are written once whatever the number of parties (an earlier layout copied them
 * under each pointer; the index worker's store carries a format version, format.ts, and an older
 * store is rebuilt from the blocks). A read walks the pointers of its filter and reads each event.
 *
 * It follows applied, durable blocks (never a candidate) and writes in its own batches, in the index
 * worker's own store (worker.ts; `<dataDir>/index`), with the run loop it shares with the list index (follower.ts:
 * bounded queue, batching when behind, retried writes, catch-up after a restart). What is indexed
 * up to `height` is complete (a block's keys and the marker are written in one atomic batch).
 */
import { type KvBatchOp, type KvStore, u64Key } from '../store/index.js';
import {
  contractOf,
  feedOfBlock,
  type IndexBlock,
  type PreparedEvent,
  partiesOf,
  prepareFeed,
} from './events.js';
import { BlockFollower, type FollowerOptions, type IndexSource } from './follower.js';

export type FeedIndexerOptions = FollowerOptions;
export type { IndexSource };

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

const hex8 = (i: number) => i.toString(16).padStart(8, '0');
const EMPTY = new Uint8Array(0);
const MAX_INDEX = 0xffff_ffff;

/** The first index key (below a filter's prefix) of an event after `cursor` ("height:index"). */
function keyAfter(cursor: string): string {
  const [h = 0, i = 0] = cursor.split(':').map(Number);
  return i + 1 > MAX_INDEX ? u64Key('', h + 1) : `${u64Key('', h)}/${hex8(i + 1)}`;
}

/** The feed index (key prefix `xf/` by default); the run loop is the shared `BlockFollower`. */
export class FeedIndexer extends BlockFollower<PreparedEvent[]> {
  constructor(node: IndexSource, store: KvStore, opts: FeedIndexerOptions = {}) {
    super(node, store, 'feed index', 'xf/', opts);
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
    const through = this.height;
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
      for await (const [k] of this.store.range(base, { gte, lt, limit })) {
        n++;
        const rest = k.slice(base.length);
        const h = Number.parseInt(rest.slice(0, 16), 16);
        const i = Number.parseInt(rest.slice(17), 16);
        last = `${h}:${i}`;
        // The account's pointer to the same event: it names the account (`eventInvolves`).
        if (both && this.store.get(`${this.prefix}a/${filter.account as string}/${rest}`) === undefined)
          continue;
        const wire = this.store.get(`${this.prefix}e/${rest}`);
        // Written in the pointer's batch: absent only if the store lost part of a batch.
        if (wire === undefined) throw new Error(`feed index: event ${last} has a pointer but no bytes`);
        events.push({ cursor: last, height: h, wire });
      }
      // One contract's events naming another account are few: keep reading until a page is full.
      if (!both || n < limit || events.length >= limit) break;
    }
    return { events, through };
  }

  protected prepare(b: IndexBlock): PreparedEvent[] {
    return prepareFeed(feedOfBlock(b), b.jsonEvents === true);
  }

  protected opsOf(height: number, events: PreparedEvent[], ops: KvBatchOp[]): void {
    const hk = u64Key('', height);
    for (const e of events) {
      const tail = `${hk}/${hex8(e.index)}`;
      ops.push({ type: 'put', key: `${this.prefix}e/${tail}`, value: e.wire });
      for (const p of partiesOf(e.json))
        ops.push({ type: 'put', key: `${this.prefix}a/${p}/${tail}`, value: EMPTY });
      const c = contractOf(e.json);
      if (c) ops.push({ type: 'put', key: `${this.prefix}c/${c}/${tail}`, value: EMPTY });
    }
  }
}
