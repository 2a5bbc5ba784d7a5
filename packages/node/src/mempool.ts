/**
 * Pending transactions. Fairness: each account (the transaction's first required signer) has a
 * FIFO queue, and a block takes transactions round-robin across accounts, so an operator that
 * publishes thousands of offers gets one slot per round like everyone else and cannot delay
 * another party's charge. Order within an account is kept (charge #2 after charge #1).
 *
 * Every operation costs the same at 100 and at 1,000,000 pending transactions (see
 * `npm run bench:mempool`):
 * - each account's queue is a doubly linked list, so any entry leaves in O(1);
 * - accounts are kept in a B+ tree keyed by the arrival number of their oldest pending transaction
 *   (O(log A) when an account's head changes), so `fairOrder` walks them in order without copying
 *   or sorting anything: it costs O(log A) per transaction it yields, whatever is pending;
 * - expirations are kept in a B+ tree of expiration -> the transactions of that expiration in
 *   arrival order (a min-heap that also removes any entry in O(log n), O(1) when others share its
 *   expiration), so `evictExpired` costs O(k log n) for k expired transactions;
 * - caps by count and by bytes, in total and per account (MEMPOOL_FULL / MEMPOOL_ACCOUNT_LIMIT).
 */
import { RoamError, requiredSigners, type TxEnvelope } from '@roamchain/protocol';
import btree from 'sorted-btree';

// sorted-btree is CommonJS with an ES-style default export (`exports.default`); loaders differ in
// whether a default import is `module.exports` or `exports.default`.
type BTreeClass = typeof btree.default;
const BTree: BTreeClass = (btree as { default?: BTreeClass }).default ?? (btree as unknown as BTreeClass);

export interface MempoolLimits {
  /** Most pending transactions in total. */
  maxTotal: number;
  /** Most pending transactions of one account. */
  maxPerAccount: number;
  /** Most bytes of pending transactions in total (default 64 MiB). */
  maxBytes?: number;
  /** Most bytes of pending transactions of one account (default: an eighth of `maxBytes`). */
  maxPerAccountBytes?: number;
}

export const DEFAULT_MEMPOOL_BYTES = 64 * 1024 * 1024;

/** Seconds a client should wait before resubmitting after MEMPOOL_FULL (the `Retry-After` header). */
export const MEMPOOL_RETRY_AFTER_S = 1;

interface Queue {
  readonly name: string;
  head: Entry | null;
  tail: Entry | null;
  count: number;
  bytes: number;
}

interface Entry {
  readonly env: TxEnvelope;
  readonly queue: Queue;
  readonly seq: number;
  readonly size: number;
  prev: Entry | null;
  /** Kept when the entry leaves, so a running `fairOrder` still finds the entry's successor. */
  next: Entry | null;
  live: boolean;
  /** Neighbours among the transactions of the same expiration (key), in arrival order. */
  expPrev: Entry | null;
  expNext: Entry | null;
}

/** Transactions of one expiration key, in arrival order. */
interface Bucket {
  head: Entry | null;
  tail: Entry | null;
}

/**
 * The expiry index's key: the expiration (ms) as a number, exact up to 2^53 ms (year 287,396);
 * beyond, all share one key (they still leave only once expired, see `evictExpired`).
 */
const EXP_CAP = 2 ** 53;
const expKey = (e: TxEnvelope): number => {
  const x = e.tx.expiration;
  return x >= BigInt(EXP_CAP) ? EXP_CAP : Number(x);
};

export class Mempool {
  private readonly byId = new Map<string, Entry>();
  private readonly queues = new Map<string, Queue>();
  /** Accounts by the arrival number of their oldest pending transaction. */
  private readonly order = new BTree<number, Queue>();
  /** Expiration key -> its transactions: number keys, so a lookup reads a few tree nodes only. */
  private readonly expiry = new BTree<number, Bucket>();
  private totalBytes = 0;
  private seq = 0;
  readonly limits: Required<MempoolLimits>;

  constructor(limits: MempoolLimits) {
    const maxBytes = limits.maxBytes ?? DEFAULT_MEMPOOL_BYTES;
    this.limits = {
      maxTotal: limits.maxTotal,
      maxPerAccount: limits.maxPerAccount,
      maxBytes,
      maxPerAccountBytes: limits.maxPerAccountBytes ?? Math.ceil(maxBytes / 8),
    };
  }

  get size(): number {
    return this.byId.size;
  }

  /** Bytes of all pending transactions. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Accounts with pending transactions. */
  get accounts(): number {
    return this.queues.size;
  }

  has(idHex: string): boolean {
    return this.byId.has(idHex);
  }

  get(idHex: string): TxEnvelope | undefined {
    return this.byId.get(idHex)?.env;
  }

  /** Pending transactions of one account. */
  pendingOf(account: string): number {
    return this.queues.get(account)?.count ?? 0;
  }

  static accountOf(env: TxEnvelope): string {
    const first = env.tx.ops[0];
    // The first operation's first signer is who the transaction "belongs" to for fairness.
    return first ? (requiredSigners([first])[0] ?? '') : '';
  }

  /** Throws TX_DUPLICATE / MEMPOOL_FULL / MEMPOOL_ACCOUNT_LIMIT; otherwise returns the account it would queue under. */
  checkRoom(env: TxEnvelope): string {
    const account = Mempool.accountOf(env);
    this.room(env, account);
    return account;
  }

  private room(env: TxEnvelope, account: string): void {
    if (this.byId.has(env.idHex)) throw new RoamError('TX_DUPLICATE', 'transaction is already pending');
    const size = env.bytes.length;
    const l = this.limits;
    if (this.byId.size >= l.maxTotal || this.totalBytes + size > l.maxBytes) {
      throw new RoamError(
        'MEMPOOL_FULL',
        `mempool holds ${this.byId.size} transactions (${this.totalBytes} bytes)`,
        { pending: this.byId.size, bytes: this.totalBytes, retryAfterSeconds: MEMPOOL_RETRY_AFTER_S },
      );
    }
    const q = this.queues.get(account);
    if (q && (q.count >= l.maxPerAccount || q.bytes + size > l.maxPerAccountBytes)) {
      throw new RoamError(
        'MEMPOOL_ACCOUNT_LIMIT',
        `${account} has ${q.count} pending transactions (${q.bytes} bytes)`,
        { account, pending: q.count, bytes: q.bytes, retryAfterSeconds: MEMPOOL_RETRY_AFTER_S },
      );
    }
  }

  /** Queues the transaction at the end of its account's queue; checks the caps again (see `checkRoom`). */
  add(env: TxEnvelope, account: string): void {
    this.room(env, account);
    let q = this.queues.get(account);
    if (!q) {
      q = { name: account, head: null, tail: null, count: 0, bytes: 0 };
      this.queues.set(account, q);
    }
    const e: Entry = {
      env,
      queue: q,
      seq: this.seq++,
      size: env.bytes.length,
      prev: q.tail,
      next: null,
      live: true,
      expPrev: null,
      expNext: null,
    };
    if (q.tail) q.tail.next = e;
    else {
      q.head = e;
      this.order.set(e.seq, q);
    }
    q.tail = e;
    q.count++;
    q.bytes += e.size;
    this.totalBytes += e.size;
    this.byId.set(env.idHex, e);
    const k = expKey(env);
    const b = this.expiry.get(k);
    if (b) {
      e.expPrev = b.tail;
      b.tail!.expNext = e;
      b.tail = e;
    } else this.expiry.set(k, { head: e, tail: e });
  }

  private unlinkExpiry(e: Entry): void {
    if (e.expPrev && e.expNext) {
      e.expPrev.expNext = e.expNext;
      e.expNext.expPrev = e.expPrev;
    } else {
      const k = expKey(e.env);
      const b = this.expiry.get(k)!;
      if (e.expPrev) e.expPrev.expNext = e.expNext;
      else b.head = e.expNext;
      if (e.expNext) e.expNext.expPrev = e.expPrev;
      else b.tail = e.expPrev;
      if (!b.head) this.expiry.delete(k);
    }
    e.expPrev = null;
    e.expNext = null;
  }

  remove(idHex: string): TxEnvelope | undefined {
    const e = this.byId.get(idHex);
    if (!e) return undefined;
    this.byId.delete(idHex);
    this.unlinkExpiry(e);
    e.live = false;
    const q = e.queue;
    if (e.next) e.next.prev = e.prev;
    else q.tail = e.prev;
    if (e.prev) e.prev.next = e.next;
    else {
      // The account's oldest transaction left: the account moves to its next one's place.
      this.order.delete(e.seq);
      q.head = e.next;
      if (q.head) this.order.set(q.head.seq, q);
    }
    e.prev = null;
    q.count--;
    q.bytes -= e.size;
    this.totalBytes -= e.size;
    if (q.count === 0) this.queues.delete(q.name);
    return e.env;
  }

  /**
   * Round-robin across accounts; within a round, accounts in order of their oldest pending
   * transaction. Lazy: costs O(log A) per transaction taken, nothing for the rest. The caller may
   * remove transactions while iterating (each is yielded at most once); transactions added meanwhile
   * may or may not be seen. `maxPerAccount` ends the walk after that many rounds: no account gives
   * more than that many transactions (a block's share of one account, see `NodeConfig`).
   */
  *fairOrder(maxPerAccount = Number.POSITIVE_INFINITY): Generator<TxEnvelope> {
    if (!(maxPerAccount >= 1)) return;
    // Round 0: each account's oldest transaction, accounts in order.
    let cursors: Entry[] = [];
    const seen = new Set<Queue>();
    let key: number | undefined;
    for (;;) {
      const pair = this.order.nextHigherPair(key);
      if (!pair) break;
      key = pair[0];
      const q = pair[1];
      // An account whose head left during this walk reappears further on under its new head.
      if (seen.has(q)) continue;
      seen.add(q);
      const e = q.head;
      if (!e) continue;
      yield e.env;
      cursors.push(e);
    }
    seen.clear();
    // Round r: the successor of what each account gave in round r - 1, same account order.
    for (let r = 1; r < maxPerAccount && cursors.length > 0; r++) {
      const round = cursors;
      cursors = [];
      for (const prev of round) {
        let e = prev.next;
        while (e && !e.live) e = e.next;
        if (!e) continue;
        yield e.env;
        cursors.push(e);
      }
    }
  }

  /** Drops transactions that expire at or before `time`, soonest first; returns them. */
  evictExpired(time: bigint): TxEnvelope[] {
    const out: TxEnvelope[] = [];
    for (;;) {
      const k = this.expiry.minKey();
      const e = k === undefined ? undefined : this.expiry.get(k)?.head;
      if (!e || e.env.tx.expiration > time) return out;
      this.remove(e.env.idHex);
      out.push(e.env);
    }
  }
}
