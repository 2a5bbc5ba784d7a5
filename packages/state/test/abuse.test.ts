/**
 * Abuse rules of the state machine (issue 12, items 5 and 6), each attack performed and asserted
 * refused with its typed code and no state change: rating sabotage without service, a Request whose
 * fee deposit cannot pay a step, demand floods, answers bought or seen by another subscriber, answers
 * outliving their demand.
 */
import {
  bytesToHex,
  hexToBytes,
  type OfferTerms,
  type Operation,
  type RoamError,
  UNIT,
} from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import { buildGenesis, K, operatorRating, rankOffers, TestChain } from '../src/index.js';
import { freshEphemeralKey } from '../src/testkit.js';

const GB = 1_000_000_000n;
const DAY = 86_400_000n;
const hex = bytesToHex;

function world() {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'op-de', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'gateway', roles: ['gateway'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'bob', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'node-1', roles: ['node_owner'] },
    ],
    umt: {
      'op-de': 100n * UNIT,
      'op-fr': 100n * UNIT,
      gateway: 10n * UNIT,
      alice: 10n * UNIT,
      bob: 10n * UNIT,
    },
  });
  const c = new TestChain(genesis, keys, { verifier: null });
  c.submit([
    { type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 500n * UNIT, paymentRef: 'a' },
    { type: 'sdr_issue', gateway: 'gateway', to: 'bob', amount: 500n * UNIT, paymentRef: 'b' },
  ]);
  const terms = (over: Partial<OfferTerms> = {}): OfferTerms => ({
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
    capacity: 1000,
    encryptionKey: new Uint8Array(32).fill(3),
    ...over,
  });
  const publish = (over: Partial<OfferTerms> = {}, demand?: Uint8Array) =>
    hexToBytes(
      c.submit([
        { type: 'offer_publish', operator: 'op-de', terms: terms(over), ...(demand ? { demand } : {}) },
      ]).events[0]!.offer as string,
    );
  const request = (offer: Uint8Array, over: Record<string, unknown> = {}): Operation =>
    ({
      type: 'request_open',
      issuer: 'op-fr',
      payer: 'alice',
      subscriber: 'alice',
      offer,
      prev: offer,
      deposit: 2n * UNIT,
      issuerFeeBps: 0,
      feeDeposit: 100_000n,
      ephemeralKey: freshEphemeralKey(),
      payload: new Uint8Array(),
      stepTimeoutSec: 600,
      lifetimeSec: 86_400,
      ...over,
    }) as Operation;
  const head = (cid: Uint8Array) => c.state.get<{ head: Uint8Array }>(K.contract(hex(cid)))!.head;
  const demand = (subscriber: string, endAt: bigint): Operation => ({
    type: 'demand_post',
    subscriber,
    kind: 'data',
    countries: ['DE'],
    networks: [],
    dataBytes: GB,
    startAt: 0n,
    endAt,
    maxPrice: 10n * UNIT,
    note: '',
  });
  /** Submits and expects the typed refusal with the state root unchanged. */
  const refused = (ops: Operation[], code: string, opts: { signer?: string } = {}) => {
    const root = hex(c.state.root());
    let err: RoamError | undefined;
    try {
      c.submit(
        ops,
        opts.signer ? { signers: { [opts.signer]: c.keys.get(opts.signer)!.signing.secretKey } } : {},
      );
    } catch (e) {
      err = e as RoamError;
    }
    expect(err?.code, String(err)).toBe(code);
    expect(hex(c.state.root())).toBe(root);
  };
  return { c, terms, publish, request, head, demand, refused };
}

describe('ratings cost something to move', () => {
  it('Request → bad-service refund → 1-star rating, with no service, moves nothing (20 times)', () => {
    const w = world();
    const offer = w.publish();
    const before = operatorRating(w.c.state, 'op-de');
    for (let i = 0; i < 20; i++) {
      const cid = hexToBytes(w.c.submit([w.request(offer)]).events[0]!.contract as string);
      w.c.submit([
        { type: 'refund', by: 'alice', contract: cid, prev: w.head(cid), badService: true, reason: 0 },
      ]);
      w.refused([{ type: 'rate', subscriber: 'alice', contract: cid, score: 1 }], 'RATE_NOT_SERVED');
    }
    const after = operatorRating(w.c.state, 'op-de');
    expect(after.ratingBps).toBe(before.ratingBps);
    expect(after).toMatchObject({ ratingBps: 7000, badService: 0, ratingCount: 0, closed: 20 });
  });

  it('a served contract counts, weighted by what was paid', () => {
    const w = world();
    const offer = w.publish({ price: 25n * UNIT });
    const cid = hexToBytes(
      w.c.submit([w.request(offer, { deposit: 25n * UNIT })]).events[0]!.contract as string,
    );
    w.c.submit([
      {
        type: 'charge',
        assignee: 'op-de',
        contract: cid,
        prev: w.head(cid),
        record: {
          seq: 1,
          usageType: 'package',
          start: w.c.time,
          duration: 0,
          volumeUp: 0n,
          volumeDown: 0n,
          units: 1n,
          amount: 25n * UNIT,
        },
        sealed: new Uint8Array(),
      },
    ]);
    w.c.submit([
      { type: 'refund', by: 'alice', contract: cid, prev: w.head(cid), badService: true, reason: 0 },
    ]);
    w.c.submit([{ type: 'rate', subscriber: 'alice', contract: cid, score: 1 }]);
    // 25 SDR at 1 star against the 50 SDR prior: stars (25 x 2,000 + 50 x 7,000) / 75 = 5,333;
    // bad = 25 x 10,000 / 75 = 3,333; 5,333 x 6,667 / 10,000 = 3,555.
    expect(operatorRating(w.c.state, 'op-de')).toMatchObject({
      ratingBps: 3555,
      badService: 1,
      ratingCount: 1,
      ratedWeight: (25n * UNIT).toString(),
    });
  });

  it('a Request whose fee deposit cannot pay a provision and a charge is refused', () => {
    const w = world();
    const offer = w.publish();
    w.refused([w.request(offer, { feeDeposit: 0n })], 'SSC_FEE_DEPOSIT_LOW');
    w.refused([w.request(offer, { feeDeposit: 1999n })], 'SSC_FEE_DEPOSIT_LOW');
    w.c.submit([w.request(offer, { feeDeposit: 2000n })]);
  });
});

describe('demands are bounded', () => {
  it('a demand lives at most maxDemandLifetimeSec; a subscriber has at most maxOpenDemandsPerSubscriber', () => {
    const w = world();
    const p = w.c.state.get<{ maxDemandLifetimeSec: number; maxOpenDemandsPerSubscriber: number }>(K.params)!;
    // The year 3000.
    w.refused([w.demand('alice', 32_503_680_000_000n)], 'DEMAND_INVALID');
    w.refused(
      [w.demand('alice', w.c.time + BigInt(p.maxDemandLifetimeSec) * 1000n + 10_000n)],
      'DEMAND_INVALID',
    );
    const ids: Uint8Array[] = [];
    for (let i = 0; i < p.maxOpenDemandsPerSubscriber; i++)
      ids.push(hexToBytes(w.c.submit([w.demand('alice', w.c.time + DAY)]).events[0]!.demand as string));
    w.refused([w.demand('alice', w.c.time + DAY)], 'DEMAND_LIMIT');
    // 16 in one transaction: refused whole.
    w.refused(
      Array.from({ length: 16 }, () => w.demand('bob', w.c.time + DAY)),
      'DEMAND_LIMIT',
    );
    // A cancelled or expired demand frees its place.
    w.c.submit([{ type: 'demand_cancel', subscriber: 'alice', demand: ids[0]! }]);
    w.c.submit([w.demand('alice', w.c.time + DAY)]);
    w.c.block([], { time: w.c.time + DAY + 1000n });
    w.c.submit([w.demand('alice', w.c.time + DAY)]);
  });

  it('an answer lives no longer than its demand and is bought and ranked only for its subscriber', () => {
    const w = world();
    const end = w.c.time + DAY;
    const dem = hexToBytes(w.c.submit([w.demand('alice', end)]).events[0]!.demand as string);
    const endAt = w.c.state.get<{ endAt: bigint }>(K.demand(hex(dem)))!.endAt;
    w.refused(
      [
        {
          type: 'offer_publish',
          operator: 'op-de',
          terms: w.terms({ validUntil: 32_503_680_000_000n }),
          demand: dem,
        },
      ],
      'OFFER_INVALID',
    );
    const answer = w.publish({ validUntil: endAt, price: UNIT / 2n }, dem);
    // Nor can a replace stretch it.
    w.refused(
      [
        {
          type: 'offer_replace',
          operator: 'op-de',
          offer: answer,
          terms: w.terms({ validUntil: endAt + 1n }),
        },
      ],
      'OFFER_INVALID',
    );
    const plain = w.publish();
    const now = w.c.time;
    const ids = (sub?: string) =>
      rankOffers(w.c.state, { country: 'DE', ...(sub ? { subscriber: sub } : {}) }, now).map(
        (r) => r.offerId,
      );
    expect(ids()).toEqual([hex(plain)]);
    expect(ids('bob')).toEqual([hex(plain)]);
    expect(ids('alice')).toContain(hex(answer));
    // bob (not the demand's subscriber) cannot buy it; alice can.
    w.refused([w.request(answer, { payer: 'bob', subscriber: 'bob' })], 'OFFER_RESERVED');
    w.c.submit([w.request(answer)]);
  });
});
