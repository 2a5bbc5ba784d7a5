/**
 * Mempool micro-benchmark: `npm run bench:mempool` [-- --large N] [--small N] [--ops N]
 *
 * Fills a mempool to `--small` (default 100) and to `--large` (default 1,000,000) pending
 * transactions (one account holds half of them, as a flooder would; the rest spread over size/10
 * accounts), then measures each operation at that size in batches of 50, keeping the size within
 * 50 of it (what is added is removed again): admission (`checkRoom` + `add`), removal of a random
 * pending transaction, `has`, taking transactions in fair order (`fairOrder`, per transaction
 * taken, each removed as a block build does) and `evictExpired` (per transaction evicted). The
 * figure of an operation is the median over its batches (`--ops` operations in all), so a
 * garbage-collector pause does not count. Prints a table of ns per operation at both sizes and
 * their ratio, and `RESULT small=… large=… <op>_ratio=… worst_ratio=… worst_op=…`.
 */
import { parseArgs } from 'node:util';
import type { SignedTx, TxEnvelope } from '@roamchain/protocol';
import { Mempool } from '../src/mempool.js';

const { values: args } = parseArgs({
  options: {
    small: { type: 'string', default: '100' },
    large: { type: 'string', default: '1000000' },
    ops: { type: 'string', default: '20000' },
  },
});
const SMALL = Number(args.small);
const LARGE = Number(args.large);
const OPS = Number(args.ops);
const BATCH = 50;

const body = new Uint8Array(250);
const opsOf = new Map<string, SignedTx['ops']>();
let n = 0;
function tx(account: string, expiration: bigint): TxEnvelope {
  let ops = opsOf.get(account);
  if (!ops) {
    ops = [
      { type: 'transfer', from: account, to: 'zz', token: 'UMT', amount: 1n, memo: body.subarray(0, 0) },
    ];
    opsOf.set(account, ops);
  }
  const idHex = `t${(n++).toString(36)}`;
  return { tx: { ops, expiration } as unknown as SignedTx, id: body, idHex, bytes: body };
}

// A deterministic generator (the benchmark compares sizes, not runs).
let seed = 42;
const rnd = (k: number) => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed % k;
};
const FAR = 1n << 40n;
const accountFor = (size: number, i: number) =>
  i % 2 === 0 ? 'flood' : `acct${rnd(Math.max(1, Math.floor(size / 10)))}`;

function filled(size: number): { m: Mempool; present: TxEnvelope[] } {
  const m = new Mempool({ maxTotal: size + 10 * BATCH, maxPerAccount: size + 10 * BATCH, maxBytes: 2 ** 52 });
  const present: TxEnvelope[] = [];
  for (let i = 0; i < size; i++) {
    const e = tx(accountFor(size, i), FAR + BigInt(rnd(1_000_000)));
    m.add(e, m.checkRoom(e));
    present.push(e);
  }
  return { m, present };
}

/** Samples of ns per operation, one per batch (the median of them leaves out GC pauses). */
class Samples {
  private readonly xs: number[] = [];
  time(ops: number, f: () => void): void {
    const t = process.hrtime.bigint();
    f();
    this.xs.push(Number(process.hrtime.bigint() - t) / ops);
  }
  median(): number {
    const s = [...this.xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? Number.NaN;
  }
}

/** ns per operation at `size` pending; the size stays within BATCH of it throughout. */
function measure(size: number): Record<string, number> {
  const { m, present } = filled(size);
  const S = {
    add: new Samples(),
    remove: new Samples(),
    has: new Samples(),
    fairOrder: new Samples(),
    evictExpired: new Samples(),
  };
  // `present` may hold transactions a block took: they are dropped from it when picked.
  const take = (k: number) => {
    const e = present[k]!;
    present[k] = present[present.length - 1]!;
    present.pop();
    return e;
  };
  const pick = (): number => {
    for (;;) {
      const k = rnd(present.length);
      if (m.has(present[k]!.idHex)) return k;
      take(k);
    }
  };
  const fresh = () => tx(accountFor(size, rnd(2)), FAR + BigInt(rnd(1_000_000)));
  for (let round = 0; round < OPS / BATCH; round++) {
    // Remove BATCH random pending transactions, admit BATCH new ones.
    const gone: TxEnvelope[] = [];
    for (let i = 0; i < BATCH; i++) gone.push(take(pick()));
    S.remove.time(BATCH, () => {
      for (const e of gone) m.remove(e.idHex);
    });
    const added = Array.from({ length: BATCH }, fresh);
    S.add.time(BATCH, () => {
      for (const e of added) m.add(e, m.checkRoom(e));
    });
    present.push(...added);
    const probe = Array.from({ length: BATCH }, () => present[pick()]!.idHex);
    S.has.time(BATCH, () => {
      for (const id of probe) if (!m.has(id)) throw new Error('lost');
    });
    // A block of BATCH in fair order, each removed as a block build does; then as many admitted.
    const taken: TxEnvelope[] = [];
    S.fairOrder.time(BATCH, () => {
      for (const e of m.fairOrder()) {
        taken.push(e);
        m.remove(e.idHex);
        if (taken.length >= BATCH) break;
      }
    });
    for (let i = 0; i < BATCH; i++) {
      const e = fresh();
      m.add(e, m.checkRoom(e));
      present.push(e);
    }
    // BATCH transactions that expire soon among `size` that do not.
    for (let i = 0; i < BATCH; i++) {
      const e = tx(accountFor(size, i), 1n + BigInt(rnd(1000)));
      m.add(e, m.checkRoom(e));
    }
    S.evictExpired.time(BATCH, () => {
      if (m.evictExpired(1000n).length !== BATCH) throw new Error('evict');
    });
    if (m.size !== size) throw new Error(`size drifted: ${m.size} != ${size}`);
  }
  const r: Record<string, number> = {};
  for (const [k, v] of Object.entries(S)) r[k] = v.median();
  return r;
}

const LABEL: Record<string, string> = {
  add: 'checkRoom + add',
  remove: 'remove (any entry)',
  has: 'has',
  fairOrder: 'fairOrder (per tx taken, removed)',
  evictExpired: 'evictExpired (per tx evicted)',
};
measure(SMALL); // warm-up
const small = measure(SMALL);
const large = measure(LARGE);
const out = (s: string) => process.stdout.write(`${s}\n`);
out(`mempool: ns per operation at ${SMALL} and at ${LARGE.toLocaleString('en')} pending (${OPS} ops each)`);
out(
  `${'operation'.padEnd(40)} ${`@${SMALL}`.padStart(10)} ${`@${LARGE}`.padStart(10)} ${'ratio'.padStart(7)}`,
);
let worst = { op: '', ratio: 0 };
for (const k of Object.keys(small)) {
  const ratio = large[k]! / small[k]!;
  if (ratio > worst.ratio) worst = { op: k, ratio };
  out(
    `${(LABEL[k] ?? k).padEnd(40)} ${small[k]!.toFixed(0).padStart(10)} ${large[k]!.toFixed(0).padStart(10)} ${ratio.toFixed(2).padStart(7)}`,
  );
}
out(
  `RESULT small=${SMALL} large=${LARGE} ${Object.keys(small)
    .map((k) => `${k}_ratio=${(large[k]! / small[k]!).toFixed(2)}`)
    .join(' ')} worst_ratio=${worst.ratio.toFixed(2)} worst_op=${worst.op}`,
);
