/**
 * Property test: random sequences of valid and invalid operations and time jumps. After every
 * block the SPEC §2 invariants hold (UMT constant, SDR = minted − burned, balances + escrow =
 * supply, no negative balance); a rejected transaction changes nothing; a replica replaying the
 * produced blocks with applyBlock reaches the same root at every height.
 */
import {
  blockId,
  bytesToHex,
  hexToBytes,
  type OfferTerms,
  type Operation,
  RoamError,
  sha256,
  type Token,
  UNIT,
  utf8,
} from '@roamchain/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyBlock,
  buildGenesis,
  type Contract,
  genesisState,
  K,
  type Offer,
  supplyReport,
  TestChain,
  validatorSetFor,
} from '../src/index.js';
import { freshEphemeralKey } from '../src/testkit.js';

const GB = 1_000_000_000n;
const HOUR = 3_600_000n;
const hex = bytesToHex;

const OPERATORS = ['op-a', 'op-b'] as const;
const SUBS = { 'sub-a': 'op-a', 'sub-b': 'op-b' } as const;
const ACCOUNTS = ['op-a', 'op-b', 'gw-1', 'sub-a', 'sub-b', 'user'] as const;

const { genesis, keys } = buildGenesis({
  accounts: [
    { name: 'op-a', roles: ['operator'] },
    { name: 'op-b', roles: ['operator'] },
    { name: 'gw-1', roles: ['gateway'] },
    { name: 'sub-a', roles: ['subscriber'], homeOperator: 'op-a' },
    { name: 'sub-b', roles: ['subscriber'], homeOperator: 'op-b' },
    { name: 'user' },
    { name: 'node-1', roles: ['node_owner'] },
  ],
  umt: {
    'op-a': 100n * UNIT,
    'op-b': 100n * UNIT,
    'gw-1': 10n * UNIT,
    'sub-a': UNIT,
    'sub-b': UNIT,
    user: UNIT,
    'node-1': 3_000_000n * UNIT,
  },
  // Short epochs and unbonding delay, so that runs cross epoch boundaries and releases.
  params: { epochLength: 5, unbondingDelayMs: 120_000n },
});

const acct = fc.constantFrom(...ACCOUNTS);
const amount = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt(1n, 30n * UNIT) },
  { weight: 1, arbitrary: fc.constantFrom(0n, 1n, 999n, 1000n, 10n ** 15n, 10n ** 15n + 1n) },
);
const idx = fc.nat(20);

type Action =
  | { k: 'transfer'; from: string; to: string; token: Token; amount: bigint }
  | { k: 'issue'; by: string; to: string; amount: bigint; ref: number }
  | { k: 'burn'; by: string; amount: bigint; ref: number }
  | { k: 'publish'; by: string; price: bigint; capacity: number; hours: number }
  | { k: 'replace'; by: string; offer: number; price: bigint }
  | { k: 'withdraw'; by: string; offer: number }
  | {
      k: 'request';
      issuer: string;
      sub: string;
      issuerPays: boolean;
      offer: number;
      extra: bigint;
      lifetime: number;
      step: number;
      feeDeposit: bigint;
      feeBps: number;
    }
  | { k: 'charge'; c: number; amount: bigint; who: number; seq: number }
  | { k: 'refund'; c: number; who: number; bad: boolean; stale: boolean }
  | { k: 'rate'; c: number; score: number; who: number }
  | { k: 'vset'; who: string; status: 'candidate' | 'active' | 'removed'; gov: boolean }
  | { k: 'vbond'; who: string; amount: bigint }
  | { k: 'vunbond'; who: string; amount: bigint }
  | { k: 'jump'; ms: bigint };

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const action: fc.Arbitrary<Action> = fc.oneof(
  w(
    2,
    fc.record({
      k: fc.constant('transfer' as const),
      from: acct,
      to: acct,
      token: fc.constantFrom<Token>('UMT', 'SDR'),
      amount,
    }),
  ),
  w(
    2,
    fc.record({
      k: fc.constant('issue' as const),
      by: fc.oneof({ weight: 4, arbitrary: fc.constant('gw-1') }, { weight: 1, arbitrary: acct }),
      to: acct,
      amount,
      ref: fc.nat(6),
    }),
  ),
  w(
    1,
    fc.record({
      k: fc.constant('burn' as const),
      by: fc.oneof({ weight: 4, arbitrary: fc.constant('gw-1') }, { weight: 1, arbitrary: acct }),
      amount,
      ref: fc.nat(4),
    }),
  ),
  w(
    2,
    fc.record({
      k: fc.constant('publish' as const),
      by: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...OPERATORS) }, { weight: 1, arbitrary: acct }),
      price: fc.bigInt(1n, 20n * UNIT),
      capacity: fc.integer({ min: 1, max: 3 }),
      hours: fc.integer({ min: 1, max: 48 }),
    }),
  ),
  w(
    1,
    fc.record({ k: fc.constant('replace' as const), by: acct, offer: idx, price: fc.bigInt(1n, 20n * UNIT) }),
  ),
  w(1, fc.record({ k: fc.constant('withdraw' as const), by: acct, offer: idx })),
  w(
    5,
    fc.record({
      k: fc.constant('request' as const),
      issuer: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...OPERATORS) },
        { weight: 1, arbitrary: acct },
      ),
      sub: fc.constantFrom('sub-a', 'sub-b', 'user'),
      issuerPays: fc.boolean(),
      offer: idx,
      extra: fc.oneof(
        { weight: 4, arbitrary: fc.bigInt(0n, 10n * UNIT) },
        { weight: 1, arbitrary: fc.constant(-1n) },
      ),
      lifetime: fc.oneof(w(9, fc.integer({ min: 300, max: 1500 })), w(1, fc.constant(250))),
      step: fc.oneof(w(9, fc.integer({ min: 60, max: 300 })), w(1, fc.constant(50))),
      feeDeposit: fc.constantFrom(0n, 1000n, 5000n, 50n * UNIT),
      feeBps: fc.constantFrom(0, 150, 10_000),
    }),
  ),
  w(
    6,
    fc.record({
      k: fc.constant('charge' as const),
      c: idx,
      amount: fc.oneof(fc.bigInt(0n, 5n * UNIT), amount),
      who: fc.nat(6),
      seq: fc.oneof(
        { weight: 8, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -1, max: 2 }) },
      ),
    }),
  ),
  w(
    3,
    fc.record({
      k: fc.constant('refund' as const),
      c: idx,
      who: fc.nat(5),
      bad: fc.boolean(),
      stale: fc.boolean(),
    }),
  ),
  w(
    2,
    fc.record({
      k: fc.constant('rate' as const),
      c: idx,
      score: fc.integer({ min: 0, max: 6 }),
      who: fc.nat(3),
    }),
  ),
  w(
    1,
    fc.record({
      k: fc.constant('vset' as const),
      who: fc.constantFrom('node-1', 'op-a', 'op-b'),
      status: fc.constantFrom('candidate' as const, 'active' as const, 'removed' as const),
      gov: fc.oneof(w(5, fc.constant(true)), w(1, fc.constant(false))),
    }),
  ),
  w(
    2,
    fc.record({
      k: fc.constantFrom('vbond' as const, 'vunbond' as const),
      who: fc.constantFrom('node-1', 'op-a', 'op-b'),
      amount: fc.oneof(
        w(3, fc.bigInt(1n, 2_000_000n * UNIT)),
        w(2, fc.constantFrom(1_000_000n * UNIT, 500_000n * UNIT, 60n * UNIT, 1n)),
      ),
    }),
  ),
  w(
    2,
    fc.record({
      k: fc.constant('jump' as const),
      ms: fc.oneof(w(3, fc.bigInt(1_000n, 60_000n)), w(1, fc.bigInt(60_000n, 900_000n))),
    }),
  ),
);

/** What the runs did, by operation: accepted and rejected counts (checked for coverage). */
const tally = new Map<string, { ok: number; rejected: Set<string> }>();
function count(kind: string, code: string | null): void {
  let t = tally.get(kind);
  if (!t) {
    t = { ok: 0, rejected: new Set() };
    tally.set(kind, t);
  }
  if (code === null) t.ok++;
  else t.rejected.add(code);
}

let settledByChain = 0;

function pick<T>(xs: readonly T[], i: number): T | undefined {
  return xs.length === 0 ? undefined : xs[i % xs.length];
}

/** Even indexes pick among the preferred items (open contracts, active offers) when there are any. */
function prefer<T>(all: readonly T[], preferred: readonly T[], i: number): T | undefined {
  return i % 2 === 0 && preferred.length > 0 ? pick(preferred, i >> 1) : pick(all, i);
}

function run(actions: Action[]): void {
  const c = new TestChain(genesis, keys, { verifier: null });
  const roots: string[] = [hex(c.state.root())];
  // Some SDR to start with, so that many requests can be paid.
  c.submit(
    ['sub-a', 'sub-b', 'op-a', 'op-b'].map((to) => ({
      type: 'sdr_issue' as const,
      gateway: 'gw-1',
      to,
      amount: 100n * UNIT,
      paymentRef: `seed-${to}`,
    })),
  );
  roots.push(hex(c.state.root()));
  const offers: Uint8Array[] = [];
  const contracts: Uint8Array[] = [];
  const offer = (id: Uint8Array) => c.state.get<Offer>(K.offer(hex(id)));
  const contract = (id: Uint8Array) => c.state.get<Contract>(K.contract(hex(id)))!;
  const liveOffer = (i: number) =>
    prefer(
      offers,
      offers.filter((o) => offer(o)!.status === 'active'),
      i,
    );
  const liveContract = (i: number) =>
    prefer(
      contracts,
      contracts.filter((x) => contract(x).status === 'open'),
      i,
    );
  const terms = (price: bigint, capacity: number, hours: number): OfferTerms => ({
    title: 'p',
    kind: 'data',
    category: '',
    countries: ['DE'],
    networks: [],
    technologies: [],
    dataBytes: GB,
    voiceSeconds: 0n,
    smsCount: 0,
    durationSec: 86_400,
    price,
    unitPrice: 0n,
    unit: 'mb',
    activation: 'on_provision',
    validFrom: 0n,
    validUntil: c.time + BigInt(hours) * HOUR,
    capacity,
    encryptionKey: new Uint8Array(32),
  });

  const build = (a: Action): Operation[] | null => {
    switch (a.k) {
      case 'transfer':
        return [
          {
            type: 'transfer',
            from: a.from,
            to: a.to,
            token: a.token,
            amount: a.amount,
            memo: new Uint8Array(),
          },
        ];
      case 'issue':
        return [{ type: 'sdr_issue', gateway: a.by, to: a.to, amount: a.amount, paymentRef: `pay-${a.ref}` }];
      case 'burn':
        return [{ type: 'sdr_burn', gateway: a.by, amount: a.amount, redemptionRef: `red-${a.ref}` }];
      case 'publish':
        return [{ type: 'offer_publish', operator: a.by, terms: terms(a.price, a.capacity, a.hours) }];
      case 'replace': {
        const o = liveOffer(a.offer);
        if (!o) return null;
        const by = a.by.startsWith('op-') ? (offer(o)?.operator ?? a.by) : a.by;
        return [{ type: 'offer_replace', operator: by, offer: o, terms: terms(a.price, 2, 24) }];
      }
      case 'withdraw': {
        const o = liveOffer(a.offer);
        if (!o) return null;
        const by = a.by.startsWith('op-') ? (offer(o)?.operator ?? a.by) : a.by;
        return [{ type: 'offer_withdraw', operator: by, offer: o }];
      }
      case 'request': {
        const o = liveOffer(a.offer);
        if (!o) return null;
        const of = offer(o)!;
        const sub = a.sub;
        const issuer = a.issuer.startsWith('op-') && sub in SUBS ? SUBS[sub as keyof typeof SUBS] : a.issuer;
        const fee = (of.terms.price * BigInt(a.feeBps)) / 10_000n;
        return [
          {
            type: 'request_open',
            issuer,
            payer: a.issuerPays ? issuer : sub,
            subscriber: sub,
            offer: o,
            prev: of.version,
            deposit: of.terms.price + fee + a.extra,
            issuerFeeBps: a.feeBps,
            feeDeposit: a.feeDeposit,
            ephemeralKey: freshEphemeralKey(),
            payload: new Uint8Array(),
            stepTimeoutSec: a.step,
            lifetimeSec: a.lifetime,
          },
        ];
      }
      case 'charge': {
        const id = liveContract(a.c);
        if (!id) return null;
        const ct = contract(id);
        const assignee = a.who === 0 ? ct.issuer : a.who === 1 ? ct.subscriber : ct.assignee;
        return [
          {
            type: 'charge',
            assignee,
            contract: id,
            prev: ct.head,
            record: {
              seq: Math.max(0, ct.chargeCount + 1 + a.seq),
              usageType: 'data',
              start: 0n,
              duration: 0,
              volumeUp: 0n,
              volumeDown: 1000n,
              units: 1n,
              amount: a.amount,
            },
            sealed: new Uint8Array(),
          },
        ];
      }
      case 'refund': {
        const id = liveContract(a.c);
        if (!id) return null;
        const ct = contract(id);
        const by = [ct.assignee, ct.issuer, ct.subscriber, ct.payer, 'user', 'gw-1'][a.who]!;
        return [
          {
            type: 'refund',
            by,
            contract: id,
            prev: a.stale ? ct.id : ct.head,
            badService: a.bad,
            reason: 0,
          },
        ];
      }
      case 'rate': {
        const id = liveContract(a.c);
        if (!id) return null;
        const ct = contract(id);
        const by = a.who === 0 ? ct.assignee : ct.subscriber;
        return [{ type: 'rate', subscriber: by, contract: id, score: a.score }];
      }
      case 'vset':
        return [
          {
            type: 'validator_set',
            authority: a.gov ? 'ndf' : a.who,
            account: a.who,
            status: a.status,
            nodeKey: sha256(utf8(`prop-node/${a.who}`)),
          },
        ];
      case 'vbond':
        return [{ type: 'validator_bond', account: a.who, amount: a.amount }];
      case 'vunbond':
        return [{ type: 'validator_unbond', account: a.who, amount: a.amount }];
      case 'jump':
        return null;
    }
  };

  for (const a of actions) {
    const rootBefore = hex(c.state.root());
    const height = c.height;
    if (a.k === 'jump') {
      c.block([], { time: c.time + a.ms });
    } else {
      const ops = build(a);
      if (!ops) continue;
      try {
        const r = c.submit(ops);
        count(ops[0]!.type, null);
        for (const e of r.events) {
          if (e.type === 'offer_published') offers.push(hexToBytes(e.offer as string));
          if (e.type === 'contract_opened') contracts.push(hexToBytes(e.contract as string));
        }
      } catch (e) {
        if (!(e instanceof RoamError)) throw e;
        count(ops[0]!.type, e.code);
        // A rejected transaction changes nothing.
        expect(hex(c.state.root())).toBe(rootBefore);
        expect(c.height).toBe(height);
        continue;
      }
    }
    roots.push(hex(c.state.root()));
    const rep = supplyReport(c.state); // throws on a stored non-positive balance
    expect(rep.problems).toEqual([]);
    expect(rep.umt.total).toBe(rep.umt.expected);
    for (const [, v] of c.state.entries<bigint>('bal/')) expect(v > 0n).toBe(true);
    // The next block always has validators; the set is made of eligible records or carried over.
    expect(validatorSetFor(c.state, c.height + 1n).length).toBeGreaterThan(0);
    for (const id of contracts) {
      const ct = contract(id);
      expect(ct.charged + (ct.charged * BigInt(ct.issuerFeeBps)) / 10_000n <= ct.deposit).toBe(true);
      // No contract is still open at or after its end of life: the chain settled it in this block.
      if (ct.status === 'open') expect(ct.expiresAt > c.time).toBe(true);
    }
  }

  // A replica replaying every block reaches the same root at every height.
  const g = genesisState(genesis);
  let head = g.chainId;
  expect(hex(g.state.root())).toBe(roots[0]);
  c.blocks.forEach(({ block, envelopes }, i) => {
    applyBlock(g.state, block, envelopes, head, { verifier: null });
    head = blockId(block.header);
    expect(hex(g.state.root())).toBe(roots[i + 1]);
  });
  expect(roots).toHaveLength(c.blocks.length + 1);
  settledByChain += contracts.filter(
    (x) => contract(x).status === 'closed' && contract(x).closedBy === '',
  ).length;
}

describe('random operation sequences', () => {
  it('keep the supply invariants, reject cleanly, and replay to the same roots', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 40, maxLength: 80 }), (actions) => {
        run(actions);
      }),
      { seed: 0x5eed_2026, numRuns: 50 },
    );
    // The generator reaches both sides of the important operations.
    for (const op of [
      'transfer',
      'sdr_issue',
      'offer_publish',
      'request_open',
      'charge',
      'refund',
      'rate',
      'validator_set',
      'validator_bond',
      'validator_unbond',
    ]) {
      const t = tally.get(op);
      expect(t?.ok ?? 0, `${op} accepted`).toBeGreaterThan(0);
      expect(t?.rejected.size ?? 0, `${op} rejected`).toBeGreaterThan(0);
    }
    expect(settledByChain, 'contracts settled at end of life').toBeGreaterThan(0);
    const codes = new Set([...tally.values()].flatMap((t) => [...t.rejected]));
    for (const code of [
      'BALANCE_LOW',
      'SSC_OVERCHARGE',
      'SSC_CLOSED',
      'SSC_NOT_PARTY',
      'SDR_REF_USED',
      'OFFER_FULL',
      'VALIDATOR_NOT_GOVERNANCE',
      'VALIDATOR_BOND_LOW',
    ]) {
      expect(codes, code).toContain(code);
    }
  });
});
