/**
 * The feed index: every event of the chain once, and a pointer to it under each account it names
 * and under its contract, so that a filtered replay ("alice's events after cursor 0:0") reads what
 * it returns and nothing else.
 *
 *   xf/e/<height u64 hex>/<chunk u32 hex>             -> the wire messages (UTF-8 JSON) of the block's
 *                                                        events CHUNK·chunk .. CHUNK·chunk+15 (chunks.ts)
 *   xf/a/<account>/<height u64 hex>                   -> the indexes of the block's events that name
 *                                                        the account (u32 big-endian each, ascending)
 *   xf/c/<contract>/<height u64 hex>                  -> the same for the events of a contract
 *   xf/m                                              -> indexed up to height (JSON number)
 *
 * An event's bytes are written once whatever the number of its parties, 16 events share a key,
 * and an account or contract costs one pointer key per block it appears in (pointers.ts), not one
 * per event: an earlier layout copied the bytes under `xf/a/<account>/<height>/<index>` for each
 * party; the index worker's store carries a format version (format.ts) and an older store is
 * rebuilt from the blocks. A read walks the pointer keys of its filter and reads each event.
 *
 * It follows applied, durable blocks (never a candidate) and writes in its own batches, in the index
 * worker's own store (worker.ts; `<dataDir>/index`), with the run loop it shares with the list index (follower.ts:
 * bounded queue, batching when behind, retried writes, catch-up after a restart). What is indexed
 * up to `height` is complete (a block's keys and the marker are written in one atomic batch).
 */
import { type KvBatchOp, type KvStore, u64Key } from '../store/index.js';
import { CHUNK, ChunkReader, packChunk } from './chunks.js';
import {
  contractOf,
  feedOfBlock,
  type IndexBlock,
  type PreparedEvent,
  partiesOf,
  prepareFeed,
} from './events.js';
import { BlockFollower, type FollowerOptions, type IndexSource } from './follower.js';
import { BlockPointers, positionsOf } from './pointers.js';

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
    // Both filters: the contract's events that the account's pointers list as well (`eventInvolves`).
    const also =
      filter.contract !== undefined && filter.account !== undefined
        ? `${this.prefix}a/${filter.account}/`
        : undefined;
    const [ch = 0, ci = 0] = cursor.split(':').map(Number);
    const lt = base + u64Key('', through + 1);
    const events: IndexedEvent[] = [];
    const chunks = new ChunkReader((k) => this.store.get(k));
    let from = ch;
    // Every block key lists at least one event, and only the cursor's block may list none after it:
    // limit + 1 keys fill a page (with both filters, keep reading until it is full).
    while (events.length < limit && from <= through) {
      let keys = 0;
      let h = from;
      for await (const [k, v] of this.store.range(base, {
        gte: base + u64Key('', from),
        lt,
        limit: limit + 1,
      })) {
        keys++;
        const hk = k.slice(base.length);
        h = Number.parseInt(hk, 16);
        let positions = positionsOf(v);
        if (also !== undefined) {
          const mine = this.store.get(also + hk);
          if (mine === undefined) continue;
          const set = new Set(positionsOf(mine));
          positions = positions.filter((i) => set.has(i));
        }
        for (const i of positions) {
          if (h === ch && i <= ci) continue;
          const wire = chunks.entry(`${this.prefix}e/${hk}/`, i);
          // Written in the pointer's batch: absent only if the store lost part of a batch.
          if (wire === undefined) throw new Error(`feed index: event ${h}:${i} has a pointer but no bytes`);
          events.push({ cursor: `${h}:${i}`, height: h, wire });
          if (events.length >= limit) break;
        }
        if (events.length >= limit) break;
      }
      if (keys < limit + 1) break;
      from = h + 1;
    }
    return { events, through };
  }

  protected prepare(b: IndexBlock): PreparedEvent[] {
    return prepareFeed(feedOfBlock(b), b.jsonEvents === true);
  }

  protected opsOf(height: number, events: PreparedEvent[], ops: KvBatchOp[]): void {
    const hk = u64Key('', height);
    const accounts = new BlockPointers();
    const contracts = new BlockPointers();
    for (let c = 0; c * CHUNK < events.length; c++) {
      const wires = events.slice(c * CHUNK, (c + 1) * CHUNK).map((e) => e.wire);
      ops.push({ type: 'put', key: `${this.prefix}e/${hk}/${hex8(c)}`, value: packChunk(wires) });
    }
    for (const e of events) {
      for (const p of partiesOf(e.json)) accounts.add(p, e.index);
      const c = contractOf(e.json);
      if (c) contracts.add(c, e.index);
    }
    accounts.flush(ops, `${this.prefix}a/`, hk);
    contracts.flush(ops, `${this.prefix}c/`, hk);
  }
}
