/**
 * UMT at genesis (SPEC §2): the five buckets are exact shares of the fixed supply, and the
 * founders' 20 % vests at 7 % per month, enforced by the chain against block time.
 */
import {
  type Genesis,
  type Operation,
  RoamError,
  UMT_ALLOCATION_BPS,
  UMT_SUPPLY,
  UNIT,
} from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  type Account,
  ApplyCtx,
  buildGenesis,
  genesisState,
  K,
  Overlay,
  supplyReport,
  TestChain,
} from '../src/index.js';

const DAY = 86_400_000n;
const MONTH = 30n * DAY;
const FOUNDERS = 200_000_000n * UNIT; // 20 % of 1e9 UMT
const SEVEN = (FOUNDERS * 7n) / 100n; // 14,000,000 UMT

function catchErr(f: () => unknown): RoamError {
  try {
    f();
  } catch (e) {
    if (e instanceof RoamError) return e;
    throw e;
  }
  throw new Error('expected a RoamError, got success');
}

function setup(tweak: (g: Genesis) => void = () => {}) {
  const built = buildGenesis({
    accounts: [{ name: 'carol' }, { name: 'node-1', roles: ['node_owner'] }],
    umt: { carol: 10n * UNIT },
  });
  tweak(built.genesis);
  return built;
}

function chain(tweak?: (g: Genesis) => void): TestChain {
  const { genesis, keys } = setup(tweak);
  return new TestChain(genesis, keys, { verifier: null });
}

const transfer = (from: string, to: string, amount: bigint): Operation => ({
  type: 'transfer',
  from,
  to,
  token: 'UMT',
  amount,
  memo: new Uint8Array(),
});

const bal = (c: TestChain, n: string): bigint => c.state.get<bigint>(K.balance(n, 'UMT')) ?? 0n;

function rejects(c: TestChain, ops: Operation[], code: string, time?: bigint): void {
  const root = Buffer.from(c.state.root()).toString('hex');
  const e = catchErr(() => c.submit(ops, time !== undefined ? { time } : {}));
  expect(e.code, e.message).toBe(code);
  expect(Buffer.from(c.state.root()).toString('hex')).toBe(root);
}

describe('UMT genesis buckets', () => {
  it('are exactly 50 / 0.2 / 7.8 / 22 / 20 % of 1e15 base units', () => {
    expect(UMT_SUPPLY).toBe(1_000_000_000_000_000n);
    expect(UMT_ALLOCATION_BPS).toEqual({
      crowdsale: 5000n,
      bounty: 20n,
      tcdf: 780n,
      ndf: 2200n,
      founders: 2000n,
    });
    const { genesis } = setup();
    const perBucket: Record<string, bigint> = {};
    for (const a of genesis.allocations) perBucket[a.bucket] = (perBucket[a.bucket] ?? 0n) + a.amount;
    expect(perBucket).toEqual({
      crowdsale: 500_000_000_000_000n,
      bounty: 2_000_000_000_000n,
      tcdf: 78_000_000_000_000n,
      ndf: 220_000_000_000_000n,
      founders: 200_000_000_000_000n,
    });
    const { state } = genesisState(genesis);
    const b = (n: string) => state.get<bigint>(K.balance(n, 'UMT'));
    // node-1, the validator, bonds 1,000,000 UMT allocated from the crowdsale on top of its (zero) free UMT.
    const bond = genesis.params.minValidatorBond;
    expect(bond).toBe(1_000_000n * UNIT);
    expect(b('crowdsale')).toBe(500_000_000_000_000n - 10n * UNIT - bond);
    expect(b('node-1')).toBeUndefined();
    expect(supplyReport(state).umt.bonded).toBe(bond);
    expect(b('carol')).toBe(10n * UNIT);
    expect(b('bounty')).toBe(2_000_000_000_000n);
    expect(b('tcdf')).toBe(78_000_000_000_000n);
    expect(b('ndf')).toBe(220_000_000_000_000n);
    expect(b('founders')).toBe(FOUNDERS);
    expect(supplyReport(state).umt.total).toBe(UMT_SUPPLY);
    expect(supplyReport(state).problems).toEqual([]);
    const f = state.get<Account>(K.account('founders'))!;
    expect(f.vestingTotal).toBe(FOUNDERS);
    expect(f.vestingStart).toBe(genesis.genesisTime);
    expect(state.get<Account>(K.account('crowdsale'))!.vestingTotal).toBe(0n);
    expect(state.get<Account>(K.account('carol'))!.vestingTotal).toBe(0n);
  });

  it('a genesis whose bucket totals are off throws GENESIS_INVALID', () => {
    const bad = (tweak: (g: Genesis) => void) => {
      const { genesis } = setup(tweak);
      expect(catchErr(() => genesisState(genesis)).code).toBe('GENESIS_INVALID');
    };
    const find = (g: Genesis, bucket: string) =>
      g.allocations.find((a) => a.bucket === bucket && a.account === bucket)!;
    bad((g) => {
      find(g, 'founders').amount -= 1n;
    });
    bad((g) => {
      find(g, 'founders').amount -= 1n;
      find(g, 'crowdsale').amount += 1n; // same total supply, wrong split
    });
    bad((g) => {
      g.allocations.push({ bucket: 'bounty', account: 'carol', amount: 1n });
    });
    bad((g) => {
      g.allocations = g.allocations.filter((a) => a.bucket !== 'bounty');
    });
    bad((g) => {
      g.allocations.push({ bucket: 'ndf', account: 'carol', amount: 0n });
    });
    bad((g) => {
      g.allocations.push({ bucket: 'ndf', account: 'nobody', amount: 1n });
      find(g, 'ndf').amount -= 1n;
    });
    // A valid re-split inside one bucket is fine.
    const { genesis } = setup((g) => {
      find(g, 'ndf').amount -= 5n;
      g.allocations.push({ bucket: 'ndf', account: 'carol', amount: 5n });
    });
    expect(genesisState(genesis).state.get(K.balance('carol', 'UMT'))).toBe(10n * UNIT + 5n);
  });
});

describe('founders vesting', () => {
  it('month 0: any transfer from founders is VESTING_LOCKED, even 1 base unit or a fee', () => {
    const c = chain();
    rejects(c, [transfer('founders', 'carol', 1n)], 'VESTING_LOCKED');
    rejects(c, [transfer('founders', 'carol', FOUNDERS - 1000n)], 'VESTING_LOCKED');
    rejects(c, [transfer('founders', 'carol', FOUNDERS + 1n)], 'BALANCE_LOW');
    // UMT received after genesis is not locked: a gift of exactly one fee pays the fee, no more.
    c.submit([transfer('crowdsale', 'founders', 1000n)]);
    rejects(c, [transfer('founders', 'carol', 1n)], 'VESTING_LOCKED');
    c.submit([transfer('crowdsale', 'founders', 1n)]);
    c.submit([transfer('founders', 'carol', 1n)]);
    expect(bal(c, 'founders')).toBe(FOUNDERS);
    // Still locked one millisecond before the first month is over.
    c.block([], { time: c.genesis.genesisTime + MONTH - 2n });
    rejects(c, [transfer('founders', 'carol', 1n)], 'VESTING_LOCKED', c.genesis.genesisTime + MONTH - 1n);
  });

  it('after one month (default 30 days) exactly 7 % is spendable: 7 % + 1 fails', () => {
    const c = chain();
    c.submit([transfer('crowdsale', 'founders', 1000n)]); // pays the fee of the next transfer
    const t1 = c.genesis.genesisTime + MONTH;
    c.block([], { time: t1 - 1n });
    rejects(c, [transfer('founders', 'carol', SEVEN + 1n)], 'VESTING_LOCKED', t1);
    const carol0 = bal(c, 'carol');
    c.submit([transfer('founders', 'carol', SEVEN)], { time: t1 });
    expect(bal(c, 'carol')).toBe(carol0 + SEVEN);
    expect(bal(c, 'founders')).toBe(FOUNDERS - SEVEN);
    rejects(c, [transfer('founders', 'carol', 1n)], 'VESTING_LOCKED');
  });

  it('releases 7 % per month, all after 15 months (1-minute months)', () => {
    const month = 60_000n;
    const c = chain((g) => {
      g.params.vestingMonthMs = month;
    });
    const start = c.genesis.genesisTime;
    let spent = 0n;
    const fee = 1000n;
    for (const m of [1n, 2n, 5n, 14n, 15n]) {
      const released = m >= 15n ? FOUNDERS : (FOUNDERS * 7n * m) / 100n;
      const free = released - spent;
      c.submit([transfer('crowdsale', 'founders', fee)], { time: start + m * month });
      rejects(c, [transfer('founders', 'carol', free + 1n)], m >= 15n ? 'BALANCE_LOW' : 'VESTING_LOCKED');
      c.submit([transfer('founders', 'carol', free)]);
      spent += free;
      expect(bal(c, 'founders')).toBe(FOUNDERS - spent);
    }
    expect(spent).toBe(FOUNDERS);
    expect(c.state.get(K.balance('founders', 'UMT'))).toBeUndefined();
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('locked amounts by block time, default parameters', () => {
    const { genesis } = setup();
    const { state } = genesisState(genesis);
    const f = state.get<Account>(K.account('founders'))!;
    const at = (t: bigint) => new ApplyCtx(new Overlay(state), genesis.params, 1n, genesis.genesisTime + t);
    expect(at(0n).locked(f)).toBe(FOUNDERS);
    expect(at(MONTH - 1n).spendable('founders', 'UMT')).toBe(0n);
    expect(at(MONTH).spendable('founders', 'UMT')).toBe(SEVEN);
    expect(at(2n * MONTH + DAY).spendable('founders', 'UMT')).toBe(2n * SEVEN);
    expect(at(14n * MONTH).spendable('founders', 'UMT')).toBe((FOUNDERS * 98n) / 100n);
    expect(at(15n * MONTH - 1n).locked(f)).toBe((FOUNDERS * 2n) / 100n);
    expect(at(15n * MONTH).locked(f)).toBe(0n);
    expect(at(100n * MONTH).spendable('founders', 'UMT')).toBe(FOUNDERS);
    // Accounts without vesting are never locked.
    expect(at(0n).spendable('crowdsale', 'UMT')).toBe(state.get<bigint>(K.balance('crowdsale', 'UMT')));
  });

  it('founders-bucket UMT allocated to another account vests the same way', () => {
    const c = chain((g) => {
      const f = g.allocations.find((a) => a.bucket === 'founders')!;
      f.amount -= 100n * UNIT;
      g.allocations.push({ bucket: 'founders', account: 'node-1', amount: 100n * UNIT });
    });
    // node-1 is the producer: fees it earns are free, its founders' share is not.
    expect(c.state.get<Account>(K.account('node-1'))!.vestingTotal).toBe(100n * UNIT);
    c.submit([transfer('crowdsale', 'node-1', 2000n)]);
    const free = bal(c, 'node-1') - 100n * UNIT;
    rejects(c, [transfer('node-1', 'carol', free - 1000n + 1n)], 'VESTING_LOCKED');
    c.submit([transfer('node-1', 'carol', free - 1000n)]);
  });
});
