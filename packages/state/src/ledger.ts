/**
 * The ledger state: a map of typed objects plus a Merkle commitment over their encodings.
 * Writes happen in overlays (one per block, one per transaction inside it) that are merged on
 * success or dropped on failure, so a rejected transaction or block changes nothing.
 */
import { bytesToHex, equalBytes, sha256, utf8 } from '@roamchain/protocol';
import { type ChainMeta, decodeEntry, encodeEntry, K, type Offer } from './objects.js';
import { StateTrie } from './trie.js';

const DELETED: unique symbol = Symbol('deleted');
type Slot = unknown | typeof DELETED;

export interface StateReader {
  get<T>(key: string): T | undefined;
}

export class Overlay implements StateReader {
  readonly writes = new Map<string, Slot>();
  constructor(readonly parent: StateReader) {}
  get<T>(key: string): T | undefined {
    const v = this.writes.get(key);
    if (v !== undefined) return v === DELETED ? undefined : (v as T);
    return this.parent.get<T>(key);
  }
  put(key: string, value: unknown): void {
    this.writes.set(key, value);
  }
  del(key: string): void {
    this.writes.set(key, DELETED);
  }
  /** Merge this overlay's writes into its parent overlay. */
  mergeInto(target: Overlay): void {
    for (const [k, v] of this.writes) target.writes.set(k, v);
  }
}

/** One state entry as it goes to storage: encoded bytes, or null for a deletion. */
export interface StateChange {
  key: string;
  value: Uint8Array | null;
}

/**
 * A candidate block's writes staged against the head: the trie holds them (so `root` is the
 * candidate's state root), the objects do not (readers see the head). `adopt` makes them the head
 * without executing or hashing again; `unstage` takes them out of the trie. Execute once, hash once.
 */
export interface Staged {
  readonly writes: ReadonlyMap<string, Slot>;
  /** Encoded entries for storage, sorted by key. */
  readonly changes: StateChange[];
  readonly root: Uint8Array;
  /** Transactions of the block (id hex, expiration): the replay index learns them on adopt. */
  readonly txs: [idHex: string, expiration: bigint][];
  /** Block time (prunes the replay index on adopt). */
  readonly time: bigint;
  /** Per key (same order as `changes`): key hash, value hash before, value hash after. */
  readonly trie: [keyHash: Uint8Array, before: Uint8Array | undefined, after: Uint8Array | undefined][];
}

/**
 * Replay protection outside the Merkle state: the ids of included transactions that have not expired
 * yet, derived from the applied blocks (Graphene keeps it beside the chain, not in it). Forgetting an
 * id once its expiration has passed is safe: an expired transaction is refused before this lookup.
 */
export interface TxIndex {
  /**
   * `refBlockNum`: the transaction's TaPoS reference. It can only have been included in a block
   * above it (TaPoS requires ref < height), so an index that covers every block above it may answer
   * from memory alone.
   */
  has(idHex: string, refBlockNum?: number): boolean;
}

/** The in-memory `TxIndex` of a state (tests, replay, tools): ids bucketed by expiration second. */
export class RecentTxs implements TxIndex {
  private readonly ids = new Map<string, bigint>();
  private readonly bySecond = new Map<bigint, string[]>();
  private low: bigint | null = null;
  has(idHex: string): boolean {
    return this.ids.has(idHex);
  }
  get size(): number {
    return this.ids.size;
  }
  add(idHex: string, expiration: bigint): void {
    this.ids.set(idHex, expiration);
    const sec = expiration / 1000n;
    const b = this.bySecond.get(sec);
    if (b) b.push(idHex);
    else this.bySecond.set(sec, [idHex]);
    if (this.low === null || sec < this.low) this.low = sec;
  }
  /** Forget every id that expires at or before `time` (cost: the ids forgotten + seconds passed). */
  prune(time: bigint): void {
    if (this.low === null) return;
    const upTo = time / 1000n;
    // Seconds with nothing are skipped in jumps when the map is small (a long gap between blocks).
    if (upTo - this.low > BigInt(this.bySecond.size) * 4n) {
      for (const [sec, ids] of this.bySecond) if (sec < upTo) this.dropBucket(sec, ids, time);
    } else {
      for (let sec = this.low; sec < upTo; sec++) {
        const ids = this.bySecond.get(sec);
        if (ids) this.dropBucket(sec, ids, time);
      }
    }
    const cur = this.bySecond.get(upTo);
    if (cur) {
      const keep = cur.filter((id) => {
        const e = this.ids.get(id);
        if (e !== undefined && e <= time) {
          this.ids.delete(id);
          return false;
        }
        return e !== undefined;
      });
      if (keep.length) this.bySecond.set(upTo, keep);
      else this.bySecond.delete(upTo);
    }
    this.low = this.bySecond.size ? upTo : null;
  }
  private dropBucket(sec: bigint, ids: string[], time: bigint): void {
    for (const id of ids) {
      const e = this.ids.get(id);
      if (e !== undefined && e <= time) this.ids.delete(id);
    }
    this.bySecond.delete(sec);
  }
}

/** Derived, non-consensus lookups kept beside the state (rebuilt on load). */
class OfferIndex {
  private readonly byCoverage = new Map<string, Set<string>>();
  private readonly byOperator = new Map<string, Set<string>>();
  private static keys(o: Offer): string[] {
    return [...o.terms.countries.map((c) => `C:${c}`), ...o.terms.networks.map((n) => `N:${n}`)];
  }
  private static add(m: Map<string, Set<string>>, k: string, id: string): void {
    const s = m.get(k) ?? new Set<string>();
    m.set(k, s);
    s.add(id);
  }
  update(before: Offer | undefined, after: Offer | undefined): void {
    if (before) {
      const id = bytesToHex(before.id);
      for (const k of OfferIndex.keys(before)) this.byCoverage.get(k)?.delete(id);
      this.byOperator.get(before.operator)?.delete(id);
    }
    if (after && after.status === 'active') {
      const id = bytesToHex(after.id);
      for (const k of OfferIndex.keys(after)) OfferIndex.add(this.byCoverage, k, id);
      OfferIndex.add(this.byOperator, after.operator, id);
    }
  }
  byCountry(c: string): Iterable<string> {
    return this.byCoverage.get(`C:${c}`) ?? [];
  }
  byNetwork(n: string): Iterable<string> {
    return this.byCoverage.get(`N:${n}`) ?? [];
  }
  ofOperator(op: string): Iterable<string> {
    return this.byOperator.get(op) ?? [];
  }
  all(): Set<string> {
    const s = new Set<string>();
    for (const ids of this.byOperator.values()) for (const id of ids) s.add(id);
    return s;
  }
}

export class LedgerState implements StateReader {
  private readonly objects = new Map<string, unknown>();
  /** sha256(key) of every key in the state: each key is hashed once while it lives. */
  private readonly keyHashes = new Map<string, Uint8Array>();
  private readonly trie = new StateTrie();
  readonly offers = new OfferIndex();
  /** The replay index of applied blocks (see `TxIndex`); a node may use its own instead. */
  readonly recentTxs = new RecentTxs();
  /** The candidate whose writes are in the trie (not in the objects), if any. */
  private staged: Staged | null = null;
  private headRoot: Uint8Array | null = null;

  get<T>(key: string): T | undefined {
    return this.objects.get(key) as T | undefined;
  }

  get meta(): ChainMeta {
    const m = this.get<ChainMeta>(K.meta);
    if (!m) throw new Error('state has no chain meta (not initialised from genesis)');
    return m;
  }

  private keyHash(key: string): Uint8Array {
    return this.keyHashes.get(key) ?? sha256(utf8(key));
  }

  /**
   * Stage an overlay's writes (a candidate block on the head): encode them, put them in the trie and
   * compute the root; the objects stay at the head. Another staged candidate is taken out first.
   * A value that cannot be encoded throws and leaves the state untouched.
   */
  stage(o: Overlay, txs: Staged['txs'] = [], time = 0n): Staged {
    const keys = [...o.writes.keys()].sort();
    const changes: StateChange[] = [];
    const trie: Staged['trie'] = [];
    for (const key of keys) {
      const v = o.writes.get(key);
      if (v === DELETED) {
        if (this.objects.get(key) === undefined) continue;
        changes.push({ key, value: null });
      } else {
        changes.push({ key, value: encodeEntry(key, v) });
      }
    }
    if (this.staged) this.unstage(this.staged);
    this.headRoot = this.trie.root();
    for (const c of changes) {
      const kh = this.keyHash(c.key);
      const after = c.value ? sha256(c.value) : undefined;
      trie.push([kh, this.trie.get(kh), after]);
      if (after) this.trie.set(kh, after);
      else this.trie.delete(kh);
    }
    const staged: Staged = { writes: o.writes, changes, root: this.trie.root(), txs, time, trie };
    this.staged = staged;
    return staged;
  }

  /** Take a staged candidate's writes out of the trie (it was not decided, or another one is checked). */
  unstage(s: Staged): void {
    if (this.staged !== s) return;
    for (let i = s.trie.length - 1; i >= 0; i--) {
      const [kh, before] = s.trie[i]!;
      if (before) this.trie.set(kh, before);
      else this.trie.delete(kh);
    }
    this.staged = null;
  }

  /**
   * Make a staged candidate the head: its writes go into the objects; the trie already holds them
   * (if another candidate was staged since, they are put back and the root checked).
   */
  adopt(s: Staged): StateChange[] {
    if (this.staged !== s) {
      if (this.staged) this.unstage(this.staged);
      for (const [kh, , after] of s.trie) {
        if (after) this.trie.set(kh, after);
        else this.trie.delete(kh);
      }
      if (!equalBytes(this.trie.root(), s.root)) {
        throw new Error('staged block no longer applies to this state (its root changed)');
      }
    }
    this.staged = null;
    this.headRoot = s.root;
    for (let i = 0; i < s.changes.length; i++) {
      const { key } = s.changes[i]!;
      const v = s.writes.get(key);
      const before = this.objects.get(key);
      if (v === DELETED) {
        this.objects.delete(key);
        this.keyHashes.delete(key);
        this.derive(key, before, undefined);
      } else {
        this.objects.set(key, v);
        this.keyHashes.set(key, s.trie[i]![0]);
        this.derive(key, before, v);
      }
    }
    for (const [id, exp] of s.txs) this.recentTxs.add(id, exp);
    if (s.time > 0n) this.recentTxs.prune(s.time);
    return s.changes;
  }

  /** Stage and adopt at once (genesis, tools, tests). */
  commit(o: Overlay): { changes: StateChange[] } {
    return { changes: this.adopt(this.stage(o)) };
  }

  /** Load one stored entry (node start-up). */
  loadEntry(key: string, bytes: Uint8Array): void {
    const v = decodeEntry(key, bytes);
    const kh = sha256(utf8(key));
    this.objects.set(key, v);
    this.keyHashes.set(key, kh);
    this.trie.set(kh, sha256(bytes));
    this.headRoot = null;
    this.derive(key, undefined, v);
  }

  /** The head's state root (a staged candidate's root is `Staged.root`). */
  root(): Uint8Array {
    if (this.staged && this.headRoot) return this.headRoot;
    return this.trie.root();
  }

  get size(): number {
    return this.objects.size;
  }

  /** Iterate entries under a key prefix (tests, audits, start-up indexers; never on the block path). */
  *entries<T = unknown>(prefix: string): Iterable<[string, T]> {
    for (const [k, v] of this.objects) if (k.startsWith(prefix)) yield [k, v as T];
  }

  private derive(key: string, before: unknown, after: unknown): void {
    if (key.startsWith('offer/')) this.offers.update(before as Offer | undefined, after as Offer | undefined);
  }
}
