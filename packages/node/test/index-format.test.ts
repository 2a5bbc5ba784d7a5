/**
 * The index worker's store carries the version of its key layout (src/indexer/format.ts): a store
 * written in the old layout (event bytes and list rows copied under each account, no version key)
 * is detected, deleted and rebuilt from the blocks — never read as if it were current; a store in
 * the current format is kept as it is.
 */
import { join } from 'node:path';
import type { AccountKeys } from '@roamchain/state';
import { describe, expect, it } from 'vitest';
import type { Node } from '../src/index.js';
import { IndexWorker } from '../src/indexer/client.js';
import { FeedIndexer } from '../src/indexer/feed.js';
import { FORMAT_KEY, INDEX_FORMAT, indexFormatOf, openIndexStore } from '../src/indexer/format.js';
import { ListIndexer } from '../src/indexer/lists.js';
import { LevelStore, u64Key } from '../src/store/index.js';
import { openIndexerChain, transferBy, useNodeKit } from './support/kit.js';

const kit = useNodeKit();
const enc = (v: unknown) => Buffer.from(JSON.stringify(v));

async function blocks(node: Node, keys: Map<string, AccountKeys>, n: number) {
  for (let b = 0; b < n; b++) {
    await node.submit(transferBy(node, keys, 'alice', 'bob', BigInt(1 + b)));
    await node.produceBlock();
  }
}

async function reached(ix: { height: number; progressed(ms: number): Promise<void> }, height: number) {
  const end = Date.now() + 60_000;
  while (ix.height < height && Date.now() < end) await ix.progressed(200);
  expect(ix.height).toBe(height);
}

describe('index store format', () => {
  it('an index directory in the old layout is rebuilt from the blocks, not read', async () => {
    const { node, keys, dir } = await openIndexerChain(kit.dir('ixf'));
    kit.track(node);
    await blocks(node, keys, 6);
    const h = node.status().height;
    // As the old layout wrote it, complete up to h by its markers, but with bytes no block holds.
    const old = await LevelStore.open(join(dir, 'index'));
    const tail = `${u64Key('', 1)}/00000000`;
    const planted = { type: 'event', cursor: '1:0', height: 1, txId: null, event: { type: 'planted' } };
    const row = {
      txId: 'ff',
      height: 1,
      index: 0,
      time: '0',
      types: ['planted'],
      signers: ['alice'],
      fee: '0',
    };
    await old.batch([
      { type: 'put', key: 'xf/m', value: enc(h) },
      { type: 'put', key: 'xl/m', value: enc(h) },
      { type: 'put', key: `xf/a/alice/${tail}`, value: enc(planted) },
      { type: 'put', key: `xl/t/${tail}`, value: enc(row) },
      { type: 'put', key: `xl/a/alice/${tail}`, value: enc(row) },
    ]);
    expect(indexFormatOf(old)).toBeUndefined();
    await old.close();

    const w = new IndexWorker(node, { dir: join(dir, 'index'), kind: 'level', feed: true, list: true });
    const refStore = await LevelStore.open(kit.dir('ixf-ref'));
    const feed = new FeedIndexer(node, refStore);
    const list = new ListIndexer(node, refStore);
    try {
      await reached(w.feed!, h);
      await reached(w.list!, h);
      await reached(feed, h);
      await reached(list, h);
      const got = await w.feed!.read({ account: 'alice' }, '0:0', 100);
      const want = await feed.read({ account: 'alice' }, '0:0', 100);
      expect(got.events.length).toBe(6);
      expect(got.events.map((e) => Buffer.from(e.wire).toString())).toEqual(
        want.events.map((e) => Buffer.from(e.wire).toString()),
      );
      const rows = await w.list!.accountTransactions('alice', 100);
      expect(rows).toEqual(await list.accountTransactions('alice', 100));
      expect(rows.some((r) => r.types.includes('planted'))).toBe(false);
      expect(await w.list!.transactions(100)).toEqual(await list.transactions(100));
    } finally {
      await w.close();
      await feed.close();
      await list.close();
      await refStore.close();
    }
    const again = await LevelStore.open(join(dir, 'index'));
    try {
      expect(indexFormatOf(again)).toBe(INDEX_FORMAT);
    } finally {
      await again.close();
    }
  });

  it('a store in the current format is kept; another version or a garbled one is deleted', async () => {
    const d = kit.dir('ixf-open');
    const sentinel = { type: 'put', key: 'xl/m', value: enc(7) } as const;
    let s = await openIndexStore('level', d);
    expect(indexFormatOf(s)).toBe(INDEX_FORMAT);
    await s.batch([sentinel]);
    await s.close();
    s = await openIndexStore('level', d);
    expect(s.get('xl/m')).toBeDefined();
    // A newer version (a downgrade) and a value that does not parse: rebuilt as well.
    for (const v of [enc(INDEX_FORMAT + 1), Buffer.from('{not json')]) {
      await s.batch([sentinel, { type: 'put', key: FORMAT_KEY, value: v }]);
      await s.close();
      const logs: string[] = [];
      s = await openIndexStore('level', d, (_l, msg) => logs.push(msg));
      expect(s.get('xl/m')).toBeUndefined();
      expect(indexFormatOf(s)).toBe(INDEX_FORMAT);
      expect(logs.length).toBe(1);
    }
    await s.close();
  });
});
