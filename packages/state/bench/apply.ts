/**
 * State-transition throughput: `npm run bench:state`.
 *
 * Builds a genesis (20 operators, 2 gateways, 2,000 subscribers), pre-signs a realistic stream of
 * ~20,000 transactions with libsodium (SDR issuance, offers published and replaced, requests opened
 * by home operators and co-signed by subscribers, charges, refunds, ratings, transfers), then applies
 * it in blocks of 2,000 through `BlockBuilder` (including `finish()`: commit + state root) on fresh
 * states from the same genesis:
 *   (a) without signature checks, (b) with libsodium verification inside apply (one thread),
 *   (c) the node's pipeline: a `VerifierPool` verifies the next block's signatures on worker threads
 *       while the main thread applies the current one through a `CachingVerifier` (cache hits); run
 *       with N = availableParallelism() workers and with N-1, verified_tps is the faster of the two,
 *   (d) the raw Ed25519 verification rate of this machine (one thread, and the pool) = the bound.
 * Every transaction must apply (receipts are counted) and the three runs must reach the same roots.
 */
import {
  blockId,
  bytesToHex,
  chainIdOf,
  contractIdOf,
  envelope,
  merkleRoot,
  type OfferTerms,
  type Operation,
  opHash,
  refPrefixOf,
  requiredSigners,
  type SignatureVerifier,
  type TxEnvelope,
  txId,
  UNIT,
  unsigned,
  useSha256,
} from '@roamchain/protocol';
import { sodiumSha256 } from '../../node/src/crypto/sodium.js';
import {
  CachingVerifier,
  measureVerifyBound,
  type SignedItem,
  sodiumKeyPair,
  sodiumSign,
  sodiumVerifier,
  VerifierPool,
} from '../../node/src/crypto/verifier.js';
import {
  type Account,
  BlockBuilder,
  buildGenesis,
  genesisState,
  K,
  type LedgerState,
  supplyReport,
} from '../src/index.js';

// The node runs the state machine with libsodium's SHA-256; so does this benchmark.
useSha256(sodiumSha256);

// ---------------------------------------------------------------------------------------------
// Shape of the run
const OPERATORS = 20;
const GATEWAYS = 2;
const SUBSCRIBERS = 2_000;
const OFFERS_PER_OPERATOR = 3;
const CONTRACTS = 3_500;
const TRANSFERS = 1_940;
const REPLACES = 240;
const ROUNDS = 10;
const BLOCK_TXS = 2_000;
const BLOCK_MS = 500n;
const GB = 1_000_000_000n;
const PRODUCER = 'node-1';

const log = (s = '') => process.stdout.write(`${s}\n`);
const since = (t: number) => (performance.now() - t) / 1000;
const pad = (s: string | number, n: number) => String(s).padStart(n);

// ---------------------------------------------------------------------------------------------
// Genesis
const tSetup = performance.now();
const opName = (i: number) => `op-${String(i).padStart(2, '0')}`;
const gwName = (i: number) => `gw-${i + 1}`;
const subName = (i: number) => `sub-${String(i).padStart(4, '0')}`;
const homeOf = (s: number) => opName(s % OPERATORS);
const umt: Record<string, bigint> = {};
const accounts: {
  name: string;
  roles?: ('operator' | 'gateway' | 'subscriber' | 'node_owner')[];
  homeOperator?: string;
}[] = [{ name: PRODUCER, roles: ['node_owner'] }];
for (let i = 0; i < OPERATORS; i++) {
  accounts.push({ name: opName(i), roles: ['operator'] });
  umt[opName(i)] = 100_000n * UNIT;
}
for (let i = 0; i < GATEWAYS; i++) {
  accounts.push({ name: gwName(i), roles: ['gateway'] });
  umt[gwName(i)] = 1_000n * UNIT;
}
for (let s = 0; s < SUBSCRIBERS; s++) {
  accounts.push({ name: subName(s), roles: ['subscriber'], homeOperator: homeOf(s) });
  umt[subName(s)] = 10n * UNIT;
}
const { genesis, keys } = buildGenesis({ accounts, umt, validators: [PRODUCER], seed: 'roamchain-bench' });
const chainId = chainIdOf(genesis);
const genesisTime = genesis.genesisTime;
const secret = new Map<string, Uint8Array>();
const publicKey = new Map<string, Uint8Array>();
for (const [n, k] of keys) {
  const kp = sodiumKeyPair(k.signing.secretKey);
  if (bytesToHex(kp.publicKey) !== bytesToHex(k.signing.publicKey))
    throw new Error(`sodium key of ${n} differs`);
  secret.set(n, kp.secretKey);
  publicKey.set(n, kp.publicKey);
}
const tGenesis = since(tSetup);

// ---------------------------------------------------------------------------------------------
// Pre-signed stream. Block b (1-based) holds stream[(b-1)*BLOCK_TXS, b*BLOCK_TXS) and has time
// genesisTime + b*BLOCK_MS, so each expiration is fixed at signing. TaPoS names block 0: the
// builder of block 1 stores its parent id (= the chain id) in slot 0, valid for taposWindow blocks.
const tSign = performance.now();
const refBlockPrefix = refPrefixOf(chainId);
const stream: TxEnvelope[] = [];
const mix = new Map<string, number>();
let signatures = 0;

function add(ops: Operation[]): Uint8Array {
  const block = Math.floor(stream.length / BLOCK_TXS) + 1;
  const time = genesisTime + BigInt(block) * BLOCK_MS;
  const u = unsigned({ chainId, refBlockNum: 0, refBlockPrefix, expiration: time + 600_000n, ops });
  const id = txId(u);
  const sigs = requiredSigners(ops).map((n) => sodiumSign(secret.get(n)!, id));
  signatures += sigs.length;
  const env = envelope({ ...u, signatures: sigs });
  stream.push(env);
  for (const op of ops) mix.set(op.type, (mix.get(op.type) ?? 0) + 1);
  return env.id;
}
/** Time of the block the next transaction will land in. */
const nextTime = () => genesisTime + BigInt(Math.floor(stream.length / BLOCK_TXS) + 1) * BLOCK_MS;

const COUNTRIES = ['DE', 'FR', 'ES', 'IT', 'NL', 'BE', 'AT', 'PL', 'PT', 'SE'];
function terms(op: number, k: number, version: number): OfferTerms {
  return {
    title: `${opName(op)} roaming ${k} v${version}`,
    kind: 'data',
    category: '',
    countries: [COUNTRIES[(op + k) % COUNTRIES.length]!],
    networks: [`${200 + op}-${String(k + 1).padStart(2, '0')}`],
    technologies: ['4G', '5G'],
    dataBytes: 5n * GB,
    voiceSeconds: 0n,
    smsCount: 0,
    durationSec: 7 * 86_400,
    price: BigInt(2 + ((op * 3 + k + version) % 9)) * UNIT,
    unitPrice: UNIT / 100n,
    unit: 'mb',
    activation: 'on_provision',
    validFrom: 0n,
    validUntil: genesisTime + 30n * 86_400_000n,
    capacity: 100_000,
    encryptionKey: keys.get(opName(op))!.encryption.publicKey,
  };
}

interface OfferSim {
  id: Uint8Array;
  op: number;
  k: number;
  version: Uint8Array;
  versions: number;
  price: bigint;
}
interface ContractSim {
  id: Uint8Array;
  head: Uint8Array;
  sub: string;
  assignee: string;
  price: bigint;
}

// 1. SDR for every subscriber (block 1), then the operators' offers.
for (let s = 0; s < SUBSCRIBERS; s++) {
  add([
    {
      type: 'sdr_issue',
      gateway: gwName(s % GATEWAYS),
      to: subName(s),
      amount: 1_000n * UNIT,
      paymentRef: `wire-${s}`,
    },
  ]);
}
const offers: OfferSim[] = [];
for (let op = 0; op < OPERATORS; op++) {
  for (let k = 0; k < OFFERS_PER_OPERATOR; k++) {
    const t = terms(op, k, 0);
    const id = opHash(add([{ type: 'offer_publish', operator: opName(op), terms: t }]), 0);
    offers.push({ id, op, k, version: id, versions: 0, price: t.price });
  }
}

// 2. Rounds: contracts opened in round r are charged in r+1 and r+2, refunded in r+3, half rated in
// r+4; offers are replaced and transfers made along the way. Each round's lists are interleaved.
const contracts: ContractSim[] = [];
const perRound = (total: number, r: number) =>
  Math.floor((total * (r + 1)) / ROUNDS) - Math.floor((total * r) / ROUNDS);
const range = (total: number, r: number) => {
  const from = Math.floor((total * r) / ROUNDS);
  return Array.from({ length: perRound(total, r) }, (_, i) => from + i);
};
const sealed = new Uint8Array(48).fill(0xce);
const payload = new Uint8Array(64).fill(0xab);

function openContract(j: number): void {
  const s = j % SUBSCRIBERS;
  const sub = subName(s);
  let o = offers[(j * 7) % offers.length]!;
  if (opName(o.op) === homeOf(s))
    o = offers[(((j * 7) % offers.length) + OFFERS_PER_OPERATOR) % offers.length]!;
  const ephemeralKey = new Uint8Array(32);
  new DataView(ephemeralKey.buffer).setUint32(0, j);
  const id = add([
    {
      type: 'request_open',
      issuer: homeOf(s),
      payer: sub,
      subscriber: sub,
      offer: o.id,
      prev: o.version,
      deposit: 2n * o.price,
      issuerFeeBps: 200,
      feeDeposit: 5_000n,
      ephemeralKey,
      payload,
      stepTimeoutSec: 3_600,
      lifetimeSec: 7 * 86_400,
    },
  ]);
  const cid = contractIdOf(chainId, ephemeralKey);
  contracts[j] = { id: cid, head: opHash(id, 0), sub, assignee: opName(o.op), price: o.price };
}

function charge(j: number, seq: number): void {
  const c = contracts[j]!;
  const record = {
    seq,
    usageType: 'data' as const,
    start: nextTime() - 60_000n,
    duration: 60,
    volumeUp: 1_000_000n,
    volumeDown: 50_000_000n,
    units: 50n,
    amount: c.price / 2n,
  };
  c.head = opHash(
    add([{ type: 'charge', assignee: c.assignee, contract: c.id, prev: c.head, record, sealed }]),
    0,
  );
}

function refund(j: number): void {
  const c = contracts[j]!;
  const by = j % 2 === 0 ? c.sub : c.assignee;
  c.head = opHash(
    add([
      {
        type: 'refund',
        by,
        contract: c.id,
        prev: c.head,
        badService: j % 10 === 0,
        reason: j % 10 === 0 ? 3 : 0,
      },
    ]),
    0,
  );
}

function rate(j: number): void {
  const c = contracts[j]!;
  add([{ type: 'rate', subscriber: c.sub, contract: c.id, score: 1 + (j % 5) }]);
}

function replaceOffer(i: number): void {
  const o = offers[(i * 11) % offers.length]!;
  o.versions++;
  const t = terms(o.op, o.k, o.versions);
  o.version = opHash(add([{ type: 'offer_replace', operator: opName(o.op), offer: o.id, terms: t }]), 0);
  o.price = t.price;
}

function transfer(i: number): void {
  const from = subName((i * 13) % SUBSCRIBERS);
  const to = subName((i * 13 + 1 + (i % 97)) % SUBSCRIBERS);
  add([{ type: 'transfer', from, to, token: 'SDR', amount: 100_000n + BigInt(i), memo: new Uint8Array() }]);
}

function interleave(lists: (() => void)[][]): void {
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) l[i]?.();
}

for (let r = 0; r < ROUNDS + 4; r++) {
  const main = r < ROUNDS;
  interleave([
    main ? range(REPLACES, r).map((i) => () => replaceOffer(i)) : [],
    r >= 3 && r - 3 < ROUNDS ? range(CONTRACTS, r - 3).map((j) => () => refund(j)) : [],
    r >= 2 && r - 2 < ROUNDS ? range(CONTRACTS, r - 2).map((j) => () => charge(j, 2)) : [],
    main ? range(CONTRACTS, r).map((j) => () => openContract(j)) : [],
    r >= 1 && r - 1 < ROUNDS ? range(CONTRACTS, r - 1).map((j) => () => charge(j, 1)) : [],
    main ? range(TRANSFERS, r).map((i) => () => transfer(i)) : [],
    r >= 4 && r - 4 < ROUNDS
      ? range(CONTRACTS, r - 4)
          .filter((j) => j % 2 === 0)
          .map((j) => () => rate(j))
      : [],
  ]);
}
const blocks: TxEnvelope[][] = [];
for (let i = 0; i < stream.length; i += BLOCK_TXS) blocks.push(stream.slice(i, i + BLOCK_TXS));
const tSigned = since(tSign);

// ---------------------------------------------------------------------------------------------
// Applying
interface RunResult {
  seconds: number;
  applySeconds: number;
  finishSeconds: number;
  receipts: number;
  changes: number;
  roots: string[];
  state: LedgerState;
}

type BeforeBlock = (b: number, state: LedgerState) => Promise<void> | void;

async function run(
  verifier: SignatureVerifier | null,
  hooks: { count?: number; beforeBlock?: BeforeBlock } = {},
): Promise<RunResult> {
  const { state } = genesisState(genesis);
  const n = hooks.count ?? blocks.length;
  let prev = chainId;
  let receipts = 0;
  let changes = 0;
  let applySeconds = 0;
  let finishSeconds = 0;
  const roots: string[] = [];
  const t0 = performance.now();
  for (let b = 0; b < n; b++) {
    await hooks.beforeBlock?.(b, state);
    const envs = blocks[b]!;
    const height = BigInt(b + 1);
    const time = genesisTime + height * BLOCK_MS;
    const ta = performance.now();
    const builder = new BlockBuilder(
      state,
      { height, time, prev, producer: PRODUCER, lastCommit: new Uint8Array(0) },
      { verifier },
    );
    for (let i = 0; i < envs.length; i++) {
      try {
        builder.apply(envs[i]!);
      } catch (e) {
        const op = envs[i]!.tx.ops[0]!.type;
        throw new Error(
          `block ${b + 1} tx ${i} (${op}) failed: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    const tf = performance.now();
    const result = builder.finish();
    const header = {
      version: 1,
      chainId,
      height,
      prev,
      time,
      producer: PRODUCER,
      txRoot: merkleRoot(envs.map((e) => e.id)),
      stateRoot: result.stateRoot,
      txCount: envs.length,
      lastCommitHash: new Uint8Array(32),
    };
    prev = blockId(header);
    finishSeconds += since(tf);
    applySeconds += (tf - ta) / 1000;
    receipts += result.receipts.length;
    changes += result.changes.length;
    roots.push(bytesToHex(result.stateRoot));
  }
  const seconds = since(t0);
  const expected = blocks.slice(0, n).reduce((s, bl) => s + bl.length, 0);
  if (receipts !== expected) throw new Error(`only ${receipts} of ${expected} transactions applied`);
  return { seconds, applySeconds, finishSeconds, receipts, changes, roots, state };
}

const sameRoots = (a: RunResult, b: RunResult, what: string) => {
  if (a.roots.join() !== b.roots.join()) throw new Error(`${what}: state roots differ from run (a)`);
};

/** Signature items of a block, keys read from the state as mempool admission would. */
function itemsOf(envs: readonly TxEnvelope[], state: LedgerState): SignedItem[] {
  const items: SignedItem[] = [];
  for (const env of envs) {
    const signers = requiredSigners(env.tx.ops);
    for (let i = 0; i < signers.length; i++) {
      const a = state.get<Account>(K.account(signers[i]!));
      if (!a) throw new Error(`unknown signer ${signers[i]}`);
      items.push({ publicKey: a.signingKey, message: env.id, signature: env.tx.signatures[i]! });
    }
  }
  return items;
}

// Warm-up (JIT), not measured.
await run(null, { count: 2 });

// (a) no signature checks
const a = await run(null);
const supply = supplyReport(a.state);
if (supply.problems.length > 0) throw new Error(`supply invariants: ${supply.problems.join('; ')}`);
// (b) libsodium inside apply, one thread
const bRun = await run(sodiumVerifier());
sameRoots(a, bRun, '(b)');

// (c) the node's pipeline: the pool verifies block b+1 (keys read from the state, as mempool
// admission does) while block b is applied with a CachingVerifier that only sees cache hits.
async function pipeline(
  pool: VerifierPool,
): Promise<{ r: RunResult; poolSeconds: number; cache: CachingVerifier }> {
  const cache = new CachingVerifier(sodiumVerifier(), 200_000);
  await pool.verifyBatch(itemsOf(blocks[0]!.slice(0, 64), a.state)); // start the workers (not measured)
  let poolSeconds = 0;
  const admitted = new Map<number, Promise<void>>();
  const admit = (b: number, state: LedgerState): Promise<void> => {
    const items = itemsOf(blocks[b]!, state);
    const t = performance.now();
    return pool.verifyBatch(items).then((ok) => {
      poolSeconds += since(t);
      for (let i = 0; i < items.length; i++) {
        if (!ok[i]) throw new Error(`block ${b + 1}: signature ${i} rejected by the pool`);
        const it = items[i]!;
        cache.remember(it.publicKey, it.message, it.signature);
      }
    });
  };
  const r = await run(cache, {
    beforeBlock: async (b, state) => {
      if (b === 0) admitted.set(0, admit(0, state));
      await admitted.get(b);
      admitted.delete(b);
      if (b + 1 < blocks.length) admitted.set(b + 1, admit(b + 1, state));
    },
  });
  sameRoots(a, r, `(c) with ${pool.size} workers`);
  if (cache.misses !== 0) throw new Error(`(c): ${cache.misses} signatures were verified again in apply`);
  return { r, poolSeconds, cache };
}
const pool = new VerifierPool();
const cFull = await pipeline(pool);
// With the main thread applying, one core fewer for the workers may do better: measure it too.
const smallPool = pool.size > 1 ? new VerifierPool({ size: pool.size - 1 }) : undefined;
const cSmall = smallPool ? await pipeline(smallPool) : undefined;
await smallPool?.close();
const cBest = cSmall && cSmall.r.seconds < cFull.r.seconds ? cSmall : cFull;
const cBestWorkers = cBest === cFull ? pool.size : pool.size - 1;

// (d) raw verification rate
const bound = await measureVerifyBound({ seconds: 2, pool });
await pool.close();

// ---------------------------------------------------------------------------------------------
// Report
const txs = stream.length;
const sigPerTx = signatures / txs;
const tps = (r: RunResult) => Math.round(txs / r.seconds);
const applyTps = tps(a);
const verifiedTps = tps(cBest.r);
const verifyBound = bound.pool ?? bound.single;

log(`roamchain state bench: ${OPERATORS} operators, ${GATEWAYS} gateways, ${SUBSCRIBERS} subscribers`);
log(
  `setup: genesis + keys ${tGenesis.toFixed(1)} s; pre-signed ${txs} txs (${signatures} signatures, ` +
    `${sigPerTx.toFixed(2)}/tx) in ${tSigned.toFixed(1)} s; ${blocks.length} blocks of <= ${BLOCK_TXS}`,
);
log(`mix: ${[...mix].map(([k, v]) => `${k} ${v}`).join(', ')}`);
log(`final state: ${a.state.size} entries, supply invariants hold`);
log();
log(
  '| run                                                             |    txs | seconds |   tx/s | apply s | finish s |',
);
log(
  '|-----------------------------------------------------------------|-------:|--------:|-------:|--------:|---------:|',
);
const row = (label: string, r: RunResult) =>
  log(
    `| ${label.padEnd(63)} | ${pad(r.receipts, 6)} | ${pad(r.seconds.toFixed(2), 7)} | ${pad(tps(r), 6)} | ` +
      `${pad(r.applySeconds.toFixed(2), 7)} | ${pad(r.finishSeconds.toFixed(2), 8)} |`,
  );
row('(a) apply, no signature checks (verifier: null)', a);
row('(b) apply, libsodium verify inside apply (1 thread)', bRun);
row(
  `(c) pool, ${pool.size} workers, verifies block b+1 while b applies${cBest === cFull ? ' *' : ''}`,
  cFull.r,
);
if (cSmall) {
  row(
    `(c) pool, ${pool.size - 1} worker(s), verifies block b+1 while b applies${cBest === cSmall ? ' *' : ''}`,
    cSmall.r,
  );
}
log();
log('| (d) raw Ed25519 verification (libsodium, pre-generated valid sigs) |  sig/s | = tx/s at this mix |');
log('|--------------------------------------------------------------------|-------:|-------------------:|');
log(
  `| 1 thread                                                           | ${pad(bound.single, 6)} | ${pad(Math.round(bound.single / sigPerTx), 18)} |`,
);
if (bound.pool !== undefined) {
  log(
    `| VerifierPool, ${bound.poolSize} workers  <- verify_bound                           | ${pad(bound.pool, 6)} | ` +
      `${pad(Math.round(bound.pool / sigPerTx), 18)} |`,
  );
}
log();
log(
  `(c) * = verified_tps (${cBestWorkers} worker(s)); pool busy ${cBest.poolSeconds.toFixed(2)} s (overlapped ` +
    `with apply), cache ${cBest.cache.hits} hits / ${cBest.cache.misses} misses in apply`,
);
log(
  `all runs reached the same state roots (last ${a.roots.at(-1)!.slice(0, 16)}…); ${(a.changes / blocks.length).toFixed(0)} state writes per block`,
);
log(
  'apply s = BlockBuilder.apply() of all txs; finish s = finish() (block-end work, commit, state root) + header id',
);
log(`RESULT apply_tps=${applyTps} verified_tps=${verifiedTps} verify_bound=${verifyBound}`);
