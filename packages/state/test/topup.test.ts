/**
 * Contract top-up and offer pause (docs/CONTRACT.md): every refusal path, each leaving the state
 * unchanged, and the effects of the accepted operations.
 */
import { bytesToHex, hexToBytes, type Operation, RoamError, UNIT, validateOp } from '@roamchain/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  buildGenesis,
  type Contract,
  K,
  type Offer,
  rankOffers,
  supplyReport,
  TestChain,
} from '../src/index.js';
import { freshEphemeralKey } from '../src/testkit.js';

const GB = 1_000_000_000n;
const DAY = 86_400_000n;

function setup() {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'op-de', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'op-it', roles: ['operator'] },
      { name: 'gateway', roles: ['gateway'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'bob', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'node-1', roles: ['node_owner'] },
    ],
    umt: { 'op-de': 1000n * UNIT, 'op-fr': 1000n * UNIT, 'op-it': 10n * UNIT, gateway: 100n * UNIT },
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

function terms(c: TestChain, over: Partial<Record<string, unknown>> = {}) {
  return {
    title: 'DE 5 GB / 7 days',
    kind: 'data' as const,
    category: '',
    countries: ['DE'],
    networks: ['262-01'],
    technologies: ['4G'],
    dataBytes: 5n * GB,
    voiceSeconds: 0n,
    smsCount: 0,
    durationSec: 7 * 86400,
    price: 10n * UNIT,
    unitPrice: 1n * UNIT,
    unit: 'mb' as const,
    activation: 'on_provision' as const,
    validFrom: 0n,
    validUntil: c.time + 30n * DAY,
    capacity: 100,
    encryptionKey: c.keys.get('op-de')!.encryption.publicKey,
    ...over,
  };
}

let c: TestChain;
let offerId: string;
let cid: string;
const contract = () => c.state.get<Contract>(K.contract(cid))!;
const offer = () => c.state.get<Offer>(K.offer(offerId))!;
const sdr = (n: string) => c.state.get<bigint>(K.balance(n, 'SDR')) ?? 0n;
const umt = (n: string) => c.state.get<bigint>(K.balance(n, 'UMT')) ?? 0n;

function publish(over: Partial<Record<string, unknown>> = {}): string {
  const r = c.submit([{ type: 'offer_publish', operator: 'op-de', terms: terms(c, over) } as Operation]);
  return r.events[0]!.offer as string;
}

function open(offer: string, subscriber = 'alice', lifetimeSec = 7 * 86400): string {
  const o = c.state.get<Offer>(K.offer(offer))!;
  const r = c.submit([
    {
      type: 'request_open',
      issuer: 'op-fr',
      payer: subscriber,
      subscriber,
      offer: o.id,
      prev: o.version,
      deposit: 20n * UNIT,
      issuerFeeBps: 200,
      feeDeposit: 1n * UNIT,
      ephemeralKey: freshEphemeralKey(),
      payload: new Uint8Array(0),
      stepTimeoutSec: Math.min(3600, lifetimeSec),
      lifetimeSec,
    },
  ]);
  return r.events.find((e) => e.type === 'contract_opened')!.contract as string;
}

function topup(over: Partial<Operation & { type: 'contract_topup' }> = {}): Operation {
  return {
    type: 'contract_topup',
    issuer: 'op-fr',
    payer: 'alice',
    contract: hexToBytes(cid),
    prev: contract().head,
    amount: 15n * UNIT,
    feeDeposit: 0n,
    ...over,
  } as Operation;
}

/** The operation is refused with `code` and the state root does not move. */
function refused(ops: Operation[], code: string, opts: Parameters<TestChain['submit']>[1] = {}): void {
  const before = bytesToHex(c.state.root());
  const o = opts.time !== undefined ? { expiration: opts.time + 600_000n, ...opts } : opts;
  expect(codeOf(() => c.submit(ops, o))).toBe(code);
  expect(bytesToHex(c.state.root())).toBe(before);
}

beforeEach(() => {
  c = setup();
  c.submit([{ type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 50n * UNIT, paymentRef: 'w-1' }]);
  c.submit([{ type: 'sdr_issue', gateway: 'gateway', to: 'bob', amount: 50n * UNIT, paymentRef: 'w-2' }]);
  offerId = publish();
  cid = open(offerId);
});

describe('contract top-up', () => {
  it('adds the deposit, debits the payer, moves the head; later charges use it; refund returns the rest', () => {
    const head = contract().head;
    const fr = umt('op-fr');
    const r = c.submit([topup({ feeDeposit: 2n * UNIT })]);
    expect(r.events.find((e) => e.type === 'contract_topped_up')).toMatchObject({
      contract: cid,
      amount: 15n * UNIT,
      deposit: 35n * UNIT,
      payer: 'alice',
      issuer: 'op-fr',
    });
    expect(contract().deposit).toBe(35n * UNIT);
    expect(contract().feeDeposit).toBe(3n * UNIT);
    expect(sdr('alice')).toBe(15n * UNIT);
    expect(umt('op-fr')).toBe(fr - 2n * UNIT - c.genesis.params.fees.contract_topup);
    expect(bytesToHex(contract().head)).not.toBe(bytesToHex(head));
    // 30 SDR + 2 % fee fits the topped-up deposit (it did not fit 20).
    c.submit([
      {
        type: 'charge',
        assignee: 'op-de',
        contract: contract().id,
        prev: contract().head,
        record: {
          seq: 1,
          usageType: 'data',
          start: c.time,
          duration: 60,
          volumeUp: 0n,
          volumeDown: GB,
          units: 1000n,
          amount: 30n * UNIT,
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
        reason: 1,
      },
    ]);
    expect(contract().paidPayer).toBe(35n * UNIT - 30n * UNIT - (30n * UNIT * 200n) / 10_000n);
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('a zero or oversized amount is refused statelessly (AMOUNT_INVALID)', () => {
    expect(codeOf(() => validateOp(topup({ amount: 0n })))).toBe('AMOUNT_INVALID');
    expect(codeOf(() => validateOp(topup({ amount: 10n ** 15n + 1n })))).toBe('AMOUNT_INVALID');
    expect(codeOf(() => validateOp(topup({ feeDeposit: 10n ** 15n + 1n })))).toBe('AMOUNT_INVALID');
    refused([topup({ amount: 0n })], 'AMOUNT_INVALID');
  });

  it('needs the payer’s signature, not only the issuer’s (SIG_MISSING)', () => {
    refused([topup()], 'SIG_MISSING', { signers: { 'op-fr': c.keys.get('op-fr')!.signing.secretKey } });
  });

  it('an unknown contract is refused (SSC_UNKNOWN)', () => {
    refused([topup({ contract: new Uint8Array(32).fill(7) })], 'SSC_UNKNOWN');
  });

  it('only the contract issuer and payer top up (SSC_NOT_PARTY)', () => {
    refused([topup({ issuer: 'op-de' })], 'SSC_NOT_PARTY');
    refused([topup({ payer: 'bob' })], 'SSC_NOT_PARTY');
  });

  it('a closed contract is refused (SSC_CLOSED)', () => {
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
    refused([topup()], 'SSC_CLOSED');
  });

  it('a stale head is refused (SSC_NOT_HEAD)', () => {
    const stale = contract().head;
    c.submit([topup()]);
    refused([topup({ prev: stale })], 'SSC_NOT_HEAD');
  });

  it('after the lifetime (SSC_EXPIRED) and after the step timeout (SSC_TIMEOUT)', () => {
    // Step timeout 3600 s: one hour and a bit later the assignee has let it pass.
    refused([topup()], 'SSC_TIMEOUT', { time: c.time + 3_601_000n });
    const short = publish({ title: 'short' });
    cid = open(short, 'alice', 300);
    refused([topup()], 'SSC_EXPIRED', { time: c.time + 301_000n });
  });

  it('a paused offer (OFFER_PAUSED), a withdrawn one or one past its validity (OFFER_INACTIVE)', () => {
    c.submit([{ type: 'offer_pause', operator: 'op-de', offer: offer().id, paused: true }]);
    refused([topup()], 'OFFER_PAUSED');
    c.submit([{ type: 'offer_withdraw', operator: 'op-de', offer: offer().id }]);
    refused([topup()], 'OFFER_INACTIVE');
    const brief = publish({ title: 'brief', validUntil: c.time + 60_000n });
    cid = open(brief);
    refused([topup()], 'OFFER_INACTIVE', { time: c.time + 61_000n });
  });

  it('an issuer no longer an operator is refused (ROLE_REQUIRED)', () => {
    // The operators vote op-fr out (more than 2/3 of op-de, op-fr, op-it).
    const r = c.submit([
      {
        type: 'proposal_create',
        proposer: 'op-de',
        action: {
          kind: 'remove',
          account: 'op-fr',
          role: 'operator',
          displayName: '',
          networks: [],
          param: '',
          value: 0n,
          version: 0,
        },
        deadline: c.time + 600_000n,
        note: '',
      },
    ]);
    const proposal = hexToBytes(r.events.find((e) => e.type === 'proposal_created')!.proposal as string);
    c.submit([
      { type: 'proposal_vote', voter: 'op-it', proposal, approve: true },
      { type: 'proposal_vote', voter: 'op-fr', proposal, approve: true },
    ]);
    expect(c.state.get<{ roles: string[] }>(K.account('op-fr'))!.roles).not.toContain('operator');
    refused([topup()], 'ROLE_REQUIRED');
  });

  it('less than one unit plus the issuer fee is refused (SSC_DEPOSIT_LOW)', () => {
    // unit price 1 SDR + 2 % = 1.02 SDR
    refused([topup({ amount: 1n * UNIT })], 'SSC_DEPOSIT_LOW');
    expect(codeOf(() => c.submit([topup({ amount: 1_020_000n })]))).toBe('OK');
  });

  it('a deposit above the bound is refused (AMOUNT_INVALID)', () => {
    refused([topup({ amount: 10n ** 15n })], 'AMOUNT_INVALID');
  });

  it('the payer’s SDR and the issuer’s UMT must cover it (BALANCE_LOW)', () => {
    refused([topup({ amount: 31n * UNIT })], 'BALANCE_LOW');
    refused([topup({ feeDeposit: 10_000n * UNIT })], 'BALANCE_LOW');
  });
});

describe('offer pause', () => {
  const pause = (paused: boolean, over: Record<string, unknown> = {}): Operation =>
    ({ type: 'offer_pause', operator: 'op-de', offer: offer().id, paused, ...over }) as Operation;

  it('a paused offer cannot be bought nor ranked; resumed, it sells again', () => {
    c.submit([pause(true)]);
    expect(offer().status).toBe('paused');
    expect(codeOf(() => open(offerId, 'bob'))).toBe('OFFER_PAUSED');
    expect(rankOffers(c.state, { country: 'DE' }, c.time).map((r) => r.offerId)).not.toContain(offerId);
    c.submit([pause(false)]);
    expect(offer().status).toBe('active');
    expect(codeOf(() => open(offerId, 'bob'))).toBe('OK');
    expect(offer().openContracts).toBe(2);
  });

  it('a paused offer can be edited (stays paused) and withdrawn', () => {
    c.submit([pause(true)]);
    c.submit([
      {
        type: 'offer_replace',
        operator: 'op-de',
        offer: offer().id,
        terms: terms(c, { price: 9n * UNIT }),
      } as Operation,
    ]);
    expect(offer().status).toBe('paused');
    expect(offer().terms.price).toBe(9n * UNIT);
    c.submit([{ type: 'offer_withdraw', operator: 'op-de', offer: offer().id }]);
    expect(offer().status).toBe('withdrawn');
  });

  it('refusals: unknown, not the owner, withdrawn, already paused, not paused', () => {
    refused([pause(true, { offer: new Uint8Array(32).fill(9) })], 'OFFER_UNKNOWN');
    refused([pause(true, { operator: 'op-it' })], 'OFFER_NOT_OWNER');
    refused([pause(false)], 'OFFER_PAUSE_STATE');
    c.submit([pause(true)]);
    refused([pause(true)], 'OFFER_PAUSE_STATE');
    c.submit([{ type: 'offer_withdraw', operator: 'op-de', offer: offer().id }]);
    refused([pause(false)], 'OFFER_INACTIVE');
  });

  it('needs the operator’s signature (SIG_MISSING)', () => {
    refused([pause(true)], 'SIG_MISSING', { signers: { 'op-fr': c.keys.get('op-fr')!.signing.secretKey } });
  });
});
