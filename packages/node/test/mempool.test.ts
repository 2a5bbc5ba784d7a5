import {
  type Operation,
  type RoamError,
  requiredSigners,
  type SignedTx,
  type TxEnvelope,
} from '@roamchain/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mempool } from '../src/mempool.js';

let counter = 0;
/** A pending transaction of `account` (its first signer) with an expiration and a byte size. */
function tx(account: string, expiration = 1_000n, size = 100): TxEnvelope {
  const n = counter++;
  const idHex = n.toString(16).padStart(64, '0');
  const op = { type: 'transfer', from: account, to: 'zz', token: 'UMT', amount: 1n, memo: new Uint8Array() };
  return {
    tx: { ops: [op], expiration, signatures: [] } as unknown as SignedTx,
    id: new Uint8Array(32),
    idHex,
    bytes: new Uint8Array(size),
  };
}

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as RoamError).code;
  }
};

const ids = (it: Iterable<TxEnvelope>) => [...it].map((e) => e.idHex);

function fill(m: Mempool, envs: TxEnvelope[]) {
  for (const e of envs) m.add(e, m.checkRoom(e));
}

describe('Mempool', () => {
  it("an account is its first operation's first signer in sorted order (as requiredSigners sorts)", () => {
    const withOps = (ops: unknown[]) => ({ ...tx('x'), tx: { ops, signatures: [] } as unknown as SignedTx });
    const req = (issuer: string, payer: string) => ({ type: 'request_open', issuer, payer });
    for (const [issuer, payer] of [
      ['bob', 'alice'],
      ['alice', 'bob'],
      ['Zed', 'alice'],
      ['é', 'z'],
      ['same', 'same'],
    ] as const) {
      const want = requiredSigners([req(issuer, payer) as Operation])[0];
      expect(Mempool.accountOf(withOps([req(issuer, payer), req('a', 'a')]))).toBe(want);
    }
    expect(Mempool.accountOf(withOps([]))).toBe('');
  });

  it('orders round-robin across accounts, accounts by their oldest transaction, FIFO inside one', () => {
    const m = new Mempool({ maxTotal: 100, maxPerAccount: 100 });
    const a1 = tx('alice');
    const b1 = tx('bob');
    const a2 = tx('alice');
    const a3 = tx('alice');
    const c1 = tx('carol');
    const b2 = tx('bob');
    fill(m, [a1, b1, a2, a3, c1, b2]);
    expect(ids(m.fairOrder())).toEqual(ids([a1, b1, c1, a2, b2, a3]));
    // alice's oldest leaves: bob is now the account with the oldest transaction.
    m.remove(a1.idHex);
    expect(ids(m.fairOrder())).toEqual(ids([b1, a2, c1, b2, a3]));
    // A middle entry leaves in O(1), order of the rest is kept.
    m.remove(b2.idHex);
    expect(ids(m.fairOrder())).toEqual(ids([b1, a2, c1, a3]));
    expect(m.size).toBe(4);
    expect(m.accounts).toBe(3);
  });

  it('a flooding account gets one slot per round', () => {
    const m = new Mempool({ maxTotal: 10_000, maxPerAccount: 10_000 });
    const flood = Array.from({ length: 1000 }, () => tx('flood'));
    fill(m, flood);
    const others = ['a', 'b', 'c'].map((n) => tx(n));
    fill(m, others);
    const first8 = ids(m.fairOrder()).slice(0, 8);
    expect(first8).toEqual(ids([flood[0]!, ...others, flood[1]!, flood[2]!, flood[3]!, flood[4]!]));
  });

  it('fairOrder is lazy and survives removal of what it yielded (as a block build drops)', () => {
    const m = new Mempool({ maxTotal: 100, maxPerAccount: 100 });
    const envs = [tx('a'), tx('b'), tx('a'), tx('b'), tx('a')];
    fill(m, envs);
    const seen: string[] = [];
    for (const e of m.fairOrder()) {
      seen.push(e.idHex);
      m.remove(e.idHex);
    }
    expect(seen).toEqual(ids([envs[0]!, envs[1]!, envs[2]!, envs[3]!, envs[4]!]));
    expect(m.size).toBe(0);
    expect(m.bytes).toBe(0);
    expect(m.accounts).toBe(0);
  });

  it('fairOrder(n) gives at most n transactions of each account, in round-robin order', () => {
    const m = new Mempool({ maxTotal: 100, maxPerAccount: 100 });
    const envs = [tx('a'), tx('a'), tx('a'), tx('b'), tx('a'), tx('c'), tx('b'), tx('b')];
    fill(m, envs);
    const e = (i: number) => envs[i]!;
    // a: 0 1 2 4, b: 3 6 7, c: 5
    expect(ids(m.fairOrder(2))).toEqual(ids([e(0), e(3), e(5), e(1), e(6)]));
    expect(ids(m.fairOrder(1))).toEqual(ids([e(0), e(3), e(5)]));
    expect(ids(m.fairOrder(0))).toEqual([]);
    expect(ids(m.fairOrder())).toHaveLength(8);
  });

  it('caps by count, bytes, per-account count and per-account bytes with typed errors', () => {
    const m = new Mempool({ maxTotal: 3, maxPerAccount: 2, maxBytes: 1000, maxPerAccountBytes: 500 });
    fill(m, [tx('a'), tx('a')]);
    expect(codeOf(() => m.checkRoom(tx('a')))).toBe('MEMPOOL_ACCOUNT_LIMIT');
    fill(m, [tx('b')]);
    expect(codeOf(() => m.checkRoom(tx('c')))).toBe('MEMPOOL_FULL');
    const dup = tx('d');
    const m2 = new Mempool({ maxTotal: 10, maxPerAccount: 10, maxBytes: 1000, maxPerAccountBytes: 500 });
    fill(m2, [dup, tx('d', 1_000n, 350)]);
    expect(codeOf(() => m2.checkRoom(dup))).toBe('TX_DUPLICATE');
    expect(codeOf(() => m2.checkRoom(tx('d', 1_000n, 100)))).toBe('MEMPOOL_ACCOUNT_LIMIT');
    fill(m2, [tx('e', 1_000n, 450)]);
    expect(m2.bytes).toBe(900);
    expect(codeOf(() => m2.checkRoom(tx('f', 1_000n, 101)))).toBe('MEMPOOL_FULL');
    // add checks again: room may have gone between checkRoom and add (admission is async).
    const late = tx('f', 1_000n, 100);
    const acct = m2.checkRoom(late);
    m2.add(tx('g', 1_000n, 100), 'g');
    expect(codeOf(() => m2.add(late, acct))).toBe('MEMPOOL_FULL');
    expect(m2.size).toBe(4);
  });

  it('evicts expired transactions soonest first and only those', () => {
    const m = new Mempool({ maxTotal: 100, maxPerAccount: 100 });
    const e5 = tx('a', 5n);
    const e3 = tx('b', 3n);
    const e9 = tx('a', 9n);
    const e3b = tx('c', 3n);
    fill(m, [e5, e3, e9, e3b]);
    expect(m.evictExpired(2n)).toEqual([]);
    expect(ids(m.evictExpired(5n))).toEqual(ids([e3, e3b, e5]));
    expect(ids(m.fairOrder())).toEqual(ids([e9]));
    expect(m.size).toBe(1);
  });
});

// ------------------------------------------------------------ property test against a reference

/** The obvious implementation (arrays, copies, scans): the behaviour the fast one must have. */
class Reference {
  items: { env: TxEnvelope; account: string; seq: number }[] = [];
  seq = 0;
  constructor(readonly l: Required<ConstructorParameters<typeof Mempool>[0]>) {}
  bytes = () => this.items.reduce((s, i) => s + i.env.bytes.length, 0);
  of = (a: string) => this.items.filter((i) => i.account === a);
  add(env: TxEnvelope): string | undefined {
    const account = Mempool.accountOf(env);
    const mine = this.of(account);
    const size = env.bytes.length;
    if (this.items.some((i) => i.env.idHex === env.idHex)) return 'TX_DUPLICATE';
    if (this.items.length >= this.l.maxTotal || this.bytes() + size > this.l.maxBytes) return 'MEMPOOL_FULL';
    const mineBytes = mine.reduce((s, i) => s + i.env.bytes.length, 0);
    if (
      mine.length > 0 &&
      (mine.length >= this.l.maxPerAccount || mineBytes + size > this.l.maxPerAccountBytes)
    )
      return 'MEMPOOL_ACCOUNT_LIMIT';
    this.items.push({ env, account, seq: this.seq++ });
    return undefined;
  }
  remove(id: string) {
    const i = this.items.findIndex((x) => x.env.idHex === id);
    return i < 0 ? undefined : this.items.splice(i, 1)[0]!.env;
  }
  order(): TxEnvelope[] {
    const queues = new Map<string, TxEnvelope[]>();
    for (const i of this.items) queues.set(i.account, [...(queues.get(i.account) ?? []), i.env]);
    const qs = [...queues.values()];
    const out: TxEnvelope[] = [];
    for (let r = 0; qs.some((q) => q.length > r); r++)
      for (const q of qs) {
        const e = q[r];
        if (e) out.push(e);
      }
    return out;
  }
  evict(t: bigint): TxEnvelope[] {
    const gone = this.items
      .filter((i) => i.env.tx.expiration <= t)
      .sort((a, b) =>
        a.env.tx.expiration < b.env.tx.expiration
          ? -1
          : a.env.tx.expiration > b.env.tx.expiration
            ? 1
            : a.seq - b.seq,
      )
      .map((i) => i.env);
    for (const e of gone) this.remove(e.idHex);
    return gone;
  }
}

type Cmd =
  | { t: 'add'; account: string; exp: number; size: number }
  | { t: 'dup'; pick: number }
  | { t: 'remove'; pick: number }
  | { t: 'evict'; time: number }
  | { t: 'take'; n: number; drop: boolean };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('add' as const),
      account: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      exp: fc.integer({ min: 1, max: 40 }),
      size: fc.integer({ min: 1, max: 300 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('dup' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('evict' as const), time: fc.integer({ min: 0, max: 40 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('take' as const),
      n: fc.integer({ min: 0, max: 30 }),
      drop: fc.boolean(),
    }),
  },
);

describe('Mempool against a reference model', () => {
  it('has the reference behaviour for any sequence of operations', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 120 }), (cmds) => {
        const limits = { maxTotal: 25, maxPerAccount: 8, maxBytes: 4000, maxPerAccountBytes: 1500 };
        const m = new Mempool(limits);
        const ref = new Reference(limits);
        const known: TxEnvelope[] = [];
        for (const c of cmds) {
          if (c.t === 'add' || c.t === 'dup') {
            const env =
              c.t === 'add'
                ? tx(c.account, BigInt(c.exp), c.size)
                : known[c.pick % Math.max(1, known.length)];
            if (!env) continue;
            known.push(env);
            const want = ref.add(env);
            expect(codeOf(() => m.add(env, m.checkRoom(env)))).toBe(want);
          } else if (c.t === 'remove') {
            const env = known[c.pick % Math.max(1, known.length)];
            if (!env) continue;
            expect(m.remove(env.idHex)?.idHex).toBe(ref.remove(env.idHex)?.idHex);
          } else if (c.t === 'evict') {
            expect(ids(m.evictExpired(BigInt(c.time)))).toEqual(ids(ref.evict(BigInt(c.time))));
          } else {
            // Take n in fair order, dropping each one taken (as a block build does) or not.
            const want = ref.order().slice(0, c.n);
            const got: TxEnvelope[] = [];
            for (const e of m.fairOrder()) {
              if (got.length >= c.n) break;
              got.push(e);
              if (c.drop) m.remove(e.idHex);
            }
            expect(ids(got)).toEqual(ids(want));
            if (c.drop) for (const e of want) ref.remove(e.idHex);
          }
          expect(m.size).toBe(ref.items.length);
          expect(m.bytes).toBe(ref.bytes());
          expect(ids(m.fairOrder())).toEqual(ids(ref.order()));
          for (const e of known) expect(m.has(e.idHex)).toBe(ref.items.some((i) => i.env === e));
        }
      }),
      { numRuns: 300 },
    );
  });
});
