/**
 * The verifier queue in front of the worker pool is fair across accounts, and the per-account
 * governor's bucket and bounds behave (unit tests with a gated pool and a fake clock).
 */
import type { SignatureCheck } from '@roamchain/chain';
import { RoamError } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import { type BatchPool, BatchVerifier } from '../src/admission.js';
import { AccountGovernor, admissionLimitsFromEnv } from '../src/admission-limits.js';

/** A pool that answers only when the test releases a batch; an item is valid when signature[0] is 1. */
function gatedPool() {
  const batches: { items: readonly SignatureCheck[]; release: () => void }[] = [];
  const pool: BatchPool = {
    size: 1,
    verifyBatch: (items) =>
      new Promise((resolve) => {
        batches.push({ items, release: () => resolve(items.map((it) => it.signature[0] === 1)) });
      }),
  };
  return { pool, batches };
}

const item = (tag: number, valid = true): SignatureCheck => ({
  publicKey: new Uint8Array(32).fill(tag),
  message: new Uint8Array(32),
  signature: new Uint8Array(64).fill(valid ? 1 : 0),
});

const settle = () => new Promise((r) => setImmediate(r));

describe('fair batch verifier', () => {
  it("one account's 1,000 signatures do not delay another account's one", async () => {
    const { pool, batches } = gatedPool();
    const v = new BatchVerifier(pool, { flushItems: 64, maxFlushesInFlight: 1, quantum: 16 });
    const flood = Array.from({ length: 1000 }, (_, i) => item(7, i % 3 !== 0));
    let floodDone = false;
    const f = v.verify(flood, 'flooder').then((ok) => {
      floodDone = true;
      return ok;
    });
    await settle();
    expect(batches).toHaveLength(1); // the first batch is at the pool, the rest waits its turn
    expect(v.waiting).toBe(1000 - 64);
    let otherDone = false;
    const o = v.verify([item(9)], 'alice').then((ok) => {
      otherDone = true;
      return ok;
    });
    batches[0]!.release();
    await settle();
    // The next batch serves alice in the first turn of the round-robin.
    expect(batches).toHaveLength(2);
    expect(batches[1]!.items.filter((it) => it.publicKey[0] === 9)).toHaveLength(1);
    batches[1]!.release();
    await settle();
    expect(otherDone).toBe(true);
    expect(floodDone).toBe(false);
    expect(await o).toEqual([true]);
    // The rest of the flood, batch by batch; the answers come back in order.
    while (!floodDone) {
      batches.at(-1)!.release();
      await settle();
    }
    expect(await f).toEqual(flood.map((_, i) => i % 3 !== 0));
    expect(batches).toHaveLength(Math.ceil(1001 / 64)); // every batch full but the last
  });

  it('a failed batch rejects its jobs only', async () => {
    let calls = 0;
    const pool: BatchPool = {
      size: 1,
      verifyBatch: async (items) => {
        calls++;
        if (calls === 1) throw new Error('worker died');
        return items.map(() => true);
      },
    };
    const v = new BatchVerifier(pool, { flushItems: 4, maxFlushesInFlight: 1, quantum: 4 });
    const a = v.verify([item(1), item(1), item(1), item(1)], 'a');
    const b = v.verify([item(2)], 'b');
    await expect(a).rejects.toThrow('worker died');
    expect(await b).toEqual([true]);
  });
});

describe('account governor', () => {
  it('a token bucket per account: rate, burst, refill', () => {
    let now = 0;
    const g = new AccountGovernor({ accountRate: 10, accountBurst: 5 }, () => now);
    for (let i = 0; i < 5; i++) {
      g.acquire('x');
      g.release('x');
    }
    expect(() => g.acquire('x')).toThrow(RoamError);
    expect(g.refused.rate).toBe(1);
    g.acquire('y'); // others are not affected
    g.release('y');
    now += 100; // 10/s: one token back
    g.acquire('x');
    g.release('x');
    expect(() => g.acquire('x')).toThrow(/transactions per second/);
    now += 10_000; // never more than the burst
    expect(g.tokensOf('x')).toBe(5);
  });

  it('while the node is busy a heavy account gets busyAccountRate, until busyHoldMs after its last refusal', () => {
    let now = 0;
    let load = 0;
    const g = new AccountGovernor(
      { accountRate: 100, accountBurst: 10, busyAccountRate: 10, busyUtilization: 0.6, busyHoldMs: 1000 },
      () => now,
      () => load,
    );
    const take = (a: string, n: number) => {
      let ok = 0;
      for (let i = 0; i < n; i++) {
        try {
          g.acquire(a);
          g.release(a);
          ok++;
        } catch {}
      }
      return ok;
    };
    expect(take('other', 1)).toBe(1);
    expect(take('x', 20)).toBe(10); // the burst
    now += 100;
    expect(take('x', 20)).toBe(10); // idle node: 100/s refills 10 in 100 ms
    load = 0.9;
    expect(g.busy).toBe(true);
    now += 100;
    expect(take('x', 20)).toBe(1); // busy, and x has most admissions: 10/s refills 1 in 100 ms
    expect(take('y', 5)).toBe(5); // an account without a heavy share does not notice
    load = 0.1; // the node breathes, but x was refused just now: still busy
    now += 900;
    expect(g.busy).toBe(true);
    expect(take('x', 20)).toBe(9);
    now += 1001; // nobody refused, nothing busy for longer than busyHoldMs
    expect(g.busy).toBe(false);
    expect(take('x', 20)).toBe(10);
  });

  it('held back, a heavy account cannot spend a burst saved up before: at most a second of the busy rate', () => {
    const g = new AccountGovernor(
      { accountRate: 100, accountBurst: 100, busyAccountRate: 10, busyUtilization: 0.6, busyHoldMs: 1000 },
      () => 0,
      () => 1,
    );
    g.acquire('other');
    g.release('other');
    g.acquire('x'); // x: 1 of 2 admissions, over the 25 % share
    g.release('x');
    let ok = 0;
    for (let i = 0; i < 100; i++) {
      try {
        g.acquire('x');
        g.release('x');
        ok++;
      } catch {}
    }
    expect(ok).toBe(10);
  });

  it('a lone account on a busy node is not held back (nobody to protect)', () => {
    let now = 0;
    const g = new AccountGovernor(
      { accountRate: 100, accountBurst: 10, busyAccountRate: 1, busyUtilization: 0.6, busyHoldMs: 1000 },
      () => now,
      () => 1,
    );
    let ok = 0;
    for (let t = 0; t < 10; t++, now += 100) {
      for (let i = 0; i < 20; i++) {
        try {
          g.acquire('solo');
          g.release('solo');
          ok++;
        } catch {}
      }
    }
    expect(ok).toBe(10 + 9 * 10); // the burst, then 100/s
  });

  it('in flight per account; a refund after a forged signature; tracked accounts bounded', () => {
    const g = new AccountGovernor({ maxInFlightPerAccount: 2, accountBurst: 3, trackedAccounts: 2 }, () => 0);
    g.acquire('x');
    g.acquire('x');
    const e = (() => {
      try {
        g.acquire('x');
      } catch (err) {
        return err as RoamError;
      }
    })();
    expect(e?.code).toBe('ACCOUNT_BUSY');
    expect(g.inFlightOf('x')).toBe(2);
    g.release('x', true);
    g.release('x');
    expect(g.inFlightOf('x')).toBe(0);
    expect(g.tokensOf('x')).toBe(2);
    g.acquire('y');
    g.release('y');
    g.acquire('z'); // x, least recently used, is forgotten: it starts again full
    g.release('z');
    expect(g.tokensOf('x')).toBe(3);
  });

  it('ROAMCHAIN_ADMISSION_LIMITS: numeric known keys only; bad values refused', () => {
    expect(admissionLimitsFromEnv({})).toEqual({});
    expect(admissionLimitsFromEnv({ ROAMCHAIN_ADMISSION_LIMITS: '{"accountRate":5000}' })).toEqual({
      accountRate: 5000,
    });
    for (const bad of ['{', '[]', '{"nope":1}', '{"accountRate":"1"}'])
      expect(() => admissionLimitsFromEnv({ ROAMCHAIN_ADMISSION_LIMITS: bad })).toThrow(RoamError);
    expect(() => new AccountGovernor({ accountBurst: 0 })).toThrow(RangeError);
  });
});
