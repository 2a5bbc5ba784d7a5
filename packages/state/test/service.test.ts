/**
 * The measured service signal (service.ts, rating.ts `serviceSignal`, docs/RATING.md): per operator
 * and day counters of Requests opened, provisioned in time and timed out, over a 30-day window that
 * rolls and is pruned at block end; a new operator is neutral; deterministic.
 */
import { bytesToHex, hexToBytes, type Operation, UNIT } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  buildGenesis,
  K,
  operatorRating,
  rankOffers,
  SERVICE_DAY_MS,
  SK,
  serviceDayOf,
  serviceSignal,
  TestChain,
} from '../src/index.js';
import { freshEphemeralKey } from '../src/testkit.js';

const DAY = SERVICE_DAY_MS;
const TIMEOUT_SEC = 600;

function world(ephemeral: () => Uint8Array = freshEphemeralKey) {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'op-a', roles: ['operator'] },
      { name: 'op-b', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'gateway', roles: ['gateway'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'node-1', roles: ['node_owner'] },
    ],
    umt: {
      'op-a': 100n * UNIT,
      'op-b': 100n * UNIT,
      'op-fr': 1000n * UNIT,
      gateway: 10n * UNIT,
      alice: 10n * UNIT,
    },
  });
  const c = new TestChain(genesis, keys, { verifier: null });
  c.submit([{ type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 10_000n * UNIT, paymentRef: 'w' }]);
  const publish = (operator: string, price: bigint) =>
    c.submit([
      {
        type: 'offer_publish',
        operator,
        terms: {
          title: operator,
          kind: 'data',
          category: '',
          countries: ['DE'],
          networks: [],
          technologies: ['4G'],
          dataBytes: 1_000_000_000n,
          voiceSeconds: 0n,
          smsCount: 0,
          durationSec: 7 * 86_400,
          price,
          unitPrice: 0n,
          unit: 'mb',
          activation: 'on_provision',
          validFrom: 0n,
          validUntil: c.time + 400n * DAY,
          capacity: 1000,
          encryptionKey: new Uint8Array(32).fill(3),
        },
      },
    ]).events[0]!.offer as string;
  const offers = { 'op-a': publish('op-a', 4n * UNIT), 'op-b': publish('op-b', 5n * UNIT) };
  /** Before a tx at `time`: an empty block just before it (a tx expires 10 min after the head's time). */
  const move = (time: bigint | undefined) => {
    if (time !== undefined && time > c.time + 60_000n) c.block([], { time: time - 1n });
  };
  /** alice opens a Request on `operator`'s offer; returns the contract id. */
  const open = (operator: 'op-a' | 'op-b', time?: bigint): Uint8Array => {
    const id = hexToBytes(offers[operator]);
    const op: Operation = {
      type: 'request_open',
      issuer: 'op-fr',
      payer: 'alice',
      subscriber: 'alice',
      offer: id,
      prev: id,
      deposit: 5n * UNIT,
      issuerFeeBps: 0,
      feeDeposit: 100_000n,
      ephemeralKey: ephemeral(),
      payload: new Uint8Array(),
      stepTimeoutSec: TIMEOUT_SEC,
      lifetimeSec: 86_400,
    };
    move(time);
    const r = c.submit([op], time !== undefined ? { time } : {});
    return hexToBytes(r.events[0]!.contract as string);
  };
  const provision = (operator: string, cid: Uint8Array, time?: bigint) => {
    const head = c.state.get<{ head: Uint8Array }>(K.contract(bytesToHex(cid)))!.head;
    move(time);
    c.submit(
      [
        {
          type: 'provision',
          assignee: operator,
          contract: cid,
          prev: head,
          iccidHash: new Uint8Array(32).fill(1),
          forRequester: new Uint8Array([1]),
          forIssuer: new Uint8Array([1]),
          forSubscriber: new Uint8Array(),
        },
      ],
      time !== undefined ? { time } : {},
    );
  };
  const charge = (operator: string, cid: Uint8Array) => {
    const head = c.state.get<{ head: Uint8Array }>(K.contract(bytesToHex(cid)))!.head;
    c.submit([
      {
        type: 'charge',
        assignee: operator,
        contract: cid,
        prev: head,
        record: {
          seq: 1,
          usageType: 'data',
          start: c.time,
          duration: 60,
          volumeUp: 1000n,
          volumeDown: 1000n,
          units: 1n,
          amount: 1000n,
        },
        sealed: new Uint8Array(),
      },
    ]);
  };
  /** An empty block at `time`. */
  const at = (time: bigint) => c.block([], { time });
  return { c, open, provision, charge, at };
}

describe('service window (does the operator serve?)', () => {
  it('is neutral for a new operator; a Request within its timeout counts neither way', () => {
    expect(serviceSignal(undefined)).toMatchObject({
      serviceBps: 10_000,
      service: 'new',
      servedShareBps: 10_000,
    });
    const w = world();
    w.open('op-a');
    expect(operatorRating(w.c.state, 'op-a')).toMatchObject({
      serviceBps: 10_000,
      service: 'new',
      opened30d: 1,
      provisioned30d: 0,
      failed30d: 0,
      meanProvisionMs30d: 0,
    });
  });

  it('counts provisioned Requests and their mean delay, and timed-out ones as failures', () => {
    const w = world();
    const t0 = w.c.time + 1000n;
    const a = w.open('op-a', t0);
    w.provision('op-a', a, t0 + 2000n);
    const b = w.open('op-a', t0 + 3000n);
    w.provision('op-a', b, t0 + 7000n);
    w.open('op-a', t0 + 8000n);
    const c = w.open('op-a', t0 + 9000n);
    // One ms before the third Request's timeout it is still pending.
    w.at(t0 + 8000n + BigInt(TIMEOUT_SEC) * 1000n - 1n);
    expect(operatorRating(w.c.state, 'op-a')).toMatchObject({
      provisioned30d: 2,
      failed30d: 0,
      service: 'serving',
    });
    // A Provision after the timeout is refused, and the Request fails at the first block past it.
    expect(() => w.provision('op-a', c, t0 + 9000n + BigInt(TIMEOUT_SEC) * 1000n + 1n)).toThrow(
      /SSC_TIMEOUT|timeout/,
    );
    w.at(t0 + 10_000n + BigInt(TIMEOUT_SEC) * 1000n);
    const r = operatorRating(w.c.state, 'op-a');
    expect(r).toMatchObject({
      opened30d: 4,
      provisioned30d: 2,
      failed30d: 2,
      meanProvisionMs30d: 3000, // (2,000 + 4,000) / 2
      servedShareBps: 5000,
      serviceBps: 7777, // 10,000 x (5 + 2) / (5 + 4)
      service: 'serving',
    });
  });

  it('counts a Charge before any Provision as the first step, once', () => {
    const w = world();
    const a = w.open('op-b');
    w.charge('op-b', a);
    w.provision('op-b', a);
    w.at(w.c.time + BigInt(TIMEOUT_SEC) * 1000n + 1000n);
    expect(operatorRating(w.c.state, 'op-b')).toMatchObject({
      provisioned30d: 1,
      failed30d: 0,
      service: 'serving',
    });
  });

  it('drops an operator that served and then stopped, rolls after 30 days and prunes by the day index', () => {
    const w = world();
    const day0 = serviceDayOf(w.c.time) + 1n;
    const t0 = day0 * DAY + 1000n;
    // Day 0: three Requests provisioned in 1 s each.
    for (let i = 0n; i < 3n; i++) {
      const cid = w.open('op-a', t0 + i * 10_000n);
      w.provision('op-a', cid, t0 + i * 10_000n + 1000n);
    }
    const rank = () => rankOffers(w.c.state, { country: 'DE' }, w.c.time).map((r) => r.offer.operator);
    expect(operatorRating(w.c.state, 'op-a')).toMatchObject({ service: 'serving', serviceBps: 10_000 });
    expect(rank()).toEqual(['op-a', 'op-b']); // cheaper, both serving or new
    // Days 1..10: it stops; one Request a day times out.
    for (let d = 1n; d <= 10n; d++) w.open('op-a', (day0 + d) * DAY + 1000n);
    w.at((day0 + 11n) * DAY);
    // 10,000 x (5 + 3) / (5 + 13) = 4,444.
    const stopped = operatorRating(w.c.state, 'op-a');
    expect(stopped).toMatchObject({ provisioned30d: 3, failed30d: 10, serviceBps: 4444, service: 'failing' });
    expect(rank()).toEqual(['op-b', 'op-a']);
    const why = rankOffers(w.c.state, { country: 'DE' }, w.c.time).find((r) => r.offer.operator === 'op-a')!;
    expect(why.reasons[1]).toContain(
      'provisioned 3 of 13 Request(s) within their step timeout in the last 30 days in 1 s on average',
    );
    expect(why.reasons[1]).toContain('not rated yet');
    // Day 29 still holds day 0; day 30 rolls it out (its record and index are deleted).
    w.at((day0 + 29n) * DAY);
    expect(operatorRating(w.c.state, 'op-a').provisioned30d).toBe(3);
    expect(w.c.state.get(SK.day('op-a', day0))).toBeDefined();
    w.at((day0 + 30n) * DAY);
    expect(w.c.state.get(SK.day('op-a', day0))).toBeUndefined();
    expect(w.c.state.get(SK.index(day0))).toBeUndefined();
    // 10,000 x 5 / (5 + 10) = 3,333: only failures left in the window.
    expect(operatorRating(w.c.state, 'op-a')).toMatchObject({
      opened30d: 10,
      provisioned30d: 0,
      failed30d: 10,
      serviceBps: 3333,
      servedShareBps: 0,
      service: 'unproven',
    });
    // A long gap: everything leaves the window; the operator is back to neutral, nothing is kept.
    w.at((day0 + 100n) * DAY);
    expect(operatorRating(w.c.state, 'op-a')).toMatchObject({
      service: 'new',
      serviceBps: 10_000,
      opened30d: 0,
    });
    expect(w.c.state.get(SK.window('op-a'))).toBeUndefined();
    for (let d = 0n; d <= 12n; d++) expect(w.c.state.get(SK.day('op-a', day0 + d))).toBeUndefined();
    expect(w.c.state.get(SK.cursor)).toBe(day0 + 71n);
  });

  it('is deterministic: the same blocks give the same state roots', () => {
    const keys = Array.from({ length: 4 }, () => freshEphemeralKey());
    const run = () => {
      let i = 0;
      const w = world(() => keys[i++]!);
      const t0 = (serviceDayOf(w.c.time) + 1n) * DAY;
      const a = w.open('op-a', t0);
      w.provision('op-a', a, t0 + 1500n);
      w.open('op-b', t0 + 2000n);
      w.open('op-a', t0 + 3000n);
      return [
        w.at(t0 + DAY).result.stateRoot,
        operatorRating(w.c.state, 'op-a'),
        operatorRating(w.c.state, 'op-b'),
      ];
    };
    const [x, y] = [run(), run()];
    expect(y).toEqual(x);
    expect(x[2]).toMatchObject({ failed30d: 1, service: 'unproven' });
  });
});
