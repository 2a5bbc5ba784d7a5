/**
 * 100 fast-forwarded days with Mini Nodes (blocks with advancing block time, 8 a day = one epoch):
 * the importance of every Mini Node at every epoch end and the 30 % fee share of every block equal
 * the formulas of docs/GOVERNANCE.md §8, recomputed here independently from the test's own tally:
 * importance = ⌊bond / 1 UMT⌋ + ⌊Σ txs[age] × W[age] / 1,000⌋ (W: 0.9 per day, 30 days; these
 * owners pay no SDR), shares ⌊M × I / ΣI⌋ among the producer's Mini Nodes that attested within
 * the last 2 windows, the remainder to the most important; none: the producer.
 */
import { type MiniAttestation, miniAttestSignBytes, type Operation, sign, UNIT } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  buildGenesis,
  derivedKeys,
  K,
  type LedgerEvent,
  type MiniNode,
  MK,
  supplyReport,
  TestChain,
} from '../src/index.js';

const DAY = 86_400_000n;
const FEE = 1_003n;
const N = 4n; // attestation interval
const MAX_MISSED = 2n;
const BONDS: Record<string, bigint> = {
  'mini-1': 1_000n * UNIT,
  'mini-2': 2_500n * UNIT,
  'mini-3': 4_000n * UNIT,
};
const SUPER: Record<string, string> = { 'mini-1': 'sn-a', 'mini-2': 'sn-a', 'mini-3': 'sn-b' };
const key = (n: string) => derivedKeys(`${n}/mini`, 'hundred-mini').signing;

/** Independent decay table: 10,000 × 0.9^age, floored step by step. */
const W: bigint[] = [10_000n];
for (let i = 1; i < 30; i++) W.push((W[i - 1]! * 9n) / 10n);

describe('100 days with Mini Nodes', () => {
  it('importance and the Mini Node fee share follow the formulas', { timeout: 240_000 }, () => {
    const { genesis, keys } = buildGenesis({
      accounts: ['sn-a', 'sn-b', 'mini-1', 'mini-2', 'mini-3', 'alice'].map((name) => ({ name })),
      umt: {
        'mini-1': 5_000n * UNIT,
        'mini-2': 5_000n * UNIT,
        'mini-3': 5_000n * UNIT,
        alice: 10_000n * UNIT,
      },
      validators: ['sn-a', 'sn-b'],
      params: {
        epochLength: 8,
        minValidatorBond: 10n * UNIT,
        miniAttestInterval: Number(N),
        miniRootsKept: 8,
        miniMaxMissedWindows: Number(MAX_MISSED),
        ndfDailyPayout: 0n,
        fees: { ...buildGenesis({ accounts: [] }).genesis.params.fees, transfer: FEE },
      },
    });
    const c = new TestChain(genesis, keys, { verifier: null });
    const chain = c as unknown as { producer: string };
    const bal = (n: string) => c.state.get<bigint>(K.balance(n, 'UMT')) ?? 0n;
    // The test's own tally: transactions signed per owner per UTC day; last attested height; importance.
    const txs = new Map<string, Map<bigint, bigint>>(Object.keys(BONDS).map((o) => [o, new Map()]));
    const count = (o: string, day: bigint) => txs.get(o)!.set(day, (txs.get(o)!.get(day) ?? 0n) + 1n);
    const last: Record<string, bigint> = { 'mini-1': 0n, 'mini-2': 0n, 'mini-3': 0n };
    const importance: Record<string, bigint> = {};
    const expectedImportance = (o: string, day: bigint) => {
      let t = 0n;
      for (let age = 0; age < 30; age++) t += (txs.get(o)!.get(day - BigInt(age)) ?? 0n) * W[age]!;
      return BONDS[o]! / UNIT + t / 1_000n;
    };
    const day0 = c.time / DAY + 1n;
    // Registration (day0 - 1): each bond transaction is signed by its owner and counts.
    const bondTime = c.time + 1_000n;
    c.block(
      Object.keys(BONDS).map((o) =>
        c.tx([
          { type: 'mini_bond', owner: o, superNode: SUPER[o]!, nodeKey: key(o).publicKey, amount: BONDS[o]! },
        ]),
      ),
      { time: bondTime },
    );
    for (const o of Object.keys(BONDS)) {
      count(o, bondTime / DAY);
      importance[o] = BONDS[o]! / UNIT;
    }
    const earned: Record<string, bigint> = { 'mini-1': 0n, 'mini-2': 0n, 'mini-3': 0n };
    let toProducers = 0n;
    let checkedEpochs = 0;
    for (let d = 0; d < 100; d++) {
      const t0 = (day0 + BigInt(d)) * DAY;
      for (let k = 0; k < 8; k++) {
        const height = c.height + 1n;
        const time = t0 + BigInt(k + 1) * 60_000n;
        const day = time / DAY;
        chain.producer = k % 2 === 0 ? 'sn-a' : 'sn-b';
        const tx = (ops: Operation[], signers?: Record<string, Uint8Array>) =>
          c.tx(ops, { expiration: time + 600_000n, ...(signers ? { signers } : {}) });
        const envs = [];
        const memo = new Uint8Array(0);
        envs.push(
          tx([
            {
              type: 'transfer',
              from: 'alice',
              to: 'sn-b',
              token: 'UMT',
              amount: BigInt(d * 8 + k + 1),
              memo,
            },
          ]),
        );
        // mini-1's owner is busy on every third day (2 transactions); mini-2's once a week.
        const busy: string[] = [];
        if (d % 3 === 0 && k < 2) busy.push('mini-1');
        if (d % 7 === 0 && k === 0) busy.push('mini-2');
        for (const o of busy) {
          envs.push(
            tx([
              { type: 'transfer', from: o, to: 'alice', token: 'UMT', amount: BigInt(d * 8 + k + 1), memo },
            ]),
          );
          count(o, day);
        }
        // Attestations of the previous height when it is an attested one; mini-2 is down on days 40-49,
        // mini-3 never attests.
        const parent = height - 1n;
        if (parent > 0n && parent % N === 0n) {
          const who = ['mini-1', ...(d >= 40 && d < 50 ? [] : ['mini-2'])];
          const root = c.blocks[Number(parent) - 1]!.block.header.stateRoot;
          const as: MiniAttestation[] = who.map((mini) => {
            const a = { mini, height: parent, stateRoot: root };
            return { ...a, signature: sign(key(mini).secretKey, miniAttestSignBytes(c.chainId, a)) };
          });
          envs.push(tx([{ type: 'mini_attest', attestations: as }], {}));
          for (const o of who) last[o] = parent;
        }
        const fees = BigInt(envs.length - (parent > 0n && parent % N === 0n ? 1 : 0)) * FEE;
        const before = Object.fromEntries(Object.keys(BONDS).map((o) => [o, bal(o)]));
        const { result } = c.block(envs, { time });
        // Epoch end (height % 8 = 0): the next set's Mini Nodes get their importance first.
        if (height % 8n === 0n) {
          for (const o of Object.keys(BONDS)) importance[o] = expectedImportance(o, day);
          for (const o of Object.keys(BONDS)) {
            expect(c.state.get<MiniNode>(MK.node(o))!.importance, `${o} day ${d}`).toBe(importance[o]);
          }
          checkedEpochs++;
        }
        const mini = (fees * 3_000n) / 10_000n;
        const earners = Object.keys(BONDS).filter(
          (o) => SUPER[o] === chain.producer && last[o]! > 0n && height - last[o]! <= N * MAX_MISSED,
        );
        const total = earners.reduce((t, o) => t + importance[o]!, 0n);
        const want: Record<string, bigint> = {};
        for (const o of earners) want[o] = (mini * importance[o]!) / total;
        if (earners.length > 0) {
          const top = [...earners].sort((x, y) =>
            importance[y]! > importance[x]! ? 1 : importance[y]! < importance[x]! ? -1 : x < y ? -1 : 1,
          )[0]!;
          want[top]! += mini - Object.values(want).reduce((a, b) => a + b, 0n);
        } else toProducers += mini;
        const paid = result.endEvents.find((e: LedgerEvent) => e.type === 'fees_paid')!;
        expect(paid.total).toBe(fees);
        for (const o of Object.keys(BONDS)) {
          const spent = busy.includes(o) ? FEE + BigInt(d * 8 + k + 1) : 0n;
          expect(bal(o) - before[o]! + spent, `${o} at height ${height}`).toBe(want[o] ?? 0n);
          earned[o]! += want[o] ?? 0n;
        }
      }
    }
    expect(checkedEpochs).toBe(100);
    // mini-3 never attested: it earned nothing, its Super Node's blocks kept the whole share.
    expect(earned['mini-3']).toBe(0n);
    expect(earned['mini-1']! > 0n && earned['mini-2']! > 0n).toBe(true);
    expect(toProducers > 0n).toBe(true);
    expect(supplyReport(c.state).problems).toEqual([]);
  });
});
