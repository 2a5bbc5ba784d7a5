/**
 * The feed index (packages/node/src/indexer): what it stores equals what the live feed sends, it
 * catches up from the stored blocks after a restart, it retries a failed write without touching the
 * node, and a read costs what it returns.
 */
import { rmSync } from 'node:fs';
import type { AccountKeys } from '@roamchain/state';
import { describe, expect, it } from 'vitest';
import type { Node } from '../src/index.js';
import { eventWire, feedOfBlock, prepareFeed } from '../src/indexer/events.js';
import { FeedIndexer } from '../src/indexer/feed.js';
import type { AppliedBlock } from '../src/interfaces.js';
import { type KvStore, LevelStore } from '../src/store/index.js';
import { openIndexerChain, transferBy, useNodeKit } from './support/kit.js';

const kit = useNodeKit();
const open = (dir?: string) => openIndexerChain(dir ?? kit.dir('xf'));
const transfer = transferBy;

async function blocks(node: Node, keys: Map<string, AccountKeys>, n: number, from = 0) {
  for (let b = from; b < from + n; b++) {
    await node.submit(transfer(node, keys, 'op-de', 'bob', BigInt(1 + b)));
    if (b % 3 === 0) await node.submit(transfer(node, keys, 'alice', 'bob', BigInt(1 + b)));
    await node.produceBlock();
  }
}

async function caughtUp(ix: FeedIndexer, height: number) {
  const end = Date.now() + 30_000;
  while (ix.height < height && Date.now() < end) await ix.progressed(200);
  expect(ix.height).toBe(height);
}

/** Every event naming `who`, as the live feed would send it. */
async function expected(node: Node, who: string, contract?: string) {
  const out: string[] = [];
  for (let h = 1; h <= node.status().height; h++) {
    const b = await node.blockByHeight(h);
    for (const e of feedOfBlock(b!)) {
      const wire = eventWire(e).toString('utf8');
      const m = JSON.parse(wire) as { event: Record<string, unknown> };
      if (JSON.stringify(m.event).includes(`"${who}"`) && (!contract || m.event.contract === contract))
        out.push(wire);
    }
  }
  return out;
}

async function readAll(ix: FeedIndexer, filter: { account?: string; contract?: string }, page: number) {
  const out: string[] = [];
  let cursor = '0:0';
  for (;;) {
    const { events } = await ix.read(filter, cursor, page);
    for (const e of events) out.push(Buffer.from(e.wire).toString('utf8'));
    if (events.length < page) return out;
    cursor = events.at(-1)!.cursor;
  }
}

describe('FeedIndexer', () => {
  it('indexes every event under each account it names, byte for byte as the live feed sends it', async () => {
    const { node, keys } = await open();
    const ix = new FeedIndexer(node, node.store);
    try {
      await blocks(node, keys, 12);
      await caughtUp(ix, node.status().height);
      const want = await expected(node, 'alice');
      expect(want.length).toBeGreaterThanOrEqual(4);
      expect(await readAll(ix, { account: 'alice' }, 3)).toEqual(want);
      expect(await readAll(ix, { account: 'bob' }, 1000)).toEqual(await expected(node, 'bob'));
      // bob is in two events of some blocks: pages that end inside a block.
      for (const page of [1, 2])
        expect(await readAll(ix, { account: 'bob' }, page)).toEqual(await expected(node, 'bob'));
      // After a cursor: only later events; the page bound holds.
      const all = await ix.read({ account: 'alice' }, '0:0', 1000);
      const mid = all.events[2]!.cursor;
      const later = await ix.read({ account: 'alice' }, mid, 2);
      expect(later.events.map((e) => e.cursor)).toEqual(all.events.slice(3, 5).map((e) => e.cursor));
      expect(later.through).toBe(node.status().height);
    } finally {
      await ix.close();
      await node.close();
    }
  });

  it('catches up from the stored blocks after a restart, from its marker on', async () => {
    const first = await open();
    let ix = new FeedIndexer(first.node, first.node.store);
    await blocks(first.node, first.keys, 5);
    await caughtUp(ix, 5);
    await ix.close();
    // Blocks the index never saw (the node ran without it), then a restart.
    await blocks(first.node, first.keys, 7, 5);
    await first.node.close();
    const again = await open(first.dir);
    try {
      ix = new FeedIndexer(again.node, again.node.store);
      await caughtUp(ix, 12);
      expect(await readAll(ix, { account: 'alice' }, 1000)).toEqual(await expected(again.node, 'alice'));
      await ix.close();
    } finally {
      await again.node.close();
      rmSync(first.dir, { recursive: true, force: true });
    }
  });

  it('a failed index write is retried; the node goes on committing', async () => {
    const { node, keys } = await open();
    let failures = 2;
    const flaky: KvStore = {
      get: (k) => node.store.get(k),
      range: (p, o) => node.store.range(p, o),
      close: async () => {},
      batch: async (ops) => {
        if (failures-- > 0) throw new Error('disk full');
        await node.store.batch(ops);
      },
    };
    const ix = new FeedIndexer(node, flaky);
    try {
      await blocks(node, keys, 4);
      expect(node.status().height).toBe(4);
      await caughtUp(ix, 4);
      expect(ix.failures).toBe(2);
      expect(await readAll(ix, { account: 'alice' }, 1000)).toEqual(await expected(node, 'alice'));
    } finally {
      await ix.close();
      await node.close();
    }
  });

  it('reads by contract, and by contract and account together, across pages', async () => {
    const d = kit.dir('xf');
    const store = await LevelStore.open(d);
    const c1 = 'aa'.repeat(32);
    const c2 = 'bb'.repeat(32);
    const block = (height: number): AppliedBlock =>
      ({
        height,
        receipts: [
          {
            txId: 'cc'.repeat(32),
            events: [
              { type: 'charge', contract: c1, payer: 'alice', amount: BigInt(height) },
              { type: 'charge', contract: c1, payer: 'bob', amount: 1n },
              { type: 'charge', contract: c2, payer: 'alice', amount: 2n },
              { type: 'note', contract: 'not/hex', account: 'a/b' },
            ],
          },
        ],
        endEvents: [{ type: 'fee_payout', account: 'node-1', amount: 3n }],
      }) as unknown as AppliedBlock;
    const source = {
      onBlock: () => () => {},
      blockByHeight: async () => undefined,
      status: () => ({ height: 0 }),
    };
    const ix = new FeedIndexer(source as never, store, { follow: false });
    try {
      for (let h = 1; h <= 6; h++) ix.noteBlock(block(h), prepareFeed(feedOfBlock(block(h))));
      await caughtUp(ix, 6);
      const byContract = await ix.read({ contract: c1 }, '0:0', 100);
      expect(byContract.events.map((e) => e.cursor)).toEqual(
        [1, 2, 3, 4, 5, 6].flatMap((h) => [`${h}:0`, `${h}:1`]),
      );
      // Both filters: only alice's events of c1, also when a page of the contract holds none of hers.
      const both: string[] = [];
      let cursor = '0:0';
      for (;;) {
        const { events } = await ix.read({ contract: c1, account: 'alice' }, cursor, 1);
        if (events.length === 0) break;
        both.push(...events.map((e) => e.cursor));
        cursor = events.at(-1)!.cursor;
      }
      expect(both).toEqual([1, 2, 3, 4, 5, 6].map((h) => `${h}:0`));
      expect((await ix.read({ account: 'node-1' }, '3:4', 100)).events.map((e) => e.cursor)).toEqual([
        '4:4',
        '5:4',
        '6:4',
      ]);
      // Names and ids that are not valid never become keys.
      for await (const [k] of store.range('xf/'))
        expect(k.includes('not/hex') || k.startsWith('xf/a/a/b/')).toBe(false);
    } finally {
      await ix.close();
      await store.close();
    }
  });

  it('a read touches only the keys it returns', async () => {
    const { node, keys } = await open();
    const ix0 = new FeedIndexer(node, node.store);
    await blocks(node, keys, 10);
    await caughtUp(ix0, 10);
    await ix0.close();
    let touched = 0;
    const counting: KvStore = {
      get: (k) => node.store.get(k),
      batch: (ops) => node.store.batch(ops),
      close: async () => {},
      range: (p, o) => {
        const it = node.store.range(p, o);
        return {
          async *[Symbol.asyncIterator]() {
            for await (const kv of it) {
              touched++;
              yield kv;
            }
          },
        };
      },
    };
    const ix = new FeedIndexer(node, counting, { follow: false });
    try {
      const { events } = await ix.read({ account: 'alice' }, '0:0', 2);
      expect(events.length).toBe(2);
      expect(touched).toBe(2);
    } finally {
      await ix.close();
      await node.close();
    }
  });
});
