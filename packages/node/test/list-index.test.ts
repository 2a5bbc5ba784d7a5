import { requiredSigners } from '@roamchain/protocol';
import type { AccountKeys } from '@roamchain/state';
import { describe, expect, it } from 'vitest';
import { toJson } from '../src/api/json.js';
import type { Node } from '../src/index.js';
import { partiesOf } from '../src/indexer/events.js';
import { ListIndexer, type Pos } from '../src/indexer/lists.js';
import type { KvStore } from '../src/store/index.js';
import { openIndexerChain, transferBy, useNodeKit } from './support/kit.js';

const kit = useNodeKit();
const open = () => openIndexerChain(kit.dir('xl'));
const transfer = transferBy;

async function blocks(node: Node, keys: Map<string, AccountKeys>, n: number) {
  for (let b = 0; b < n; b++) {
    await node.submit(transfer(node, keys, 'op-de', 'bob', BigInt(1 + b)));
    if (b % 3 === 0) await node.submit(transfer(node, keys, 'alice', 'op-de', BigInt(1 + b)));
    if (b % 4 === 1) await node.produceBlock(); // some blocks hold nothing
    await node.produceBlock();
  }
}

/** What a scan of the stored blocks says: transaction ids newest first, of everyone or of `who`. */
async function scan(node: Node, who?: string): Promise<string[]> {
  const out: string[] = [];
  for (let h = node.status().height; h >= 1; h--) {
    const b = (await node.blockByHeight(h))!;
    for (let i = b.envelopes.length - 1; i >= 0; i--) {
      const env = b.envelopes[i]!;
      const names = new Set(requiredSigners(env.tx.ops));
      for (const e of b.receipts[i]!.events) for (const p of partiesOf(toJson(e) as never)) names.add(p);
      if (who === undefined || names.has(who)) out.push(env.idHex);
    }
  }
  return out;
}

async function pages(
  read: (limit: number, before?: Pos) => Promise<{ txId: string; height: number; index: number }[]>,
  limit: number,
) {
  const out: string[] = [];
  let before: Pos | undefined;
  for (let n = 0; n < 1000; n++) {
    const rows = await read(limit, before);
    out.push(...rows.map((r) => r.txId));
    if (rows.length < limit) return out;
    const last = rows.at(-1)!;
    before = { height: last.height, index: last.index };
  }
  throw new Error('too many pages');
}

describe('ListIndexer', () => {
  it('pages equal a scan of the stored blocks, for everyone and for each account', async () => {
    const { node, keys } = await open();
    const ix = new ListIndexer(node, node.store);
    try {
      await blocks(node, keys, 9);
      expect(await ix.reach(node.status().height, 30_000)).toBe(true);
      const all = await scan(node);
      expect(all.length).toBe(12);
      expect(await pages((l, b) => ix.transactions(l, b), 5)).toEqual(all);
      for (const who of ['alice', 'bob', 'op-de', 'node-1'])
        expect(await pages((l, b) => ix.accountTransactions(who, l, b), 2), who).toEqual(
          await scan(node, who),
        );
      // op-de is in both transactions of some blocks: pages that end inside a block.
      for (const limit of [1, 3, 1000])
        expect(await pages((l, b) => ix.accountTransactions('op-de', l, b), limit)).toEqual(
          await scan(node, 'op-de'),
        );
      expect(await ix.accountTransactions('node-1', 10)).toEqual([]);
      // One fees_paid row per block with transactions, newest first.
      const fees = await ix.fees(100);
      expect(fees.map((f) => f.height)).toEqual(
        [...new Set((await ix.transactions(100)).map((t) => t.height))].sort((a, b) => b - a),
      );
    } finally {
      await ix.close();
      await node.close();
    }
  });

  it('a failed write is retried; the node goes on committing', async () => {
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
    const ix = new ListIndexer(node, flaky);
    try {
      await blocks(node, keys, 4);
      expect(await ix.reach(node.status().height, 30_000)).toBe(true);
      expect(ix.failures).toBe(2);
      expect(await pages((l, b) => ix.transactions(l, b), 3)).toEqual(await scan(node));
    } finally {
      await ix.close();
      await node.close();
    }
  });

  it('with a one-block queue and a stalled disk, it reads blocks back from the store and misses none', async () => {
    const { node, keys } = await open();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow: KvStore = {
      get: (k) => node.store.get(k),
      range: (p, o) => node.store.range(p, o),
      close: async () => {},
      batch: async (ops) => {
        await gate;
        await node.store.batch(ops);
      },
    };
    const ix = new ListIndexer(node, slow, { maxQueued: 1, maxBlocksPerBatch: 2 });
    try {
      await blocks(node, keys, 8);
      expect(ix.height).toBe(0);
      release();
      expect(await ix.reach(node.status().height, 30_000)).toBe(true);
      expect(await pages((l, b) => ix.transactions(l, b), 4)).toEqual(await scan(node));
      expect(await pages((l, b) => ix.accountTransactions('alice', l, b), 1)).toEqual(
        await scan(node, 'alice'),
      );
    } finally {
      await ix.close();
      await node.close();
    }
  });
});
