/**
 * The admission path's main-thread CPU per transaction: a real node (one producer, its own genesis
 * with ACCOUNTS funded accounts) and its real API; ROUNDS rounds of BATCHES binary batches of PER
 * pre-signed UMT transfers (each from another account, libsodium-signed up front), POSTed to
 * `/v1/txs` (application/octet-stream) through Fastify's `inject`, CONCURRENCY batches outstanding.
 * Per round: the main thread's CPU time (Linux: /proc/thread-self/schedstat, nanoseconds of this
 * thread on a CPU; everything it does, posting to the verifier workers included, their verifying
 * not) divided by the transactions admitted; also its event loop's active time (ELU), which
 * counts time the thread was runnable but preempted by others on a busy machine. Every transaction must be admitted, else the bench fails.
 * The mempool is emptied between rounds (a block is produced, not timed). Median of the rounds.
 * `--prof=FILE`: a V8 CPU profile of the last round only (summarise it with profile-top.ts).
 * `--direct`: the same through `decodeTxBatch` + `node.submitBatch` + `JSON.stringify` (no Fastify).
 *
 *   node --conditions=@roamchain/source --import tsx packages/node/bench/admission.ts \
 *     [ROUNDS=7] [BATCHES=20] [PER=230] [ACCOUNTS=2000] [CONCURRENCY=4] [--direct]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeTxBatch, encodeTxBatch, TX_BATCH_CONTENT_TYPE, UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { sodiumKeyPair } from '../src/crypto/verifier.js';
import { Signer } from './mix.js';

// ADMIT_BENCH_SRC: another copy of the node's sources to measure (e.g. main's, for before/after in
// the same minute: `git archive main packages/node/src | tar -x -C /tmp/base`, then
// ADMIT_BENCH_SRC=/tmp/base/packages/node/src — run from inside the worktree so that it resolves
// the workspace's packages). Default: this package's.
const SRC = process.env.ADMIT_BENCH_SRC ?? '../src';
const { createApi } = (await import(`${SRC}/api/server.js`)) as typeof import('../src/api/server.js');
const { Node } = (await import(`${SRC}/index.js`)) as typeof import('../src/index.js');

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const DIRECT = process.argv.includes('--direct');
const PROF = process.argv.find((a) => a.startsWith('--prof='))?.slice('--prof='.length);
const ROUNDS = Number(args[0] ?? 7);
const BATCHES = Number(args[1] ?? 20);
const PER = Number(args[2] ?? 230);
const ACCOUNTS = Number(args[3] ?? 2000);
const CONCURRENCY = Number(args[4] ?? 4);

const names = Array.from({ length: ACCOUNTS }, (_, i) => `acct-${String(i).padStart(5, '0')}`);
const g = buildGenesis({
  accounts: [{ name: 'node-1', roles: ['node_owner'] }, ...names.map((name) => ({ name }))],
  umt: Object.fromEntries(names.map((n) => [n, 10_000n * UNIT])),
  validators: ['node-1'],
  params: { maxBlockTxs: 100_000 },
});
const dir = mkdtempSync(join(tmpdir(), 'rc-admit-bench-'));
const node = await Node.open({
  dataDir: join(dir, 'node'),
  genesis: g.genesis,
  producer: { account: 'node-1', secretKey: g.keys.get('node-1')!.signing.secretKey },
  blockIntervalMs: 3_600_000,
  maxProposalMs: 120_000,
});
const api = await createApi(node, { port: 0, indexer: false, listIndexer: false });

const secrets = new Map(names.map((n) => [n, sodiumKeyPair(g.keys.get(n)!.signing.secretKey).secretKey]));
const signer = new Signer(node.chainId, secrets, BigInt(Date.now()) + 30n * 60_000n);
let amount = 1n;
/** One round's batch bodies: transfers in account order, so each batch has PER different senders. */
function round(): Buffer[] {
  const bodies: Buffer[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const txs: Uint8Array[] = [];
    for (let i = 0; i < PER; i++) {
      const k = (b * PER + i) % ACCOUNTS;
      const from = names[k]!;
      const to = names[(k + 1) % ACCOUNTS]!;
      const memo = new Uint8Array();
      txs.push(signer.sign([{ type: 'transfer', from, to, token: 'UMT', amount: amount++, memo }]).bytes);
    }
    const body = encodeTxBatch(txs, 65_536);
    bodies.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  }
  return bodies;
}

type Answer = { ok: boolean; code?: string };
async function post(body: Buffer): Promise<Answer[]> {
  if (DIRECT) {
    const results = await node.submitBatch(decodeTxBatch(new Uint8Array(body)));
    return (JSON.parse(JSON.stringify({ results })) as { results: Answer[] }).results;
  }
  const r = await api.app.inject({
    method: 'POST',
    url: '/v1/txs',
    headers: { 'content-type': TX_BATCH_CONTENT_TYPE },
    payload: body,
  });
  if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}: ${r.body.slice(0, 200)}`);
  return (r.json() as { results: Answer[] }).results;
}

/** Nanoseconds this thread has been on a CPU (Linux), else NaN. */
function threadCpuNs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

/** Main-thread CPU and event-loop-active µs per transaction of one round. */
async function timed(bodies: Buffer[]): Promise<{ cpu: number; elu: number }> {
  let next = 0;
  let admitted = 0;
  const refused = new Map<string, number>();
  const lane = async () => {
    while (next < bodies.length) {
      for (const a of await post(bodies[next++]!)) {
        if (a.ok) admitted++;
        else refused.set(a.code ?? '?', (refused.get(a.code ?? '?') ?? 0) + 1);
      }
    }
  };
  const e0 = performance.eventLoopUtilization();
  const c0 = threadCpuNs();
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const c = threadCpuNs() - c0;
  const e = performance.eventLoopUtilization(e0);
  if (refused.size > 0) throw new Error(`refused: ${JSON.stringify(Object.fromEntries(refused))}`);
  return { cpu: c / 1000 / admitted, elu: (e.active * 1000) / admitted };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const perTx: number[] = [];
const eluTx: number[] = [];
// Everything signed up front (its garbage collected before the first round).
const rounds = Array.from({ length: ROUNDS + 1 }, round);
(globalThis as { gc?: () => void }).gc?.();
try {
  // Round 0 warms up (JIT, workers started); not counted.
  for (let r = 0; r <= ROUNDS; r++) {
    const prof = PROF && r === ROUNDS ? new Session() : undefined;
    if (prof && process.env.ADMIT_BENCH_HEAP) {
      prof.connect();
      await prof.post('HeapProfiler.enable');
      await prof.post('HeapProfiler.startSampling', {
        samplingInterval: 256,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    } else if (prof) {
      prof.connect();
      await prof.post('Profiler.enable');
      await prof.post('Profiler.setSamplingInterval', { interval: 100 });
      await prof.post('Profiler.start');
    }
    const { cpu, elu } = await timed(rounds[r]!);
    if (prof && process.env.ADMIT_BENCH_HEAP) {
      const { profile } = await prof.post('HeapProfiler.stopSampling');
      writeFileSync(PROF!, JSON.stringify(profile));
      prof.disconnect();
    } else if (prof) {
      const { profile } = await prof.post('Profiler.stop');
      writeFileSync(PROF!, JSON.stringify(profile));
      prof.disconnect();
    }
    rounds[r] = [];
    if (r > 0) perTx.push(Number.isNaN(cpu) ? elu : cpu);
    if (r > 0) eluTx.push(elu);
    console.log(
      `round ${r}${r === 0 ? ' (warm-up)' : ''}: ${cpu.toFixed(1)} µs/tx main-thread CPU, ${elu.toFixed(1)} µs/tx event loop active`,
    );
    // Blocks are bounded by bytes and cost: as many as it takes.
    for (let b = 0; node.mempoolSize > 0; b++) {
      if (b === 20) throw new Error(`mempool not emptied: ${node.mempoolSize}`);
      await node.produceBlock();
    }
    (globalThis as { gc?: () => void }).gc?.();
  }
} finally {
  await api.close();
  await node.close();
  rmSync(dir, { recursive: true, force: true });
}
const m = median(perTx);
console.log(
  `admission (${DIRECT ? 'direct: decodeTxBatch + submitBatch + JSON' : 'POST /v1/txs via inject'}), ` +
    `${BATCHES}×${PER} txs per round from ${ACCOUNTS} accounts, ${CONCURRENCY} batches outstanding: ` +
    `median ${m.toFixed(1)} µs/tx main-thread CPU, min ${Math.min(...perTx).toFixed(1)} (rounds ${perTx.map((x) => x.toFixed(1)).join(' ')}), ` +
    `event loop active ${median(eluTx).toFixed(1)} µs/tx`,
);
console.log(
  `RESULT admission_main_us_per_tx=${m.toFixed(1)} mode=${DIRECT ? 'direct' : 'route'} rounds=${ROUNDS} txs_per_round=${BATCHES * PER}`,
);
process.exit(0);
