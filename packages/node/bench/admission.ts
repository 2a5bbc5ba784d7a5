/**
 * The admission path's main-thread CPU per transaction: a real node (one producer, its own genesis
 * with ACCOUNTS funded accounts) and its real API; ROUNDS rounds of BATCHES binary batches of PER
 * pre-signed UMT transfers (each from another account, libsodium-signed up front), POSTed to
 * `/v1/txs` (application/octet-stream) through Fastify's `inject`, CONCURRENCY batches outstanding.
 * Per round: the main thread's CPU time (Linux: /proc/thread-self/schedstat, nanoseconds of this
 * thread on a CPU; everything it does, posting to the verifier workers included, their verifying
 * not) divided by the transactions admitted; also its event loop's active time (ELU), which
 * counts time the thread was runnable but preempted by others on a busy machine. Every transaction
 * must be admitted, else the bench fails. The mempool is emptied between rounds (blocks are
 * produced, not timed). Median of the rounds after a warm-up round.
 *
 * `--compare=DIR`: before/after in one process — a second node built from the node sources in DIR
 * (e.g. main's: `git archive main packages/node/src | tar -x -C packages/node/.base`, then
 * `--compare=packages/node/.base/packages/node/src`; inside the worktree, so that it resolves the
 * workspace's packages) gets the same rounds, the two alternating (ABBA), so that a loaded machine
 * weighs on both alike; prints both medians and the median of the per-round ratios.
 * `--prof=FILE`: a V8 CPU profile of the last round only (summarise it with profile-top.ts);
 * with ADMIT_BENCH_HEAP=1 a sampling heap profile (allocations, collected ones included) instead.
 * `--direct`: the same through `decodeTxBatch` + `node.submitBatch` + `JSON.stringify` (no Fastify).
 *
 *   npm run bench:admission -- [ROUNDS=7] [BATCHES=20] [PER=230] [ACCOUNTS=2000] [CONCURRENCY=4] [--direct] [--compare=DIR]
 *   (= node --expose-gc --conditions=@roamchain/source --import tsx packages/node/bench/admission.ts …)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeTxBatch, encodeTxBatch, TX_BATCH_CONTENT_TYPE, UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { sodiumKeyPair } from '../src/crypto/verifier.js';
import { Signer } from './mix.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const DIRECT = process.argv.includes('--direct');
const PROF = process.argv.find((a) => a.startsWith('--prof='))?.slice('--prof='.length);
const COMPARE = process.argv.find((a) => a.startsWith('--compare='))?.slice('--compare='.length);
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
type Answer = { ok: boolean; code?: string };
interface Subject {
  label: string;
  node: import('../src/node.js').Node;
  close(): Promise<void>;
  post(body: Buffer): Promise<Answer[]>;
}

/** A node and its API built from the node sources at `src` (a path relative to this file, or absolute). */
async function subject(label: string, src: string): Promise<Subject> {
  const { createApi } = (await import(`${src}/api/server.js`)) as typeof import('../src/api/server.js');
  const { Node } = (await import(`${src}/index.js`)) as typeof import('../src/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'rc-admit-bench-'));
  const node = await Node.open({
    dataDir: join(dir, 'node'),
    genesis: g.genesis,
    producer: { account: 'node-1', secretKey: g.keys.get('node-1')!.signing.secretKey },
    blockIntervalMs: 3_600_000,
    maxProposalMs: 120_000,
  });
  const api = await createApi(node, { port: 0, indexer: false, listIndexer: false });
  return {
    label,
    node,
    async close() {
      await api.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
    async post(body) {
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
    },
  };
}

const subjects: Subject[] = [await subject('this', '../src')];
if (COMPARE) subjects.unshift(await subject('compared', resolve(COMPARE)));
const node = subjects[0]!.node;

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

/** Nanoseconds this thread has been on a CPU (Linux), else NaN. */
function threadCpuNs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

/** Main-thread CPU and event-loop-active µs per transaction of one round. */
async function timed(who: Subject, bodies: Buffer[]): Promise<{ cpu: number; elu: number }> {
  let next = 0;
  let admitted = 0;
  const refused = new Map<string, number>();
  const lane = async () => {
    while (next < bodies.length) {
      for (const a of await who.post(bodies[next++]!)) {
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

const perTx = subjects.map((): number[] => []);
const eluTx = subjects.map((): number[] => []);
// Everything signed up front (its garbage collected before the first round).
const rounds = Array.from({ length: ROUNDS + 1 }, round);
(globalThis as { gc?: () => void }).gc?.();

async function profiled<T>(on: boolean, f: () => Promise<T>): Promise<T> {
  if (!on) return f();
  const heap = process.env.ADMIT_BENCH_HEAP === '1';
  const session = new Session();
  session.connect();
  if (heap) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 256,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  } else {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }
  try {
    return await f();
  } finally {
    const { profile } = heap
      ? await session.post('HeapProfiler.stopSampling')
      : await session.post('Profiler.stop');
    writeFileSync(PROF!, JSON.stringify(profile));
    session.disconnect();
  }
}

try {
  // Round 0 warms up (JIT, workers started); not counted.
  for (let r = 0; r <= ROUNDS; r++) {
    // ABBA: each subject goes first in every other round.
    const order = r % 2 === 0 ? subjects : [...subjects].reverse();
    for (const who of order) {
      const k = subjects.indexOf(who);
      const { cpu, elu } = await profiled(!!PROF && r === ROUNDS && who === subjects.at(-1), () =>
        timed(who, rounds[r]!),
      );
      if (r > 0) perTx[k]!.push(Number.isNaN(cpu) ? elu : cpu);
      if (r > 0) eluTx[k]!.push(elu);
      console.log(
        `round ${r}${r === 0 ? ' (warm-up)' : ''} ${who.label}: ${cpu.toFixed(1)} µs/tx main-thread CPU, ${elu.toFixed(1)} µs/tx event loop active`,
      );
      // Blocks are bounded by bytes and cost: as many as it takes.
      for (let b = 0; who.node.mempoolSize > 0; b++) {
        if (b === 20) throw new Error(`mempool not emptied: ${who.node.mempoolSize}`);
        await who.node.produceBlock();
      }
      (globalThis as { gc?: () => void }).gc?.();
    }
    rounds[r] = [];
  }
} finally {
  for (const who of subjects) await who.close();
}
const what =
  `admission (${DIRECT ? 'direct: decodeTxBatch + submitBatch + JSON' : 'POST /v1/txs via inject'}), ` +
  `${BATCHES}×${PER} txs per round from ${ACCOUNTS} accounts, ${CONCURRENCY} batches outstanding`;
console.log(what);
subjects.forEach((who, k) => {
  const xs = perTx[k]!;
  console.log(
    `  ${who.label}: median ${median(xs).toFixed(1)} µs/tx main-thread CPU, min ${Math.min(...xs).toFixed(1)} ` +
      `(rounds ${xs.map((x) => x.toFixed(1)).join(' ')}), event loop active ${median(eluTx[k]!).toFixed(1)} µs/tx`,
  );
});
const m = median(perTx.at(-1)!);
let extra = '';
if (COMPARE) {
  const ratios = perTx[1]!.map((x, i) => x / perTx[0]![i]!);
  const before = median(perTx[0]!);
  extra = ` before_us_per_tx=${before.toFixed(1)} ratio=${median(ratios).toFixed(3)}`;
  console.log(
    `  this / compared, median of the per-round ratios: ${median(ratios).toFixed(3)} (${ratios.map((x) => x.toFixed(2)).join(' ')})`,
  );
}
console.log(
  `RESULT admission_main_us_per_tx=${m.toFixed(1)} mode=${DIRECT ? 'direct' : 'route'} rounds=${ROUNDS} txs_per_round=${BATCHES * PER}${extra}`,
);
process.exit(0);
