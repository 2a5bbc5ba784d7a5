/**
 * The index layout's packed values (src/indexer/chunks.ts, pointers.ts) and the feed and list
 * indexes over blocks of many events and transactions: entries stored 16 to a key, one pointer key
 * per account and block, and pages that start and end anywhere in a block or a chunk answer as a
 * scan of the blocks does.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK, ChunkReader, chunkEntry, packChunk } from '../src/indexer/chunks.js';
import { eventWire, feedOfBlock, type IndexBlock } from '../src/indexer/events.js';
import { FeedIndexer } from '../src/indexer/feed.js';
import { ListIndexer, type Pos } from '../src/indexer/lists.js';
import { BlockPointers, positionsOf } from '../src/indexer/pointers.js';
import { type KvBatchOp, LevelStore } from '../src/store/index.js';
import { useNodeKit } from './support/kit.js';

const kit = useNodeKit();
const te = new TextEncoder();
const td = new TextDecoder();

describe('packed index values', () => {
  it('a chunk gives back each entry, and nothing for a slot it does not hold or a garbled value', () => {
    for (const n of [0, 1, 5, CHUNK]) {
      const parts = Array.from({ length: n }, (_, i) => te.encode(i % 3 === 1 ? '' : `entry-${i}`));
      const chunk = packChunk(parts);
      for (let i = 0; i < n; i++) expect(td.decode(chunkEntry(chunk, i))).toBe(td.decode(parts[i]));
      expect(chunkEntry(chunk, n)).toBeUndefined();
      expect(chunkEntry(chunk, -1)).toBeUndefined();
    }
    const good = packChunk([te.encode('abc'), te.encode('de')]);
    expect(chunkEntry(good.subarray(0, 3), 0)).toBeUndefined();
    expect(chunkEntry(good.subarray(0, good.length - 1), 1)).toBeUndefined();
    const huge = good.slice();
    huge[0] = 0xff; // n far beyond the value
    expect(chunkEntry(huge, 0)).toBeUndefined();
  });

  it('pointers list positions once each, in order; a garbled pointer is refused', () => {
    const p = new BlockPointers();
    for (const [name, i] of [
      ['a', 0],
      ['b', 0],
      ['a', 0],
      ['a', 7],
      ['a', 70_000],
    ] as const)
      p.add(name, i);
    const ops: KvBatchOp[] = [];
    p.flush(ops, 'x/', 'h');
    const got = Object.fromEntries(ops.map((o) => [o.key, o.type === 'put' ? positionsOf(o.value) : []]));
    expect(got).toEqual({ 'x/a/h': [0, 7, 70_000], 'x/b/h': [0] });
    expect(() => positionsOf(new Uint8Array(5))).toThrow();
  });

  it('a chunk reader reads each chunk once for consecutive entries', () => {
    const reads: string[] = [];
    const store = new Map([['l/h/00000000', packChunk([te.encode('0'), te.encode('1')])]]);
    const r = new ChunkReader((k) => {
      reads.push(k);
      return store.get(k);
    });
    expect(td.decode(r.entry('l/h/', 0))).toBe('0');
    expect(td.decode(r.entry('l/h/', 1))).toBe('1');
    expect(r.entry('l/h/', CHUNK)).toBeUndefined();
    expect(reads).toEqual(['l/h/00000000', 'l/h/00000001']);
  });
});

describe('FeedIndexer over blocks of many events', () => {
  it('pages of any size equal a scan of the blocks, for each account, a contract and both', async () => {
    const store = await LevelStore.open(kit.dir('xf-chunks'));
    const c1 = 'aa'.repeat(32);
    const payers = ['alice', 'bob', 'carol'];
    // 3 blocks of 45 events (3 chunks), carol only in the second half of each block.
    const block = (height: number): IndexBlock =>
      ({
        height,
        block: { header: { time: 0n } },
        envelopes: [],
        receipts: [
          {
            txId: 'cc'.repeat(32),
            index: 0,
            fee: 0n,
            events: Array.from({ length: 45 }, (_, i) => ({
              type: 'charge',
              ...(i % 4 === 0 ? { contract: c1 } : {}),
              payer: i < 22 ? payers[i % 2] : payers[i % 3],
              amount: BigInt(height * 100 + i),
            })),
          },
        ],
        endEvents: [],
      }) as unknown as IndexBlock;
    const source = {
      onBlock: () => () => {},
      blockByHeight: async () => undefined,
      status: () => ({ height: 0 }),
    };
    const ix = new FeedIndexer(source as never, store, { follow: false });
    const scan = (keep: (e: Record<string, unknown>) => boolean) =>
      [1, 2, 3].flatMap((h) =>
        feedOfBlock(block(h))
          .filter((e) => keep(e.event as unknown as Record<string, unknown>))
          .map((e) => `${e.cursor} ${eventWire(e).toString('utf8')}`),
      );
    const pages = async (filter: { account?: string; contract?: string }, page: number) => {
      const out: string[] = [];
      let cursor = '0:0';
      for (let n = 0; n < 1000; n++) {
        const { events } = await ix.read(filter, cursor, page);
        out.push(...events.map((e) => `${e.cursor} ${td.decode(e.wire)}`));
        if (events.length < page) return out;
        cursor = events.at(-1)!.cursor;
      }
      throw new Error('too many pages');
    };
    try {
      for (let h = 1; h <= 3; h++) ix.noteBlock(block(h));
      const end = Date.now() + 30_000;
      while (ix.height < 3 && Date.now() < end) await ix.progressed(200);
      expect(ix.height).toBe(3);
      for (const page of [1, 7, 16, 17, 1000]) {
        for (const who of payers)
          expect(await pages({ account: who }, page), `${who} ${page}`).toEqual(scan((e) => e.payer === who));
        expect(await pages({ contract: c1 }, page)).toEqual(scan((e) => e.contract === c1));
        expect(await pages({ contract: c1, account: 'carol' }, page)).toEqual(
          scan((e) => e.contract === c1 && e.payer === 'carol'),
        );
      }
      // 45 events: 3 chunk keys per block, not 45.
      let eventKeys = 0;
      for await (const _ of store.range('xf/e/')) eventKeys++;
      expect(eventKeys).toBe(9);
    } finally {
      await ix.close();
      await store.close();
    }
  });
});

describe('ListIndexer over blocks of many transactions', () => {
  it('pages of any size equal a scan of the blocks, for everyone and for each account', async () => {
    const store = await LevelStore.open(kit.dir('xl-chunks'));
    const names = ['alice', 'bob', 'carol'];
    const sizes = [40, 16, 0, 3];
    // Transaction i of block h: signed by names[i % 2], naming carol in its event from i = 20 on.
    const block = (height: number): IndexBlock => {
      const n = sizes[height - 1]!;
      return {
        height,
        block: { header: { time: BigInt(height * 1000) } },
        envelopes: Array.from({ length: n }, (_, i) => ({
          idHex: `${height}-${i}`,
          tx: { ops: [{ type: 'transfer', from: names[i % 2], to: 'node-1', token: 'UMT', amount: 1n }] },
        })),
        receipts: Array.from({ length: n }, (_, i) => ({
          txId: `${height}-${i}`,
          index: i,
          fee: BigInt(i),
          events: i >= 20 ? [{ type: 'note', payer: 'carol' }] : [],
        })),
        endEvents: [],
      } as unknown as IndexBlock;
    };
    const scan = (who?: string) =>
      [4, 3, 2, 1].flatMap((h) =>
        Array.from({ length: sizes[h - 1]! }, (_, i) => i)
          .reverse()
          .filter((i) => who === undefined || names[i % 2] === who || (who === 'carol' && i >= 20))
          .map((i) => `${h}-${i}`),
      );
    const source = {
      onBlock: () => () => {},
      blockByHeight: async () => undefined,
      status: () => ({ height: 0 }),
    };
    const ix = new ListIndexer(source as never, store, { follow: false });
    const pages = async (
      read: (limit: number, before?: Pos) => Promise<{ txId: string; height: number; index: number }[]>,
      limit: number,
    ) => {
      const out: string[] = [];
      let before: Pos | undefined;
      for (let n = 0; n < 1000; n++) {
        const rows = await read(limit, before);
        out.push(...rows.map((r) => r.txId));
        if (rows.length < limit) return out;
        before = { height: rows.at(-1)!.height, index: rows.at(-1)!.index };
      }
      throw new Error('too many pages');
    };
    try {
      for (let h = 1; h <= 4; h++) ix.noteBlock(block(h));
      expect(await ix.reach(4, 30_000)).toBe(true);
      for (const limit of [1, 7, 16, 17, 1000]) {
        expect(await pages((l, b) => ix.transactions(l, b), limit), `all ${limit}`).toEqual(scan());
        for (const who of names)
          expect(await pages((l, b) => ix.accountTransactions(who, l, b), limit), `${who} ${limit}`).toEqual(
            scan(who),
          );
      }
      // Before a position inside a chunk: the rows before it in that chunk, then older ones.
      expect((await ix.transactions(3, { height: 1, index: 18 })).map((r) => r.txId)).toEqual([
        '1-17',
        '1-16',
        '1-15',
      ]);
      expect((await ix.accountTransactions('alice', 2, { height: 1, index: 3 })).map((r) => r.txId)).toEqual([
        '1-2',
        '1-0',
      ]);
      // 40 + 16 + 3 rows: 3 + 1 + 1 keys.
      let rowKeys = 0;
      for await (const _ of store.range('xl/t/')) rowKeys++;
      expect(rowKeys).toBe(5);
    } finally {
      await ix.close();
      await store.close();
    }
  });
});
