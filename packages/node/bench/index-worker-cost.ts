/**
 * What the index worker (src/indexer/worker.ts) costs per committed transaction: its CPU and the
 * bytes it writes to the index store. A node with BLOCKS blocks of PER transfers (fill.ts) among
 * ACCOUNTS accounts (default 5: each in many transactions of a block; as many as PER: about two
 * transactions each, the worst case for the per-block pointer keys), then RUNS times, each into a fresh index store, the worker's exact per-block work on this thread:
 * decode the block's stored bytes (`indexBlockOf`, as worker.ts does), the feed index's and the list
 * index's `prepare` + `opsOf` and their batches' synchronous part (two batches, marker included, as
 * the follower writes them). Prints the median over the runs of the time per transaction, the
 * key + value bytes of the batches per transaction, and the store's size on disk after closing and
 * reopening (LevelDB's tables, snappy), per transaction.
 *
 *   node --conditions=@roamchain/source --import tsx packages/node/bench/index-worker-cost.ts [BLOCKS=10] [PER=1000] [RUNS=5] [ACCOUNTS=5]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexBlockOf } from '../src/indexer/decode.js';
import { storedBlock } from '../src/storage.js';
import { type KvBatchOp, LevelStore } from '../src/store/index.js';
import { indexSteps, storedBlocks } from './index-steps.js';

const BLOCKS = Number(process.argv[2] ?? 10);
const PER = Number(process.argv[3] ?? 1000);
const RUNS = Number(process.argv[4] ?? 5);
const ACCOUNTS = process.argv[5] === undefined ? undefined : Number(process.argv[5]);

const dir = mkdtempSync(join(tmpdir(), 'rc-ixcost-bench-'));
const raw = await storedBlocks(dir, BLOCKS, PER, ACCOUNTS);
let txs = 0;
let events = 0;
for (const r of raw) {
  const b = storedBlock(r.height, r.block, r.receipts);
  txs += b.envelopes.length;
  events += b.endEvents.length + b.receipts.reduce((n, x) => n + x.events.length, 0);
}

const marker = (prefix: string, h: number): KvBatchOp => ({
  type: 'put',
  key: `${prefix}m`,
  value: Buffer.from(JSON.stringify(h)),
});
const duBytes = (d: string): number => readdirSync(d).reduce((n, f) => n + statSync(join(d, f)).size, 0);

interface Run {
  cpuUs: number;
  bytes: number;
  keys: number;
  disk: number;
}
async function run(i: number): Promise<Run> {
  const d = join(dir, `index-${i}`);
  const store = await LevelStore.open(d);
  const { feed, list } = indexSteps(store);
  let ms = 0;
  let bytes = 0;
  let keys = 0;
  const batches: KvBatchOp[][] = [];
  for (const r of raw) {
    const t = performance.now();
    const b = indexBlockOf(r.height, r.block, r.receipts);
    const written: Promise<void>[] = [];
    for (const [ix, prefix] of [
      [feed, 'xf/'],
      [list, 'xl/'],
    ] as const) {
      const ops: KvBatchOp[] = [];
      ix.opsOf(r.height, ix.prepare(b), ops);
      ops.push(marker(prefix, r.height));
      written.push(store.batch(ops, { durable: false }));
      batches.push(ops);
    }
    ms += performance.now() - t;
    for (const ops of batches.splice(0))
      for (const op of ops) {
        keys++;
        bytes += Buffer.byteLength(op.key) + (op.type === 'put' ? op.value.byteLength : 0);
      }
    await Promise.all(written);
  }
  await feed.close();
  await list.close();
  await store.close();
  // Opened once more: LevelDB turns its log into a table, so the size is that of the tables (snappy).
  await (await LevelStore.open(d)).close();
  return { cpuUs: (ms * 1000) / txs, bytes: bytes / txs, keys: keys / txs, disk: duBytes(d) / txs };
}

const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) runs.push(await run(i));
rmSync(dir, { recursive: true, force: true });

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpu = med(runs.map((r) => r.cpuUs));
const fastest = Math.min(...runs.map((r) => r.cpuUs));
const bytes = med(runs.map((r) => r.bytes));
const keys = med(runs.map((r) => r.keys));
const disk = med(runs.map((r) => r.disk));
process.stdout.write(
  `${raw.length} blocks, ${txs} transactions (${PER} transfers per block among ${ACCOUNTS ?? 5} accounts), ${events} events; ${RUNS} runs\n` +
    'run  worker µs/tx  keys/tx  written B/tx  on disk B/tx\n' +
    runs
      .map(
        (r, i) =>
          `${String(i).padStart(3)}  ${r.cpuUs.toFixed(1).padStart(12)}  ${r.keys.toFixed(2).padStart(7)}  ` +
          `${r.bytes.toFixed(0).padStart(12)}  ${r.disk.toFixed(0).padStart(12)}`,
      )
      .join('\n') +
    `\nRESULT index worker: ${cpu.toFixed(1)} µs CPU/tx (fastest run ${fastest.toFixed(1)}), ${keys.toFixed(2)} keys/tx, ${bytes.toFixed(0)} B written/tx, ` +
    `${disk.toFixed(0)} B on disk/tx (median of ${RUNS})\n`,
);
// The node's verifier pool may hold the event loop: a bench ends here.
process.exit(0);
