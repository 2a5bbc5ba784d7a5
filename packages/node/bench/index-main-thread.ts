/**
 * What the explorer's indexes cost the node's main thread per block: a node with BLOCKS blocks of
 * PER transfers, then for each block (median over the blocks)
 *   before: the work the main thread did when the indexers ran in it (the hub's `prepareFeed`, the
 *           feed and list index keys, the store batch's synchronous part);
 *   after:  what it does now (indexer/client.ts: copy the stored bytes, post them to the worker);
 * and how long the worker takes to have indexed them all.
 *
 *   node --conditions=@roamchain/source --import tsx packages/node/bench/index-main-thread.ts [BLOCKS=5] [PER=1000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndexWorker } from '../src/indexer/client.js';
import { contractOf, feedOfBlock, partiesOf, prepareFeed } from '../src/indexer/events.js';
import { opsOfBlock } from '../src/indexer/lists.js';
import type { AppliedBlock } from '../src/interfaces.js';
import { type KvBatchOp, LevelStore, u64Key } from '../src/store/index.js';
import { benchNode } from './fill.js';

const BLOCKS = Number(process.argv[2] ?? 5);
const PER = Number(process.argv[3] ?? 1000);

const dir = mkdtempSync(join(tmpdir(), 'rc-ixmain-bench-'));
const { node, fill } = await benchNode(dir, { maxProposalMs: 60_000 });
const applied: AppliedBlock[] = [];
node.onBlock((b) => applied.push(b));
await fill(BLOCKS, PER);
const txs = applied.reduce((n, b) => n + b.envelopes.length, 0);

// Before: the indexers in the main thread (the feed key layout of that time, a copy per party).
const old = await LevelStore.open(join(dir, 'old-index'));
const hex8 = (i: number) => i.toString(16).padStart(8, '0');
const before: number[] = [];
for (const b of applied) {
  const t = performance.now();
  const events = prepareFeed(feedOfBlock(b));
  const ops: KvBatchOp[] = [];
  const hk = u64Key('', b.height);
  for (const e of events) {
    const tail = `${hk}/${hex8(e.index)}`;
    for (const p of partiesOf(e.json)) ops.push({ type: 'put', key: `xf/a/${p}/${tail}`, value: e.wire });
    const c = contractOf(e.json);
    if (c) ops.push({ type: 'put', key: `xf/c/${c}/${tail}`, value: e.wire });
  }
  opsOfBlock('xl/', b, ops);
  const written = old.batch(ops, { durable: false });
  before.push(performance.now() - t);
  await written;
}
await old.close();

// After: the worker; the main thread's part is the listener `IndexWorker` puts on `onBlock`.
let listener: ((b: AppliedBlock) => void) | undefined;
const w = new IndexWorker(
  {
    onBlock: (l) => {
      listener = l;
      return () => {};
    },
    status: () => ({ ...node.status(), height: 0 }),
    store: node.store,
  },
  { dir: join(dir, 'index'), kind: 'level', feed: true, list: true },
);
// Let it start (before it is up, the client posts heights only).
while (!(w as unknown as { up: boolean }).up) await new Promise((r) => setTimeout(r, 20));
const after: number[] = [];
const t0 = performance.now();
for (const b of applied) {
  const t = performance.now();
  listener!(b);
  after.push(performance.now() - t);
}
const reached = (await w.feed!.reach(BLOCKS, 120_000)) && (await w.list!.reach(BLOCKS, 120_000));
const workerMs = performance.now() - t0;
await w.close();
await node.close();
rmSync(dir, { recursive: true, force: true });

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(
  `${BLOCKS} blocks, ${txs} transactions (${PER} per block)\n` +
    `main thread per block, before (indexers in the main thread): median ${med(before).toFixed(2)} ms\n` +
    `main thread per block, after (post to the index worker):    median ${med(after).toFixed(3)} ms\n` +
    `worker: all ${BLOCKS} blocks indexed ${reached ? 'in' : 'NOT within'} ${workerMs.toFixed(0)} ms\n`,
);
// The node's verifier pool and sockets may hold the event loop: a bench ends here.
process.exit(reached ? 0 : 1);
