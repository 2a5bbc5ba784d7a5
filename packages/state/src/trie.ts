/**
 * State commitment: a binary sparse Merkle trie over 32-byte keys and 32-byte value hashes.
 *
 * Callers pass `key = sha256(stateKey)` and `valueHash = sha256(value)`. Bits are numbered from the most
 * significant bit of key byte 0. The canonical hash H(S, d) of a set S of (key, valueHash) at bit depth d is:
 *
 *   - S empty           -> 32 zero bytes (EMPTY_ROOT)
 *   - S = {(k, v)}      -> leafHash = sha256(0x00 || k || v)
 *   - |S| >= 2          -> sha256(0x01 || H(L, d + 1) || H(R, d + 1))
 *                          where L = entries whose bit d is 0 and R = entries whose bit d is 1.
 *
 * The state root is H(S, 0). A lone leaf therefore sits as high as possible; keys sharing a prefix produce a
 * chain of internal nodes with EMPTY siblings. The structure is a pure function of the set, so the root is
 * independent of insertion/deletion order (deletes collapse single-leaf subtrees back up).
 *
 * Cost: `set`/`delete` only walk one root-to-leaf path (expected depth ~log2 n for hashed keys) and mark it
 * dirty. `root()` rehashes only dirty nodes, reusing the cached hashes of every untouched subtree, so a block
 * that changes c keys costs O(c * depth) = O(c log n) hashes, independent of the total number of keys.
 *
 * Nodes live in typed-array arenas (no per-node JS objects): ~250 MB for 1M keys, including the ~1.4
 * internal nodes per key, the cached hashes and growth slack.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { sha256Into as protocolSha256Into, sha256IsReplaced } from '@roamchain/protocol';

const HASH_BYTES = 32;
const LEAF_BYTES = 2 * HASH_BYTES; // key || valueHash
const MAX_DEPTH = HASH_BYTES * 8;

// Node record layout in the `nodes` Int32Array: [left, right, meta] (stride 3: a hop reads one record).
const STRIDE = 3;
const NONE = -1; // EMPTY subtree / no node
const FREE = 0;
const LEAF = 1;
const BRANCH = 2;
const KIND_MASK = 3;
const DIRTY = 4; // meta flag: cached hash is stale

// sha256 of the 65-byte node preimage without per-call allocation: reset a working hasher from a pristine
// one (noble's public `_cloneInto`), then digest into a fixed buffer. Roughly twice as fast as `sha256()`.
// The tests cross-check against the plain `sha256()` reference implementation and a golden root.
const PRISTINE = sha256.create();
const WORK = sha256.create();
const DIGEST = new Uint8Array(HASH_BYTES);
function sha256Into(msg: Uint8Array, out: Uint8Array, outOff: number): void {
  // A node plugs libsodium into @roamchain/protocol (`useSha256`): ~3x faster than this path there.
  if (sha256IsReplaced()) {
    protocolSha256Into(msg, DIGEST);
    out.set(DIGEST, outOff);
    return;
  }
  PRISTINE._cloneInto(WORK);
  WORK.update(msg);
  WORK.digestInto(DIGEST);
  out.set(DIGEST, outOff);
}

/** Copy `n` bytes by a loop: a `subarray` view per copy was garbage on the hottest path of a block. */
function copy(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
}

/** Root of the empty trie (32 zero bytes). Do not mutate. */
export const EMPTY_ROOT: Uint8Array = new Uint8Array(HASH_BYTES);

function checkHash32(name: string, bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== HASH_BYTES) {
    throw new TypeError(`${name} must be a ${HASH_BYTES}-byte Uint8Array`);
  }
}

/** Bit `d` (0 = MSB of byte 0) of `bytes[off .. off + 32)`. */
function bitAt(bytes: Uint8Array, off: number, d: number): number {
  return ((bytes[off + (d >>> 3)] as number) >>> (7 - (d & 7))) & 1;
}

function rangeEquals(a: Uint8Array, aOff: number, b: Uint8Array): boolean {
  for (let i = 0; i < HASH_BYTES; i++) {
    if (a[aOff + i] !== b[i]) return false;
  }
  return true;
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Reference implementation: a direct recursive transcription of the definition above. O(n * depth); meant
 * for tests and audits. Duplicate keys: the last occurrence wins.
 */
export function trieRootOf(entries: Iterable<[Uint8Array, Uint8Array]>): Uint8Array {
  const byKey = new Map<string, [Uint8Array, Uint8Array]>();
  for (const [key, valueHash] of entries) {
    checkHash32('key', key);
    checkHash32('valueHash', valueHash);
    byKey.set(toHex(key), [key.slice(), valueHash.slice()]);
  }
  const hashAt = (set: [Uint8Array, Uint8Array][], depth: number): Uint8Array => {
    if (set.length === 0) return new Uint8Array(HASH_BYTES);
    if (set.length === 1) {
      const [key, valueHash] = set[0]!;
      const buf = new Uint8Array(1 + 2 * HASH_BYTES);
      buf[0] = 0x00;
      buf.set(key, 1);
      buf.set(valueHash, 1 + HASH_BYTES);
      return sha256(buf);
    }
    if (depth >= MAX_DEPTH) throw new Error('unreachable: distinct keys share all 256 bits');
    const left = set.filter(([key]) => bitAt(key, 0, depth) === 0);
    const right = set.filter(([key]) => bitAt(key, 0, depth) === 1);
    const buf = new Uint8Array(1 + 2 * HASH_BYTES);
    buf[0] = 0x01;
    buf.set(hashAt(left, depth + 1), 1);
    buf.set(hashAt(right, depth + 1), 1 + HASH_BYTES);
    return sha256(buf);
  };
  return hashAt([...byKey.values()], 0);
}

/**
 * Incremental sparse Merkle trie (see the module comment for the exact definition).
 *
 * Storage: node ids index an Int32Array of [left, right, meta] records. A BRANCH stores child ids (NONE =
 * EMPTY subtree); a LEAF stores its slot in the leaf arena (key || valueHash) in `left`. Each node caches its
 * hash in `hashes`; the DIRTY meta flag marks nodes whose cached hash is stale.
 */
export class StateTrie {
  #nodes: Int32Array;
  #hashes: Uint8Array;
  #nodeCap: number;
  #nodeTop = 0;
  #freeNodes: number[] = [];

  #leafData: Uint8Array;
  #leafCap: number;
  #leafTop = 0;
  #freeLeaves: number[] = [];

  #root = NONE;
  #size = 0;
  #hashCount = 0;

  // Scratch path of the last #findLeaf walk (branches visited and the side taken at each).
  #pathLen = 0;
  readonly #pathNodes = new Int32Array(MAX_DEPTH + 1);
  readonly #pathSides = new Uint8Array(MAX_DEPTH + 1);
  readonly #scratch = new Uint8Array(1 + 2 * HASH_BYTES);

  /** `initialCapacity`: expected number of keys (arenas grow by doubling as needed). */
  constructor(initialCapacity = 1024) {
    const cap = Math.max(16, Math.floor(initialCapacity));
    this.#nodeCap = cap * 2;
    this.#nodes = new Int32Array(this.#nodeCap * STRIDE);
    this.#hashes = new Uint8Array(this.#nodeCap * HASH_BYTES);
    this.#leafCap = cap;
    this.#leafData = new Uint8Array(this.#leafCap * LEAF_BYTES);
  }

  /** Number of keys. */
  get size(): number {
    return this.#size;
  }

  /** Number of sha256 invocations performed by the most recent `root()` call. */
  get hashCount(): number {
    return this.#hashCount;
  }

  /** Value hash stored under `key`, or undefined. Returns a copy. */
  get(key: Uint8Array): Uint8Array | undefined {
    checkHash32('key', key);
    const n = this.#findLeaf(key);
    if (n === NONE) return undefined;
    const off = this.#nodes[n * STRIDE]! * LEAF_BYTES;
    if (!rangeEquals(this.#leafData, off, key)) return undefined;
    return this.#leafData.slice(off + HASH_BYTES, off + LEAF_BYTES);
  }

  /** Insert or update. Setting an identical value is a no-op (nothing is marked dirty). */
  set(key: Uint8Array, valueHash: Uint8Array): void {
    checkHash32('key', key);
    checkHash32('valueHash', valueHash);
    const n = this.#findLeaf(key);
    const len = this.#pathLen;
    let replacement: number;
    if (n === NONE) {
      replacement = this.#allocLeaf(key, valueHash);
    } else {
      const off = this.#nodes[n * STRIDE]! * LEAF_BYTES;
      const data = this.#leafData;
      if (rangeEquals(data, off, key)) {
        if (rangeEquals(data, off + HASH_BYTES, valueHash)) return;
        data.set(valueHash, off + HASH_BYTES);
        this.#nodes[n * STRIDE + 2]! |= DIRTY;
        this.#markPathDirty(len);
        return;
      }
      replacement = this.#split(n, key, valueHash, len);
    }
    this.#size++;
    this.#setChild(len - 1, replacement);
    this.#markPathDirty(len);
  }

  /** Remove `key` if present, collapsing any subtree left with a single leaf. */
  delete(key: Uint8Array): void {
    checkHash32('key', key);
    const n = this.#findLeaf(key);
    if (n === NONE) return;
    const nodes = this.#nodes;
    const slot = nodes[n * STRIDE]!;
    if (!rangeEquals(this.#leafData, slot * LEAF_BYTES, key)) return;
    this.#freeLeaves.push(slot);
    this.#freeNode(n);
    this.#size--;

    // Walk back up. `repl` replaces the subtree we came from. A branch left holding exactly one leaf
    // (one EMPTY child, the other a LEAF) is itself replaced by that leaf, whose cached hash stays valid
    // because leaf hashes do not depend on depth. Otherwise the branch still holds >= 2 keys: stop.
    const pathNodes = this.#pathNodes;
    let repl = NONE;
    let i = this.#pathLen - 1;
    for (; i >= 0; i--) {
      this.#setChild(i, repl);
      const p = pathNodes[i]! * STRIDE;
      const l = nodes[p]!;
      const r = nodes[p + 1]!;
      if (l === NONE && r !== NONE && (nodes[r * STRIDE + 2]! & KIND_MASK) === LEAF) repl = r;
      else if (r === NONE && l !== NONE && (nodes[l * STRIDE + 2]! & KIND_MASK) === LEAF) repl = l;
      else break;
      this.#freeNode(pathNodes[i]!);
    }
    if (i < 0) this.#root = repl;
    else this.#markPathDirty(i + 1);
  }

  /** Current root. Rehashes only nodes changed since the previous call. Returns a fresh copy. */
  root(): Uint8Array {
    this.#hashCount = 0;
    const r = this.#root;
    if (r === NONE) return new Uint8Array(HASH_BYTES);
    this.#hashNode(r);
    return this.#hashes.slice(r * HASH_BYTES, (r + 1) * HASH_BYTES);
  }

  /**
   * Walk from the root following `key`'s bits through branches. Records the branches visited in
   * `#pathNodes`/`#pathSides` (length `#pathLen`, which is also the depth reached) and returns the node
   * found there: NONE (empty slot) or a LEAF, whose key may differ from `key`.
   */
  #findLeaf(key: Uint8Array): number {
    const nodes = this.#nodes;
    const pathNodes = this.#pathNodes;
    const pathSides = this.#pathSides;
    let n = this.#root;
    let depth = 0;
    while (n !== NONE && (nodes[n * STRIDE + 2]! & KIND_MASK) === BRANCH) {
      const side = bitAt(key, 0, depth);
      pathNodes[depth] = n;
      pathSides[depth] = side;
      n = nodes[n * STRIDE + side]!;
      depth++;
    }
    this.#pathLen = depth;
    return n;
  }

  /** Point the child slot taken at path index `i` (or the root if i < 0) at `child`. */
  #setChild(i: number, child: number): void {
    if (i < 0) this.#root = child;
    else this.#nodes[this.#pathNodes[i]! * STRIDE + this.#pathSides[i]!] = child;
  }

  #hashNode(n: number): void {
    const nodes = this.#nodes;
    const base = n * STRIDE;
    const meta = nodes[base + 2]!;
    if (!(meta & DIRTY)) return;
    const scratch = this.#scratch;
    if ((meta & KIND_MASK) === LEAF) {
      const off = nodes[base]! * LEAF_BYTES;
      scratch[0] = 0x00;
      copy(this.#leafData, off, scratch, 1, LEAF_BYTES);
    } else {
      const l = nodes[base]!;
      const r = nodes[base + 1]!;
      if (l !== NONE) this.#hashNode(l);
      if (r !== NONE) this.#hashNode(r);
      const hashes = this.#hashes;
      scratch[0] = 0x01;
      if (l === NONE) scratch.fill(0, 1, 1 + HASH_BYTES);
      else copy(hashes, l * HASH_BYTES, scratch, 1, HASH_BYTES);
      if (r === NONE) scratch.fill(0, 1 + HASH_BYTES);
      else copy(hashes, r * HASH_BYTES, scratch, 1 + HASH_BYTES, HASH_BYTES);
    }
    sha256Into(scratch, this.#hashes, n * HASH_BYTES);
    this.#hashCount++;
    nodes[base + 2] = meta & ~DIRTY;
  }

  #markPathDirty(len: number): void {
    const nodes = this.#nodes;
    const pathNodes = this.#pathNodes;
    for (let i = 0; i < len; i++) nodes[pathNodes[i]! * STRIDE + 2]! |= DIRTY;
  }

  /**
   * Replace leaf `existing` (at `depth`) by the minimal subtree holding it and the new (key, valueHash):
   * a chain of single-child branches down to the first bit where the two keys differ.
   */
  #split(existing: number, key: Uint8Array, valueHash: Uint8Array, depth: number): number {
    const fresh = this.#allocLeaf(key, valueHash);
    const data = this.#leafData;
    const off = this.#nodes[existing * STRIDE]! * LEAF_BYTES;
    let diff = depth;
    while (diff < MAX_DEPTH && bitAt(data, off, diff) === bitAt(key, 0, diff)) diff++;
    if (diff >= MAX_DEPTH) throw new Error('unreachable: distinct keys share all 256 bits');
    const newBit = bitAt(key, 0, diff);
    let child = this.#allocBranch(newBit ? existing : fresh, newBit ? fresh : existing);
    for (let d = diff - 1; d >= depth; d--) {
      child = bitAt(key, 0, d) ? this.#allocBranch(NONE, child) : this.#allocBranch(child, NONE);
    }
    return child;
  }

  #allocLeaf(key: Uint8Array, valueHash: Uint8Array): number {
    let slot = this.#freeLeaves.pop();
    if (slot === undefined) {
      if (this.#leafTop === this.#leafCap) this.#growLeaves();
      slot = this.#leafTop++;
    }
    const off = slot * LEAF_BYTES;
    this.#leafData.set(key, off);
    this.#leafData.set(valueHash, off + HASH_BYTES);
    return this.#allocNode(slot, NONE, LEAF);
  }

  #allocBranch(left: number, right: number): number {
    return this.#allocNode(left, right, BRANCH);
  }

  #allocNode(a: number, b: number, kind: number): number {
    let n = this.#freeNodes.pop();
    if (n === undefined) {
      if (this.#nodeTop === this.#nodeCap) this.#growNodes();
      n = this.#nodeTop++;
    }
    const base = n * STRIDE;
    this.#nodes[base] = a;
    this.#nodes[base + 1] = b;
    this.#nodes[base + 2] = kind | DIRTY;
    return n;
  }

  #freeNode(n: number): void {
    const base = n * STRIDE;
    this.#nodes[base] = NONE;
    this.#nodes[base + 1] = NONE;
    this.#nodes[base + 2] = FREE;
    this.#freeNodes.push(n);
  }

  #growNodes(): void {
    const cap = this.#nodeCap * 2;
    const nodes = new Int32Array(cap * STRIDE);
    nodes.set(this.#nodes);
    const hashes = new Uint8Array(cap * HASH_BYTES);
    hashes.set(this.#hashes);
    this.#nodes = nodes;
    this.#hashes = hashes;
    this.#nodeCap = cap;
  }

  #growLeaves(): void {
    const cap = this.#leafCap * 2;
    const data = new Uint8Array(cap * LEAF_BYTES);
    data.set(this.#leafData);
    this.#leafData = data;
    this.#leafCap = cap;
  }
}
