// The consensus WAL's cost per height: append a proposal body and fdatasync it (what a prevote waits
// for), then the decision record (fsynced before the storage batch) and the end marker.
// Run: node --import tsx packages/node/bench/wal-fsync.ts [--heights 50]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Wal } from '../src/wal.js';

const { values: args } = parseArgs({ options: { heights: { type: 'string', default: '50' } } });
const heights = BigInt(args.heights);
const dir = mkdtempSync(join(tmpdir(), 'rc-wal-bench-'));
const { wal } = Wal.open(dir);
let h = 0n;
for (const size of [1_000, 100_000, 1_000_000]) {
  const body = new Uint8Array(size).fill(7);
  const bodyMs: number[] = [];
  const decidedMs: number[] = [];
  for (let i = 0n; i < heights; i++) {
    h++;
    wal.beginHeight(h);
    let t = performance.now();
    wal.body(h, 'x', body);
    wal.sync();
    bodyMs.push(performance.now() - t);
    t = performance.now();
    wal.decided(h, new Uint8Array(32), new Uint8Array(300));
    decidedMs.push(performance.now() - t);
    wal.end(h);
  }
  const q = (xs: number[], p: number) =>
    xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!.toFixed(2);
  console.log(
    `body ${size} B: append + fdatasync p50 ${q(bodyMs, 0.5)} ms, p90 ${q(bodyMs, 0.9)} ms; decision p50 ${q(decidedMs, 0.5)} ms`,
  );
}
wal.close();
rmSync(dir, { recursive: true, force: true });
