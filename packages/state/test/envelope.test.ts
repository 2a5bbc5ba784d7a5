/**
 * The transaction envelope: chain, expiration, TaPoS, replay, signatures, and fees (SPEC §2).
 */
import {
  bytesToHex,
  defaultParams,
  type ErrorCode,
  envelope,
  type Genesis,
  hexToBytes,
  type Operation,
  type OpName,
  opFeePayer,
  RoamError,
  refPrefixOf,
  type SignedTx,
  sign,
  signTx,
  type Token,
  type TxEnvelope,
  UNIT,
} from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import { type AccountKeys, buildGenesis, type Contract, K, supplyReport, TestChain } from '../src/index.js';
import { freshEphemeralKey } from '../src/testkit.js';

const GB = 1_000_000_000n;
/** The operations of SPEC §2–§3 (later issues add more; each brings its own fee test). */
const CORE_OPS: OpName[] = [
  'transfer',
  'account_create',
  'account_update_keys',
  'sdr_issue',
  'sdr_burn',
  'offer_publish',
  'offer_replace',
  'offer_withdraw',
  'request_open',
  'charge',
  'refund',
  'rate',
  'demand_post',
  'demand_cancel',
];
const DAY = 86_400_000n;
const EMPTY = new Uint8Array();
const hex = bytesToHex;

function catchErr(f: () => unknown): RoamError {
  try {
    f();
  } catch (e) {
    if (e instanceof RoamError) return e;
    throw e;
  }
  throw new Error('expected a RoamError, got success');
}

function world(tweak: (g: Genesis) => void = () => {}, chainName?: string): TestChain {
  const { genesis, keys } = buildGenesis({
    ...(chainName !== undefined ? { chainName } : {}),
    accounts: [
      { name: 'op-de', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'gateway', roles: ['gateway'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'bob', roles: ['subscriber'], homeOperator: 'op-de' },
      { name: 'carol' },
      { name: 'node-1', roles: ['node_owner'] },
    ],
    umt: {
      'op-de': 1000n * UNIT,
      'op-fr': 1000n * UNIT,
      gateway: 100n * UNIT,
      alice: 10n * UNIT,
      carol: 10n * UNIT,
    },
  });
  tweak(genesis);
  return new TestChain(genesis, keys);
}

const transfer = (from: string, to: string, amount: bigint, token: Token = 'UMT'): Operation => ({
  type: 'transfer',
  from,
  to,
  token,
  amount,
  memo: EMPTY,
});

const bal = (c: TestChain, n: string, t: Token = 'UMT'): bigint => c.state.get<bigint>(K.balance(n, t)) ?? 0n;

/** The block fails with `code` and the state root is untouched. */
function rejectsBlock(c: TestChain, envs: TxEnvelope[], code: ErrorCode, time?: bigint): RoamError {
  const root = hex(c.state.root());
  const height = c.height;
  const e = catchErr(() => c.block(envs, time !== undefined ? { time } : {}));
  expect(e.code, e.message).toBe(code);
  expect(hex(c.state.root())).toBe(root);
  expect(c.height).toBe(height);
  return e;
}

function keysOf(c: TestChain, ...names: string[]): Record<string, Uint8Array> {
  return Object.fromEntries(names.map((n) => [n, (c.keys.get(n) as AccountKeys).signing.secretKey]));
}

/** A signed envelope with explicit TaPoS fields. */
function taposTx(c: TestChain, refBlockNum: number, refBlockPrefix: number, ops: Operation[]): TxEnvelope {
  const tx = signTx(
    { chainId: c.chainId, refBlockNum, refBlockPrefix, expiration: c.time + 60_000n, ops },
    keysOf(c, 'carol'),
  );
  return envelope(tx);
}

describe('replay and chain binding', () => {
  it('an included transaction again is TX_DUPLICATE (next block, same block)', () => {
    const c = world();
    const env = c.tx([transfer('carol', 'bob', 1n)]);
    c.block([env]);
    rejectsBlock(c, [env], 'TX_DUPLICATE');
    const env2 = c.tx([transfer('carol', 'bob', 2n)]);
    rejectsBlock(c, [env2, env2], 'TX_DUPLICATE');
    expect(c.state.recentTxs.has(env2.idHex)).toBe(false);
    c.block([env2]);
    expect(bal(c, 'bob')).toBe(3n);
  });

  it("another chain's transaction is TX_WRONG_CHAIN", () => {
    const a = world();
    const b = world(() => {}, 'roamchain-other');
    expect(hex(a.chainId)).not.toBe(hex(b.chainId));
    rejectsBlock(a, [b.tx([transfer('carol', 'bob', 1n)])], 'TX_WRONG_CHAIN');
    rejectsBlock(a, [a.tx([transfer('carol', 'bob', 1n)], { chainId: b.chainId })], 'TX_WRONG_CHAIN');
    // Same keys, same accounts: only the chain id differs.
    a.block([a.tx([transfer('carol', 'bob', 1n)])]);
  });

  it('expiration at or before the block time is TX_EXPIRED; one ms later is fine', () => {
    const c = world();
    const next = c.time + c.blockMs;
    rejectsBlock(c, [c.tx([transfer('carol', 'bob', 1n)], { expiration: next })], 'TX_EXPIRED');
    rejectsBlock(c, [c.tx([transfer('carol', 'bob', 1n)], { expiration: c.time })], 'TX_EXPIRED');
    c.block([c.tx([transfer('carol', 'bob', 1n)], { expiration: next + 1n })]);
    // A valid transaction held back until after its expiration.
    const late = c.tx([transfer('carol', 'bob', 2n)], { expiration: c.time + 10_000n });
    rejectsBlock(c, [late], 'TX_EXPIRED', c.time + 10_000n);
  });

  it('expiration beyond one hour is TX_EXPIRATION_TOO_FAR; exactly one hour is fine', () => {
    const c = world();
    const next = c.time + c.blockMs;
    const hour = BigInt(defaultParams().maxTxExpirationMs);
    rejectsBlock(
      c,
      [c.tx([transfer('carol', 'bob', 1n)], { expiration: next + hour + 1n })],
      'TX_EXPIRATION_TOO_FAR',
    );
    c.block([c.tx([transfer('carol', 'bob', 1n)], { expiration: next + hour })]);
  });

  it('after its expiration a replayed transaction is TX_EXPIRED and its dedupe entry is pruned', () => {
    const c = world();
    const env = c.tx([transfer('carol', 'bob', 1n)], { expiration: c.time + 2_300n });
    c.block([env]);
    const exp = env.tx.expiration;
    expect(c.state.recentTxs.has(env.idHex)).toBe(true);
    // Replay protection lives outside the Merkle state (no entry per transaction in the trie).
    expect([...c.state.entries('tx/')]).toEqual([]);
    // Up to its expiration a replay is a duplicate.
    rejectsBlock(c, [env], 'TX_DUPLICATE');
    c.block([], { time: exp - 1n });
    expect(c.state.recentTxs.has(env.idHex)).toBe(true);
    rejectsBlock(c, [env], 'TX_EXPIRED', exp);
    // The first block at its expiration forgets it (found through its expiration-second bucket).
    c.block([], { time: exp });
    expect(c.state.recentTxs.has(env.idHex)).toBe(false);
    expect(c.state.recentTxs.size).toBe(0);
    rejectsBlock(c, [env], 'TX_EXPIRED');
    // A long time later, still no way back in.
    c.block([], { time: c.time + 3_600_000n });
    rejectsBlock(c, [env], 'TX_EXPIRED');
    expect(bal(c, 'bob')).toBe(1n);
    expect([...c.state.entries('tx/')]).toEqual([]);
  });
});

describe('TaPoS', () => {
  it('a reference to a future or the current block, or with a wrong prefix, is TX_TAPOS_INVALID', () => {
    const c = world();
    c.block([]);
    c.block([]);
    const h = Number(c.height);
    const prefix = refPrefixOf(c.headId);
    // The head is referenceable; the block being built and later ones are not.
    rejectsBlock(c, [taposTx(c, h + 1, prefix, [transfer('carol', 'bob', 1n)])], 'TX_TAPOS_INVALID');
    rejectsBlock(c, [taposTx(c, h + 5, prefix, [transfer('carol', 'bob', 1n)])], 'TX_TAPOS_INVALID');
    rejectsBlock(c, [taposTx(c, h, (prefix + 1) >>> 0, [transfer('carol', 'bob', 1n)])], 'TX_TAPOS_INVALID');
    // Height 0's "id" is the chain id; a wrong prefix for it fails, the right one works.
    rejectsBlock(
      c,
      [taposTx(c, 0, refPrefixOf(c.headId), [transfer('carol', 'bob', 1n)])],
      'TX_TAPOS_INVALID',
    );
    c.block([taposTx(c, 0, refPrefixOf(c.chainId), [transfer('carol', 'bob', 1n)])]);
    c.block([taposTx(c, h, prefix, [transfer('carol', 'bob', 1n)])]);
    expect(bal(c, 'bob')).toBe(2n);
  });

  it('a block older than the TaPoS window is TX_TAPOS_INVALID', () => {
    const c = world((g) => {
      g.params.taposWindow = 4;
    });
    const ids: Uint8Array[] = [c.chainId];
    for (let i = 0; i < 8; i++) {
      c.block([]);
      ids.push(c.headId);
    }
    const next = Number(c.height) + 1; // height of the block being built
    const oldest = next - 4;
    rejectsBlock(
      c,
      [taposTx(c, oldest - 1, refPrefixOf(ids[oldest - 1]!), [transfer('carol', 'bob', 1n)])],
      'TX_TAPOS_INVALID',
    );
    c.block([taposTx(c, oldest, refPrefixOf(ids[oldest]!), [transfer('carol', 'bob', 1n)])]);
    expect(bal(c, 'bob')).toBe(1n);
  });
});

describe('signatures', () => {
  const withSigs = (env: TxEnvelope, signatures: Uint8Array[]): TxEnvelope =>
    envelope({ ...env.tx, signatures });

  it('a missing signature is SIG_MISSING, an extra one SIG_EXTRA', () => {
    const c = world();
    const env = c.tx([transfer('carol', 'bob', 1n)]);
    rejectsBlock(c, [withSigs(env, [])], 'SIG_MISSING');
    rejectsBlock(c, [withSigs(env, [env.tx.signatures[0]!, env.tx.signatures[0]!])], 'SIG_EXTRA');
    // request_open with a payer other than the issuer needs both.
    const req: Operation = {
      type: 'request_open',
      issuer: 'op-fr',
      payer: 'alice',
      subscriber: 'alice',
      offer: new Uint8Array(32),
      prev: new Uint8Array(32),
      deposit: UNIT,
      issuerFeeBps: 0,
      feeDeposit: 0n,
      ephemeralKey: freshEphemeralKey(),
      payload: EMPTY,
      stepTimeoutSec: 60,
      lifetimeSec: 300,
    };
    const r = c.tx([req]);
    expect(r.tx.signatures).toHaveLength(2);
    rejectsBlock(c, [withSigs(r, [r.tx.signatures[0]!])], 'SIG_MISSING');
    c.block([env]);
  });

  it('a wrong signature is SIG_INVALID: wrong key, wrong message, swapped order, flipped bit', () => {
    const c = world();
    const env = c.tx([transfer('carol', 'bob', 1n)]);
    const bobKey = c.keys.get('bob')!.signing.secretKey;
    const carolKey = c.keys.get('carol')!.signing.secretKey;
    rejectsBlock(c, [c.tx([transfer('carol', 'bob', 1n)], { signers: { carol: bobKey } })], 'SIG_INVALID');
    rejectsBlock(c, [withSigs(env, [sign(carolKey, new Uint8Array(32))])], 'SIG_INVALID');
    const flipped = Uint8Array.from(env.tx.signatures[0]!);
    flipped[10]! ^= 1;
    rejectsBlock(c, [withSigs(env, [flipped])], 'SIG_INVALID');
    // Two signers (alice, bob) in the wrong order.
    const two = c.tx([transfer('alice', 'carol', 1n), transfer('op-de', 'carol', 1n)]);
    const [s0, s1] = two.tx.signatures as [Uint8Array, Uint8Array];
    const e = rejectsBlock(c, [withSigs(two, [s1, s0])], 'SIG_INVALID');
    expect(e.details).toEqual({ signer: 'alice' });
    c.block([env, two]);
    expect(bal(c, 'carol')).toBe(10n * UNIT - 1000n - 1n + 2n);
  });

  it('an unknown signer is ACCOUNT_UNKNOWN', () => {
    const c = world();
    const ghost = new Uint8Array(32).fill(42);
    const e = rejectsBlock(
      c,
      [c.tx([transfer('ghost', 'bob', 1n)], { signers: { ghost } })],
      'ACCOUNT_UNKNOWN',
    );
    expect(e.details).toEqual({ account: 'ghost' });
  });

  it('a stateless-invalid operation inside a valid envelope is rejected before anything else', () => {
    const c = world();
    rejectsBlock(c, [c.tx([transfer('carol', 'bob', 0n)])], 'AMOUNT_INVALID');
    const tx: SignedTx = { ...c.tx([transfer('carol', 'bob', 1n)]).tx, version: 2 };
    rejectsBlock(c, [envelope(tx)], 'CODEC_VERSION');
  });
});

describe('fees', () => {
  /** A fee schedule where every operation costs something different (1000 + tag-ish index). */
  function feeWorld(): TestChain {
    return world((g) => {
      CORE_OPS.forEach((n, i) => {
        g.params.fees[n] = 1001n + BigInt(i) * 10n;
      });
    });
  }

  it('each operation pays params.fees[op] in UMT from its fee payer', () => {
    const c = feeWorld();
    const fees = c.genesis.params.fees;
    const seen = new Set<OpName>();
    const payerBal = (op: Operation): bigint => {
      const p = opFeePayer(op);
      if ('account' in p) return bal(c, p.account);
      if ('none' in p) return 0n;
      return c.state.get<Contract>(K.contract(hex(p.contract)))!.feeDeposit;
    };
    /** Submit and check the fee; `moves` is what the op itself moves out of the payer's UMT. */
    const run = (op: Operation, moves = 0n) => {
      const before = payerBal(op);
      const r = c.submit([op]);
      expect(r.fee, op.type).toBe(fees[op.type]);
      if ('account' in opFeePayer(op))
        expect(before - bal(c, (opFeePayer(op) as { account: string }).account)).toBe(fees[op.type] + moves);
      else if (op.type === 'charge') expect(before - payerBal(op)).toBe(fees[op.type]);
      seen.add(op.type);
      return r;
    };
    run(transfer('carol', 'bob', 5n), 5n);
    run({
      type: 'account_create',
      creator: 'op-de',
      name: 'dave',
      signingKey: new Uint8Array(32).fill(1),
      encryptionKey: new Uint8Array(32).fill(2),
    });
    run({ type: 'account_update_keys', account: 'carol', encryptionKey: new Uint8Array(32).fill(3) });
    run({ type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 50n * UNIT, paymentRef: 'p-1' });
    run({ type: 'sdr_issue', gateway: 'gateway', to: 'gateway', amount: UNIT, paymentRef: 'p-2' });
    run({ type: 'sdr_burn', gateway: 'gateway', amount: UNIT, redemptionRef: 'r-1' });
    const terms = {
      title: 'DE',
      kind: 'data' as const,
      category: '',
      countries: ['DE'],
      networks: [],
      technologies: [],
      dataBytes: GB,
      voiceSeconds: 0n,
      smsCount: 0,
      durationSec: 86_400,
      price: UNIT,
      unitPrice: 0n,
      unit: 'mb' as const,
      activation: 'on_provision' as const,
      validFrom: 0n,
      validUntil: c.time + DAY,
      capacity: 5,
      encryptionKey: new Uint8Array(32),
    };
    const offer = hexToBytes(
      run({ type: 'offer_publish', operator: 'op-de', terms }).events[0]!.offer as string,
    );
    run({ type: 'offer_replace', operator: 'op-de', offer, terms: { ...terms, price: 2n * UNIT } });
    const offer2 = hexToBytes(
      run({ type: 'offer_publish', operator: 'op-de', terms }).events[0]!.offer as string,
    );
    run({ type: 'offer_withdraw', operator: 'op-de', offer: offer2 });
    const version = c.state.get<{ version: Uint8Array }>(K.offer(hex(offer)))!.version;
    const feeDeposit = 100_000n;
    const r = run(
      {
        type: 'request_open',
        issuer: 'op-fr',
        payer: 'alice',
        subscriber: 'alice',
        offer,
        prev: version,
        deposit: 3n * UNIT,
        issuerFeeBps: 0,
        feeDeposit,
        ephemeralKey: freshEphemeralKey(),
        payload: EMPTY,
        stepTimeoutSec: 600,
        lifetimeSec: 3600,
      },
      feeDeposit,
    );
    const cid = hexToBytes(r.events[0]!.contract as string);
    const ct = () => c.state.get<Contract>(K.contract(hex(cid)))!;
    const record = {
      seq: 1,
      usageType: 'data' as const,
      start: 0n,
      duration: 0,
      volumeUp: 0n,
      volumeDown: 0n,
      units: 0n,
      amount: UNIT,
    };
    const opDe0 = bal(c, 'op-de');
    run({ type: 'charge', assignee: 'op-de', contract: cid, prev: ct().head, record, sealed: EMPTY });
    expect(bal(c, 'op-de')).toBe(opDe0);
    const fr0 = bal(c, 'op-fr');
    const left = ct().feeDeposit;
    const rr = c.submit([
      { type: 'refund', by: 'alice', contract: cid, prev: ct().head, badService: false, reason: 0 },
    ]);
    expect(rr.fee).toBe(fees.refund);
    expect(ct().feeReturned).toBe(left - fees.refund);
    expect(bal(c, 'op-fr') - fr0).toBe(left - fees.refund);
    seen.add('refund');
    run({ type: 'rate', subscriber: 'alice', contract: cid, score: 5 });
    const dem = run({
      type: 'demand_post',
      subscriber: 'alice',
      kind: 'data',
      countries: ['FR'],
      networks: [],
      dataBytes: GB,
      startAt: 0n,
      endAt: c.time + DAY,
      maxPrice: UNIT,
      note: '',
    });
    run({ type: 'demand_cancel', subscriber: 'alice', demand: hexToBytes(dem.events[0]!.demand as string) });
    expect([...seen].sort()).toEqual([...CORE_OPS].sort());
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it("a block's fees go 25 % to the community fund and 75 % to the producer, exact base units", () => {
    const c = feeWorld();
    const fees = c.genesis.params.fees;
    expect(c.producer).toBe('node-1');
    const tcdf0 = bal(c, 'tcdf');
    const node0 = bal(c, 'node-1');
    const de0 = bal(c, 'op-de');
    const carol0 = bal(c, 'carol');
    const envs = [
      c.tx([transfer('op-de', 'bob', 7n)]),
      c.tx([transfer('carol', 'bob', 1n), transfer('carol', 'alice', 1n)]),
      c.tx([{ type: 'account_update_keys', account: 'op-de', encryptionKey: new Uint8Array(32).fill(9) }]),
    ];
    const { result } = c.block(envs);
    const total = 3n * fees.transfer + fees.account_update_keys;
    expect(total).toBe(3n * 1001n + 1021n);
    const community = (total * 2500n) / 10_000n;
    expect(community).toBe(1006n); // 4024 / 4, floor
    expect(bal(c, 'tcdf') - tcdf0).toBe(community);
    expect(bal(c, 'node-1') - node0).toBe(total - community);
    expect(de0 - bal(c, 'op-de')).toBe(7n + fees.transfer + fees.account_update_keys);
    expect(carol0 - bal(c, 'carol')).toBe(2n + 2n * fees.transfer);
    expect(result.receipts.map((r) => r.fee)).toEqual([
      fees.transfer,
      2n * fees.transfer,
      fees.account_update_keys,
    ]);
    expect(result.endEvents.find((e) => e.type === 'fees_paid')).toMatchObject({
      type: 'fees_paid',
      total,
      community,
      producer: 'node-1',
      toProducer: total - community,
    });
    // A block without transactions pays nobody.
    const t1 = bal(c, 'tcdf');
    const { result: empty } = c.block([]);
    expect(empty.endEvents).toEqual([]);
    expect(bal(c, 'tcdf')).toBe(t1);
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('with the default schedule: 1 milli-UMT transfer fee split 250 / 750', () => {
    const c = world();
    const tcdf0 = bal(c, 'tcdf');
    const node0 = bal(c, 'node-1');
    c.submit([transfer('carol', 'bob', 1n)]);
    expect(bal(c, 'tcdf') - tcdf0).toBe(250n);
    expect(bal(c, 'node-1') - node0).toBe(750n);
  });

  it('a fee the payer cannot afford is BALANCE_LOW and changes nothing', () => {
    const c = world();
    rejectsBlock(c, [c.tx([transfer('bob', 'carol', 1n, 'SDR')])], 'BALANCE_LOW');
    // bob has SDR but no UMT for the fee.
    c.submit([{ type: 'sdr_issue', gateway: 'gateway', to: 'bob', amount: UNIT, paymentRef: 'x' }]);
    expect(bal(c, 'bob')).toBe(0n);
    const e = rejectsBlock(c, [c.tx([transfer('bob', 'carol', 1n, 'SDR')])], 'BALANCE_LOW');
    expect(e.details).toMatchObject({ account: 'bob', token: 'UMT' });
  });
});
