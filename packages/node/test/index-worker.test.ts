/**
 * The index worker (packages/node/src/indexer/worker.ts and client.ts): the explorer's indexes are
 * written by a worker thread in their own store (`<dataDir>/index`), never in the node's store. Its
 * answers equal those of the indexers run in the node's thread (same rows, cursors, wire bytes); it
 * catches up from its markers after a restart; a worker killed mid-run is restarted and completes;
 * a hostile read is refused before it is posted; reads in flight are bounded.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountKeys } from '@roamchain/state';
import { describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { restoreSnapshot, snapshotChunks } from '../src/backup.js';
import { createApi, type Node } from '../src/index.js';
import { IndexWorker } from '../src/indexer/client.js';
import { FeedIndexer } from '../src/indexer/feed.js';
import { ListIndexer } from '../src/indexer/lists.js';
import type { FeedIndexReader, ListIndexReader } from '../src/indexer/messages.js';
import { type KvStore, LevelStore } from '../src/store/index.js';
import { openIndexerChain, transferBy, useNodeKit } from './support/kit.js';

const kit = useNodeKit();

async function blocks(node: Node, keys: Map<string, AccountKeys>, n: number, from = 0) {
  for (let b = from; b < from + n; b++) {
    await node.submit(transferBy(node, keys, 'op-de', 'bob', BigInt(1 + b)));
    if (b % 3 === 0) await node.submit(transferBy(node, keys, 'alice', 'bob', BigInt(1 + b)));
    await node.produceBlock();
  }
}

async function reached(ix: { height: number; progressed(ms: number): Promise<void> }, height: number) {
  const end = Date.now() + 60_000;
  while (ix.height < height && Date.now() < end) await ix.progressed(200);
  expect(ix.height).toBe(height);
}

/** Every page of a filtered feed read: cursors and wire bytes. */
async function feedAll(ix: FeedIndexReader, filter: { account?: string; contract?: string }, page: number) {
  const out: string[] = [];
  let cursor = '0:0';
  for (;;) {
    const { events } = await ix.read(filter, cursor, page);
    for (const e of events) out.push(`${e.cursor} ${Buffer.from(e.wire).toString('utf8')}`);
    if (events.length < page) return out;
    cursor = events.at(-1)!.cursor;
  }
}

/** Every page of every list, newest first. */
async function listsAll(ix: ListIndexReader, page: number) {
  const walk = async <T extends { height: number; index: number }>(
    read: (b?: { height: number; index: number }) => Promise<T[]>,
  ) => {
    const out: T[] = [];
    let before: { height: number; index: number } | undefined;
    for (;;) {
      const rows = await read(before);
      out.push(...rows);
      if (rows.length < page) return out;
      before = { height: rows.at(-1)!.height, index: rows.at(-1)!.index };
    }
  };
  return {
    txs: await walk((b) => ix.transactions(page, b)),
    alice: await walk((b) => ix.accountTransactions('alice', page, b)),
    contracts: await walk((b) => ix.contracts(page, b)),
    fees: await ix.fees(1000),
  };
}

async function keysUnder(store: KvStore, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of store.range(prefix, { limit: 10 })) n++;
  return n;
}

const workerOf = (
  node: Node,
  dir: string,
  extra: Partial<ConstructorParameters<typeof IndexWorker>[1]> = {},
) => new IndexWorker(node, { dir: join(dir, 'index'), kind: 'level', feed: true, list: true, ...extra });

describe('IndexWorker', () => {
  it('answers exactly as the indexers in the node thread do, and writes nothing in the node store', async () => {
    const { node, keys, dir } = await openIndexerChain(kit.dir('ixw'));
    kit.track(node);
    const w = workerOf(node, dir);
    const refStore = await LevelStore.open(kit.dir('ixw-ref'));
    const feed = new FeedIndexer(node, refStore);
    const list = new ListIndexer(node, refStore);
    try {
      await blocks(node, keys, 12);
      const h = node.status().height;
      await reached(w.feed!, h);
      await reached(w.list!, h);
      await reached(feed, h);
      await reached(list, h);
      for (const who of ['alice', 'bob', 'node-1', 'op-de']) {
        const got = await feedAll(w.feed!, { account: who }, 3);
        if (who !== 'node-1') expect(got.length, who).toBeGreaterThan(0);
        expect(got).toEqual(await feedAll(feed, { account: who }, 3));
      }
      expect(await listsAll(w.list!, 4)).toEqual(await listsAll(list, 4));
      // The main thread wrote no index key: the worker's store holds them.
      expect(await keysUnder(node.store, 'xf/')).toBe(0);
      expect(await keysUnder(node.store, 'xl/')).toBe(0);
    } finally {
      await w.close();
      await feed.close();
      await list.close();
      await refStore.close();
    }
  });

  it('catches up from its markers after a restart', async () => {
    const first = await openIndexerChain(kit.dir('ixw'));
    let w = workerOf(first.node, first.dir);
    await blocks(first.node, first.keys, 5);
    await reached(w.list!, 5);
    await w.close();
    // Blocks the index never saw (the node ran without it), then a restart of both.
    await blocks(first.node, first.keys, 7, 5);
    await first.node.close();
    const again = await openIndexerChain(first.dir);
    kit.track(again.node);
    w = workerOf(again.node, first.dir);
    try {
      await reached(w.feed!, 12);
      await reached(w.list!, 12);
      const rows = await w.list!.transactions(1000);
      expect(rows.map((r) => r.height)).toEqual([...rows.map((r) => r.height)].sort((a, b) => b - a));
      expect(new Set(rows.map((r) => r.height))).toEqual(
        new Set(Array.from({ length: 12 }, (_, i) => i + 1)),
      );
      expect((await w.feed!.read({ account: 'alice' }, '0:0', 1000)).through).toBe(12);
    } finally {
      await w.close();
    }
  });

  it('a worker killed mid-run is restarted, and the index completes', async () => {
    const { node, keys, dir } = await openIndexerChain(kit.dir('ixw'));
    kit.track(node);
    const w = workerOf(node, dir, { maxUnacked: 2 });
    try {
      await blocks(node, keys, 4);
      await reached(w.feed!, 4);
      const killed = w.kill();
      // A read while it is down is refused, typed (503), not left hanging.
      await expect(w.list!.transactions(10)).rejects.toMatchObject({ code: 'INDEX_UNAVAILABLE' });
      await killed;
      await blocks(node, keys, 6, 4);
      await reached(w.feed!, 10);
      await reached(w.list!, 10);
      expect(w.restarts).toBeGreaterThanOrEqual(1);
      expect((await w.list!.transactions(1000)).length).toBe((await listsAll(w.list!, 1000)).txs.length);
      expect(new Set((await w.list!.transactions(1000)).map((r) => r.height)).size).toBe(10);
    } finally {
      await w.close();
    }
  });

  it('refuses a hostile read before it reaches the worker, and bounds the reads in flight', async () => {
    const { node, keys, dir } = await openIndexerChain(kit.dir('ixw'));
    kit.track(node);
    const w = workerOf(node, dir, { maxOutstanding: 2 });
    try {
      await blocks(node, keys, 2);
      await reached(w.list!, 2);
      const posted = w.requestsPosted;
      const feed = w.feed!;
      const list = w.list!;
      const hostile: (() => Promise<unknown>)[] = [
        () => feed.read({ account: 'alice' }, '0:0', 1e9),
        () => feed.read({ account: 'alice' }, '0:0', 0),
        () => feed.read({ account: 'alice' }, '0:0', 1.5),
        () => feed.read({ account: 'alice' }, 'x'.repeat(100_000), 10),
        () => feed.read({ account: 'alice' }, '1:2:3', 10),
        () => feed.read({ account: 'A/../b' }, '0:0', 10),
        () => feed.read({ contract: 'zz' }, '0:0', 10),
        () => feed.read({}, '0:0', 10),
        () => list.transactions(Number.MAX_SAFE_INTEGER),
        () => list.transactions(10, { height: -1, index: 0 }),
        () => list.transactions(10, { height: 1, index: 2 ** 40 }),
        () => list.accountTransactions('x'.repeat(10_000), 10),
        () => list.fees(10, Number.NaN),
      ];
      for (const h of hostile) await expect(h()).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      expect(w.requestsPosted).toBe(posted);
      // Beyond two reads in flight: refused at once (503), the others answered.
      const many = await Promise.allSettled(Array.from({ length: 8 }, () => list.transactions(5)));
      const refused = many.filter((r) => r.status === 'rejected');
      expect(many.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(2);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused)
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'INDEX_UNAVAILABLE' });
    } finally {
      await w.close();
    }
  });

  it('the API runs the worker; an old data directory loses its in-store indexes in the background', async () => {
    const { node, keys } = await openIndexerChain(kit.dir('ixw'));
    kit.track(node);
    // As an older version did: the indexes in the node's own store.
    const old = [new FeedIndexer(node, node.store), new ListIndexer(node, node.store)];
    await blocks(node, keys, 3);
    for (const ix of old) await reached(ix, 3);
    for (const ix of old) await ix.close();
    expect(await keysUnder(node.store, 'xf/')).toBeGreaterThan(0);
    expect(await keysUnder(node.store, 'xl/')).toBeGreaterThan(0);
    const api = await createApi(node, { port: 0 });
    try {
      await blocks(node, keys, 2, 3);
      await reached(api.indexes!.list!, 5);
      await reached(api.indexes!.feed!, 5);
      const end = Date.now() + 30_000;
      while (
        (await keysUnder(node.store, 'xf/')) + (await keysUnder(node.store, 'xl/')) > 0 &&
        Date.now() < end
      )
        await new Promise((r) => setTimeout(r, 50));
      expect(await keysUnder(node.store, 'xf/')).toBe(0);
      expect(await keysUnder(node.store, 'xl/')).toBe(0);
      const res = await fetch(`${api.url}/v1/lists/transactions?limit=100`);
      const body = (await res.json()) as { items: { height: number }[] };
      expect(new Set(body.items.map((i) => i.height))).toEqual(new Set([1, 2, 3, 4, 5]));
    } finally {
      await api.close();
    }
  });

  it('a backup leaves the indexes out; a restore drops a stale index directory (rebuilt from the blocks)', async () => {
    const { node, keys } = await openIndexerChain(kit.dir('ixw'));
    kit.track(node);
    const old = new FeedIndexer(node, node.store);
    await blocks(node, keys, 2);
    await reached(old, 2);
    await old.close();
    expect(await keysUnder(node.store, 'xf/')).toBeGreaterThan(0);
    const target = kit.dir('ixw-restore');
    mkdirSync(join(target, 'index'));
    writeFileSync(join(target, 'index', 'CURRENT'), 'stale');
    const info = await restoreSnapshot(snapshotChunks(node.store, 'x'), target);
    expect(info.head?.height).toBe(2);
    expect(existsSync(join(target, 'index'))).toBe(false);
    const restored = await LevelStore.open(target);
    try {
      expect(await keysUnder(restored, 'xf/')).toBe(0);
      expect(await keysUnder(restored, 'b/')).toBe(2);
    } finally {
      await restored.close();
    }
  });

  it('a filtered WebSocket replay reads the stored blocks while the index is unavailable', async () => {
    const { node, keys } = await openIndexerChain(kit.dir('ixw'));
    kit.track(node);
    await blocks(node, keys, 6);
    const want: string[] = [];
    for (const e of await node.eventsSince(null, 10_000))
      if (JSON.stringify(e.event).includes('"alice"')) want.push(e.cursor);
    expect(want.length).toBeGreaterThan(0);
    const api = await createApi(node, { port: 0 });
    // The worker is gone: every index read answers INDEX_UNAVAILABLE.
    await api.indexes!.close();
    await expect(api.indexes!.feed!.read({ account: 'alice' }, '0:0', 10)).rejects.toMatchObject({
      code: 'INDEX_UNAVAILABLE',
    });
    const ws = new WebSocket(`${api.url.replace('http', 'ws')}/v1/ws`);
    try {
      const got: string[] = [];
      const errors: unknown[] = [];
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as { type: string; cursor?: string };
        if (m.type === 'event') got.push(m.cursor!);
        if (m.type === 'error') errors.push(m);
      });
      await new Promise((r) => ws.once('open', r));
      const scans = vi.spyOn(node, 'eventsSince');
      ws.send(JSON.stringify({ op: 'subscribe', topic: 'events', account: 'alice', cursor: '0:0' }));
      const end = Date.now() + 30_000;
      while (got.length < want.length && errors.length === 0 && Date.now() < end)
        await new Promise((r) => setTimeout(r, 20));
      expect(errors).toEqual([]);
      expect(got).toEqual(want);
      expect(scans).toHaveBeenCalled();
    } finally {
      ws.close();
      await api.close();
    }
  });
});
