/**
 * What the index store costs LevelDB per transaction, with and without compression: the index
 * worker's batches for BLOCKS blocks of 1,000 transfers among ACCOUNTS accounts (fill.ts) written
 * into a fresh classic-level store (not fsynced, as the follower writes them), then reopened and
 * fully compacted. Prints the process CPU (this thread's batch conversion + LevelDB's write and
 * compaction threads), the wall time and the tables' size, per transaction, twice per setting.
 *
 *   node --conditions=@roamchain/source --import tsx packages/node/bench/index-store-cost.ts [BLOCKS=20] [ACCOUNTS=5]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { indexBlockOf } from '../src/indexer/decode.js';
import { type KvBatchOp, LevelStore } from '../src/store/index.js';
import { indexSteps, storedBlocks } from './index-steps.js';

const BLOCKS = Number(process.argv[2] ?? 20);
const ACCOUNTS = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const dir = mkdtempSync(join(tmpdir(), 'rc-ixcomp-'));
const raw = await storedBlocks(dir, BLOCKS, 1000, ACCOUNTS);
const txs = BLOCKS * 1000;
// The indexers only lend their `prepare` and `opsOf` here; their own store stays empty.
const dummy = await LevelStore.open(join(dir, 'dummy'));
const { feed, list } = indexSteps(dummy);
const all: KvBatchOp[][] = [];
for (const r of raw) {
  const b = indexBlockOf(r.height, r.block, r.receipts);
  for (const ix of [feed, list]) {
    const ops: KvBatchOp[] = [];
    ix.opsOf(r.height, ix.prepare(b), ops);
    all.push(ops);
  }
}
const du = (d: string) => readdirSync(d).reduce((n, f) => n + statSync(join(d, f)).size, 0);
for (const rep of [0, 1])
  for (const compression of [true, false]) {
    const d = join(dir, `c-${compression}-${rep}`);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let db = new ClassicLevel<string, Uint8Array>(d, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
      compression,
    });
    await db.open();
    for (const ops of all)
      await (db as unknown as { _batch(o: KvBatchOp[], x: { sync: boolean }): Promise<void> })._batch(ops, {
        sync: false,
      });
    await db.close();
    db = new ClassicLevel<string, Uint8Array>(d, { keyEncoding: 'utf8', valueEncoding: 'view', compression });
    await db.open();
    await db.compactRange('', '\xff');
    await db.close();
    const c = process.cpuUsage(c0);
    process.stdout.write(
      `compression ${compression}: process CPU ${((c.user + c.system) / txs).toFixed(1)} µs/tx, wall ${(((performance.now() - t0) * 1000) / txs).toFixed(1)} µs/tx, tables ${(du(d) / txs).toFixed(0)} B/tx\n`,
    );
  }
await dummy.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
