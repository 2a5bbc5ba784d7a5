/**
 * What a page of the explorer's lists costs as the chain grows: a node with BLOCKS blocks of PER
 * transfers each (a few accounts), then GET /v1/lists/transactions and /v1/accounts/:name/transactions
 * pages at the head and deep in the past, timed over HTTP (median of 20 reads each). A page reads
 * its rows from the list index, so its time does not grow with the chain.
 *
 *   node --conditions=@roamchain/source --import tsx packages/node/bench/lists.ts [BLOCKS=60] [PER=100]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApi } from '../src/api/server.js';
import { benchNode } from './fill.js';

const BLOCKS = Number(process.argv[2] ?? 60);
const PER = Number(process.argv[3] ?? 100);

const dir = mkdtempSync(join(tmpdir(), 'rc-lists-bench-'));
const { node, fill } = await benchNode(dir);
const api = await createApi(node, { port: 0 });
const t0 = performance.now();
await fill(BLOCKS, PER);
const built = ((performance.now() - t0) / 1000).toFixed(1);

async function median(path: string): Promise<string> {
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    const r = await fetch(`${api.url}${path}`);
    const j = (await r.json()) as { items?: unknown[]; code?: string };
    if (!r.ok) throw new Error(`${path}: ${r.status} ${j.code}`);
    rows = j.items?.length ?? 0;
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  return `${path}: ${rows} rows, median ${times[10]!.toFixed(2)} ms`;
}

const head = node.status().height;
const deep = `${Math.max(2, Math.floor(head / 20))}:0`;
console.log(
  `${BLOCKS} blocks × ${PER} transfers (${BLOCKS * PER} transactions) built in ${built} s; head #${head}`,
);
for (const path of [
  '/v1/lists/transactions?limit=100',
  `/v1/lists/transactions?limit=100&before=${deep}`,
  '/v1/accounts/alice/transactions?limit=100',
  `/v1/accounts/alice/transactions?limit=100&before=${deep}`,
  '/v1/lists/fees?limit=100',
  '/v1/lists/accounts?limit=100',
])
  console.log(await median(path));
await api.close();
await node.close();
rmSync(dir, { recursive: true, force: true });
