/**
 * Operator rating and offer ranking (SPEC §3 "choosing an operator"): integer formula values,
 * filters, preferences, deterministic tie-break, explanations.
 */
import { bytesToHex, hexToBytes, type OfferTerms, type Operation, UNIT } from '@roamchain/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildGenesis,
  K,
  LedgerState,
  type OperatorStats,
  Overlay,
  operatorRating,
  type RankQuery,
  rankOffers,
  serviceSignal,
  TestChain,
} from '../src/index.js';
import { freshEphemeralKey } from '../src/testkit.js';

const GB = 1_000_000_000n;
const DAY = 86_400_000n;
const HOUR = 3_600_000n;
const hex = bytesToHex;

function statsState(stats: Record<string, Partial<OperatorStats>>): LedgerState {
  const s = new LedgerState();
  const o = new Overlay(s);
  for (const [op, st] of Object.entries(stats)) {
    o.put(K.stats(op), {
      contracts: 0,
      closed: 0,
      badService: 0,
      ratingSum: 0,
      ratingCount: 0,
      charged: 0n,
      ratingWeight: 0n,
      ratingScoreWeight: 0n,
      badServiceWeight: 0n,
      ...st,
    });
  }
  s.commit(o);
  return s;
}

describe('operatorRating', () => {
  it('computes the documented integer formula, weighted by the SDR paid', () => {
    const SDR = UNIT;
    const s = statsState({
      // One 5-star rating on a 1 SDR contract.
      one5: {
        ratingSum: 5,
        ratingCount: 1,
        closed: 1,
        charged: SDR,
        ratingWeight: SDR,
        ratingScoreWeight: 5n * SDR,
      },
      // 100 ratings averaging 4.5 on 10 SDR contracts (1,000 SDR paid).
      many: {
        ratingSum: 450,
        ratingCount: 100,
        closed: 100,
        charged: 1000n * SDR,
        ratingWeight: 1000n * SDR,
        ratingScoreWeight: 4500n * SDR,
      },
      // 50 of 150 SDR paid were on bad-service refunds.
      bad: { closed: 15, badService: 5, charged: 150n * SDR, badServiceWeight: 50n * SDR },
      // Bad service on contracts that paid nothing weighs nothing.
      unpaidBad: { closed: 20, badService: 20, charged: 0n, badServiceWeight: 0n },
      low: {
        ratingSum: 10,
        ratingCount: 10,
        closed: 10,
        charged: 100n * SDR,
        ratingWeight: 100n * SDR,
        ratingScoreWeight: 100n * SDR,
      },
    });
    // No history: the prior, 50 SDR at 3.5 stars: 7,000 bps.
    expect(operatorRating(s, 'newcomer')).toEqual({
      operator: 'newcomer',
      ratingBps: 7000,
      starsX100: 350,
      ratingCount: 0,
      contracts: 0,
      closed: 0,
      badService: 0,
      ratedWeight: '0',
      serviceBps: 10_000,
      service: 'new',
      servedShareBps: 10_000,
      opened30d: 0,
      provisioned30d: 0,
      failed30d: 0,
      meanProvisionMs30d: 0,
    });
    // One 5-star on 1 SDR: (5 x 2,000 + 50 x 7,000) / 51 = 7,058; stars (500 + 17,500) / 51 = 352.
    expect(operatorRating(s, 'one5')).toMatchObject({ ratingBps: 7058, starsX100: 352, ratingCount: 1 });
    // 1,000 SDR at 4.5: (4,500 x 2,000 + 350,000) / 1,050 = 8,904.
    expect(operatorRating(s, 'many')).toMatchObject({ ratingBps: 8904, starsX100: 445 });
    // bad = 50 x 10,000 / (150 + 50) = 2,500; 7,000 x 7,500 / 10,000 = 5,250.
    expect(operatorRating(s, 'bad').ratingBps).toBe(5250);
    expect(operatorRating(s, 'unpaidBad').ratingBps).toBe(7000);
    // 100 SDR at 1 star: (100 x 2,000 + 350,000) / 150 = 3,666.
    expect(operatorRating(s, 'low').ratingBps).toBe(3666);
    expect(operatorRating(s, 'one5').ratingBps).toBeLessThan(operatorRating(s, 'many').ratingBps);
  });
});

interface World {
  c: TestChain;
  ids: Record<string, string>;
  contractG: Uint8Array;
}

let W: World;

function offerTerms(c: TestChain, over: Partial<OfferTerms>): OfferTerms {
  return {
    title: 'offer',
    kind: 'data',
    category: '',
    countries: ['DE'],
    networks: [],
    technologies: ['4G', '5G'],
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
    capacity: 10,
    encryptionKey: new Uint8Array(32).fill(3),
    ...over,
  };
}

function buildWorld(): World {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'op-cheap', roles: ['operator'] },
      { name: 'op-good', roles: ['operator'] },
      { name: 'op-it', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'gateway', roles: ['gateway'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'node-1', roles: ['node_owner'] },
    ],
    umt: {
      'op-cheap': 100n * UNIT,
      'op-good': 100n * UNIT,
      'op-it': 100n * UNIT,
      'op-fr': 100n * UNIT,
      gateway: 10n * UNIT,
      alice: 10n * UNIT,
    },
  });
  const c = new TestChain(genesis, keys, { verifier: null });
  c.submit([{ type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 100n * UNIT, paymentRef: 'w' }]);
  const now = c.time;
  const specs: [string, string, Partial<OfferTerms>][] = [
    ['A', 'op-cheap', { price: 5n * UNIT, networks: ['262-01'] }],
    ['B', 'op-good', { price: 6n * UNIT, unitPrice: UNIT / 10n, networks: ['262-02'] }],
    ['C', 'op-good', { price: 4n * UNIT, countries: ['FR'] }],
    ['D', 'op-it', { price: 3n * UNIT, kind: 'voice', dataBytes: 0n, voiceSeconds: 3600n }],
    ['E', 'op-it', { price: 9n * UNIT, kind: 'bundle', dataBytes: 10n * GB }],
    ['F', 'op-good', { price: UNIT, validFrom: now + HOUR }],
    ['G', 'op-good', { price: 2n * UNIT, capacity: 1 }],
    ['H', 'op-cheap', { price: UNIT }],
    ['I', 'op-good', { price: UNIT, validUntil: now + HOUR, kind: 'other', category: 'music' }],
    ['J1', 'op-it', { price: 2n * UNIT, kind: 'sms', dataBytes: 0n, smsCount: 100 }],
    ['J2', 'op-it', { price: 2n * UNIT, kind: 'sms', dataBytes: 0n, smsCount: 100 }],
  ];
  const ids: Record<string, string> = {};
  for (const [label, operator, over] of specs) {
    const r = c.submit([
      { type: 'offer_publish', operator, terms: offerTerms(c, { title: label, ...over }) },
    ]);
    ids[label] = r.events[0]!.offer as string;
  }
  c.submit([{ type: 'offer_withdraw', operator: 'op-cheap', offer: hexToBytes(ids.H!) }]);
  const open = (label: string): Uint8Array => {
    const id = hexToBytes(ids[label]!);
    const price = c.state.get<{ terms: OfferTerms }>(K.offer(ids[label]!))!.terms.price;
    const r = c.submit([
      {
        type: 'request_open',
        issuer: 'op-fr',
        payer: 'alice',
        subscriber: 'alice',
        offer: id,
        prev: id,
        deposit: price,
        issuerFeeBps: 0,
        feeDeposit: 2000n,
        ephemeralKey: freshEphemeralKey(),
        payload: new Uint8Array(),
        stepTimeoutSec: 600,
        lifetimeSec: 86_400,
      },
    ]);
    return hexToBytes(r.events[0]!.contract as string);
  };
  const close = (cid: Uint8Array, bad: boolean, score: number) => {
    // Served and paid: the assignee charges the package price (ratings weigh what was paid).
    const ct = c.state.get<{ head: Uint8Array; assignee: string; price: bigint }>(K.contract(hex(cid)))!;
    c.submit([
      {
        type: 'charge',
        assignee: ct.assignee,
        contract: cid,
        prev: ct.head,
        record: {
          seq: 1,
          usageType: 'package',
          start: c.time,
          duration: 0,
          volumeUp: 0n,
          volumeDown: 0n,
          units: 1n,
          amount: ct.price,
        },
        sealed: new Uint8Array(),
      },
    ]);
    const head = c.state.get<{ head: Uint8Array }>(K.contract(hex(cid)))!.head;
    const ops: Operation[] = [
      { type: 'refund', by: 'alice', contract: cid, prev: head, badService: bad, reason: 0 },
      { type: 'rate', subscriber: 'alice', contract: cid, score },
    ];
    c.submit(ops);
  };
  for (let i = 0; i < 2; i++) {
    close(open('A'), true, 1);
    close(open('B'), false, 5);
  }
  const contractG = open('G');
  return { c, ids, contractG };
}

beforeAll(() => {
  W = buildWorld();
});

const labels = (q: RankQuery, now = W.c.time): string[] => {
  const byId = Object.fromEntries(Object.entries(W.ids).map(([k, v]) => [v, k]));
  return rankOffers(W.c.state, q, now).map((r) => byId[r.offerId]!);
};

describe('rankOffers', () => {
  it('operators earned the expected ratings on chain', () => {
    expect(operatorRating(W.c.state, 'op-cheap')).toMatchObject({
      // 10 SDR paid at 1 star, all of it on bad-service refunds: stars 3.7e11 / 6e7 = 6,166;
      // bad = 10 x 10,000 / 60 = 1,666; 6,166 x 8,334 / 10,000 = 5,138.
      ratingBps: 5138,
      closed: 2,
      badService: 2,
    });
    expect(operatorRating(W.c.state, 'op-good')).toMatchObject({ ratingBps: 7580, closed: 2, badService: 0 });
    expect(operatorRating(W.c.state, 'op-it').ratingBps).toBe(7000);
  });

  it("preference 'price' puts the cheap, badly rated offer first; 'quality' puts it last", () => {
    const q: RankQuery = { country: 'DE', kind: 'data' };
    const price = rankOffers(W.c.state, { ...q, preference: 'price' }, W.c.time);
    expect(price.map((r) => [r.offer.terms.title, r.score, r.priceScore, r.qualityScore])).toEqual([
      ['A', 9027, 10_000, 5138],
      ['B', 8182, 8333, 7580],
      ['E', 5844, 5555, 7000],
    ]);
    const quality = rankOffers(W.c.state, { ...q, preference: 'quality' }, W.c.time);
    expect(quality.map((r) => [r.offer.terms.title, r.score])).toEqual([
      ['B', 7730],
      ['E', 6711],
      ['A', 6110],
    ]);
    expect(labels({ ...q, preference: 'balanced' })).toEqual(['B', 'A', 'E']);
    expect(labels(q)).toEqual(['B', 'A', 'E']);
  });

  it('filters by country and network', () => {
    expect(labels({ country: 'FR' })).toEqual(['C']);
    expect(labels({ network: '262-01' })).toEqual(['A']);
    expect(labels({ network: '262-02' })).toEqual(['B']);
    expect(labels({ country: 'IT' })).toEqual([]);
    expect(new Set(labels({}))).toEqual(new Set(['A', 'B', 'C', 'D', 'E', 'I', 'J1', 'J2']));
  });

  it('filters by kind (a bundle serves data, voice and SMS)', () => {
    expect(new Set(labels({ country: 'DE', kind: 'voice' }))).toEqual(new Set(['D', 'E']));
    expect(new Set(labels({ country: 'DE', kind: 'sms' }))).toEqual(new Set(['J1', 'J2', 'E']));
    expect(labels({ country: 'DE', kind: 'bundle' })).toEqual(['E']);
    expect(labels({ country: 'DE', kind: 'other' })).toEqual(['I']);
  });

  it('filters by volume: beyond the package only per-MB offers serve, cost rounds up to whole MB', () => {
    const r = rankOffers(W.c.state, { country: 'DE', kind: 'data', volumeBytes: 5n * GB + 1n }, W.c.time);
    const cost = Object.fromEntries(r.map((x) => [x.offer.terms.title, x.cost]));
    // A has no unit price: out. B: 6 SDR + 1 MB x 0.1 SDR. E: 10 GB package.
    expect(cost).toEqual({ B: 6_100_000n, E: 9n * UNIT });
    const big = rankOffers(W.c.state, { country: 'DE', kind: 'data', volumeBytes: 7n * GB }, W.c.time);
    expect(Object.fromEntries(big.map((x) => [x.offer.terms.title, x.cost]))).toEqual({
      B: 206n * UNIT,
      E: 9n * UNIT,
    });
    expect(big[0]!.offer.terms.title).toBe('E');
  });

  it('filters by budget (inclusive)', () => {
    expect(labels({ country: 'DE', kind: 'data', budget: 6n * UNIT, preference: 'price' })).toEqual([
      'A',
      'B',
    ]);
    expect(labels({ country: 'DE', kind: 'data', budget: 6n * UNIT - 1n })).toEqual(['A']);
    expect(labels({ country: 'DE', kind: 'data', budget: 4n * UNIT })).toEqual([]);
  });

  it('filters by capacity, validity window and withdrawal', () => {
    const { c } = W;
    // G (capacity 1) has an open contract; F is not valid yet; I ends in an hour; H was withdrawn.
    const all = labels({ country: 'DE' });
    expect(all).not.toContain('G');
    expect(all).not.toContain('F');
    expect(all).not.toContain('H');
    expect(all).toContain('I');
    const later = labels({ country: 'DE' }, c.time + HOUR + 1n);
    expect(later).toContain('F');
    expect(later).not.toContain('I');
    // Closing G's contract frees its capacity (on a world of its own: W stays as it is).
    const w = buildWorld();
    const head = w.c.state.get<{ head: Uint8Array }>(K.contract(hex(w.contractG)))!.head;
    w.c.submit([
      { type: 'refund', by: 'op-good', contract: w.contractG, prev: head, badService: false, reason: 0 },
    ]);
    const titles = rankOffers(w.c.state, { country: 'DE' }, w.c.time).map((r) => r.offer.terms.title);
    expect(titles).toContain('G');
  });

  it('breaks ties deterministically by cost then offer id, and explains the ranking', () => {
    const sms = rankOffers(W.c.state, { country: 'DE', kind: 'sms' }, W.c.time);
    const j = sms.filter((r) => r.offer.terms.title.startsWith('J'));
    expect(j).toHaveLength(2);
    expect(j[0]!.score).toBe(j[1]!.score);
    expect(j[0]!.offerId < j[1]!.offerId).toBe(true);
    expect(sms.slice(0, 2).map((r) => r.offerId)).toEqual(j.map((r) => r.offerId));
    // Same answer every time.
    expect(rankOffers(W.c.state, { country: 'DE', kind: 'sms' }, W.c.time)).toEqual(sms);
    expect(rankOffers(W.c.state, { country: 'DE', kind: 'sms', limit: 1 }, W.c.time)).toEqual(
      sms.slice(0, 1),
    );

    const [top] = rankOffers(W.c.state, { country: 'DE', kind: 'data', preference: 'price' }, W.c.time);
    expect(top!.reasons).toHaveLength(4);
    expect(top!.reasons[0]).toBe('price 5 SDR: 100% of the best price');
    expect(top!.reasons[1]).toContain('operator op-cheap rated 3.08★ from 2 rating(s)');
    expect(top!.reasons[1]).toContain('2 bad-service refund(s) in 2 closed contract(s): quality 51.38%');
    expect(top!.reasons[2]).toBe('weights price 80% / quality 20% (price)');
    expect(top!.reasons[3]).toBe('4G/5G, 5 GB for 7 day(s)');
    const withVolume = rankOffers(W.c.state, { network: '262-02', volumeBytes: 2n * GB }, W.c.time);
    expect(withVolume[0]!.reasons[0]).toBe('price 6 SDR for 2 GB: 100% of the best price');
  });
});

describe('service signal (does the operator serve?)', () => {
  it('is neutral for a new operator, lowers one whose Requests time out, with a prior of 5', () => {
    const w = (provisioned: number, failed: number) => ({ opened: 0, provisioned, failed, delayMs: 0n });
    expect(serviceSignal(undefined)).toMatchObject({ serviceBps: 10_000, service: 'new' });
    // 50,000 / 8 = 6,250; 50,000 / 15 = 3,333.
    expect(serviceSignal(w(0, 3))).toMatchObject({
      serviceBps: 6250,
      service: 'unproven',
      servedShareBps: 0,
    });
    expect(serviceSignal(w(0, 10))).toMatchObject({ serviceBps: 3333, service: 'unproven' });
    // 10,000 x 23 / 25 = 9,200 (18 of 20 provisioned).
    expect(serviceSignal(w(18, 2))).toMatchObject({
      serviceBps: 9200,
      service: 'serving',
      servedShareBps: 9000,
    });
    expect(serviceSignal(w(1, 4))).toMatchObject({ serviceBps: 6000, service: 'failing' });
    // The stars are separate from it: stats alone leave the service neutral.
    const s = statsState({ stuck10: { contracts: 12, closed: 10, ratingSum: 50, ratingCount: 10 } });
    expect(operatorRating(s, 'stuck10')).toMatchObject({
      ratingBps: 7000,
      serviceBps: 10_000,
      service: 'new',
    });
  });

  it('ranks an operator that never served below a dearer one that does, and says why', () => {
    const { genesis, keys } = buildGenesis({
      accounts: [
        { name: 'op-stuck', roles: ['operator'] },
        { name: 'op-serves', roles: ['operator'] },
        { name: 'op-fr', roles: ['operator'] },
        { name: 'gateway', roles: ['gateway'] },
        { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
        { name: 'node-1', roles: ['node_owner'] },
      ],
      umt: {
        'op-stuck': 100n * UNIT,
        'op-serves': 100n * UNIT,
        'op-fr': 100n * UNIT,
        gateway: 10n * UNIT,
        alice: 10n * UNIT,
      },
    });
    const c = new TestChain(genesis, keys, { verifier: null });
    c.submit([{ type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 100n * UNIT, paymentRef: 'w' }]);
    const publish = (operator: string, price: bigint) =>
      c.submit([{ type: 'offer_publish', operator, terms: offerTerms(c, { title: operator, price }) }])
        .events[0]!.offer as string;
    const stuck = publish('op-stuck', 4n * UNIT);
    publish('op-serves', 5n * UNIT);
    const ranked = () => rankOffers(c.state, { country: 'DE', preference: 'balanced' }, c.time);
    expect(ranked()[0]!.offer.operator).toBe('op-stuck'); // cheaper, both new
    // Three travellers buy from op-stuck; it never provisions; each takes the deposit back.
    for (let i = 0; i < 3; i++) {
      const id = hexToBytes(stuck);
      const r = c.submit([
        {
          type: 'request_open',
          issuer: 'op-fr',
          payer: 'alice',
          subscriber: 'alice',
          offer: id,
          prev: id,
          deposit: 4n * UNIT,
          issuerFeeBps: 0,
          feeDeposit: 100_000n,
          ephemeralKey: freshEphemeralKey(),
          payload: new Uint8Array(),
          stepTimeoutSec: 600,
          lifetimeSec: 86_400,
        },
      ]);
      const cid = hexToBytes(r.events[0]!.contract as string);
      const head = c.state.get<{ head: Uint8Array }>(K.contract(hex(cid)))!.head;
      c.submit([{ type: 'refund', by: 'alice', contract: cid, prev: head, badService: false, reason: 0 }]);
    }
    // Each Request fails when its step timeout has passed without a Provision (refunded or not).
    expect(ranked()[0]!.offer.operator).toBe('op-stuck');
    c.block([], { time: c.time + 601_000n });
    const after = ranked();
    expect(after.map((r) => r.offer.operator)).toEqual(['op-serves', 'op-stuck']);
    expect(after[1]!.rating).toMatchObject({
      service: 'unproven',
      serviceBps: 6250,
      closed: 3,
      failed30d: 3,
    });
    expect(after[1]!.reasons.join(' ')).toContain('provisioned 0 of 3 Request(s) within their step timeout');
  });
});
