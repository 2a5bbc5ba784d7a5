/**
 * A 105-day fast-forwarded chain (blocks with advancing block time, 7 or 8 a day, each carrying its
 * parent's commit): the fee split of every block, the NDF payout of every day (by SLA score =
 * blocks + signed precommits), the SLA records (Proof of Importance: blocks AND signed votes) and
 * the elected set equal the formulas of docs/GOVERNANCE.md to the base unit. sn-b misses every
 * precommit on one day in five (no SLA day) and one precommit the day after (still ≥ 85 %). A
 * candidate with the largest bond but no SLA days is not elected over a Super Node that met the SLA
 * on half the days.
 */
import { UNIT } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  buildGenesis,
  derivedKeys,
  electSet,
  GK,
  K,
  type LedgerEvent,
  slaDayOf,
  slaDaysOf,
  supplyReport,
  TestChain,
  validatorSetFor,
} from '../src/index.js';

const DAY = 86_400_000n;
const BOND = 10n * UNIT;
const PAYOUT = 1_000_003n;
const FEE = 1_001n;

/** Independent NDF formula: floor shares, remainder to the highest score (ties: first name). */
function expectedShares(amount: bigint, blocks: [string, number][]): Record<string, bigint> {
  const total = BigInt(blocks.reduce((t, [, b]) => t + b, 0));
  const out: Record<string, bigint> = {};
  let paid = 0n;
  for (const [a, b] of blocks) {
    out[a] = (amount * BigInt(b)) / total;
    paid += out[a]!;
  }
  const top = [...blocks].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0]![0];
  out[top]! += amount - paid;
  return out;
}

describe('100 days of blocks', () => {
  it('fees, NDF payouts, SLA days and the elected set follow the formulas', { timeout: 120_000 }, () => {
    const { genesis, keys } = buildGenesis({
      accounts: [{ name: 'sn-a' }, { name: 'sn-b' }, { name: 'sn-c' }, { name: 'sn-d' }, { name: 'alice' }],
      umt: { alice: 1_000n * UNIT, 'sn-d': 3n * BOND },
      validators: ['sn-a', 'sn-b', 'sn-c'],
      params: {
        epochLength: 8,
        maxValidators: 3,
        minValidatorBond: BOND,
        ndfDailyPayout: PAYOUT,
        slaVoteBps: 8_500,
        fees: { ...buildGenesis({ accounts: [] }).genesis.params.fees, transfer: FEE },
      },
    });
    const c = new TestChain(genesis, keys, { verifier: null });
    const chain = c as unknown as { producer: string };
    const bal = (n: string) => c.state.get<bigint>(K.balance(n, 'UMT')) ?? 0n;
    const day0 = c.time / DAY + 1n;
    const ndfStart = bal('ndf');
    const tcdfStart = bal('tcdf');
    let ndfPaid = 0n;
    let payouts = 0;
    let tcdfFees = 0n;
    const days = 105;
    for (let d = 0; d < days; d++) {
      const t0 = (day0 + BigInt(d)) * DAY;
      const plan: [string, number][] = [
        ['sn-a', 3],
        ['sn-b', 3],
        ['sn-c', d % 2 === 0 ? 2 : 1],
      ];
      let k = 0n;
      for (const [who, n] of plan) {
        chain.producer = who;
        for (let i = 0; i < n; i++) {
          const first = k === 0n;
          // sn-b's precommits: none in the commits of a day d % 5 = 0, one missing on the next day.
          c.absentVoters.clear();
          if (d % 5 === 0 || (d % 5 === 1 && first)) c.absentVoters.add('sn-b');
          const pay = () =>
            c.tx(
              [
                {
                  type: 'transfer',
                  from: 'alice',
                  to: 'sn-d',
                  token: 'UMT',
                  amount: 1n,
                  memo: new Uint8Array(),
                },
              ],
              { expiration: t0 + 600_000n },
            );
          // Day 30: a fourth candidate with twice the bond, admitted by the genesis authority (no SLA day).
          const register = () =>
            c.tx(
              [
                {
                  type: 'validator_set',
                  authority: 'ndf',
                  account: 'sn-d',
                  status: 'active',
                  nodeKey: derivedKeys('sn-d/node').signing.publicKey,
                },
                { type: 'validator_bond', account: 'sn-d', amount: 2n * BOND },
              ],
              { expiration: t0 + 600_000n },
            );
          const before = { prod: bal(who), tcdf: bal('tcdf') };
          const txs = first ? (d === 30 ? [pay(), register()] : [pay()]) : [];
          const { result } = c.block(txs, { time: t0 + 1000n + k * 1000n });
          const fees = result.receipts.reduce((t, r) => t + r.fee, 0n);
          k++;
          const ndfEv = result.endEvents.find((e: LedgerEvent) => e.type === 'ndf_payout');
          if (first) {
            // Fee split of this block: 25 % to the fund, 30 % + 45 % (+ remainders) to the producer;
            // 1,001 -> 250 / 751.
            const community = (fees * 2_500n) / 10_000n;
            if (d !== 30) expect([fees, community]).toEqual([FEE, 250n]);
            expect(bal('tcdf') - before.tcdf).toBe(community);
            tcdfFees += community;
            const ndfToMe = ndfEv
              ? ((ndfEv.shares as { account: string; amount: bigint }[]).find((s) => s.account === who)
                  ?.amount ?? 0n)
              : 0n;
            expect(bal(who) - before.prod - ndfToMe).toBe(fees - community);
          }
          if (ndfEv) {
            // The previous day's payout (day 0 has none before it). Score = blocks + signed
            // precommits; every block of the day but the chain's first carries its parent's commit.
            const prev = d - 1;
            const dayBlocks = prev % 2 === 0 ? 8 : 7;
            const due = prev === 0 ? dayBlocks - 1 : dayBlocks;
            const bSigned = prev % 5 === 0 ? 0 : prev % 5 === 1 ? due - 1 : due;
            const want = expectedShares(PAYOUT, [
              ['sn-a', 3 + due],
              ['sn-b', 3 + bSigned],
              ['sn-c', (prev % 2 === 0 ? 2 : 1) + due],
            ]);
            const got = Object.fromEntries(
              (ndfEv.shares as { account: string; amount: bigint }[]).map((s) => [s.account, s.amount]),
            );
            expect(got).toEqual(want);
            expect(ndfEv.amount).toBe(PAYOUT);
            ndfPaid += PAYOUT;
            payouts++;
          }
        }
      }
    }
    expect(payouts).toBe(days - 1);
    // The NDF paid the days' payouts and, as the genesis authority, the validator_set fee.
    expect(ndfStart - bal('ndf')).toBe(ndfPaid + genesis.params.fees.validator_set);
    expect(bal('tcdf') - tcdfStart).toBe(tcdfFees);
    // SLA: a met it every day; b not on the 20 days d % 5 = 0 of the window d = 4..103 (0 of 8 or
    // 7 precommits), but on the days after (7/8 or 6/7 ≥ 85 %); c only on days with 2 of 8 blocks
    // (2 x 3 x 2 >= 8), not 1 of 7.
    const today = c.time / DAY;
    expect(today).toBe(day0 + 104n);
    expect(slaDaysOf(c.state, 'sn-a', today)).toBe(100);
    expect(slaDaysOf(c.state, 'sn-b', today)).toBe(80);
    expect(slaDaysOf(c.state, 'sn-c', today)).toBe(50);
    // The day records (one per Super Node per day) of the last 100 closed days, older ones pruned.
    expect(slaDayOf(c.state, day0 + 100n, 'sn-b')).toEqual({
      blocks: 3,
      votesDue: 8,
      votesSigned: 0,
      met: false,
    });
    expect(slaDayOf(c.state, day0 + 101n, 'sn-b')).toEqual({
      blocks: 3,
      votesDue: 7,
      votesSigned: 6,
      met: true,
    });
    expect(slaDayOf(c.state, day0 + 102n, 'sn-c')).toEqual({
      blocks: 2,
      votesDue: 8,
      votesSigned: 8,
      met: true,
    });
    expect(c.state.get(GK.slaDayRecord(day0 + 3n, 'sn-a'))).toBeUndefined();
    expect(c.state.get(GK.slaDayIndex(day0 + 3n))).toBeUndefined();
    expect(c.state.get(GK.slaDayRecord(day0 + 4n, 'sn-a'))).toBeDefined();
    expect(c.state.get<bigint[]>(GK.slaClosed)).toEqual(
      Array.from({ length: 100 }, (_, i) => day0 + 4n + BigInt(i)),
    );
    expect(slaDaysOf(c.state, 'sn-d', today)).toBe(0);
    // Proof of Importance: sn-d has the largest bond, but no SLA day: the set is a, b, c.
    const p = c.state.get(K.params)!;
    expect(electSet(c.state, p as never).map((m) => m.account)).toEqual(['sn-a', 'sn-b', 'sn-c']);
    while (c.height % 8n !== 0n) c.block([]);
    expect(validatorSetFor(c.state, c.height + 1n).map((m) => m.account)).toEqual(['sn-a', 'sn-b', 'sn-c']);
    expect(supplyReport(c.state).problems).toEqual([]);
  });
});
