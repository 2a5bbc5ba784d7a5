/**
 * The ledger state: a map of typed objects plus a Merkle commitment over their encodings.
 * Writes happen in overlays (one per block, one per transaction inside it) that are merged on
 * success or dropped on failure, so a rejected transaction or block changes nothing.
 */
import { bytesToHex, sha256, utf8 } from '@roamchain/protocol';
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

export type Undo = [key: string, before: unknown, hash: Uint8Array | undefined][];
/** The writes of a commit, to be done again after a rollback (`LedgerState.redoOf`). */
export type Redo = [key: string, after: unknown, hash: Uint8Array | undefined][];

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
  private readonly trie = new StateTrie();
  readonly offers = new OfferIndex();

  get<T>(key: string): T | undefined {
    return this.objects.get(key) as T | undefined;
  }

  get meta(): ChainMeta {
    const m = this.get<ChainMeta>(K.meta);
    if (!m) throw new Error('state has no chain meta (not initialised from genesis)');
    return m;
  }

  /**
   * Apply an overlay's writes to the state. Returns the encoded changes for storage and an undo
   * record that `rollback` uses when the resulting root turns out wrong.
   */
  commit(o: Overlay): { changes: StateChange[]; undo: Undo } {
    const changes: StateChange[] = [];
    const undo: Undo = [];
    const keys = [...o.writes.keys()].sort();
    // Encode everything first: a value that cannot be encoded must leave the state untouched.
    const encoded = new Map<string, Uint8Array>();
    for (const key of keys) {
      const v = o.writes.get(key);
      if (v !== DELETED) encoded.set(key, encodeEntry(key, v));
    }
    for (const key of keys) {
      const v = o.writes.get(key);
      const before = this.objects.get(key);
      const keyHash = sha256(utf8(key));
      if (v === DELETED) {
        if (before === undefined) continue;
        undo.push([key, before, this.trie.get(keyHash)]);
        this.objects.delete(key);
        this.trie.delete(keyHash);
        changes.push({ key, value: null });
        this.derive(key, before, undefined);
      } else {
        undo.push([key, before, this.trie.get(keyHash)]);
        const bytes = encoded.get(key)!;
        this.objects.set(key, v);
        this.trie.set(keyHash, sha256(bytes));
        changes.push({ key, value: bytes });
        this.derive(key, before, v);
      }
    }
    return { changes, undo };
  }

  rollback(undo: Undo): void {
    for (let i = undo.length - 1; i >= 0; i--) {
      const [key, before, hash] = undo[i]!;
      const keyHash = sha256(utf8(key));
      const now = this.objects.get(key);
      if (before === undefined) {
        this.objects.delete(key);
        this.trie.delete(keyHash);
      } else {
        this.objects.set(key, before);
        this.trie.set(keyHash, hash!);
      }
      this.derive(key, now, before);
    }
  }

  /**
   * What a `commit` did, taken right after it, so that the same writes can be put back with
   * `reapply` after a `rollback`. A BFT node applies a proposed block to check its state root, rolls
   * it back (the block is not final yet), and reapplies it without re-executing once it is decided.
   */
  redoOf(undo: Undo): Redo {
    return undo.map(([key]) => {
      const hash = this.trie.get(sha256(utf8(key)));
      return [key, this.objects.get(key), hash];
    });
  }

  /** Put back the writes recorded by `redoOf` (the state must be where it was before that commit). */
  reapply(redo: Redo): void {
    for (const [key, after, hash] of redo) {
      const keyHash = sha256(utf8(key));
      const before = this.objects.get(key);
      if (after === undefined) {
        this.objects.delete(key);
        this.trie.delete(keyHash);
      } else {
        this.objects.set(key, after);
        this.trie.set(keyHash, hash!);
      }
      this.derive(key, before, after);
    }
  }

  /** Load one stored entry (node start-up). */
  loadEntry(key: string, bytes: Uint8Array): void {
    const v = decodeEntry(key, bytes);
    this.objects.set(key, v);
    this.trie.set(sha256(utf8(key)), sha256(bytes));
    this.derive(key, undefined, v);
  }

  root(): Uint8Array {
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
