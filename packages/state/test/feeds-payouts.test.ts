/**
 * Price feeds, the SDR fixing, the fee split and the NDF daily payout (docs/GOVERNANCE.md), to the
 * base unit: the median of fresh feeds of the active set only, stale feeds ignored, the minimum
 * count; 25 / 30 / 45 % of each block's fees with the remainder to the Super Node share; the NDF
 * payout in proportion to blocks produced, remainder to the most blocks.
 */
import { type FeedRates, formatAmount, RoamError, UNIT } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  buildGenesis,
  feeSplit,
  freshFeeds,
  GK,
  K,
  ndfShares,
  type SdrFixing,
  sdrHistory,
  slaDayOf,
  supplyReport,
  TestChain,
} from '../src/index.js';

const DAY = 86_400_000n;
const r = (eur: string, cny: string, jpy: string, gbp: string): FeedRates => {
  const f = (s: string) => {
    const [w, d = ''] = s.split('.');
    return BigInt(w!) * 1_000_000_000n + BigInt(d.padEnd(9, '0'));
  };
  return { EUR: f(eur), CNY: f(cny), JPY: f(jpy), GBP: f(gbp) };
};

function catchErr(f: () => unknown): RoamError {
  try {
    f();
  } catch (e) {
    if (e instanceof RoamError) return e;
    throw e;
  }
  throw new Error('expected a RoamError');
}

function setup(params: Parameters<typeof buildGenesis>[0]['params'] = {}) {
  const { genesis, keys } = buildGenesis({
    accounts: [{ name: 'sn-a' }, { name: 'sn-b' }, { name: 'sn-c' }, { name: 'alice' }],
    umt: { alice: 1_000n * UNIT, 'sn-a': 10n * UNIT, 'sn-b': 10n * UNIT, 'sn-c': 10n * UNIT },
    validators: ['sn-a', 'sn-b', 'sn-c'],
    params: { feedMinCount: 2, ...params },
  });
  return new TestChain(genesis, keys);
}
const feed = (validator: string, rates: FeedRates) => ({ type: 'price_feed', validator, rates }) as const;

describe('price feeds and the SDR', () => {
  it('fixes the SDR from the median of fresh feeds of the active set', () => {
    const c = setup();
    expect(catchErr(() => c.submit([feed('alice', r('1.085', '7.25', '149.5', '1.27'))])).code).toBe(
      'FEED_NOT_VALIDATOR',
    );
    expect(
      catchErr(() => c.submit([feed('sn-a', { ...r('1.08', '7.2', '150', '1.26'), JPY: 0n })])).code,
    ).toBe('FEED_INVALID');
    expect(
      catchErr(() => c.submit([feed('sn-a', { ...r('1.08', '7.2', '150', '1.26'), EUR: 10n ** 16n })])).code,
    ).toBe('FEED_INVALID');
    c.submit([feed('sn-a', r('1.08', '7.2', '150', '1.26'))]);
    expect(c.state.get(GK.sdr)).toBeUndefined(); // one feed, two needed
    c.submit([
      feed('sn-b', r('1.085', '7.25', '149.5', '1.27')),
      feed('sn-c', r('1.09', '7.3', '149', '1.28')),
    ]);
    const fx = c.state.get<SdrFixing>(GK.sdr)!;
    expect(fx.feeders).toEqual(['sn-a', 'sn-b', 'sn-c']);
    expect(fx.rates).toEqual(r('1.085', '7.25', '149.5', '1.27'));
    expect(formatAmount(fx.usdPerSdr, 12)).toBe('1.32801');
    expect(formatAmount(fx.perSdr.JPY, 12)).toBe('198.537');
    expect(sdrHistory(c.state, c.time / DAY, 30)).toHaveLength(1);
  });

  it('ignores stale feeds and needs the minimum count of fresh ones', () => {
    const c = setup({ feedMaxAgeMs: 3_600_000n });
    c.submit([feed('sn-a', r('1.0', '7', '140', '1.2')), feed('sn-b', r('1.0', '7', '140', '1.2'))]);
    const first = c.state.get<SdrFixing>(GK.sdr)!;
    c.block([], { time: c.time + 3_600_001n });
    const p = c.state.get(K.params)! as never;
    expect(freshFeeds(c.state, p, c.height + 1n, c.time)).toHaveLength(0);
    c.submit([feed('sn-c', r('2.0', '7', '140', '1.2'))]);
    // Only one fresh feed: the fixing stays the old one.
    expect(c.state.get<SdrFixing>(GK.sdr)).toEqual(first);
    c.submit([feed('sn-a', r('1.5', '7', '140', '1.2'))]);
    expect(c.state.get<SdrFixing>(GK.sdr)!.rates.EUR).toBe(1_750_000_000n);
  });
});

describe('fees and payouts', () => {
  it('splits each block exactly 25 / 30 / 45 with the remainder to the Super Node share', () => {
    expect(feeSplit(1_001n, 2500, 3000)).toEqual({ community: 250n, miniNodes: 300n, superNodes: 451n });
    expect(feeSplit(3n, 2500, 3000)).toEqual({ community: 0n, miniNodes: 0n, superNodes: 3n });
    const c = setup({ fees: { ...buildGenesis({ accounts: [] }).genesis.params.fees, transfer: 1_001n } });
    const bal = (n: string) => c.state.get<bigint>(K.balance(n, 'UMT')) ?? 0n;
    const fund0 = bal('tcdf');
    const prod0 = bal(c.producer);
    const { result } = c.block([
      c.tx([
        { type: 'transfer', from: 'alice', to: 'sn-b', token: 'UMT', amount: 1n, memo: new Uint8Array() },
      ]),
    ]);
    expect(bal('tcdf') - fund0).toBe(250n);
    expect(bal(c.producer) - prod0).toBe(751n);
    expect(result.endEvents.find((e) => e.type === 'fees_paid')).toMatchObject({
      total: 1_001n,
      community: 250n,
      miniNodes: 300n,
      superNodes: 451n,
    });
  });

  it('pays the NDF daily amount by SLA score (blocks + signed precommits), remainder to the highest', () => {
    expect(
      ndfShares(100n, [
        ['a', 1],
        ['b', 2],
      ]),
    ).toEqual([
      ['a', 33n],
      ['b', 67n],
    ]);
    expect(
      ndfShares(10n, [
        ['b', 1],
        ['a', 1],
        ['c', 1],
      ]),
    ).toEqual([
      ['b', 3n],
      ['a', 4n],
      ['c', 3n],
    ]);
    const payout = 1_000_000n;
    const c = setup({ ndfDailyPayout: payout });
    const chain = c as unknown as { producer: string };
    const bal = (n: string) => c.state.get<bigint>(K.balance(n, 'UMT')) ?? 0n;
    const dayStart = (c.time / DAY + 1n) * DAY;
    // sn-c's precommits are missing from every commit the day's blocks carry.
    c.absentVoters.add('sn-c');
    c.block([], { time: dayStart + 1000n });
    for (const [who, n] of [
      ['sn-a', 2],
      ['sn-b', 3],
      ['sn-c', 1],
    ] as const) {
      chain.producer = who;
      for (let i = 0; i < n; i++) c.block([]);
    }
    // sn-a made 3 blocks that day (block 1 too), sn-b 3, sn-c 1: 7 blocks; blocks 2..7 carry the
    // parent's commit: 6 precommits due from each, signed by a and b, none by c.
    const before = { a: bal('sn-a'), b: bal('sn-b'), c: bal('sn-c'), ndf: bal('ndf') };
    chain.producer = 'sn-c';
    c.absentVoters.clear();
    const { result } = c.block([], { time: dayStart + DAY });
    const ev = result.endEvents.find((e) => e.type === 'ndf_payout')!;
    // Scores a = 3 + 6 = 9, b = 9, c = 1 + 0 = 1 (19): floor(1e6 x 9/19) = 473684 for a and b,
    // floor(1e6/19) = 52631 for c; remainder 1 to sn-a (highest score, first by name).
    expect(bal('sn-a') - before.a).toBe(473_685n);
    expect(bal('sn-b') - before.b).toBe(473_684n);
    expect(bal('sn-c') - before.c).toBe(52_631n);
    expect(ev.shares).toContainEqual({
      account: 'sn-c',
      amount: 52_631n,
      blocks: 1,
      votesDue: 6,
      votesSigned: 0,
    });
    // sn-c produced 1 of 7 blocks (1 x 3 x 2 < 7) and signed none of its votes: no SLA day; a and b did.
    const day = dayStart / DAY;
    expect(slaDayOf(c.state, day, 'sn-a')).toEqual({ blocks: 3, votesDue: 6, votesSigned: 6, met: true });
    expect(slaDayOf(c.state, day, 'sn-c')).toEqual({ blocks: 1, votesDue: 6, votesSigned: 0, met: false });
    expect(before.ndf - bal('ndf')).toBe(payout);
    expect(ev.amount).toBe(payout);
    expect(supplyReport(c.state).problems).toEqual([]);
  });
});
