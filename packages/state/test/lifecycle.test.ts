import { bytesToHex, type Operation, RoamError, UNIT } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import { buildGenesis, type Contract, K, supplyReport, TestChain } from '../src/index.js';
import { freshEphemeralKey } from '../src/testkit.js';

const GB = 1_000_000_000n;

function setup() {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'op-de', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'gateway', roles: ['gateway'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'node-1', roles: ['node_owner'] },
    ],
    umt: { 'op-de': 1000n * UNIT, 'op-fr': 1000n * UNIT, gateway: 100n * UNIT },
  });
  return new TestChain(genesis, keys);
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RoamError) return e.code;
    throw e;
  }
  return 'OK';
}

describe('full contract lifecycle', () => {
  it('genesis, SDR issued, offer, request, three charges, refund', () => {
    const c = setup();
    const enc = c.keys.get('op-de')!.encryption.publicKey;
    c.submit([
      { type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 50n * UNIT, paymentRef: 'wire-0001' },
    ]);
    const terms = {
      title: 'DE 5 GB / 7 days',
      kind: 'data',
      category: '',
      countries: ['DE'],
      networks: ['262-01'],
      technologies: ['4G', '5G'],
      dataBytes: 5n * GB,
      voiceSeconds: 0n,
      smsCount: 0,
      durationSec: 7 * 86400,
      price: 10n * UNIT,
      unitPrice: 2n * UNIT,
      unit: 'mb',
      activation: 'on_provision',
      validFrom: 0n,
      validUntil: c.time + 30n * 86_400_000n,
      capacity: 100,
      encryptionKey: enc,
    } as const;
    const r1 = c.submit([
      {
        type: 'offer_publish',
        operator: 'op-de',
        terms: {
          ...terms,
          countries: [...terms.countries],
          networks: [...terms.networks],
          technologies: [...terms.technologies],
        },
      },
    ]);
    const offerId = r1.events[0]!.offer as string;
    const req: Operation = {
      type: 'request_open',
      issuer: 'op-fr',
      payer: 'alice',
      subscriber: 'alice',
      offer: Uint8Array.from(Buffer.from(offerId, 'hex')),
      prev: Uint8Array.from(Buffer.from(offerId, 'hex')),
      deposit: 20n * UNIT,
      issuerFeeBps: 200,
      feeDeposit: 1n * UNIT,
      ephemeralKey: freshEphemeralKey(),
      payload: new Uint8Array([1, 2, 3]),
      stepTimeoutSec: 3600,
      lifetimeSec: 7 * 86400,
    };
    const r2 = c.submit([req]);
    const cid = r2.events[0]!.contract as string;
    const contract = () => c.state.get<Contract>(K.contract(cid))!;
    const charge = (seq: number, amount: bigint): Operation => ({
      type: 'charge',
      assignee: 'op-de',
      contract: contract().id,
      prev: contract().head,
      record: {
        seq,
        usageType: 'data',
        start: c.time,
        duration: 60,
        volumeUp: 1000n,
        volumeDown: GB,
        units: 1000n,
        amount,
      },
      sealed: new Uint8Array(),
    });
    c.submit([charge(1, 3n * UNIT)]);
    c.submit([charge(2, 3n * UNIT)]);
    c.submit([charge(3, 4n * UNIT)]);
    expect(codeOf(() => c.submit([charge(4, 10n * UNIT)]))).toBe('SSC_OVERCHARGE');
    const aliceBefore = c.state.get<bigint>(K.balance('alice', 'SDR'));
    expect(aliceBefore).toBe(30n * UNIT);
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
    expect(contract().status).toBe('closed');
    // 10 SDR charged, 2% issuer fee = 0.2 SDR, change 9.8 SDR back to alice.
    expect(c.state.get<bigint>(K.balance('op-de', 'SDR'))).toBe(10n * UNIT);
    expect(c.state.get<bigint>(K.balance('op-fr', 'SDR'))).toBe(200_000n);
    expect(c.state.get<bigint>(K.balance('alice', 'SDR'))).toBe(30n * UNIT + 9_800_000n);
    expect(supplyReport(c.state).problems).toEqual([]);
    expect(bytesToHex(c.state.root())).toHaveLength(64);
  });
});
