/**
 * Replay: a validator that applies a producer's blocks with applyBlock reaches the same state
 * root at every height; a tampered block is rejected and leaves the replica exactly as it was.
 */
import {
  type Block,
  type BlockHeader,
  blockId,
  bytesToHex,
  hexToBytes,
  nobleVerifier,
  type Operation,
  RoamError,
  stringifySafe,
  type TxEnvelope,
  UNIT,
} from '@roamchain/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  applyBlock,
  buildGenesis,
  type Contract,
  genesisState,
  K,
  type LedgerState,
  Overlay,
  rankOffers,
  supplyReport,
  TestChain,
} from '../src/index.js';
import { freshEphemeralKey } from '../src/testkit.js';

const GB = 1_000_000_000n;
const DAY = 86_400_000n;
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

interface Scenario {
  c: TestChain;
  /** Root after each height (index = height; 0 = genesis). */
  roots: string[];
}

/** A chain exercising every kind of transition, with multi-transaction and empty blocks. */
function scenario(): Scenario {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'op-de', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'gateway', roles: ['gateway'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'bob', roles: ['subscriber'], homeOperator: 'op-de' },
      { name: 'node-1', roles: ['node_owner'] },
    ],
    umt: {
      'op-de': 1000n * UNIT,
      'op-fr': 1000n * UNIT,
      gateway: 100n * UNIT,
      alice: 10n * UNIT,
      bob: 10n * UNIT,
    },
  });
  const c = new TestChain(genesis, keys, { verifier: null });
  const roots = [hex(c.state.root())];
  const step = (envs: TxEnvelope[], time?: bigint) => {
    c.block(envs, time !== undefined ? { time } : {});
    roots.push(hex(c.state.root()));
  };
  const one = (ops: Operation[], time?: bigint) => step([c.tx(ops)], time);
  const terms = (price: bigint, countries: string[]) => ({
    title: `offer ${price}`,
    kind: 'data' as const,
    category: '',
    countries,
    networks: [],
    technologies: ['5G'],
    dataBytes: 5n * GB,
    voiceSeconds: 0n,
    smsCount: 0,
    durationSec: 7 * 86_400,
    price,
    unitPrice: UNIT / 10n,
    unit: 'mb' as const,
    activation: 'on_provision' as const,
    validFrom: 0n,
    validUntil: c.time + 30n * DAY,
    capacity: 5,
    encryptionKey: keys.get('op-de')!.encryption.publicKey,
  });
  step([
    c.tx([{ type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 100n * UNIT, paymentRef: 'w-1' }]),
    c.tx([{ type: 'sdr_issue', gateway: 'gateway', to: 'bob', amount: 100n * UNIT, paymentRef: 'w-2' }]),
  ]);
  one([
    { type: 'offer_publish', operator: 'op-de', terms: terms(10n * UNIT, ['DE']) },
    { type: 'offer_publish', operator: 'op-fr', terms: terms(8n * UNIT, ['FR', 'DE']) },
  ]);
  const offers = [...c.state.entries<{ id: Uint8Array; operator: string }>('offer/')];
  const offerOf = (op: string) => offers.find(([, o]) => o.operator === op)![1].id;
  const de = offerOf('op-de');
  const fr = offerOf('op-fr');
  step([]);
  const req = (offer: Uint8Array, issuer: string, sub: string, lifetimeSec: number): Operation => ({
    type: 'request_open',
    issuer,
    payer: sub,
    subscriber: sub,
    offer,
    prev: offer,
    deposit: 20n * UNIT,
    issuerFeeBps: 150,
    feeDeposit: UNIT,
    ephemeralKey: freshEphemeralKey(),
    payload: new Uint8Array([1]),
    stepTimeoutSec: 300,
    lifetimeSec,
  });
  step([c.tx([req(de, 'op-fr', 'alice', 3600)]), c.tx([req(fr, 'op-de', 'bob', 600)])]);
  const contracts = [...c.state.entries<Contract>('ssc/')].map(([, v]) => v);
  const ca = contracts.find((x) => x.subscriber === 'alice')!;
  const cb = contracts.find((x) => x.subscriber === 'bob')!;
  const head = (x: Contract) => c.state.get<Contract>(K.contract(hex(x.id)))!.head;
  const charge = (x: Contract, assignee: string, seq: number, amount: bigint): Operation => ({
    type: 'charge',
    assignee,
    contract: x.id,
    prev: head(x),
    record: {
      seq,
      usageType: 'data',
      start: 0n,
      duration: 60,
      volumeUp: 1n,
      volumeDown: GB,
      units: 1000n,
      amount,
    },
    sealed: new Uint8Array([7, 7]),
  });
  one([charge(ca, 'op-de', 1, 3n * UNIT)]);
  one([charge(ca, 'op-de', 2, 2n * UNIT)]);
  one([charge(cb, 'op-fr', 1, 5n * UNIT)]);
  one([{ type: 'refund', by: 'alice', contract: ca.id, prev: head(ca), badService: true, reason: 3 }]);
  one([{ type: 'rate', subscriber: 'alice', contract: ca.id, score: 2 }]);
  one([{ type: 'offer_replace', operator: 'op-de', offer: de, terms: terms(12n * UNIT, ['DE', 'AT']) }]);
  one([
    {
      type: 'demand_post',
      subscriber: 'bob',
      kind: 'data',
      countries: ['IT'],
      networks: [],
      dataBytes: GB,
      startAt: 0n,
      endAt: c.time + DAY,
      maxPrice: 9n * UNIT,
      note: 'Rome',
    },
  ]);
  one([{ type: 'transfer', from: 'alice', to: 'bob', token: 'SDR', amount: 1n, memo: new Uint8Array([1]) }]);
  // bob's contract reaches its end of life and is settled by the chain in an empty block.
  step([], cb.expiresAt);
  one([{ type: 'offer_withdraw', operator: 'op-fr', offer: fr }]);
  one([
    { type: 'sdr_issue', gateway: 'gateway', to: 'gateway', amount: 5n * UNIT, paymentRef: 'w-3' },
    { type: 'sdr_burn', gateway: 'gateway', amount: 2n * UNIT, redemptionRef: 'r-0' },
  ]);
  return { c, roots };
}

let S: Scenario;
beforeAll(() => {
  S = scenario();
});

function replica(c: TestChain): { state: LedgerState; head: Uint8Array } {
  const g = genesisState(c.genesis);
  return { state: g.state, head: g.chainId };
}

function applyUpTo(r: { state: LedgerState; head: Uint8Array }, c: TestChain, n: number): void {
  for (let i = 0; i < n; i++) {
    const { block, envelopes } = c.blocks[i]!;
    applyBlock(r.state, block, envelopes, r.head, { verifier: nobleVerifier });
    r.head = blockId(block.header);
  }
}

const snapshot = (s: LedgerState): string =>
  stringifySafe([...s.entries('')].sort(([a], [b]) => (a < b ? -1 : 1)));

function tamper(block: Block, h: Partial<BlockHeader>): Block {
  return { ...block, header: { ...block.header, ...h } };
}

describe('replay with applyBlock', () => {
  it('reaches identical state roots at every height', () => {
    const { c, roots } = S;
    expect(c.blocks.length).toBeGreaterThanOrEqual(15);
    expect(c.blocks.some((b) => b.envelopes.length > 1)).toBe(true);
    const r = replica(c);
    expect(hex(r.state.root())).toBe(roots[0]);
    c.blocks.forEach(({ block, envelopes }, i) => {
      const res = applyBlock(r.state, block, envelopes, r.head, { verifier: nobleVerifier });
      r.head = blockId(block.header);
      expect(hex(res.stateRoot)).toBe(roots[i + 1]);
      expect(hex(r.state.root())).toBe(hex(block.header.stateRoot));
      expect(r.state.meta.height).toBe(block.header.height);
    });
    expect(hex(r.head)).toBe(hex(c.headId));
    expect(snapshot(r.state)).toBe(snapshot(c.state));
    // The chain-settled contract and the offer index agree too.
    expect(rankOffers(r.state, { country: 'DE' }, c.time)).toEqual(
      rankOffers(c.state, { country: 'DE' }, c.time),
    );
    expect(supplyReport(r.state).problems).toEqual([]);
  });

  it('a tampered stateRoot is BLOCK_BAD_STATE_ROOT and the replica is rolled back exactly', () => {
    const { c } = S;
    // Tamper with each block in turn: every kind of transition must roll back cleanly.
    const r = replica(c);
    for (let i = 0; i < c.blocks.length; i++) {
      const { block, envelopes } = c.blocks[i]!;
      const root = hex(r.state.root());
      const snap = snapshot(r.state);
      const offers = [...r.state.offers.all()].sort();
      const bad = Uint8Array.from(block.header.stateRoot);
      bad[0]! ^= 0xff;
      const e = catchErr(() =>
        applyBlock(r.state, tamper(block, { stateRoot: bad }), envelopes, r.head, { verifier: null }),
      );
      expect(e.code).toBe('BLOCK_BAD_STATE_ROOT');
      expect(hex(r.state.root())).toBe(root);
      expect(snapshot(r.state)).toBe(snap);
      expect([...r.state.offers.all()].sort()).toEqual(offers);
      applyBlock(r.state, block, envelopes, r.head, { verifier: null });
      r.head = blockId(block.header);
    }
    expect(hex(r.state.root())).toBe(hex(c.state.root()));
  });

  it('a tampered txRoot is BLOCK_BAD_TX_ROOT; so are reordered transactions', () => {
    const { c } = S;
    const r = replica(c);
    const i = c.blocks.findIndex((b) => b.envelopes.length > 1);
    applyUpTo(r, c, i);
    const root = hex(r.state.root());
    const { block, envelopes } = c.blocks[i]!;
    const e1 = catchErr(() =>
      applyBlock(r.state, tamper(block, { txRoot: new Uint8Array(32).fill(1) }), envelopes, r.head, {
        verifier: null,
      }),
    );
    expect(e1.code).toBe('BLOCK_BAD_TX_ROOT');
    const e2 = catchErr(() =>
      applyBlock(r.state, block, [...envelopes].reverse(), r.head, { verifier: null }),
    );
    expect(e2.code).toBe('BLOCK_BAD_TX_ROOT');
    const e3 = catchErr(() => applyBlock(r.state, block, envelopes.slice(1), r.head, { verifier: null }));
    expect(e3.code).toBe('BLOCK_INVALID');
    expect(hex(r.state.root())).toBe(root);
  });

  it('wrong prev is BLOCK_BAD_PREV; the same block twice too', () => {
    const { c } = S;
    const r = replica(c);
    applyUpTo(r, c, 3);
    const root = hex(r.state.root());
    const { block, envelopes } = c.blocks[3]!;
    const e = catchErr(() =>
      applyBlock(r.state, tamper(block, { prev: new Uint8Array(32).fill(2) }), envelopes, r.head, {
        verifier: null,
      }),
    );
    expect(e.code).toBe('BLOCK_BAD_PREV');
    // Skipping a block: its prev is not our head.
    const { block: b4, envelopes: e4 } = c.blocks[4]!;
    expect(catchErr(() => applyBlock(r.state, b4, e4, r.head, { verifier: null })).code).toBe(
      'BLOCK_BAD_PREV',
    );
    expect(hex(r.state.root())).toBe(root);
    applyBlock(r.state, block, envelopes, r.head, { verifier: null });
    const head = r.head;
    r.head = blockId(block.header);
    const root4 = hex(r.state.root());
    expect(catchErr(() => applyBlock(r.state, block, envelopes, r.head, { verifier: null })).code).toBe(
      'BLOCK_BAD_PREV',
    );
    // Even if the caller passes the old head, the height no longer fits.
    expect(catchErr(() => applyBlock(r.state, block, envelopes, head, { verifier: null })).code).toBe(
      'BLOCK_BAD_HEIGHT',
    );
    expect(hex(r.state.root())).toBe(root4);
  });

  it('other header tampering: height, time, producer, chain id', () => {
    const { c } = S;
    const r = replica(c);
    applyUpTo(r, c, 1);
    const root = hex(r.state.root());
    const { block, envelopes } = c.blocks[1]!;
    expect(envelopes.length).toBeGreaterThan(0);
    const code = (h: Partial<BlockHeader>) =>
      catchErr(() => applyBlock(r.state, tamper(block, h), envelopes, r.head, { verifier: null })).code;
    expect(code({ height: block.header.height + 1n })).toBe('BLOCK_BAD_HEIGHT');
    expect(code({ time: r.state.meta.time })).toBe('BLOCK_BAD_TIME');
    expect(code({ producer: 'nobody' })).toBe('BLOCK_BAD_PRODUCER');
    // Another (known) producer would get the fees: a different root.
    expect(code({ producer: 'op-de' })).toBe('BLOCK_BAD_STATE_ROOT');
    expect(code({ time: block.header.time + 1n })).toBe('BLOCK_BAD_STATE_ROOT');
    expect(code({ chainId: new Uint8Array(32) })).toBe('BLOCK_INVALID');
    expect(hex(r.state.root())).toBe(root);
  });

  it('a block with a transaction whose signature was replaced is BLOCK_INVALID (SIG_INVALID) for a verifying replica', () => {
    const { c } = S;
    const r = replica(c);
    const i = c.blocks.findIndex((b) => b.envelopes.length > 0);
    applyUpTo(r, c, i);
    const root = hex(r.state.root());
    const { block, envelopes } = c.blocks[i]!;
    const env = envelopes[0]!;
    const sigs = env.tx.signatures.map((s) => {
      const x = Uint8Array.from(s);
      x[0]! ^= 1;
      return x;
    });
    const forged: TxEnvelope = { ...env, tx: { ...env.tx, signatures: sigs } };
    const e = catchErr(() =>
      applyBlock(r.state, block, [forged, ...envelopes.slice(1)], r.head, { verifier: nobleVerifier }),
    );
    expect(e.code).toBe('BLOCK_INVALID');
    expect(e.details).toMatchObject({ txIndex: 0, txCode: 'SIG_INVALID' });
    expect(hex(r.state.root())).toBe(root);
    expect(hexToBytes(root)).toHaveLength(32);
  });

  it('a commit that cannot encode one of its writes throws and changes nothing (all or nothing)', () => {
    // Found by this test: LedgerState.commit encodes and applies key by key in sorted order, so a
    // value that fails to encode leaves every earlier key of the block applied (meta, balances,
    // fees) with no undo record: the in-memory state no longer matches any block.
    const { state } = genesisState(S.c.genesis);
    const root = hex(state.root());
    const snap = snapshot(state);
    const o = new Overlay(state);
    o.put(K.balance('bounty', 'UMT'), 5n);
    o.put(K.balance('zzz-not-encodable', 'UMT'), 2n ** 64n);
    expect(() => state.commit(o)).toThrow(RoamError);
    expect(hex(state.root())).toBe(root);
    expect(snapshot(state)).toBe(snap);
  });
});
