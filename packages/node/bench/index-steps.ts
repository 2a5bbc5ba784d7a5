/**
 * The indexers' per-block steps outside their run loop, for the index benches
 * (index-worker-cost.ts, index-store-cost.ts): `prepare` (decode what the index needs) and
 * `opsOf` (the batch's operations), protected in the classes because the follower calls them.
 */
import type { IndexBlock } from '../src/indexer/events.js';
import { FeedIndexer } from '../src/indexer/feed.js';
import type { IndexSource } from '../src/indexer/follower.js';
import { ListIndexer } from '../src/indexer/lists.js';
import { SK } from '../src/storage.js';
import type { KvBatchOp, KvStore } from '../src/store/index.js';
import { benchNode } from './fill.js';

export interface Steps {
  prepare(b: IndexBlock): unknown;
  opsOf(height: number, q: unknown, ops: KvBatchOp[]): void;
  close(): Promise<void>;
}

/** A source that never delivers: the indexers are driven by hand. */
const idle: IndexSource = {
  onBlock: () => () => {},
  blockByHeight: async () => undefined,
  status: () => ({ height: 0 }),
};

/** The feed and list indexers over `store`, not following anything. */
export function indexSteps(store: KvStore): { feed: Steps; list: Steps } {
  return {
    feed: new FeedIndexer(idle, store, { follow: false }) as unknown as Steps,
    list: new ListIndexer(idle, store, { follow: false }) as unknown as Steps,
  };
}

export interface RawBlock {
  height: number;
  block: Uint8Array;
  receipts: Uint8Array;
}

/**
 * A bench chain of `blocks` blocks of `per` transfers (fill.ts) in `dir`, closed again: the stored
 * bytes of each block and its receipts, as the index worker is given them.
 */
export async function storedBlocks(
  dir: string,
  blocks: number,
  per: number,
  accounts?: number,
): Promise<RawBlock[]> {
  const { node, fill } = await benchNode(dir, { maxProposalMs: 60_000 }, accounts);
  await fill(blocks, per);
  const raw: RawBlock[] = [];
  for (let h = 1; h <= node.status().height; h++) {
    const block = node.store.get(SK.block(h));
    const receipts = node.store.get(SK.receipts(h));
    if (block && receipts) raw.push({ height: h, block: block.slice(), receipts: receipts.slice() });
  }
  await node.close();
  return raw;
}
