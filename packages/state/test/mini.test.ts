/**
 * Mini Nodes in the ledger state (docs/GOVERNANCE.md §8): the bond minimum, attachment and its
 * bound, unbonding released at the exact time, attestations checked against the kept roots, a
 * forged root slashed to the base unit, importance by the documented formula, and the 30 % fee
 * share split by importance among attesting Mini Nodes only (remainder rule to the base unit).
 */
import {
  bytesToHex,
  type MiniAttestation,
  miniAttestSignBytes,
  type Operation,
  type OpOf,
  RoamError,
  sha256,
  sign,
  UNIT,
  utf8,
} from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  buildGenesis,
  type Contract,
  DECAY_WEIGHTS,
  derivedKeys,
  freshEphemeralKey,
  importanceOf,
  K,
  type MiniActivity,
  type MiniNode,
  MK,
  miniOf,
  supplyReport,
  TestChain,
} from '../src/index.js';

const N = 4; // attestation interval
const EPOCH = 8;
const DELAY = 60_000n;
const FEE = 1_003n;
const MIN = 1_000n * UNIT;
const miniKey = (n: string) => derivedKeys(`${n}/mini`, 'mini-test').signing;
const hex = bytesToHex;

function chain() {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'sn-a' },
      { name: 'sn-b' },
      { name: 'mini-1' },
      { name: 'mini-2' },
      { name: 'mini-3' },
      { name: 'alice' },
    ],
    umt: { 'mini-1': 5_000n * UNIT, 'mini-2': 5_000n * UNIT, 'mini-3': 5_000n * UNIT, alice: 100n * UNIT },
    validators: ['sn-a', 'sn-b'],
    params: {
      epochLength: EPOCH,
      minValidatorBond: 10n * UNIT,
      unbondingDelayMs: DELAY,
      miniAttestInterval: N,
      miniRootsKept: 3,
      miniMaxMissedWindows: 2,
      maxMiniPerSuper: 2,
      ndfDailyPayout: 0n,
      fees: { ...buildGenesis({ accounts: [] }).genesis.params.fees, transfer: FEE },
    },
  });
  return new TestChain(genesis, keys, { producer: 'sn-a' });
}

function catchErr(f: () => unknown): RoamError {
  try {
    f();
  } catch (e) {
    if (e instanceof RoamError) return e;
    throw e;
  }
  throw new Error('expected a RoamError');
}
function rejects(c: TestChain, ops: Operation[], code: string, signers?: Record<string, Uint8Array>): void {
  const root = hex(c.state.root());
  const e = catchErr(() => c.submit(ops, signers ? { signers } : {}));
  expect(e.code, e.message).toBe(code);
  expect(hex(c.state.root())).toBe(root);
}
const bal = (c: TestChain, n: string) => c.state.get<bigint>(K.balance(n, 'UMT')) ?? 0n;
const bond = (owner: string, amount: bigint, superNode = 'sn-a'): OpOf<'mini_bond'> => ({
  type: 'mini_bond',
  owner,
  superNode,
  nodeKey: miniKey(owner).publicKey,
  amount,
});
const rootAt = (c: TestChain, h: bigint) => c.blocks[Number(h) - 1]!.block.header.stateRoot;
function attestation(c: TestChain, mini: string, height: bigint, root = rootAt(c, height)): MiniAttestation {
  const a = { mini, height, stateRoot: root };
  return { ...a, signature: sign(miniKey(mini).secretKey, miniAttestSignBytes(c.chainId, a)) };
}
const attest = (c: TestChain, ...as: MiniAttestation[]) =>
  c.submit([{ type: 'mini_attest', attestations: as }], { signers: {} });
const empty = (c: TestChain, n = 1) => {
  for (let i = 0; i < n; i++) c.block([]);
};

describe('Mini Node registration', () => {
  it('enforces the bond minimum, the Super Node, the key and the per-Super-Node bound', () => {
    const c = chain();
    rejects(c, [bond('mini-1', MIN - 1n)], 'MINI_BOND_LOW');
    rejects(c, [bond('mini-1', MIN, 'alice')], 'MINI_SUPER_INVALID');
    const before = bal(c, 'mini-1');
    const r = c.submit([bond('mini-1', MIN)]);
    expect(r.events.find((e) => e.type === 'mini_registered')).toMatchObject({
      account: 'mini-1',
      bond: MIN,
    });
    expect(bal(c, 'mini-1')).toBe(before - MIN - 1_000n);
    expect(miniOf(c.state, 'mini-1')).toMatchObject({
      status: 'active',
      bond: MIN,
      superNode: 'sn-a',
      importance: 1_000n,
    });
    // Another owner cannot take the same node key.
    rejects(c, [{ ...bond('mini-2', MIN), nodeKey: miniKey('mini-1').publicKey }], 'MINI_KEY_TAKEN');
    c.submit([bond('mini-2', MIN)]);
    rejects(c, [bond('mini-3', MIN)], 'MINI_SUPER_FULL');
    expect(c.state.get(MK.ofSuper('sn-a'))).toEqual(['mini-1', 'mini-2']);
    // A top-up keeps the Super Node; moving is mini_attach.
    rejects(c, [bond('mini-1', 1n, 'sn-b')], 'MINI_INVALID');
    c.submit([bond('mini-1', 5n)]);
    expect(miniOf(c.state, 'mini-1')!.bond).toBe(MIN + 5n);
    c.submit([{ type: 'mini_attach', owner: 'mini-1', superNode: 'sn-b' }]);
    expect(c.state.get(MK.ofSuper('sn-a'))).toEqual(['mini-2']);
    expect(c.state.get(MK.ofSuper('sn-b'))).toEqual(['mini-1']);
    c.submit([bond('mini-3', MIN)]);
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('unbonds after the delay, to the base unit; a partial unbond keeps the minimum', () => {
    const c = chain();
    c.submit([bond('mini-1', MIN + 10n)]);
    rejects(c, [{ type: 'mini_unbond', owner: 'mini-1', amount: 11n }], 'MINI_BOND_LOW');
    c.submit([{ type: 'mini_unbond', owner: 'mini-1', amount: 10n }]);
    const r = c.submit([{ type: 'mini_unbond', owner: 'mini-1', amount: MIN }]);
    const at = r.events.find((e) => e.type === 'mini_unbonding')!.releaseAt as bigint;
    expect(miniOf(c.state, 'mini-1')).toMatchObject({ status: 'exited', bond: 0n, unbonding: MIN + 10n });
    expect(c.state.get(MK.ofSuper('sn-a'))).toBeUndefined();
    expect(supplyReport(c.state).problems).toEqual([]);
    const free = bal(c, 'mini-1');
    c.block([], { time: at - 1n });
    expect(bal(c, 'mini-1')).toBe(free + 10n); // the first entry (released 1 block earlier) is back
    c.block([], { time: at });
    expect(bal(c, 'mini-1')).toBe(free + 10n + MIN);
    expect(miniOf(c.state, 'mini-1')!.unbonding).toBe(0n);
    expect(supplyReport(c.state).problems).toEqual([]);
    // An exited Mini Node registers again.
    c.submit([bond('mini-1', MIN)]);
    expect(miniOf(c.state, 'mini-1')!.status).toBe('active');
  });
});

describe('attestations and fraud', () => {
  it('records attestations of kept roots only', () => {
    const c = chain();
    c.submit([bond('mini-1', MIN), bond('mini-2', MIN)]);
    empty(c, 3); // height 4
    c.block([]); // height 5: the root of 4 is kept
    rejects(
      c,
      [{ type: 'mini_attest', attestations: [attestation(c, 'mini-1', 3n)] }],
      'MINI_ATTEST_INVALID',
      {},
    );
    const forged = attestation(c, 'mini-1', 4n, sha256(utf8('not the root')));
    rejects(c, [{ type: 'mini_attest', attestations: [forged] }], 'MINI_ATTEST_INVALID', {});
    const badSig = { ...attestation(c, 'mini-1', 4n), signature: attestation(c, 'mini-2', 4n).signature };
    rejects(c, [{ type: 'mini_attest', attestations: [badSig] }], 'MINI_ATTEST_INVALID', {});
    // Signed for another chain: the chain id is in the signed bytes.
    const body = { mini: 'mini-1', height: 4n, stateRoot: rootAt(c, 4n) };
    const otherChain = {
      ...body,
      signature: sign(miniKey('mini-1').secretKey, miniAttestSignBytes(sha256(utf8('another chain')), body)),
    };
    rejects(c, [{ type: 'mini_attest', attestations: [otherChain] }], 'MINI_ATTEST_INVALID', {});
    const r = attest(c, attestation(c, 'mini-1', 4n), attestation(c, 'mini-2', 4n));
    expect(r.fee).toBe(0n);
    expect(r.events.filter((e) => e.type === 'mini_attested')).toHaveLength(2);
    expect(miniOf(c.state, 'mini-1')).toMatchObject({ lastAttested: 4n, attestations: 1n });
    rejects(
      c,
      [{ type: 'mini_attest', attestations: [attestation(c, 'mini-1', 4n)] }],
      'MINI_ATTEST_DUPLICATE',
      {},
    );
    // Only the last miniRootsKept (3) attested heights are kept: 16 evicts 4.
    while (c.height < 17n) c.block([]);
    rejects(
      c,
      [{ type: 'mini_attest', attestations: [attestation(c, 'mini-1', 4n)] }],
      'MINI_ATTEST_INVALID',
      {},
    );
    expect(hex(c.state.get<{ root: Uint8Array }>(MK.root(1n))!.root)).toBe(hex(rootAt(c, 16n)));
    attest(c, attestation(c, 'mini-2', 12n));
  });

  it('slashes a Mini Node that signed a forged root: bond and unbonding to the community fund', () => {
    const c = chain();
    c.submit([bond('mini-1', MIN + 700n)]);
    c.submit([{ type: 'mini_unbond', owner: 'mini-1', amount: 300n }]);
    empty(c, 2); // height 4
    c.block([]);
    const honest = attestation(c, 'mini-1', 4n);
    rejects(c, [{ type: 'mini_fraud', attestation: honest }], 'MINI_FRAUD_INVALID', {});
    const forged = attestation(c, 'mini-1', 4n, sha256(utf8('forged')));
    const fund = bal(c, 'tcdf');
    const r = c.submit([{ type: 'mini_fraud', attestation: forged }], { signers: {} });
    expect(r.fee).toBe(0n);
    expect(r.events.find((e) => e.type === 'mini_slashed')).toMatchObject({
      account: 'mini-1',
      amount: MIN + 700n,
    });
    // The fund gets exactly the stake (this block's fee share comes on top: none, the tx is free).
    expect(bal(c, 'tcdf') - fund).toBe(MIN + 700n);
    expect(miniOf(c.state, 'mini-1')).toMatchObject({
      status: 'slashed',
      bond: 0n,
      unbonding: 0n,
      slashed: MIN + 700n,
    });
    expect(c.state.get(MK.ofSuper('sn-a'))).toBeUndefined();
    expect(supplyReport(c.state).problems).toEqual([]);
    rejects(c, [{ type: 'mini_fraud', attestation: forged }], 'MINI_STATUS', {});
    rejects(c, [bond('mini-1', MIN)], 'MINI_STATUS');
  });
});

describe('importance and the 30 % share', () => {
  it('follows the formula: bond, decayed SDR paid and transactions', () => {
    expect(DECAY_WEIGHTS.slice(0, 4)).toEqual([10_000n, 9_000n, 8_100n, 7_290n]);
    expect(DECAY_WEIGHTS[29]).toBe(466n);
    const act = { day: 10n, sdr: Array(30).fill(0n), txs: Array(30).fill(0) };
    act.sdr[0] = 5n * UNIT;
    act.txs[0] = 3;
    act.txs[29] = 100;
    // On day 10: 1,000 + 10 x 5 + 3 x 10 + floor(100 x 466 / 1,000) = 1,126.
    expect(importanceOf(MIN, act, 10n)).toBe(1_000n + 50n + 30n + 46n);
    // On day 12 the SDR weighs 8,100: floor(5 x 0.81 x 10) = 40; the tx 3 x 8.1 = 24; day 29 gone.
    expect(importanceOf(MIN, act, 12n)).toBe(1_000n + 40n + 24n);
    expect(importanceOf(MIN, act, 40n)).toBe(1_000n);
  });

  it('splits the share by importance among attesting Mini Nodes, to the base unit', () => {
    const c = chain();
    c.submit([bond('mini-1', MIN), bond('mini-2', 2_001n * UNIT)]);
    empty(c, 2); // height 4
    c.block([]);
    attest(c, attestation(c, 'mini-1', 4n), attestation(c, 'mini-2', 4n));
    // A transfer by alice (not a Mini Node owner): fee 1,003 -> 250 / 300 / 453.
    const a0 = bal(c, 'sn-a');
    const m1 = bal(c, 'mini-1');
    const m2 = bal(c, 'mini-2');
    const t0 = bal(c, 'tcdf');
    const res = c.block([
      c.tx([
        { type: 'transfer', from: 'alice', to: 'sn-b', token: 'UMT', amount: 1n, memo: new Uint8Array(0) },
      ]),
    ]);
    const paid = res.result.endEvents.find((e) => e.type === 'fees_paid')!;
    // 300 x 1,000 / 3,001 = 99, 300 x 2,001 / 3,001 = 200; the remainder 1 to m2 (most important).
    expect(bal(c, 'mini-1') - m1).toBe(99n);
    expect(bal(c, 'mini-2') - m2).toBe(201n);
    expect(bal(c, 'sn-a') - a0).toBe(453n);
    expect(bal(c, 'tcdf') - t0).toBe(250n);
    expect(paid).toMatchObject({ miniNodesTo: 'mini_nodes', toProducer: 453n });
    // Past K = 2 windows without attesting (height - 4 > 8) they earn nothing: all to the producer.
    while (c.height < 12n) c.block([]);
    const b0 = bal(c, 'sn-a');
    const n1 = bal(c, 'mini-1');
    c.block([
      c.tx([
        { type: 'transfer', from: 'alice', to: 'sn-b', token: 'UMT', amount: 1n, memo: new Uint8Array(0) },
      ]),
    ]);
    expect(bal(c, 'mini-1')).toBe(n1);
    expect(bal(c, 'sn-a') - b0).toBe(753n);
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it("counts an owner's transactions per day and recomputes importance at epoch ends", () => {
    const c = chain();
    c.submit([bond('mini-1', MIN)]); // height 1; this transaction counts (1)
    const tr = (amount: bigint) =>
      c.tx([
        { type: 'transfer', from: 'mini-1', to: 'alice', token: 'UMT', amount, memo: new Uint8Array(0) },
      ]);
    c.block([tr(1n), tr(2n)]);
    while (c.height < BigInt(EPOCH)) c.block([]);
    const m = c.state.get<MiniNode>(MK.node('mini-1'))!;
    // 1,000 bond points + 3 transactions today x 10 = 1,030.
    expect(m.importance).toBe(1_030n);
    expect(m.importanceAt).toBe(c.time);
    // A day counts at most 10 transactions (self-dealing buys little): 12 more make it 10.
    c.block(Array.from({ length: 12 }, (_, i) => tr(BigInt(i + 10))));
    expect(c.state.get<MiniActivity>(MK.activity('mini-1'))!.txs[0]).toBe(10);
  });
});

describe('SDR consumption', () => {
  it('counts the SDR an owner pays under a settled contract into its importance', () => {
    const { genesis, keys } = buildGenesis({
      accounts: [
        { name: 'op-de', roles: ['operator'] },
        { name: 'op-fr', roles: ['operator'] },
        { name: 'gateway', roles: ['gateway'] },
        { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
        { name: 'node-1', roles: ['node_owner'] },
      ],
      umt: { 'op-de': 1000n * UNIT, 'op-fr': 1000n * UNIT, gateway: 100n * UNIT, alice: 1_100n * UNIT },
      params: { epochLength: 16 },
    });
    const c = new TestChain(genesis, keys);
    c.submit([
      {
        type: 'mini_bond',
        owner: 'alice',
        superNode: 'node-1',
        nodeKey: miniKey('alice').publicKey,
        amount: MIN,
      },
    ]);
    c.submit([
      { type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 50n * UNIT, paymentRef: 'wire-0001' },
    ]);
    const r1 = c.submit([
      {
        type: 'offer_publish',
        operator: 'op-de',
        terms: {
          title: 'DE 5 GB',
          kind: 'data',
          category: '',
          countries: ['DE'],
          networks: [],
          technologies: [],
          dataBytes: 5_000_000_000n,
          voiceSeconds: 0n,
          smsCount: 0,
          durationSec: 86400,
          price: 10n * UNIT,
          unitPrice: 0n,
          unit: 'mb',
          activation: 'on_provision',
          validFrom: 0n,
          validUntil: c.time + 86_400_000n,
          capacity: 10,
          encryptionKey: c.keys.get('op-de')!.encryption.publicKey,
        },
      },
    ]);
    const offer = Uint8Array.from(Buffer.from(r1.events[0]!.offer as string, 'hex'));
    const r2 = c.submit([
      {
        type: 'request_open',
        issuer: 'op-fr',
        payer: 'alice',
        subscriber: 'alice',
        offer,
        prev: offer,
        deposit: 20n * UNIT,
        issuerFeeBps: 200,
        feeDeposit: UNIT,
        ephemeralKey: freshEphemeralKey(),
        payload: new Uint8Array([1]),
        stepTimeoutSec: 3600,
        lifetimeSec: 86400,
      },
    ]);
    const cid = r2.events[0]!.contract as string;
    const contract = () => c.state.get<Contract>(K.contract(cid))!;
    c.submit([
      {
        type: 'charge',
        assignee: 'op-de',
        contract: contract().id,
        prev: contract().head,
        record: {
          seq: 1,
          usageType: 'package',
          start: c.time,
          duration: 0,
          volumeUp: 0n,
          volumeDown: 0n,
          units: 1n,
          amount: 10n * UNIT,
        },
        sealed: new Uint8Array(),
      },
    ]);
    c.submit([
      {
        type: 'refund',
        by: 'alice',
        contract: contract().id,
        prev: contract().head,
        badService: false,
        reason: 0,
      },
    ]);
    const act = c.state.get<MiniActivity>(MK.activity('alice'))!;
    // 10 SDR charged + 2 % issuer fee: 10.2 SDR paid.
    expect(act.sdr[0]).toBe(10_200_000n);
    const txs = BigInt(act.txs[0]!);
    expect(txs).toBeGreaterThanOrEqual(3n); // bond, request, refund (at least)
    while (c.height % 16n !== 0n) c.block([]);
    // 1,000 bond points + 102 for 10.2 SDR + 10 per transaction (all today).
    expect(miniOf(c.state, 'alice')!.importance).toBe(1_000n + 102n + 10n * txs);
  });
});
