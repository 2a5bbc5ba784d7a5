/**
 * End of life (SPEC §3, "expiry"): a contract nobody closes is settled by the chain exactly as a
 * Refund would, once, in the first block at or after its expiresAt, found through the time-bucketed
 * index (never a scan).
 */
import { bytesToHex, hexToBytes, type Operation, type OpOf, type Token, UNIT } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  buildGenesis,
  type Contract,
  EXPIRY_QUEUE,
  K,
  type LedgerEvent,
  type OperatorStats,
  supplyReport,
  TestChain,
} from '../src/index.js';
import { freshEphemeralKey } from '../src/testkit.js';

const GB = 1_000_000_000n;
const DAY = 86_400_000n;
const hex = bytesToHex;

interface World {
  c: TestChain;
  offer: Uint8Array;
  bal(n: string, t: Token): bigint;
  contract(id: Uint8Array): Contract;
  request(over?: Partial<OpOf<'request_open'>>): OpOf<'request_open'>;
  charge(cid: Uint8Array, amount: bigint): Operation;
}

function world(): World {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'op-de', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'gateway', roles: ['gateway'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'node-1', roles: ['node_owner'] },
    ],
    umt: { 'op-de': 1000n * UNIT, 'op-fr': 1000n * UNIT, gateway: 100n * UNIT, alice: 10n * UNIT },
  });
  const c = new TestChain(genesis, keys, { verifier: null });
  c.submit([{ type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 50n * UNIT, paymentRef: 'w-1' }]);
  c.submit([{ type: 'sdr_issue', gateway: 'gateway', to: 'op-fr', amount: 100n * UNIT, paymentRef: 'w-2' }]);
  const r = c.submit([
    {
      type: 'offer_publish',
      operator: 'op-de',
      terms: {
        title: 'DE 5 GB',
        kind: 'data',
        category: '',
        countries: ['DE'],
        networks: [],
        technologies: ['5G'],
        dataBytes: 5n * GB,
        voiceSeconds: 0n,
        smsCount: 0,
        durationSec: 7 * 86_400,
        price: UNIT,
        unitPrice: 0n,
        unit: 'mb',
        activation: 'on_provision',
        validFrom: 0n,
        validUntil: c.time + 30n * DAY,
        capacity: 200,
        encryptionKey: keys.get('op-de')!.encryption.publicKey,
      },
    },
  ]);
  const offer = hexToBytes(r.events[0]!.offer as string);
  const contract = (id: Uint8Array) => c.state.get<Contract>(K.contract(hex(id)))!;
  return {
    c,
    offer,
    bal: (n, t) => c.state.get<bigint>(K.balance(n, t)) ?? 0n,
    contract,
    request: (over = {}) => ({
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
      payload: new Uint8Array([9]),
      stepTimeoutSec: 300,
      lifetimeSec: 300,
      ...over,
    }),
    charge: (cid, amount) => ({
      type: 'charge',
      assignee: 'op-de',
      contract: cid,
      prev: contract(cid).head,
      record: {
        seq: contract(cid).chargeCount + 1,
        usageType: 'data',
        start: 0n,
        duration: 0,
        volumeUp: 0n,
        volumeDown: GB,
        units: 0n,
        amount,
      },
      sealed: new Uint8Array(),
    }),
  };
}

/** Next whole second strictly after the head's time. */
const nextSecond = (c: TestChain): bigint => (c.time / 1000n + 1n) * 1000n;

const settledEvents = (events: LedgerEvent[]) => events.filter((e) => e.type === 'contract_settled');

/** Opens a contract at a whole-second block time, charges 3 and 4 SDR; returns its id. */
function openAndCharge(w: World): Uint8Array {
  const r = w.c.submit([w.request()], { time: nextSecond(w.c) });
  const cid = hexToBytes(r.events[0]!.contract as string);
  w.c.submit([w.charge(cid, 3n * UNIT)]);
  w.c.submit([w.charge(cid, 4n * UNIT)]);
  return cid;
}

describe('expiry settlement', () => {
  it('a contract nobody closes is settled by the chain like a Refund, at its end of life, once', () => {
    const w = world();
    const { c } = w;
    const cid = openAndCharge(w);
    const ct0 = w.contract(cid);
    const exp = ct0.expiresAt;
    expect(exp % 1000n).toBe(0n);
    const bucketKey = K.queueCount(EXPIRY_QUEUE, bucketOf(exp));
    expect(c.state.get(bucketKey)).toBe(1);
    const alice0 = w.bal('alice', 'SDR');
    const frUmt0 = w.bal('op-fr', 'UMT');
    const feeLeft = ct0.feeDeposit;
    expect(feeLeft).toBe(UNIT - 2n * c.genesis.params.fees.charge);

    // Just before the end of life nothing happens.
    const before = c.block([], { time: exp - 1n });
    expect(settledEvents(before.result.endEvents)).toEqual([]);
    expect(w.contract(cid).status).toBe('open');

    const at = c.block([], { time: exp });
    const ev = settledEvents(at.result.endEvents);
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({
      type: 'contract_settled',
      contract: hex(cid),
      by: 'chain',
      badService: false,
      reason: 0,
      assignee: 'op-de',
      issuer: 'op-fr',
      payer: 'alice',
      subscriber: 'alice',
      toAssignee: 7n * UNIT,
      toIssuer: 140_000n,
      toPayer: 12_860_000n,
      feeReturned: feeLeft,
    });
    const ct = w.contract(cid);
    expect(ct).toMatchObject({
      status: 'closed',
      closedBy: '',
      closedAt: exp,
      badService: false,
      paidAssignee: 7n * UNIT,
      paidIssuer: 140_000n,
      paidPayer: 12_860_000n,
      feeReturned: feeLeft,
      feeDeposit: 0n,
    });
    expect(hex(ct.head)).toBe(hex(ct0.head));
    expect(w.bal('op-de', 'SDR')).toBe(7n * UNIT);
    expect(w.bal('op-fr', 'SDR')).toBe(100n * UNIT + 140_000n);
    expect(w.bal('alice', 'SDR')).toBe(alice0 + 12_860_000n);
    expect(w.bal('op-fr', 'UMT')).toBe(frUmt0 + feeLeft);
    expect(c.state.get(bucketKey)).toBeUndefined();
    expect(c.state.get(K.queueChunk(EXPIRY_QUEUE, bucketOf(exp), 0))).toBeUndefined();
    expect(c.state.get<{ openContracts: number }>(K.offer(hex(w.offer)))!.openContracts).toBe(0);
    expect(c.state.get<OperatorStats>(K.stats('op-de'))).toMatchObject({ closed: 1, charged: 7n * UNIT });
    expect(supplyReport(c.state).problems).toEqual([]);

    // Long after: blocks still apply, nothing is settled twice.
    const root = hex(c.state.root());
    const later = c.block([], { time: exp + 2n * DAY });
    expect(settledEvents(later.result.endEvents)).toEqual([]);
    expect(hex(c.state.root())).not.toBe(root); // meta moved
    expect(w.contract(cid)).toEqual(ct);
    expect(w.bal('alice', 'SDR')).toBe(alice0 + 12_860_000n);
    expect(c.state.get<OperatorStats>(K.stats('op-de'))!.closed).toBe(1);
    // A settled contract can be rated, but takes no more transitions.
    c.submit([{ type: 'rate', subscriber: 'alice', contract: cid, score: 2 }]);
    expect(w.contract(cid).score).toBe(2);
  });

  it('pays exactly what a Refund at the same moment pays (less the refund fee on the fee deposit)', () => {
    const a = world();
    const b = world();
    const ca = openAndCharge(a);
    const cb = openAndCharge(b);
    const exp = a.contract(ca).expiresAt;
    expect(b.contract(cb).expiresAt).toBe(exp);
    a.c.block([], { time: exp });
    b.c.submit(
      [
        {
          type: 'refund',
          by: 'alice',
          contract: cb,
          prev: b.contract(cb).head,
          badService: false,
          reason: 0,
        },
      ],
      {
        time: exp,
      },
    );
    const x = a.contract(ca);
    const y = b.contract(cb);
    expect([x.paidAssignee, x.paidIssuer, x.paidPayer]).toEqual([y.paidAssignee, y.paidIssuer, y.paidPayer]);
    expect(x.feeReturned - y.feeReturned).toBe(a.c.genesis.params.fees.refund);
    for (const n of ['alice', 'op-de', 'op-fr']) expect(a.bal(n, 'SDR')).toBe(b.bal(n, 'SDR'));
    expect([x.closedBy, y.closedBy]).toEqual(['', 'alice']);
  });

  it('a contract refunded before its end of life is not settled again; nor is one refunded in the expiry block', () => {
    const w = world();
    const { c } = w;
    const c1 = openAndCharge(w);
    const r = c.submit([w.request()]);
    const c2 = hexToBytes(r.events[0]!.contract as string);
    c.submit([
      { type: 'refund', by: 'op-de', contract: c1, prev: w.contract(c1).head, badService: false, reason: 1 },
    ]);
    const closed1 = w.contract(c1);
    const exp2 = w.contract(c2).expiresAt;
    // c2 is refunded inside the block that reaches its end of life: the block-end pass skips it.
    const alice0 = w.bal('alice', 'SDR');
    const { result } = c.block(
      [
        c.tx([
          {
            type: 'refund',
            by: 'alice',
            contract: c2,
            prev: w.contract(c2).head,
            badService: true,
            reason: 2,
          },
        ]),
      ],
      { time: exp2 },
    );
    expect(settledEvents(result.endEvents)).toEqual([]);
    expect(settledEvents(result.receipts[0]!.events)).toHaveLength(1);
    expect(w.contract(c2).closedBy).toBe('alice');
    expect(w.bal('alice', 'SDR')).toBe(alice0 + 20n * UNIT);
    expect(w.contract(c1)).toEqual(closed1);
    // c2 was never provisioned nor charged: its bad-service refund does not count against op-de.
    expect(c.state.get<OperatorStats>(K.stats('op-de'))).toMatchObject({ closed: 2, badService: 0 });
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('settles a contract without charges: the payer gets the whole deposit back', () => {
    const w = world();
    const r = w.c.submit([w.request({ feeDeposit: 2000n })], { time: nextSecond(w.c) });
    const cid = hexToBytes(r.events[0]!.contract as string);
    const alice0 = w.bal('alice', 'SDR');
    w.c.block([], { time: w.contract(cid).expiresAt + 5_000n });
    expect(w.contract(cid)).toMatchObject({
      status: 'closed',
      closedBy: '',
      paidPayer: 20n * UNIT,
      paidAssignee: 0n,
    });
    expect(w.bal('alice', 'SDR')).toBe(alice0 + 20n * UNIT);
  });

  it('settles more contracts than one queue chunk holds, all due in one block', () => {
    const w = world();
    const { c } = w;
    const time = nextSecond(c);
    const key = { 'op-fr': c.keys.get('op-fr')!.signing.secretKey };
    const ops = Array.from({ length: 14 }, () =>
      w.request({ payer: 'op-fr', deposit: UNIT, issuerFeeBps: 0, feeDeposit: 2000n }),
    );
    const envs = Array.from({ length: 5 }, (_, i) =>
      c.tx(
        ops.map((o) => ({ ...o, ephemeralKey: freshEphemeralKey() })),
        { signers: key, expiration: c.time + 600_000n + BigInt(i) },
      ),
    );
    const { result } = c.block(envs, { time });
    const ids = result.receipts.flatMap((r) => r.events.map((e) => hexToBytes(e.contract as string)));
    expect(ids).toHaveLength(70);
    const exp = w.contract(ids[0]!).expiresAt;
    expect(c.state.get(K.queueCount(EXPIRY_QUEUE, bucketOf(exp)))).toBe(70);
    expect(c.state.get<Uint8Array[]>(K.queueChunk(EXPIRY_QUEUE, bucketOf(exp), 1))).toHaveLength(6);
    expect(w.bal('op-fr', 'SDR')).toBe(30n * UNIT);
    const end = c.block([], { time: exp });
    expect(settledEvents(end.result.endEvents)).toHaveLength(70);
    for (const id of ids) expect(w.contract(id).status).toBe('closed');
    expect(w.bal('op-fr', 'SDR')).toBe(100n * UNIT);
    expect(c.state.get(K.queueChunk(EXPIRY_QUEUE, bucketOf(exp), 1))).toBeUndefined();
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('the first block at or after expiresAt settles it, also when expiresAt is not on a whole second', () => {
    // Buckets are whole seconds; the current second's bucket must still be drained for what is due,
    // or a contract past its lifetime (charges fail SSC_EXPIRED) would stay open for up to 999 ms.
    const w = world();
    const { c } = w;
    const r = c.submit([w.request()], { time: nextSecond(c) + 500n });
    const cid = hexToBytes(r.events[0]!.contract as string);
    const exp = w.contract(cid).expiresAt;
    expect(exp % 1000n).toBe(500n);
    c.block([], { time: exp - 1n });
    expect(w.contract(cid).status).toBe('open');
    let code = '';
    try {
      c.block([c.tx([w.charge(cid, UNIT)])], { time: exp + 100n });
    } catch (e) {
      code = (e as { code?: string }).code ?? String(e);
    }
    expect(code).toBe('SSC_EXPIRED');
    const { result } = c.block([], { time: exp + 100n });
    expect(settledEvents(result.endEvents)).toHaveLength(1);
    expect(w.contract(cid).status).toBe('closed');
  });

  it('two contracts due in the same second: each is settled by the first block at or after its own time', () => {
    const w = world();
    const { c } = w;
    const t0 = nextSecond(c);
    const a = hexToBytes(c.submit([w.request()], { time: t0 + 300n }).events[0]!.contract as string);
    const b = hexToBytes(c.submit([w.request()], { time: t0 + 800n }).events[0]!.contract as string);
    const [ea, eb] = [w.contract(a).expiresAt, w.contract(b).expiresAt];
    expect(eb - ea).toBe(500n);
    expect(ea / 1000n).toBe(eb / 1000n);
    c.block([], { time: ea - 1n });
    expect([w.contract(a).status, w.contract(b).status]).toEqual(['open', 'open']);
    const first = c.block([], { time: ea + 200n });
    expect(settledEvents(first.result.endEvents).map((e) => e.contract)).toEqual([hex(a)]);
    expect([w.contract(a).status, w.contract(b).status]).toEqual(['closed', 'open']);
    // b is still charged normally until its own end of life.
    c.submit([w.charge(b, UNIT)], { time: eb - 1n });
    const second = c.block([], { time: eb });
    expect(settledEvents(second.result.endEvents).map((e) => e.contract)).toEqual([hex(b)]);
    expect(w.contract(b)).toMatchObject({ status: 'closed', closedBy: '', paidAssignee: UNIT });
    expect(settledEvents(c.block([], { time: eb + 5_000n }).result.endEvents)).toEqual([]);
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('a block a year after its parent settles what is due once, reading per hour, not per second', () => {
    const w = world();
    const { c } = w;
    const r = c.submit([w.request({ lifetimeSec: 10 * 86_400 })]);
    const cid = hexToBytes(r.events[0]!.contract as string);
    const state = c.state;
    const get = state.get.bind(state);
    let reads = 0;
    state.get = <T>(key: string): T | undefined => {
      reads++;
      return get<T>(key);
    };
    let settled: LedgerEvent[];
    try {
      settled = settledEvents(c.block([], { time: c.time + 365n * DAY }).result.endEvents);
    } finally {
      state.get = get;
    }
    expect(settled).toHaveLength(1);
    expect(w.contract(cid).status).toBe('closed');
    // A per-second walk would read ~63 million keys; per hour it is ~2 x 8,760 plus the busy hours.
    expect(reads).toBeLessThan(40_000);
    expect(settledEvents(c.block([], { time: c.time + DAY }).result.endEvents)).toEqual([]);
    expect(supplyReport(c.state).problems).toEqual([]);
  });
});
