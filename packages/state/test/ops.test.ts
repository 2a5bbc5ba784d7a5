/**
 * Every operation of packages/protocol/src/ops.ts: the valid case with its exact effect, and each
 * invalid case by error code. Every rejection is checked twice: `submit` throws the code and the
 * state root, height and block list are unchanged; and a replica fed a block that holds a valid
 * transaction followed by the invalid one rejects the whole block (BLOCK_INVALID naming the code)
 * and keeps its root.
 */
import {
  type Block,
  type BlockHeader,
  blockId,
  bytesToHex,
  contractIdOf,
  defaultParams,
  type ErrorCode,
  hexToBytes,
  MAX_AMOUNT,
  merkleRoot,
  nobleVerifier,
  type OfferTerms,
  type Operation,
  type OpOf,
  opHash,
  RoamError,
  type Token,
  type TxEnvelope,
  UNIT,
  utf8,
} from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  type Account,
  applyBlock,
  bucketOf,
  buildGenesis,
  type Contract,
  type Demand,
  derivedKeys,
  EXPIRY_QUEUE,
  genesisState,
  K,
  type LedgerState,
  type Offer,
  type OperatorStats,
  type Supply,
  supplyReport,
  TestChain,
  type TxReceipt,
} from '../src/index.js';
import { freshEphemeralKey } from '../src/testkit.js';

const GB = 1_000_000_000n;
const DAY = 86_400_000n;
const FEES = defaultParams().fees;
const hex = bytesToHex;
const EMPTY = new Uint8Array();

function catchErr(f: () => unknown): RoamError {
  try {
    f();
  } catch (e) {
    if (e instanceof RoamError) return e;
    throw e;
  }
  throw new Error('expected a RoamError, got success');
}

function rawBlock(c: TestChain, envs: TxEnvelope[], time: bigint): Block {
  const header: BlockHeader = {
    version: 1,
    chainId: c.chainId,
    height: c.height + 1n,
    prev: c.headId,
    time,
    producer: c.producer,
    txRoot: merkleRoot(envs.map((e) => e.id)),
    stateRoot: new Uint8Array(32),
    txCount: envs.length,
    lastCommitHash: new Uint8Array(32),
  };
  return { header, txs: envs.map((e) => e.tx), signature: new Uint8Array(64), lastCommit: new Uint8Array(0) };
}

type SubmitOpts = { time?: bigint; signers?: Record<string, Uint8Array> };

class Harness {
  readonly c: TestChain;
  readonly replica: LedgerState;
  private replicaHead: Uint8Array;
  private synced = 0;
  private fillers = 0;

  /** `verify`: the chain checks signatures (key rotation tests); elsewhere only the replica's rejection check does. */
  constructor(verify = false) {
    const { genesis, keys } = buildGenesis({
      accounts: [
        { name: 'op-de', roles: ['operator'] },
        { name: 'op-fr', roles: ['operator'] },
        { name: 'gateway', roles: ['gateway'] },
        { name: 'gateway-2', roles: ['gateway'] },
        { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
        { name: 'bob', roles: ['subscriber'], homeOperator: 'op-de' },
        { name: 'carol' },
        { name: 'node-1', roles: ['node_owner'] },
      ],
      umt: {
        'op-de': 1000n * UNIT,
        'op-fr': 1000n * UNIT,
        gateway: 100n * UNIT,
        'gateway-2': 100n * UNIT,
        alice: 10n * UNIT,
        bob: 10n * UNIT,
        carol: 10n * UNIT,
      },
    });
    this.c = new TestChain(genesis, keys, verify ? {} : { verifier: null });
    const g = genesisState(genesis);
    this.replica = g.state;
    this.replicaHead = g.chainId;
  }

  bal(name: string, token: Token): bigint {
    return this.c.state.get<bigint>(K.balance(name, token)) ?? 0n;
  }
  get time(): bigint {
    return this.c.time;
  }
  root(): string {
    return hex(this.c.state.root());
  }

  ok(ops: Operation[], opts: SubmitOpts = {}): TxReceipt {
    const r = this.c.submit(ops, opts);
    expect(supplyReport(this.c.state).problems).toEqual([]);
    return r;
  }

  /** Bring the replica up to the chain's head by applyBlock. */
  sync(): void {
    for (; this.synced < this.c.blocks.length; this.synced++) {
      const { block, envelopes } = this.c.blocks[this.synced]!;
      applyBlock(this.replica, block, envelopes, this.replicaHead, { verifier: null });
      this.replicaHead = blockId(block.header);
    }
    expect(hex(this.replica.root())).toBe(this.root());
  }

  rejects(ops: Operation[], code: ErrorCode, opts: SubmitOpts = {}): RoamError {
    const { c } = this;
    const root = this.root();
    const height = c.height;
    const nBlocks = c.blocks.length;
    const err = catchErr(() => c.submit(ops, opts));
    expect(err.code, err.message).toBe(code);
    expect(this.root()).toBe(root);
    expect(c.height).toBe(height);
    expect(c.blocks.length).toBe(nBlocks);
    // The same transaction in a block after a valid one: the whole block is rejected by a replica.
    this.sync();
    const filler = c.tx([
      {
        type: 'transfer',
        from: 'crowdsale',
        to: 'ndf',
        token: 'UMT',
        amount: 1n,
        memo: utf8(`f${this.fillers++}`),
      },
    ]);
    const env = c.tx(ops, opts.signers ? { signers: opts.signers } : {});
    const envs = [filler, env];
    const block = rawBlock(c, envs, opts.time ?? c.time + c.blockMs);
    const rerr = catchErr(() =>
      applyBlock(this.replica, block, envs, this.replicaHead, { verifier: nobleVerifier }),
    );
    expect(rerr.code).toBe('BLOCK_INVALID');
    expect(rerr.details).toMatchObject({ txIndex: 1, txCode: code });
    expect(hex(this.replica.root())).toBe(root);
    expect(this.replica.meta.height).toBe(height);
    return err;
  }

  terms(over: Partial<OfferTerms> = {}): OfferTerms {
    return {
      title: 'DE 5 GB / 7 days',
      kind: 'data',
      category: '',
      countries: ['DE'],
      networks: ['262-01'],
      technologies: ['4G', '5G'],
      dataBytes: 5n * GB,
      voiceSeconds: 0n,
      smsCount: 0,
      durationSec: 7 * 86_400,
      price: 10n * UNIT,
      unitPrice: UNIT,
      unit: 'mb',
      activation: 'on_provision',
      validFrom: 0n,
      validUntil: this.time + 30n * DAY,
      capacity: 10,
      encryptionKey: this.c.keys.get('op-de')!.encryption.publicKey,
      ...over,
    };
  }

  publish(over: Partial<OfferTerms> = {}, operator = 'op-de'): Uint8Array {
    const r = this.ok([{ type: 'offer_publish', operator, terms: this.terms(over) }]);
    return hexToBytes(r.events[0]!.offer as string);
  }

  offer(id: Uint8Array): Offer {
    return this.c.state.get<Offer>(K.offer(hex(id)))!;
  }

  requestOp(offer: Uint8Array, over: Partial<OpOf<'request_open'>> = {}): OpOf<'request_open'> {
    const o = this.c.state.get<Offer>(K.offer(hex(offer)));
    return {
      type: 'request_open',
      issuer: 'op-fr',
      payer: 'alice',
      subscriber: 'alice',
      offer,
      prev: o?.version ?? offer,
      deposit: 20n * UNIT,
      issuerFeeBps: 200,
      feeDeposit: UNIT,
      ephemeralKey: freshEphemeralKey(),
      payload: new Uint8Array([1, 2, 3]),
      stepTimeoutSec: 3600,
      lifetimeSec: 7 * 86_400,
      ...over,
    };
  }

  /** Opens a contract and returns its id. */
  open(offer: Uint8Array, over: Partial<OpOf<'request_open'>> = {}, opts: SubmitOpts = {}): Uint8Array {
    const r = this.ok([this.requestOp(offer, over)], opts);
    return hexToBytes(r.events[0]!.contract as string);
  }

  /** Gateway money for alice, published offer and an open contract: the usual starting point. */
  contractReady(
    over: Partial<OpOf<'request_open'>> = {},
    terms: Partial<OfferTerms> = {},
  ): { offer: Uint8Array; cid: Uint8Array } {
    this.issue('alice', 50n * UNIT);
    const offer = this.publish(terms);
    return { offer, cid: this.open(offer, over) };
  }

  private refs = 0;
  issue(to: string, amount: bigint): void {
    this.ok([{ type: 'sdr_issue', gateway: 'gateway', to, amount, paymentRef: `wire-${this.refs++}` }]);
  }

  contract(id: Uint8Array): Contract {
    return this.c.state.get<Contract>(K.contract(hex(id)))!;
  }

  chargeOp(cid: Uint8Array, amount: bigint, over: Partial<OpOf<'charge'>> = {}): OpOf<'charge'> {
    const ct = this.contract(cid);
    return {
      type: 'charge',
      assignee: 'op-de',
      contract: cid,
      prev: ct.head,
      record: {
        seq: ct.chargeCount + 1,
        usageType: 'data',
        start: this.time,
        duration: 60,
        volumeUp: 1000n,
        volumeDown: GB,
        units: 1000n,
        amount,
      },
      sealed: EMPTY,
      ...over,
    };
  }

  refundOp(cid: Uint8Array, by: string, over: Partial<OpOf<'refund'>> = {}): OpOf<'refund'> {
    return {
      type: 'refund',
      by,
      contract: cid,
      prev: this.contract(cid).head,
      badService: false,
      reason: 0,
      ...over,
    };
  }

  stats(op: string): OperatorStats | undefined {
    return this.c.state.get<OperatorStats>(K.stats(op));
  }
}

const transfer = (from: string, to: string, token: Token, amount: bigint): Operation => ({
  type: 'transfer',
  from,
  to,
  token,
  amount,
  memo: EMPTY,
});

describe('transfer', () => {
  it('moves UMT and SDR exactly; the sender pays the fee in UMT', () => {
    const h = new Harness();
    const de0 = h.bal('op-de', 'UMT');
    const carol0 = h.bal('carol', 'UMT');
    const r = h.ok([transfer('op-de', 'carol', 'UMT', 5n * UNIT)]);
    expect(r.fee).toBe(FEES.transfer);
    expect(r.events[0]).toMatchObject({ type: 'transfer', from: 'op-de', to: 'carol', amount: 5n * UNIT });
    expect(h.bal('op-de', 'UMT')).toBe(de0 - 5n * UNIT - FEES.transfer);
    expect(h.bal('carol', 'UMT')).toBe(carol0 + 5n * UNIT);

    h.issue('alice', 7n * UNIT);
    const alice0 = h.bal('alice', 'UMT');
    h.ok([transfer('alice', 'bob', 'SDR', 3n * UNIT)]);
    expect(h.bal('alice', 'SDR')).toBe(4n * UNIT);
    expect(h.bal('bob', 'SDR')).toBe(3n * UNIT);
    expect(h.bal('alice', 'UMT')).toBe(alice0 - FEES.transfer);
  });

  it('an account that spends all it has loses its balance entry', () => {
    const h = new Harness();
    h.ok([transfer('carol', 'bob', 'UMT', 10n * UNIT - FEES.transfer)]);
    expect(h.c.state.get(K.balance('carol', 'UMT'))).toBeUndefined();
    expect(h.bal('bob', 'UMT')).toBe(20n * UNIT - FEES.transfer);
  });

  it('overspend is BALANCE_LOW (amount, and amount plus fee), for UMT and SDR', () => {
    const h = new Harness();
    h.rejects([transfer('carol', 'bob', 'UMT', 10n * UNIT + 1n)], 'BALANCE_LOW');
    // The amount fits but the fee does not.
    h.rejects([transfer('carol', 'bob', 'UMT', 10n * UNIT - FEES.transfer + 1n)], 'BALANCE_LOW');
    h.rejects([transfer('bob', 'carol', 'SDR', 1n)], 'BALANCE_LOW');
    // Two transfers in one transaction: the second overspends, the first is undone too.
    h.rejects(
      [transfer('carol', 'bob', 'UMT', 6n * UNIT), transfer('carol', 'alice', 'UMT', 4n * UNIT)],
      'BALANCE_LOW',
    );
  });

  it('unknown recipient is ACCOUNT_UNKNOWN; self and zero/huge amounts are rejected', () => {
    const h = new Harness();
    h.rejects([transfer('carol', 'nobody', 'UMT', 1n)], 'ACCOUNT_UNKNOWN');
    h.rejects([transfer('carol', 'carol', 'UMT', 1n)], 'SELF_TRANSFER');
    h.rejects([transfer('carol', 'bob', 'UMT', 0n)], 'AMOUNT_INVALID');
    h.rejects([transfer('crowdsale', 'bob', 'UMT', MAX_AMOUNT + 1n)], 'AMOUNT_INVALID');
  });
});

describe('account_create', () => {
  it('creates a plain account paid by its creator; the new key signs', () => {
    const h = new Harness();
    const k = derivedKeys('dave', 'ops-test');
    const de0 = h.bal('op-de', 'UMT');
    const r = h.ok([
      {
        type: 'account_create',
        creator: 'op-de',
        name: 'dave',
        signingKey: k.signing.publicKey,
        encryptionKey: k.encryption.publicKey,
      },
    ]);
    expect(r.fee).toBe(FEES.account_create);
    expect(h.bal('op-de', 'UMT')).toBe(de0 - FEES.account_create);
    const a = h.c.state.get<Account>(K.account('dave'))!;
    expect(a.roles).toEqual([]);
    expect(a.homeOperator).toBeUndefined();
    expect(a.createdAt).toBe(h.time);
    expect(hex(a.signingKey)).toBe(hex(k.signing.publicKey));
    expect(hex(a.encryptionKey)).toBe(hex(k.encryption.publicKey));
    h.c.keys.set('dave', k);
    h.ok([transfer('carol', 'dave', 'UMT', UNIT)]);
    h.ok([transfer('dave', 'carol', 'UMT', UNIT / 2n)]);
    expect(h.bal('dave', 'UMT')).toBe(UNIT / 2n - FEES.transfer);
  });

  it('a home operator creates its own subscriber', () => {
    const h = new Harness();
    const k = derivedKeys('erin', 'ops-test');
    h.ok([
      {
        type: 'account_create',
        creator: 'op-fr',
        name: 'erin',
        signingKey: k.signing.publicKey,
        encryptionKey: k.encryption.publicKey,
        homeOperator: 'op-fr',
      },
    ]);
    const a = h.c.state.get<Account>(K.account('erin'))!;
    expect(a.roles).toEqual(['subscriber']);
    expect(a.homeOperator).toBe('op-fr');
  });

  it('duplicate name is ACCOUNT_EXISTS; a subscriber of another operator, or by a non-operator, is ROLE_REQUIRED', () => {
    const h = new Harness();
    const k = derivedKeys('erin', 'ops-test');
    const create = (creator: string, name: string, homeOperator?: string): Operation => ({
      type: 'account_create',
      creator,
      name,
      signingKey: k.signing.publicKey,
      encryptionKey: k.encryption.publicKey,
      ...(homeOperator !== undefined ? { homeOperator } : {}),
    });
    h.rejects([create('op-de', 'alice')], 'ACCOUNT_EXISTS');
    h.rejects([create('op-de', 'founders')], 'ACCOUNT_EXISTS');
    h.rejects([create('op-de', 'erin', 'op-fr')], 'ROLE_REQUIRED');
    h.rejects([create('carol', 'erin', 'carol')], 'ROLE_REQUIRED');
    // The same name twice in one transaction.
    h.rejects([create('op-de', 'erin'), create('op-fr', 'erin')], 'ACCOUNT_EXISTS');
    expect(h.c.state.get(K.account('erin'))).toBeUndefined();
    h.ok([create('op-de', 'erin')]);
    h.rejects([create('op-fr', 'erin')], 'ACCOUNT_EXISTS');
  });
});

describe('account_update_keys', () => {
  it('after rotation the old key fails SIG_INVALID and the new key works', () => {
    const h = new Harness(true);
    const old = h.c.keys.get('carol')!;
    const next = derivedKeys('carol', 'rotated');
    const carol0 = h.bal('carol', 'UMT');
    const r = h.ok([{ type: 'account_update_keys', account: 'carol', signingKey: next.signing.publicKey }]);
    expect(r.fee).toBe(FEES.account_update_keys);
    expect(h.bal('carol', 'UMT')).toBe(carol0 - FEES.account_update_keys);
    const a = h.c.state.get<Account>(K.account('carol'))!;
    expect(hex(a.signingKey)).toBe(hex(next.signing.publicKey));
    expect(hex(a.encryptionKey)).toBe(hex(old.encryption.publicKey));
    h.rejects([transfer('carol', 'bob', 'UMT', 1n)], 'SIG_INVALID', {
      signers: { carol: old.signing.secretKey },
    });
    h.ok([transfer('carol', 'bob', 'UMT', 1n)], { signers: { carol: next.signing.secretKey } });
    h.c.keys.set('carol', { signing: next.signing, encryption: old.encryption });
    h.ok([transfer('carol', 'bob', 'UMT', 1n)]);
  });

  it('an encryption-only update leaves the signing key; nothing to update is TX_INVALID', () => {
    const h = new Harness();
    const before = h.c.state.get<Account>(K.account('bob'))!;
    const enc = derivedKeys('bob', 'rotated').encryption.publicKey;
    h.ok([{ type: 'account_update_keys', account: 'bob', encryptionKey: enc }]);
    const after = h.c.state.get<Account>(K.account('bob'))!;
    expect(hex(after.signingKey)).toBe(hex(before.signingKey));
    expect(hex(after.encryptionKey)).toBe(hex(enc));
    h.rejects([{ type: 'account_update_keys', account: 'bob' }], 'TX_INVALID');
  });

  it("one account cannot rotate another's keys", () => {
    const h = new Harness(true);
    const evil = derivedKeys('carol', 'evil');
    h.rejects(
      [{ type: 'account_update_keys', account: 'alice', signingKey: evil.signing.publicKey }],
      'SIG_INVALID',
      {
        signers: { alice: h.c.keys.get('carol')!.signing.secretKey },
      },
    );
  });
});

describe('sdr_issue', () => {
  it('mints SDR to the recipient, records the payment reference and the supply', () => {
    const h = new Harness();
    const gw0 = h.bal('gateway', 'UMT');
    const r = h.ok([
      { type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 50n * UNIT, paymentRef: 'wire-A' },
    ]);
    expect(r.fee).toBe(FEES.sdr_issue);
    expect(h.bal('alice', 'SDR')).toBe(50n * UNIT);
    expect(h.bal('gateway', 'UMT')).toBe(gw0 - FEES.sdr_issue);
    expect(h.c.state.get<Supply>(K.supply)).toEqual({ sdrMinted: 50n * UNIT, sdrBurned: 0n });
    expect(h.c.state.get(K.paymentRef('gateway', 'wire-A'))).toBe(h.c.height);
  });

  it('a non-gateway is ROLE_REQUIRED; a reused reference SDR_REF_USED (per gateway); unknown recipient', () => {
    const h = new Harness();
    const issue = (gateway: string, to: string, paymentRef: string, amount = UNIT): Operation => ({
      type: 'sdr_issue',
      gateway,
      to,
      amount,
      paymentRef,
    });
    h.rejects([issue('op-de', 'alice', 'wire-X')], 'ROLE_REQUIRED');
    h.rejects([issue('alice', 'alice', 'wire-X')], 'ROLE_REQUIRED');
    h.ok([issue('gateway', 'alice', 'wire-X')]);
    h.rejects([issue('gateway', 'bob', 'wire-X', 2n * UNIT)], 'SDR_REF_USED');
    // Two issues with one reference inside one transaction.
    h.rejects([issue('gateway', 'bob', 'wire-Y'), issue('gateway', 'bob', 'wire-Y')], 'SDR_REF_USED');
    // References are per gateway.
    h.ok([issue('gateway-2', 'bob', 'wire-X')]);
    h.rejects([issue('gateway', 'nobody', 'wire-Z')], 'ACCOUNT_UNKNOWN');
    h.rejects([issue('gateway', 'alice', 'wire-Z', 0n)], 'AMOUNT_INVALID');
    expect(h.c.state.get<Supply>(K.supply)!.sdrMinted).toBe(2n * UNIT);
  });
});

describe('sdr_burn', () => {
  it('burns the gateway’s SDR and counts it', () => {
    const h = new Harness();
    h.issue('gateway', 10n * UNIT);
    const r = h.ok([{ type: 'sdr_burn', gateway: 'gateway', amount: 4n * UNIT, redemptionRef: 'redeem-1' }]);
    expect(r.fee).toBe(FEES.sdr_burn);
    expect(h.bal('gateway', 'SDR')).toBe(6n * UNIT);
    expect(h.c.state.get<Supply>(K.supply)).toEqual({ sdrMinted: 10n * UNIT, sdrBurned: 4n * UNIT });
    expect(h.c.state.get(K.redemptionRef('gateway', 'redeem-1'))).toBe(h.c.height);
  });

  it('over-burn BALANCE_LOW, reused reference SDR_REF_USED, non-gateway ROLE_REQUIRED', () => {
    const h = new Harness();
    h.issue('gateway', 10n * UNIT);
    h.issue('alice', 10n * UNIT);
    h.rejects(
      [{ type: 'sdr_burn', gateway: 'gateway', amount: 10n * UNIT + 1n, redemptionRef: 'r-1' }],
      'BALANCE_LOW',
    );
    h.ok([{ type: 'sdr_burn', gateway: 'gateway', amount: UNIT, redemptionRef: 'r-1' }]);
    h.rejects([{ type: 'sdr_burn', gateway: 'gateway', amount: UNIT, redemptionRef: 'r-1' }], 'SDR_REF_USED');
    h.rejects([{ type: 'sdr_burn', gateway: 'alice', amount: UNIT, redemptionRef: 'r-2' }], 'ROLE_REQUIRED');
    h.rejects(
      [{ type: 'sdr_burn', gateway: 'gateway-2', amount: UNIT, redemptionRef: 'r-2' }],
      'BALANCE_LOW',
    );
  });
});

describe('offer_publish', () => {
  it('stores the offer under the operation hash, active, version = id', () => {
    const h = new Harness();
    const de0 = h.bal('op-de', 'UMT');
    const t = h.terms();
    const r = h.ok([
      { type: 'offer_publish', operator: 'op-de', terms: t },
      { type: 'offer_publish', operator: 'op-de', terms: { ...t, title: 'second' } },
    ]);
    expect(r.fee).toBe(2n * FEES.offer_publish);
    expect(h.bal('op-de', 'UMT')).toBe(de0 - 2n * FEES.offer_publish);
    const ids = [0, 1].map((i) => opHash(hexToBytes(r.txId), i));
    expect(r.events.map((e) => e.offer)).toEqual(ids.map(hex));
    const o = h.offer(ids[0]!);
    expect(hex(o.id)).toBe(hex(ids[0]!));
    expect(hex(o.version)).toBe(hex(ids[0]!));
    expect(o).toMatchObject({ operator: 'op-de', status: 'active', openContracts: 0, totalContracts: 0 });
    expect(o.createdAt).toBe(h.time);
    expect(o.terms).toEqual(t);
    expect(h.offer(ids[1]!).terms.title).toBe('second');
  });

  it('a non-operator is ROLE_REQUIRED; a validity already over OFFER_INVALID; bad terms OFFER_INVALID', () => {
    const h = new Harness();
    h.rejects([{ type: 'offer_publish', operator: 'carol', terms: h.terms() }], 'ROLE_REQUIRED');
    h.rejects([{ type: 'offer_publish', operator: 'gateway', terms: h.terms() }], 'ROLE_REQUIRED');
    // The next block's time is time + 500 ms: validUntil at that instant is already over.
    h.rejects(
      [{ type: 'offer_publish', operator: 'op-de', terms: h.terms({ validUntil: h.time + 500n }) }],
      'OFFER_INVALID',
    );
    h.ok([{ type: 'offer_publish', operator: 'op-de', terms: h.terms({ validUntil: h.time + 501n }) }]);
    h.rejects(
      [{ type: 'offer_publish', operator: 'op-de', terms: h.terms({ capacity: 0 }) }],
      'OFFER_INVALID',
    );
    h.rejects(
      [{ type: 'offer_publish', operator: 'op-de', terms: h.terms({ countries: [], networks: [] }) }],
      'OFFER_INVALID',
    );
    h.rejects(
      [{ type: 'offer_publish', operator: 'op-de', terms: h.terms({ price: 0n, unitPrice: 0n }) }],
      'OFFER_INVALID',
    );
  });

  it('an offer answering a demand counts as an answer; unknown, closed or uncovered demands are rejected', () => {
    const h = new Harness();
    const post = h.ok([
      {
        type: 'demand_post',
        subscriber: 'alice',
        kind: 'data',
        countries: ['DE'],
        networks: [],
        dataBytes: GB,
        startAt: h.time,
        endAt: h.time + DAY,
        maxPrice: 20n * UNIT,
        note: 'Berlin next week',
      },
    ]);
    const dem = hexToBytes(post.events[0]!.demand as string);
    const demEnd = h.c.state.get<Demand>(K.demand(hex(dem)))!.endAt;
    // An answer lives no longer than the demand.
    h.rejects([{ type: 'offer_publish', operator: 'op-de', terms: h.terms(), demand: dem }], 'OFFER_INVALID');
    const r = h.ok([
      { type: 'offer_publish', operator: 'op-de', terms: h.terms({ validUntil: demEnd }), demand: dem },
    ]);
    const oid = hexToBytes(r.events[0]!.offer as string);
    expect(hex(h.offer(oid).demand!)).toBe(hex(dem));
    expect(h.c.state.get<Demand>(K.demand(hex(dem)))!.answers).toBe(1);
    h.rejects(
      [
        {
          type: 'offer_publish',
          operator: 'op-de',
          terms: h.terms({ validUntil: demEnd }),
          demand: new Uint8Array(32).fill(9),
        },
      ],
      'DEMAND_UNKNOWN',
    );
    h.rejects(
      [
        {
          type: 'offer_publish',
          operator: 'op-de',
          terms: h.terms({ countries: ['FR'], networks: [], validUntil: demEnd }),
          demand: dem,
        },
      ],
      'OFFER_INVALID',
    );
    h.ok([{ type: 'demand_cancel', subscriber: 'alice', demand: dem }]);
    h.rejects(
      [
        {
          type: 'offer_publish',
          operator: 'op-de',
          terms: h.terms({ validUntil: demEnd }),
          demand: dem,
        },
      ],
      'DEMAND_CLOSED',
    );
    // A demand whose time is over takes no more answers.
    const short = h.ok([
      {
        type: 'demand_post',
        subscriber: 'alice',
        kind: 'data',
        countries: ['DE'],
        networks: [],
        dataBytes: GB,
        startAt: 0n,
        endAt: h.time + 2_000n,
        maxPrice: UNIT,
        note: '',
      },
    ]);
    const dem2 = hexToBytes(short.events[0]!.demand as string);
    const dem2End = h.c.state.get<Demand>(K.demand(hex(dem2)))!.endAt;
    h.ok([
      {
        type: 'offer_publish',
        operator: 'op-de',
        terms: h.terms({ validUntil: dem2End }),
        demand: dem2,
      },
    ]);
    h.rejects(
      [{ type: 'offer_publish', operator: 'op-de', terms: h.terms(), demand: dem2 }],
      'DEMAND_CLOSED',
      {
        time: h.time + 1_500n,
      },
    );
    expect(h.c.state.get<Demand>(K.demand(hex(dem)))!.answers).toBe(1);
  });
});

describe('offer_replace', () => {
  it('replaces the terms and the version, keeps the id', () => {
    const h = new Harness();
    const oid = h.publish();
    const r = h.ok([
      { type: 'offer_replace', operator: 'op-de', offer: oid, terms: h.terms({ price: 20n * UNIT }) },
    ]);
    expect(r.fee).toBe(FEES.offer_replace);
    const o = h.offer(oid);
    expect(hex(o.id)).toBe(hex(oid));
    expect(hex(o.version)).toBe(hex(opHash(hexToBytes(r.txId), 0)));
    expect(o.terms.price).toBe(20n * UNIT);
    expect(o.updatedAt).toBe(h.time);
  });

  it('a stale version is OFFER_VERSION_STALE; an open contract keeps its old terms and price', () => {
    const h = new Harness();
    const { offer, cid } = h.contractReady({ deposit: 10_200_000n });
    const v1 = h.offer(offer).version;
    h.ok([
      {
        type: 'offer_replace',
        operator: 'op-de',
        offer,
        terms: h.terms({ price: 20n * UNIT, unitPrice: 0n }),
      },
    ]);
    const v2 = h.offer(offer).version;
    expect(hex(v2)).not.toBe(hex(v1));
    h.rejects([h.requestOp(offer, { prev: v1, deposit: 30n * UNIT })], 'OFFER_VERSION_STALE');
    // The current version works, at the new price.
    h.rejects([h.requestOp(offer, { prev: v2, deposit: 10_200_000n })], 'SSC_DEPOSIT_LOW');
    const cid2 = h.open(offer, { prev: v2, deposit: 20_400_000n });
    expect(h.contract(cid2).price).toBe(20n * UNIT);
    expect(hex(h.contract(cid2).offerVersion)).toBe(hex(v2));
    // The first contract still has the terms it was opened on.
    const c1 = h.contract(cid);
    expect(c1.price).toBe(10n * UNIT);
    expect(c1.unitPrice).toBe(UNIT);
    expect(hex(c1.offerVersion)).toBe(hex(v1));
    h.ok([h.chargeOp(cid, 10n * UNIT)]);
    h.ok([h.refundOp(cid, 'alice')]);
    expect(h.contract(cid).paidAssignee).toBe(10n * UNIT);
    expect(h.contract(cid).paidIssuer).toBe(200_000n);
    expect(h.contract(cid).paidPayer).toBe(0n);
  });

  it('non-owner OFFER_NOT_OWNER, unknown OFFER_UNKNOWN, withdrawn OFFER_INACTIVE, expired validity OFFER_INVALID', () => {
    const h = new Harness();
    const oid = h.publish();
    h.rejects(
      [{ type: 'offer_replace', operator: 'op-fr', offer: oid, terms: h.terms() }],
      'OFFER_NOT_OWNER',
    );
    h.rejects(
      [{ type: 'offer_replace', operator: 'op-de', offer: new Uint8Array(32).fill(1), terms: h.terms() }],
      'OFFER_UNKNOWN',
    );
    h.rejects(
      [{ type: 'offer_replace', operator: 'op-de', offer: oid, terms: h.terms({ validUntil: h.time + 1n }) }],
      'OFFER_INVALID',
    );
    h.ok([{ type: 'offer_withdraw', operator: 'op-de', offer: oid }]);
    h.rejects([{ type: 'offer_replace', operator: 'op-de', offer: oid, terms: h.terms() }], 'OFFER_INACTIVE');
  });
});

describe('offer_withdraw', () => {
  it('withdraws: no new contracts, but an open one can still be charged and settled', () => {
    const h = new Harness();
    const { offer, cid } = h.contractReady();
    const r = h.ok([{ type: 'offer_withdraw', operator: 'op-de', offer }]);
    expect(r.fee).toBe(FEES.offer_withdraw);
    expect(h.offer(offer).status).toBe('withdrawn');
    expect(h.offer(offer).openContracts).toBe(1);
    h.rejects([h.requestOp(offer)], 'OFFER_INACTIVE');
    h.ok([h.chargeOp(cid, 2n * UNIT)]);
    h.ok([h.refundOp(cid, 'op-de')]);
    expect(h.offer(offer).openContracts).toBe(0);
    expect(h.bal('op-de', 'SDR')).toBe(2n * UNIT);
  });

  it('twice is OFFER_INACTIVE, by another operator OFFER_NOT_OWNER, unknown OFFER_UNKNOWN', () => {
    const h = new Harness();
    const oid = h.publish();
    h.rejects([{ type: 'offer_withdraw', operator: 'op-fr', offer: oid }], 'OFFER_NOT_OWNER');
    h.rejects([{ type: 'offer_withdraw', operator: 'op-de', offer: new Uint8Array(32) }], 'OFFER_UNKNOWN');
    h.ok([{ type: 'offer_withdraw', operator: 'op-de', offer: oid }]);
    h.rejects([{ type: 'offer_withdraw', operator: 'op-de', offer: oid }], 'OFFER_INACTIVE');
  });
});

describe('request_open', () => {
  it('freezes the deposit, takes the UMT fee deposit and the fee, records the contract', () => {
    const h = new Harness();
    h.issue('alice', 50n * UNIT);
    const offer = h.publish();
    const fr0 = h.bal('op-fr', 'UMT');
    const r = h.ok([h.requestOp(offer)]);
    const cid = hexToBytes(r.events[0]!.contract as string);
    // The contract id is fixed by the Request's ephemeral key (chain-bound), not by the tx id.
    expect(hex(cid)).toBe(
      hex(
        contractIdOf(
          h.c.chainId,
          (h.c.blocks.at(-1)!.block.txs[0]!.ops[0] as OpOf<'request_open'>).ephemeralKey,
        ),
      ),
    );
    expect(r.fee).toBe(FEES.request_open);
    expect(h.bal('alice', 'SDR')).toBe(30n * UNIT);
    expect(h.bal('op-fr', 'UMT')).toBe(fr0 - UNIT - FEES.request_open);
    const ct = h.contract(cid);
    expect(ct).toMatchObject({
      issuer: 'op-fr',
      assignee: 'op-de',
      payer: 'alice',
      subscriber: 'alice',
      price: 10n * UNIT,
      deposit: 20n * UNIT,
      issuerFeeBps: 200,
      feeDeposit: UNIT,
      status: 'open',
      charged: 0n,
      chargeCount: 0,
      closedBy: '',
      score: 0,
    });
    expect(hex(ct.head)).toBe(hex(opHash(hexToBytes(r.txId), 0)));
    expect(hex(ct.offerVersion)).toBe(hex(offer));
    expect(ct.openedAt).toBe(h.time);
    expect(ct.lastStepAt).toBe(h.time);
    expect(ct.expiresAt).toBe(h.time + 7n * DAY);
    expect(h.offer(offer)).toMatchObject({ openContracts: 1, totalContracts: 1 });
    expect(h.stats('op-de')!.contracts).toBe(1);
    expect(h.c.state.get(K.queueCount(EXPIRY_QUEUE, bucketOf(ct.expiresAt)))).toBe(1);
    const rep = supplyReport(h.c.state);
    expect(rep.sdr.escrow).toBe(20n * UNIT);
    expect(rep.umt.feeDeposits).toBe(UNIT);
  });

  it('the issuer can pay itself, signing alone', () => {
    const h = new Harness();
    h.issue('op-fr', 20n * UNIT);
    const offer = h.publish();
    const cid = h.open(
      offer,
      { payer: 'op-fr' },
      { signers: { 'op-fr': h.c.keys.get('op-fr')!.signing.secretKey } },
    );
    expect(h.contract(cid).payer).toBe('op-fr');
    expect(h.bal('op-fr', 'SDR')).toBe(0n);
  });

  it('capacity reached is OFFER_FULL, and frees up when a contract closes', () => {
    const h = new Harness();
    h.issue('alice', 50n * UNIT);
    const offer = h.publish({ capacity: 1 });
    const cid = h.open(offer);
    h.rejects([h.requestOp(offer)], 'OFFER_FULL');
    h.ok([h.refundOp(cid, 'alice')]);
    h.open(offer);
  });

  it('deposit below price + issuer fee is SSC_DEPOSIT_LOW; exactly that is accepted', () => {
    const h = new Harness();
    h.issue('alice', 50n * UNIT);
    const offer = h.publish();
    // price 10 SDR, 2 % issuer fee: 10.2 SDR needed.
    h.rejects([h.requestOp(offer, { deposit: 10_199_999n })], 'SSC_DEPOSIT_LOW');
    h.rejects([h.requestOp(offer, { deposit: 10n * UNIT, issuerFeeBps: 1 })], 'SSC_DEPOSIT_LOW');
    h.open(offer, { deposit: 10_200_000n });
  });

  it('a subscriber of another home operator (or a non-subscriber) is SSC_NOT_SUBSCRIBER', () => {
    const h = new Harness();
    h.issue('bob', 50n * UNIT);
    h.issue('carol', 50n * UNIT);
    const offer = h.publish();
    h.rejects([h.requestOp(offer, { payer: 'bob', subscriber: 'bob' })], 'SSC_NOT_SUBSCRIBER');
    h.rejects([h.requestOp(offer, { payer: 'carol', subscriber: 'carol' })], 'SSC_NOT_SUBSCRIBER');
    // bob's own home operator can.
    h.open(offer, { issuer: 'op-de', payer: 'bob', subscriber: 'bob' });
  });

  it('a payer without SDR is BALANCE_LOW; an issuer without the UMT fee deposit too', () => {
    const h = new Harness();
    const offer = h.publish();
    h.rejects([h.requestOp(offer)], 'BALANCE_LOW');
    h.issue('alice', 50n * UNIT);
    h.rejects([h.requestOp(offer, { feeDeposit: 2000n * UNIT })], 'BALANCE_LOW');
  });

  it('stale or unknown offer, withdrawn/not yet valid offer, bad terms, non-operator issuer', () => {
    const h = new Harness();
    h.issue('alice', 50n * UNIT);
    const offer = h.publish();
    const later = h.publish({ validFrom: h.time + DAY });
    h.rejects([h.requestOp(offer, { prev: new Uint8Array(32).fill(3) })], 'OFFER_VERSION_STALE');
    h.rejects([h.requestOp(new Uint8Array(32).fill(4))], 'OFFER_UNKNOWN');
    h.rejects([h.requestOp(later)], 'OFFER_INACTIVE');
    h.rejects([h.requestOp(offer, { stepTimeoutSec: 59 })], 'SSC_TERMS_INVALID');
    h.rejects([h.requestOp(offer, { stepTimeoutSec: 60, lifetimeSec: 299 })], 'SSC_TERMS_INVALID');
    h.rejects([h.requestOp(offer, { lifetimeSec: 365 * 86_400 + 1 })], 'SSC_TERMS_INVALID');
    h.rejects([h.requestOp(offer, { stepTimeoutSec: 600, lifetimeSec: 300 })], 'SSC_TERMS_INVALID');
    h.rejects([h.requestOp(offer, { payer: 'bob' })], 'SSC_TERMS_INVALID');
    h.rejects([h.requestOp(offer, { issuerFeeBps: 10_001 })], 'SSC_TERMS_INVALID');
    h.rejects([h.requestOp(offer, { issuer: 'carol' })], 'ROLE_REQUIRED');
    h.rejects([h.requestOp(offer, { deposit: 0n })], 'AMOUNT_INVALID');
  });
});

describe('charge', () => {
  it('bills a step: advances the head and sequence, pays its fee from the fee deposit', () => {
    const h = new Harness();
    const { cid } = h.contractReady();
    const de0 = h.bal('op-de', 'UMT');
    const r = h.ok([h.chargeOp(cid, 3n * UNIT)]);
    expect(r.fee).toBe(FEES.charge);
    const ct = h.contract(cid);
    expect(hex(ct.head)).toBe(hex(opHash(hexToBytes(r.txId), 0)));
    expect(ct).toMatchObject({
      charged: 3n * UNIT,
      chargeCount: 1,
      feeDeposit: UNIT - FEES.charge,
      volumeDown: GB,
    });
    expect(ct.lastStepAt).toBe(h.time);
    // Nothing moves until settlement; the assignee does not pay the fee.
    expect(h.bal('op-de', 'SDR')).toBe(0n);
    expect(h.bal('op-de', 'UMT')).toBe(de0);
    expect(h.bal('alice', 'SDR')).toBe(30n * UNIT);
  });

  it('several transitions of one contract in one block chain through the operation hashes', () => {
    const h = new Harness();
    const { cid } = h.contractReady();
    const c = h.c;
    const first = h.chargeOp(cid, UNIT);
    const e1 = c.tx([first]);
    const second: OpOf<'charge'> = {
      ...first,
      prev: opHash(e1.id, 0),
      record: { ...first.record, seq: 2, amount: 2n * UNIT },
    };
    const e2 = c.tx([second]);
    const close = c.tx([
      { type: 'refund', by: 'alice', contract: cid, prev: opHash(e2.id, 0), badService: false, reason: 0 },
    ]);
    // Out of order, the second names a head that does not exist yet.
    const root = h.root();
    expect(catchErr(() => c.block([e2, e1])).code).toBe('SSC_NOT_HEAD');
    expect(h.root()).toBe(root);
    c.block([e1, e2, close]);
    expect(h.contract(cid)).toMatchObject({ status: 'closed', charged: 3n * UNIT, chargeCount: 2 });
    expect(hex(h.contract(cid).head)).toBe(hex(opHash(close.id, 0)));
    expect(h.bal('op-de', 'SDR')).toBe(3n * UNIT);
    h.sync();
  });

  it('by a non-assignee is SSC_NOT_PARTY', () => {
    const h = new Harness();
    const { cid } = h.contractReady();
    h.rejects([h.chargeOp(cid, UNIT, { assignee: 'op-fr' })], 'SSC_NOT_PARTY');
    h.rejects([h.chargeOp(cid, UNIT, { assignee: 'alice' })], 'SSC_NOT_PARTY');
  });

  it('prev not the head is SSC_NOT_HEAD', () => {
    const h = new Harness();
    const { cid } = h.contractReady();
    h.rejects([h.chargeOp(cid, UNIT, { prev: new Uint8Array(32).fill(5) })], 'SSC_NOT_HEAD');
    h.ok([h.chargeOp(cid, UNIT)]);
    // The contract id was the head before the first charge; it no longer is.
    const e = h.rejects([h.chargeOp(cid, UNIT, { prev: cid })], 'SSC_NOT_HEAD');
    expect(e.details).toEqual({ head: hex(h.contract(cid).head) });
  });

  it('over-charge is SSC_OVERCHARGE, including when only the issuer fee makes it exceed', () => {
    const h = new Harness();
    const { cid } = h.contractReady({ deposit: 10_200_000n });
    h.rejects([h.chargeOp(cid, 10_200_001n)], 'SSC_OVERCHARGE');
    // 10.1 SDR alone fits in 10.2, but its 2 % fee (0.202) does not.
    const e = h.rejects([h.chargeOp(cid, 10_100_000n)], 'SSC_OVERCHARGE');
    expect(e.details).toMatchObject({ deposit: '10200000', charged: '0', available: '10200000' });
    h.ok([h.chargeOp(cid, 6n * UNIT)]);
    // 6 + 4 = 10, fee 0.2: exactly the deposit. One unit more is over.
    h.rejects([h.chargeOp(cid, 4n * UNIT + 1n)], 'SSC_OVERCHARGE');
    h.ok([h.chargeOp(cid, 4n * UNIT)]);
    h.rejects([h.chargeOp(cid, 1n)], 'SSC_OVERCHARGE');
    // A zero charge (a usage report) still fits.
    h.ok([h.chargeOp(cid, 0n)]);
    expect(h.contract(cid).chargeCount).toBe(3);
  });

  it('after close is SSC_CLOSED', () => {
    const h = new Harness();
    const { cid } = h.contractReady();
    const stale = h.chargeOp(cid, UNIT);
    h.ok([h.refundOp(cid, 'alice')]);
    h.rejects([h.chargeOp(cid, UNIT)], 'SSC_CLOSED');
    h.rejects([stale], 'SSC_CLOSED');
  });

  it('after the step timeout is SSC_TIMEOUT; exactly at the timeout still accepted', () => {
    const h = new Harness();
    const { cid } = h.contractReady({ stepTimeoutSec: 60, lifetimeSec: 3600 });
    const last = h.contract(cid).lastStepAt;
    h.ok([h.chargeOp(cid, UNIT)], { time: last + 60_000n });
    const last2 = h.contract(cid).lastStepAt;
    expect(last2).toBe(last + 60_000n);
    h.rejects([h.chargeOp(cid, UNIT)], 'SSC_TIMEOUT', { time: last2 + 60_001n });
    // A refund is still possible after the timeout.
    h.ok([h.refundOp(cid, 'op-fr')], { time: last2 + 120_000n });
  });

  it('after the lifetime is SSC_EXPIRED', () => {
    const h = new Harness();
    const { cid } = h.contractReady({ stepTimeoutSec: 300, lifetimeSec: 300 });
    const exp = h.contract(cid).expiresAt;
    h.ok([h.chargeOp(cid, UNIT)], { time: exp - 1n });
    // In the block that reaches expiresAt the contract is still open (settled at block end) but takes no charge.
    h.rejects([h.chargeOp(cid, UNIT)], 'SSC_EXPIRED', { time: exp });
  });

  it('a wrong sequence number is SSC_BAD_SEQUENCE; seq 0 SSC_CHARGE_INVALID', () => {
    const h = new Harness();
    const { cid } = h.contractReady();
    const base = h.chargeOp(cid, UNIT);
    h.rejects([{ ...base, record: { ...base.record, seq: 2 } }], 'SSC_BAD_SEQUENCE');
    h.rejects([{ ...base, record: { ...base.record, seq: 0 } }], 'SSC_CHARGE_INVALID');
    h.ok([base]);
    const next = h.chargeOp(cid, UNIT);
    h.rejects([{ ...next, record: { ...next.record, seq: 1 } }], 'SSC_BAD_SEQUENCE');
    h.rejects([{ ...next, record: { ...next.record, seq: 3 } }], 'SSC_BAD_SEQUENCE');
  });

  it('an exhausted fee deposit is BALANCE_LOW; an unknown contract SSC_UNKNOWN', () => {
    const h = new Harness();
    // The least fee deposit accepted pays a provision and a charge (SSC_FEE_DEPOSIT_LOW below).
    const { cid } = h.contractReady({ feeDeposit: FEES.charge + FEES.provision });
    h.ok([h.chargeOp(cid, UNIT)]);
    h.ok([h.chargeOp(cid, UNIT)]);
    expect(h.contract(cid).feeDeposit).toBe(0n);
    h.rejects([h.chargeOp(cid, UNIT)], 'BALANCE_LOW');
    h.rejects([{ ...h.chargeOp(cid, UNIT), contract: new Uint8Array(32).fill(8) }], 'SSC_UNKNOWN');
  });

  it('usage volumes that overflow the contract counters are rejected and change nothing', () => {
    // volumeUp/volumeDown are u64 fields added into the contract's counters: a sum past u64 must be
    // rejected by the evaluator, not discovered when the state is encoded at commit.
    const h = new Harness();
    const { cid } = h.contractReady();
    const huge = (): OpOf<'charge'> => {
      const op = h.chargeOp(cid, 0n);
      return { ...op, record: { ...op.record, volumeUp: 2n ** 64n - 1n } };
    };
    h.ok([huge()]);
    const root = h.root();
    const height = h.c.height;
    const e = catchErr(() => h.c.submit([huge()]));
    expect(e.code).toBe('SSC_CHARGE_INVALID');
    expect(h.c.height).toBe(height);
    expect(h.root()).toBe(root);
    expect(supplyReport(h.c.state).problems).toEqual([]);
  });
});

describe('refund', () => {
  it('settles: assignee the charges, issuer its fee, payer the rest, issuer the fee deposit left', () => {
    const h = new Harness();
    const { offer, cid } = h.contractReady();
    h.ok([h.chargeOp(cid, 3n * UNIT)]);
    h.ok([h.chargeOp(cid, 4n * UNIT)]);
    const fr0 = h.bal('op-fr', 'UMT');
    const r = h.ok([h.refundOp(cid, 'alice', { badService: true, reason: 7 })]);
    expect(r.fee).toBe(FEES.refund);
    // 7 SDR charged, 2 % = 0.14 SDR to the issuer, 12.86 SDR back to alice (who had 30 left).
    expect(h.bal('op-de', 'SDR')).toBe(7n * UNIT);
    expect(h.bal('op-fr', 'SDR')).toBe(140_000n);
    expect(h.bal('alice', 'SDR')).toBe(30n * UNIT + 12_860_000n);
    const left = UNIT - 3n * FEES.charge;
    expect(h.bal('op-fr', 'UMT')).toBe(fr0 + left);
    const ct = h.contract(cid);
    expect(ct).toMatchObject({
      status: 'closed',
      closedBy: 'alice',
      badService: true,
      reason: 7,
      paidAssignee: 7n * UNIT,
      paidIssuer: 140_000n,
      paidPayer: 12_860_000n,
      feeReturned: left,
      feeDeposit: 0n,
    });
    expect(ct.closedAt).toBe(h.time);
    expect(hex(ct.head)).toBe(hex(opHash(hexToBytes(r.txId), 0)));
    expect(r.events[0]).toMatchObject({ type: 'contract_settled', by: 'alice', toPayer: 12_860_000n });
    expect(h.stats('op-de')).toMatchObject({
      contracts: 1,
      closed: 1,
      badService: 1,
      ratingSum: 0,
      ratingCount: 0,
      charged: 7n * UNIT,
    });
    expect(h.offer(offer).openContracts).toBe(0);
    expect(supplyReport(h.c.state).sdr.escrow).toBe(0n);
  });

  it('each party may close: assignee, issuer, subscriber', () => {
    const h = new Harness();
    h.issue('alice', 100n * UNIT);
    const offer = h.publish();
    for (const by of ['op-de', 'op-fr', 'alice']) {
      const cid = h.open(offer);
      h.ok([h.refundOp(cid, by)]);
      expect(h.contract(cid).closedBy).toBe(by);
      expect(h.contract(cid).paidPayer).toBe(20n * UNIT);
    }
    expect(h.bal('alice', 'SDR')).toBe(100n * UNIT);
  });

  it('by a stranger is SSC_NOT_PARTY; twice SSC_CLOSED; a stale prev SSC_NOT_HEAD', () => {
    const h = new Harness();
    const { cid } = h.contractReady();
    h.rejects([h.refundOp(cid, 'carol')], 'SSC_NOT_PARTY');
    h.rejects([h.refundOp(cid, 'bob')], 'SSC_NOT_PARTY');
    const stale = h.refundOp(cid, 'alice');
    h.ok([h.chargeOp(cid, UNIT)]);
    h.rejects([stale], 'SSC_NOT_HEAD');
    h.ok([h.refundOp(cid, 'alice')]);
    h.rejects([h.refundOp(cid, 'alice')], 'SSC_CLOSED');
    h.rejects([h.refundOp(cid, 'op-de')], 'SSC_CLOSED');
    h.rejects([{ ...h.refundOp(cid, 'alice'), contract: new Uint8Array(32).fill(6) }], 'SSC_UNKNOWN');
  });

  it('works with an empty fee deposit (no fee) and after the lifetime', () => {
    const h = new Harness();
    const { cid } = h.contractReady({
      feeDeposit: FEES.charge + FEES.provision,
      stepTimeoutSec: 300,
      lifetimeSec: 300,
    });
    h.ok([h.chargeOp(cid, 0n)]);
    h.ok([h.chargeOp(cid, 0n)]);
    const exp = h.contract(cid).expiresAt;
    const r = h.ok([h.refundOp(cid, 'op-fr')], { time: exp });
    expect(r.fee).toBe(0n);
    expect(h.contract(cid)).toMatchObject({ status: 'closed', closedBy: 'op-fr', feeReturned: 0n });
    expect(h.bal('alice', 'SDR')).toBe(50n * UNIT);
  });
});

describe('rate', () => {
  it('the subscriber rates a closed contract once; stats follow; no fee', () => {
    const h = new Harness();
    const { cid } = h.contractReady();
    h.ok([h.chargeOp(cid, UNIT)]);
    h.ok([h.refundOp(cid, 'alice')]);
    const alice0 = h.bal('alice', 'UMT');
    const r = h.ok([{ type: 'rate', subscriber: 'alice', contract: cid, score: 4 }]);
    expect(r.fee).toBe(0n);
    expect(h.bal('alice', 'UMT')).toBe(alice0);
    expect(h.contract(cid).score).toBe(4);
    expect(h.stats('op-de')).toMatchObject({
      ratingSum: 4,
      ratingCount: 1,
      ratingWeight: UNIT,
      ratingScoreWeight: 4n * UNIT,
    });
    h.rejects([{ type: 'rate', subscriber: 'alice', contract: cid, score: 5 }], 'RATE_DUPLICATE');
    expect(h.contract(cid).score).toBe(4);
  });

  it('before close RATE_NOT_CLOSED, by a non-subscriber SSC_NOT_PARTY, score 0 or 6 RATE_INVALID', () => {
    const h = new Harness();
    const { cid } = h.contractReady();
    h.rejects([{ type: 'rate', subscriber: 'alice', contract: cid, score: 3 }], 'RATE_NOT_CLOSED');
    h.ok([h.chargeOp(cid, 0n)]);
    h.ok([h.refundOp(cid, 'op-de')]);
    h.rejects([{ type: 'rate', subscriber: 'op-fr', contract: cid, score: 3 }], 'SSC_NOT_PARTY');
    h.rejects([{ type: 'rate', subscriber: 'bob', contract: cid, score: 3 }], 'SSC_NOT_PARTY');
    h.rejects([{ type: 'rate', subscriber: 'alice', contract: cid, score: 0 }], 'RATE_INVALID');
    h.rejects([{ type: 'rate', subscriber: 'alice', contract: cid, score: 6 }], 'RATE_INVALID');
    h.rejects(
      [{ type: 'rate', subscriber: 'alice', contract: new Uint8Array(32).fill(2), score: 3 }],
      'SSC_UNKNOWN',
    );
    h.ok([{ type: 'rate', subscriber: 'alice', contract: cid, score: 1 }]);
    h.rejects([{ type: 'rate', subscriber: 'alice', contract: cid, score: 1 }], 'RATE_DUPLICATE');
  });
});

describe('demand_post / demand_cancel', () => {
  const demandOp = (h: Harness, over: Partial<OpOf<'demand_post'>> = {}): OpOf<'demand_post'> => ({
    type: 'demand_post',
    subscriber: 'alice',
    kind: 'data',
    countries: ['DE', 'AT'],
    networks: ['262-01'],
    dataBytes: 3n * GB,
    startAt: h.time,
    endAt: h.time + 7n * DAY,
    maxPrice: 15n * UNIT,
    note: 'two weeks',
    ...over,
  });

  it('posts a demand paid by the subscriber, cancels it', () => {
    const h = new Harness();
    const alice0 = h.bal('alice', 'UMT');
    const op = demandOp(h);
    const r = h.ok([op]);
    expect(r.fee).toBe(FEES.demand_post);
    const id = hexToBytes(r.events[0]!.demand as string);
    expect(hex(id)).toBe(hex(opHash(hexToBytes(r.txId), 0)));
    const d = h.c.state.get<Demand>(K.demand(hex(id)))!;
    expect(d).toMatchObject({
      subscriber: 'alice',
      kind: 'data',
      countries: ['DE', 'AT'],
      networks: ['262-01'],
      maxPrice: 15n * UNIT,
      status: 'open',
      answers: 0,
    });
    const c = h.ok([{ type: 'demand_cancel', subscriber: 'alice', demand: id }]);
    expect(c.fee).toBe(FEES.demand_cancel);
    expect(h.c.state.get<Demand>(K.demand(hex(id)))!.status).toBe('cancelled');
    expect(h.bal('alice', 'UMT')).toBe(alice0 - FEES.demand_post - FEES.demand_cancel);
  });

  it('a non-subscriber ROLE_REQUIRED; over or malformed DEMAND_INVALID', () => {
    const h = new Harness();
    h.rejects([demandOp(h, { subscriber: 'carol' })], 'ROLE_REQUIRED');
    h.rejects([demandOp(h, { subscriber: 'op-de' })], 'ROLE_REQUIRED');
    h.rejects([demandOp(h, { startAt: 0n, endAt: h.time + 500n })], 'DEMAND_INVALID');
    h.rejects([demandOp(h, { endAt: h.time })], 'DEMAND_INVALID');
    h.rejects([demandOp(h, { countries: [], networks: [] })], 'DEMAND_INVALID');
    h.rejects([demandOp(h, { maxPrice: 0n })], 'AMOUNT_INVALID');
  });

  it('another subscriber cannot cancel it (SSC_NOT_PARTY); twice DEMAND_CLOSED; unknown DEMAND_UNKNOWN', () => {
    const h = new Harness();
    const r = h.ok([demandOp(h)]);
    const id = hexToBytes(r.events[0]!.demand as string);
    h.rejects([{ type: 'demand_cancel', subscriber: 'bob', demand: id }], 'SSC_NOT_PARTY');
    h.rejects(
      [{ type: 'demand_cancel', subscriber: 'alice', demand: new Uint8Array(32).fill(1) }],
      'DEMAND_UNKNOWN',
    );
    h.ok([{ type: 'demand_cancel', subscriber: 'alice', demand: id }]);
    h.rejects([{ type: 'demand_cancel', subscriber: 'alice', demand: id }], 'DEMAND_CLOSED');
  });
});
