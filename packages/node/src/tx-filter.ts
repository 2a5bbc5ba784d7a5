/**
 * The duplicate check without a storage read per fresh transaction: a Bloom filter of the ids of
 * every block this process committed, in front of the store's transaction index (`t/<id>`).
 *
 * Why a "no" can be trusted (proof): TaPoS requires a transaction's reference block to be below the
 * block that includes it (ref < height). So a transaction that references block r can only have been
 * included in a block of height > r. The filter covers every block from `coveredFrom` up to the head
 * (all blocks this process adopted; a Bloom filter has no false negatives). If r + 1 ≥ coveredFrom,
 * every block that could hold the transaction is covered, and a "no" from the filter means it was
 * never included. Otherwise (an old reference, or just after start) the store is read, as before. A
 * "maybe" is always checked in the store (false positives cost one read, never a wrong answer).
 *
 * Fresh transactions reference a recent block, so after the first blocks of a process nothing is
 * read from the store for them. Nothing is reloaded at start.
 *
 * Bounded: two generations of a fixed size (`bits` each). When the current one holds `capacity`
 * ids it becomes the old one and the oldest is dropped; `coveredFrom` moves up to the first height
 * of the oldest live generation (transactions referencing a block below it are looked up in the
 * store). The hash positions are taken from the id itself (a SHA-256: uniform), so no hashing.
 */

/** Ids per generation before it rotates (about 16 bits per id at the default size: ~0.05 % false positives). */
export const FILTER_CAPACITY = 4_000_000;
/** Bits per generation (a power of two): 2^26 bits = 8 MiB. */
export const FILTER_BITS = 1 << 26;
const K = 7;

/** Value of a hex digit by its char code (0-9, a-f, A-F); -1 for anything else. */
const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX_DIGIT[d.toString(16).charCodeAt(0)] = d;
  HEX_DIGIT[d.toString(16).toUpperCase().charCodeAt(0)] = d;
}

class Generation {
  readonly words: Uint32Array;
  count = 0;
  constructor(
    bits: number,
    readonly firstHeight: number,
  ) {
    this.words = new Uint32Array(bits >>> 5);
  }
}

export class TxFilter {
  private readonly mask: number;
  private current: Generation;
  private old: Generation | null = null;

  constructor(
    /** The first height this process adopts (the store's head + 1 at start). */
    firstHeight: number,
    private readonly bits = FILTER_BITS,
    private readonly capacity = FILTER_CAPACITY,
  ) {
    if (bits < 32 || (bits & (bits - 1)) !== 0) throw new Error('TxFilter: bits must be a power of two ≥ 32');
    this.mask = bits - 1;
    this.current = new Generation(bits, firstHeight);
  }

  /** The lowest height from which every block's ids are in the filter. */
  get coveredFrom(): number {
    return (this.old ?? this.current).firstHeight;
  }

  /** Adds the ids of the block at `height` (call for every adopted block, in order). */
  addBlock(height: number, idsHex: readonly string[]): void {
    if (this.current.count + idsHex.length > this.capacity && this.current.count > 0) {
      this.old = this.current;
      this.current = new Generation(this.bits, height);
    }
    const w = this.current.words;
    for (const id of idsHex) {
      for (let i = 0; i < K; i++) {
        const b = this.position(id, i);
        const j = b >>> 5;
        w[j] = (w[j] ?? 0) | (1 << (b & 31));
      }
    }
    this.current.count += idsHex.length;
  }

  /** False: the id is in no block the filter covers. True: it may be (look it up). */
  mayHave(idHex: string): boolean {
    return this.inGen(this.current, idHex) || (this.old !== null && this.inGen(this.old, idHex));
  }

  /**
   * True when the filter alone proves that a transaction referencing block `refBlockNum` was never
   * included (see the file comment).
   */
  provesAbsent(idHex: string, refBlockNum: number, id?: Uint8Array): boolean {
    if (refBlockNum + 1 < this.coveredFrom) return false;
    if (id?.length !== 32) return !this.mayHave(idHex);
    return !(this.inGenBytes(this.current, id) || (this.old !== null && this.inGenBytes(this.old, id)));
  }

  /**
   * `inGen` from the id's bytes: the same positions (hex digits 8i..8i+7 are bytes 4i..4i+3, big
   * endian) without a substring and a parseInt each (admission asks twice per transaction).
   */
  private inGenBytes(g: Generation, id: Uint8Array): boolean {
    const w = g.words;
    for (let i = 0, o = 0; i < K; i++, o += 4) {
      const b = ((id[o]! << 24) | (id[o + 1]! << 16) | (id[o + 2]! << 8) | id[o + 3]!) & this.mask;
      if ((w[b >>> 5]! & (1 << (b & 31))) === 0) return false;
    }
    return true;
  }

  private inGen(g: Generation, id: string): boolean {
    const w = g.words;
    for (let i = 0; i < K; i++) {
      const b = this.position(id, i);
      if ((w[b >>> 5]! & (1 << (b & 31))) === 0) return false;
    }
    return true;
  }

  /**
   * The i-th bit position: 32 bits of the (uniform) id, 8 hex digits at offset 8i. Read digit by
   * digit (no substring, no parseInt: 0.5-0.75 → 0.1-0.25 µs per id added or asked; ids are
   * asked per transaction in admission and in each block, and added per committed transaction);
   * anything but hex digits is read as before.
   */
  private position(idHex: string, i: number): number {
    let v = 0;
    for (let j = i * 8, end = j + 8; j < end; j++) {
      const c = idHex.charCodeAt(j);
      const d = c < 128 ? HEX_DIGIT[c]! : -1;
      if (d < 0) return Number.parseInt(idHex.slice(i * 8, i * 8 + 8), 16) & this.mask;
      v = (v << 4) | d;
    }
    return v & this.mask;
  }
}
